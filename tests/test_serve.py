"""``govnews serve``: Datasette over the store, driven in-process (Datasette's own client) and by the CLI.

The browser tests (a real Chromium) are in test_serve_browser.py; these check what every page and
query returns: search folded like ``govnews search``, facets, canned queries, the sanitised article
page, read-only access to a file crawls keep writing.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
from datetime import UTC, datetime
from urllib.parse import quote

import pytest
from conftest import run_govnews
from serve_support import HOSTILE_CHECK, HOSTILE_RUN_SITE, HOSTILE_URL, Server
from sqlalchemy.engine import make_url

from crawler.serve import build_datasette
from crawler.serve.metadata import CANNED_QUERIES
from pipelines.search import search as govnews_search

DB = "govnews"  # the file is govnews.sqlite3: Datasette names the database by its stem


def _get(ds, path: str):
    async def fetch():
        return await ds.client.get(path)

    return asyncio.run(fetch())


def _json(ds, path: str):
    response = _get(ds, path)
    assert response.status_code == 200, (path, response.text[:500])
    return response.json()


def _scalar(url: str, sql: str, *params):
    with sqlite3.connect(make_url(url).database) as connection:
        row = connection.execute(sql, params).fetchone()
    return row[0] if row else None


@pytest.fixture(scope="module")
def ds(serve_store):
    return build_datasette(serve_store)


def _ids(ds, path: str) -> set[int]:
    """The ids of the articles a table page lists (all pages of it)."""
    table, _, query = path.partition("?")
    rows = _json(ds, f"{table}.json?{query}&_shape=array&_col=id&_size=max")
    return {row["id"] for row in rows}


def test_pages_answer(ds):
    for path in ["/", f"/{DB}", f"/{DB}/articles", f"/{DB}/sites", f"/{DB}/crawl_runs", "/-/dashboards/govnews"]:
        response = _get(ds, path)
        assert response.status_code == 200, path
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"


@pytest.mark.parametrize(
    ("typed", "folded"),
    [("dang bo", "Đảng bộ"), ("khoa hoc cong nghe", "Khoa học Công nghệ"), ('"nghe an"', '"Nghệ An"')],
)
def test_the_search_box_ignores_tone_marks_and_d(ds, serve_store, typed, folded):
    plain = _ids(ds, f"/{DB}/articles?_search={typed}")
    marked = _ids(ds, f"/{DB}/articles?_search={folded}")
    assert plain, typed
    assert plain == marked
    from pipelines.db import make_engine

    expected = {hit.url for hit in govnews_search(make_engine(serve_store), typed, limit=10_000, include_removed=True)}
    rows = _json(ds, f"/{DB}/articles.json?_search={typed}&_shape=array&_col=url&_size=max")
    assert {row["url"] for row in rows} == expected, "the search box finds what govnews search finds"


def test_hostile_search_input_is_text(ds):
    for query in ['"', "NEAR(a b)", "title:x", "a AND", "*", "(", "đ' OR 1=1 --", "^", ""]:
        response = _get(ds, f"/{DB}/articles.json?_search={query}")
        assert response.status_code == 200, (query, response.text[:300])


@pytest.mark.parametrize("query", ["dang bo", "khoa hoc cong nghe", '"nghe an"', "cam vinh", "hoi nghi*"])
def test_the_ranked_search_query_ranks_as_govnews_search(ds, serve_store, query):
    from pipelines.db import make_engine

    expected = [hit.url for hit in govnews_search(make_engine(serve_store), query, limit=50)]
    rows = _json(ds, f"/{DB}/search.json?q={quote(query)}&_shape=array")
    assert [row["url"] for row in rows] == expected
    assert all("[" in row["snippet"] for row in rows if row["tier"] < 3), "body hits show their words"


def test_a_title_typed_without_marks_finds_its_article_first(ds, serve_store):
    from pipelines.search import fold

    with sqlite3.connect(make_url(serve_store).database) as connection:
        titles = [row[0] for row in connection.execute("SELECT title FROM articles WHERE removed_at IS NULL")]
    for title in titles[::5]:
        rows = _json(ds, f"/{DB}/search.json?q={quote(fold(title))}&_shape=array")
        assert rows[0]["title"] == title or fold(rows[0]["title"]) == fold(title), title


def test_facets_site_category_month(ds, serve_store):
    data = _json(ds, f"/{DB}/articles.json?_size=0&_facet_size=max")
    facets = data["facet_results"]
    assert set(facets) == {"site_id", "categories", "published"}
    sites = {row["label"]: row["count"] for row in facets["site_id"]["results"]}
    assert sites["khxhnvnghean.gov.vn"] == _scalar(
        serve_store, "SELECT count(*) FROM articles a JOIN sites s ON s.id = a.site_id WHERE s.host = ?",
        "khxhnvnghean.gov.vn",
    )
    months = {row["value"]: row["count"] for row in facets["published"]["results"]}
    assert sum(months.values()) == _scalar(serve_store, "SELECT count(*) FROM articles WHERE published IS NOT NULL")
    assert all(re.fullmatch(r"\d{4}-\d{2}", month) for month in months)
    # a month of Vietnam: an article published 2025-09-30 17:30 UTC is in October there
    month, count = next(iter(sorted(months.items())))
    assert len(_ids(ds, f"/{DB}/articles?published__month={month}")) == count
    categories = {row["value"] for row in facets["categories"]["results"]}
    assert "Tin hoạt động" in categories
    assert _get(ds, f"/{DB}/articles?published__month=2025-1").status_code == 400


def test_the_month_is_vietnams(ds, serve_store):
    late = _scalar(
        serve_store,
        "SELECT id FROM articles WHERE strftime('%H', published) >= '17' AND "
        "strftime('%Y-%m', published) != strftime('%Y-%m', published, '+7 hours') LIMIT 1",
    )
    if late is None:  # no article of the corpora was published in the last 7 hours of a UTC month
        late = _scalar(serve_store, "SELECT id FROM articles WHERE published IS NOT NULL LIMIT 1")
    published = datetime.fromisoformat(_scalar(serve_store, "SELECT published FROM articles WHERE id = ?", late))
    from zoneinfo import ZoneInfo

    local = published.replace(tzinfo=UTC).astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).strftime("%Y-%m")
    assert late in _ids(ds, f"/{DB}/articles?published__month={local}")


def test_metadata_describes_every_column_from_the_models(ds, tmp_path, serve_store):
    from pipelines.models import Base

    out = tmp_path / "metadata.json"
    result = run_govnews("serve", "--db", serve_store, "--metadata", str(out))
    assert result.returncode == 0, result.stderr
    tables = json.loads(out.read_text(encoding="utf-8"))["databases"][DB]["tables"]
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            assert tables[table.name]["columns"][column.name] == column.comment, (table.name, column.name)
    page = _get(ds, f"/{DB}/articles").text
    assert "Canonical URL." in page
    assert "One row per real article" in page


def test_canned_queries(ds, serve_store):
    for name in CANNED_QUERIES:
        params = "&q=dang+bo" if name == "search" else ""
        response = _get(ds, f"/{DB}/{name}.json?_shape=array{params}")
        assert response.status_code == 200, (name, response.text[:500])
    copies = _json(ds, f"/{DB}/syndicated_copies.json?_shape=array")
    assert len(copies) == _scalar(serve_store, "SELECT count(*) FROM articles WHERE duplicate_of_id IS NOT NULL") > 0
    per_month = _json(ds, f"/{DB}/articles_per_portal_per_month.json?_shape=array")
    assert sum(row["articles"] for row in per_month) == _scalar(
        serve_store, "SELECT count(*) FROM articles WHERE removed_at IS NULL AND published IS NOT NULL"
    )
    latest = _json(ds, f"/{DB}/latest_per_portal.json?_shape=array")
    portals = {row["portal"] for row in latest}
    assert len(portals) == _scalar(serve_store, "SELECT count(DISTINCT site_id) FROM articles WHERE removed_at IS NULL")
    assert all(sum(1 for row in latest if row["portal"] == portal) <= 5 for portal in portals)
    # every crawl of the corpora finished: only the hostile run (serve_support) needs attention
    attention = _json(ds, f"/{DB}/portals_needing_attention.json?_shape=array")
    assert [row["portal"] for row in attention] == [HOSTILE_RUN_SITE]
    dashboard = _get(ds, "/-/dashboards/govnews").text
    assert "Articles per day per portal" in dashboard
    assert "Per-portal health" in dashboard


def test_a_failed_crawl_needs_attention(tmp_path, serve_store):
    """A copy of the store with a failed last run and a run whose dates went missing."""
    import shutil

    path = tmp_path / "govnews.sqlite3"
    shutil.copy(make_url(serve_store).database, path)
    url = f"sqlite:///{path}"
    with sqlite3.connect(path) as connection:
        for site, outcome, dated in [("skhcn.nghean.gov.vn", "unfinished: health check failed", 30),
                                     ("vinhthanh.cantho.gov.vn", "finished", 2)]:
            stats = {"summary": {}, "scrapy": {"govnews/fields/articles": 30, "govnews/fields/published": dated}}
            connection.execute(
                "INSERT INTO crawl_runs (site, started_at, finished_at, mode, stats, outcome) "
                "VALUES (?, '2030-01-01 00:00:00', '2030-01-01 00:05:00', 'incremental', ?, ?)",
                (site, json.dumps(stats), outcome),
            )
    rows = _json(build_datasette(url), f"/{DB}/portals_needing_attention.json?_shape=array")
    assert {row["portal"] for row in rows} == {"skhcn.nghean.gov.vn", "vinhthanh.cantho.gov.vn", HOSTILE_RUN_SITE}
    dropped = next(row for row in rows if row["portal"] == "vinhthanh.cantho.gov.vn")
    assert dropped["published_coverage"] < 0.1 < dropped["published_coverage_before"]


def _article_id(url: str, article_url: str) -> int:
    return _scalar(url, "SELECT id FROM articles WHERE url = ?", article_url)


def test_the_article_page_shows_body_captions_source_and_versions(ds, serve_store):
    edited = _scalar(serve_store, "SELECT article_id FROM article_versions ORDER BY article_id LIMIT 1")
    page = _get(ds, f"/{DB}/articles/{edited}").text
    old_title = _scalar(serve_store, "SELECT title FROM article_versions WHERE article_id = ?", edited)
    assert "Earlier versions" in page
    assert old_title.split()[0] in page
    captioned = _scalar(serve_store, "SELECT article_id FROM images GROUP BY article_id HAVING count(*) >= 2 LIMIT 1")
    page = _get(ds, f"/{DB}/articles/{captioned}").text
    for image_url, caption in sqlite3.connect(make_url(serve_store).database).execute(
        "SELECT image_url, caption FROM images WHERE article_id = ? ORDER BY position", (captioned,)
    ):
        from html import escape

        figure = f'<img src="{escape(image_url)}" alt="{escape(caption)}" loading="lazy" referrerpolicy="no-referrer">'
        assert figure in page
        assert f"<figcaption>{escape(caption)}</figcaption>" in page
    with_source = _scalar(serve_store, "SELECT id FROM articles WHERE source IS NOT NULL LIMIT 1")
    if with_source:
        source = _scalar(serve_store, "SELECT source FROM articles WHERE id = ?", with_source)
        from html import escape

        assert "Nguồn: " in _get(ds, f"/{DB}/articles/{with_source}").text
        assert escape(source) in _get(ds, f"/{DB}/articles/{with_source}").text
    copy = _scalar(serve_store, "SELECT id FROM articles WHERE duplicate_of_id IS NOT NULL LIMIT 1")
    assert "This article repeats" in _get(ds, f"/{DB}/articles/{copy}").text


def _article_block(page: str) -> str:
    return page.split('<article class="govnews-article">', 1)[1].split("</article>", 1)[0]


def _active_markup(page: str) -> list[str]:
    """What in a page could run script: a script mentioning ``pwned``, an ``on*`` handler, a
    ``javascript:`` URL, a frame, object or embed (escaped text is not markup and is fine)."""
    import lxml.html

    found = []
    for element in lxml.html.fromstring(page).iter():
        if not isinstance(element.tag, str):
            continue
        if element.tag == "script" and "pwned" in (element.text or "") + element.get("src", ""):
            found.append(f"<script>{element.text}")
        if element.tag in {"iframe", "object", "embed", "frame"}:
            found.append(f"<{element.tag}>")
        for name, value in element.attrib.items():
            if name.lower().startswith("on") or name.lower() == "srcdoc":
                found.append(f"{element.tag} {name}={value}")
            if re.sub(r"\s", "", value).lower().startswith(("javascript:", "data:text/html")):
                found.append(f"{element.tag} {name}={value}")
    return found


def test_the_hostile_article_is_inert(ds, serve_store):
    article = _article_id(serve_store, HOSTILE_URL)
    pages = {
        "article": _get(ds, f"/{DB}/articles/{article}").text,
        "table search": _get(ds, f"/{DB}/articles?_search=bai+viet+thu+nghiem").text,
        "ranked search": _get(ds, f"/{DB}/search?q=bai+viet+thu+nghiem").text,
        "images": _get(ds, f"/{DB}/images?article_id={article}").text,
        "attachments": _get(ds, f"/{DB}/attachments?article_id={article}").text,
    }
    block = _article_block(pages["article"])
    assert "Đoạn văn mở đầu" in block, "the sanitised body is shown"
    assert "Đoạn văn thứ hai." in block
    assert "liên kết" in block, "a link's text stays, its javascript: URL goes"
    assert "Bài viết thử nghiệm" in pages["table search"]
    assert "Bài viết thử nghiệm" in pages["ranked search"]
    for name, page in pages.items():
        assert _active_markup(page) == [], name


def test_no_write_and_select_only(ds, serve_store):
    before = _scalar(serve_store, "SELECT count(*) FROM articles")
    for sql in ["update articles set title = 'x'", "delete from articles", "drop table articles",
                "insert into sites (host) values ('x')", "attach database 'x.db' as x", "pragma writable_schema = 1",
                "select load_extension('x')"]:
        response = _get(ds, f"/{DB}.json?sql={sql}")
        assert response.status_code >= 400 or not response.json().get("ok", True), sql
    assert _scalar(serve_store, "SELECT count(*) FROM articles") == before
    connection = ds.get_database(DB).connect()
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        connection.execute("UPDATE articles SET title = 'x'")
    connection.close()
    assert _get(ds, "/-/insert").status_code == 404


def test_crawls_keep_writing_while_it_serves(tmp_path, serve_store):
    """mode=ro, not immutable: a page served after a crawl's write shows the new article."""
    import shutil

    from crawler.items import Article
    from pipelines.db import make_engine
    from pipelines.store import ArticleStore

    path = tmp_path / "govnews.sqlite3"
    shutil.copy(make_url(serve_store).database, path)
    url = f"sqlite:///{path}"
    live = build_datasette(url)
    before = _json(live, f"/{DB}/articles.json?_size=0")["filtered_table_rows_count"]
    engine = make_engine(url)
    ArticleStore(engine).write(
        [Article(url="https://moi.gov.vn/tin/1.html", site="moi.gov.vn", title="Tin mới về Đảng bộ",
                 body_text="Nội dung.", published=datetime(2026, 1, 1, tzinfo=UTC))]
    )
    engine.dispose()
    assert _json(live, f"/{DB}/articles.json?_size=0")["filtered_table_rows_count"] == before + 1
    assert "https://moi.gov.vn/tin/1.html" in {
        row["url"] for row in _json(live, f"/{DB}/articles.json?_search=tin+moi+dang+bo&_shape=array&_col=url")
    }


def test_cli_refuses_what_it_cannot_serve(tmp_path):
    for db, message in [
        ("postgresql+psycopg://u@127.0.0.1:1/x", "reads a SQLite store"),
        (f"sqlite:///{tmp_path / 'missing.sqlite3'}", "no database at"),
    ]:
        result = run_govnews("serve", "--db", db, "--port", "1")
        assert result.returncode == 2, result.stderr
        assert result.stderr.count("\n") == 1, result.stderr
        assert message in result.stderr, result.stderr
    assert not (tmp_path / "missing.sqlite3").exists()
    result = run_govnews("serve", "--help")
    assert result.returncode == 0
    assert "127.0.0.1" in result.stdout


def test_cli_serve_edges_are_one_line_errors(tmp_path, serve_store):
    """Found by an audit: tracebacks (no URL, an unwritable --metadata), a "?"/"#" path that made
    Datasette open another, empty and writable file, and a taken port or foreign host that printed
    the success banner before uvicorn's error."""
    import shutil
    import socket

    odd = tmp_path / "a#b.sqlite3"
    shutil.copy(make_url(serve_store).database, odd)
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    store = ["--db", serve_store]
    try:
        for argv, message in [
            (["--db", "notaurl"], "not a database URL"),
            (["--db", f"sqlite:///{odd}"], "cannot be opened read-only"),
            ([*store, "--metadata", str(tmp_path)], "cannot write it"),
            ([*store, "--metadata", str(tmp_path / "no" / "m.json")], "cannot write it"),
            ([*store, "--port", str(taken.getsockname()[1])], "cannot listen on 127.0.0.1"),
            ([*store, "--host", "nonexistent.invalid"], "cannot resolve"),
        ]:
            result = run_govnews("serve", *argv)
            assert result.returncode == 2, (argv, result.stderr)
            assert result.stderr.count("\n") == 1, result.stderr
            assert message in result.stderr, result.stderr
            assert "govnews serve: http" not in result.stdout
    finally:
        taken.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a#b.sqlite3"], "no other file was created"


def test_every_interface_is_said_out_loud(tmp_path, serve_store):
    """``--host 0.0.0.0`` opens the archive to the network without a login: the server says so."""
    server = Server(serve_store, tmp_path / "serve.log", host="0.0.0.0")  # noqa: S104 - the case tested
    try:
        log = server.log_path.read_text(encoding="utf-8")
        assert "listening on every interface" in log
        assert "no login" in log
    finally:
        server.stop()


def test_the_main_install_brings_serve():
    """`pip install -e .` (the README's main command) must be enough: Datasette is no extra, the
    templates ship in the package."""
    import tomllib

    from conftest import ROOT

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    dependencies = {re.split(r"[<>=!~\[ ]", spec, maxsplit=1)[0] for spec in project["project"]["dependencies"]}
    assert {"datasette", "datasette-dashboards", "nh3"} <= dependencies
    patterns = project["tool"]["setuptools"]["package-data"]["crawler"]
    templates = sorted((ROOT / "crawler" / "serve" / "templates").glob("*.html"))
    assert templates
    assert all(any(t.relative_to(ROOT / "crawler").match(p) for p in patterns) for t in templates)


def test_month_bounds_are_vietnams_month_in_stored_utc():
    from crawler.serve.plugin import month_bounds

    assert month_bounds("2025-12") == ("2025-11-30 17:00:00", "2025-12-31 17:00:00")
    assert month_bounds("2026-01") == ("2025-12-31 17:00:00", "2026-01-31 17:00:00")
    start, end = month_bounds("2025-12")
    # stored times carry microseconds: the first instant of the month is in, the first of the next is out
    assert start <= "2025-11-30 17:00:00.000000" < end
    assert not (end > "2025-12-31 17:00:00.000000")
    assert start > "2025-11-30 16:59:59.999999"


def test_the_list_facet_counts_as_datasettes_array_facet(ds, serve_store):
    """Same values and counts as the stock facet (each value once per article), on the whole table
    and on a search's hits; selecting a value filters as the stock ``arraycontains`` does."""
    for query in ["", "&_search=dang+bo"]:
        data = _json(ds, f"/{DB}/articles.json?_size=0&_facet_size=max&_facet_array=categories{query}")
        ours = {row["value"]: row["count"] for row in data["facet_results"]["categories"]["results"]}
        stock = next(
            facet for key, facet in data["facet_results"].items() if facet["type"] == "array"
        )["results"]
        assert ours == {row["value"]: row["count"] for row in stock}
        assert ours
    value, count = next(iter(ours.items()))
    assert len(_ids(ds, f"/{DB}/articles?categories__arraycontains={quote(value)}&_search=dang+bo")) == count
    assert len(_ids(ds, f"/{DB}/articles?categories__listcontains={quote(value)}&_search=dang+bo")) == count
    toggles = [row["toggle_url"] for row in data["facet_results"]["categories"]["results"]]
    assert all("categories__listcontains=" in url for url in toggles)


def test_a_row_whose_categories_are_not_a_list_breaks_no_filter(tmp_path, serve_store):
    """One hand-edited ``categories`` that is not JSON made every value of the category facet a 400
    ("malformed JSON"); JSON null was offered as the value "None" (audit)."""
    import shutil

    path = tmp_path / "govnews.sqlite3"
    shutil.copy(make_url(serve_store).database, path)
    url = f"sqlite:///{path}"
    with sqlite3.connect(path) as connection:
        first, second, third = (row[0] for row in connection.execute("SELECT id FROM articles ORDER BY id LIMIT 3"))
        connection.execute("UPDATE articles SET categories = 'not json' WHERE id = ?", (first,))
        connection.execute("UPDATE articles SET categories = '[null, \"Tin\"]' WHERE id = ?", (second,))
        connection.execute("UPDATE articles SET categories = '{\"a\": 1}' WHERE id = ?", (third,))
    served = build_datasette(url)
    data = _json(served, f"/{DB}/articles.json?_size=0&_facet_size=max")
    values = data["facet_results"]["categories"]["results"]
    assert values
    assert "None" not in {row["value"] for row in values}
    from urllib.parse import urlsplit

    for row in values[:5]:
        link = urlsplit(row["toggle_url"])
        assert _get(served, f"{link.path}?{link.query}").status_code == 200, row["value"]
    assert second in _ids(served, f"/{DB}/articles?categories__listcontains=Tin")


# -- found by a hostile-input audit -----------------------------------------------------------------
def test_the_dashboard_tables_escape_what_they_show(ds):
    """datasette-dashboards' table chart writes each cell with innerHTML: its queries escape the
    values, so the browser shows a hostile portal name or check as text (tests/test_serve_browser.py
    runs the page)."""
    import html

    from crawler.serve.metadata import dashboard

    charts = dashboard(DB)["charts"]
    tables = [chart for chart in charts.values() if chart["library"] == "table"]
    assert tables
    for chart in tables:
        rows = _json(ds, f"/{DB}.json?_shape=array&sql={quote(chart['query'])}")
        hostile = [row for row in rows if row["portal"] == html.escape(HOSTILE_RUN_SITE)]
        assert hostile, chart["title"]
        for row in rows:
            for value in row.values():
                assert not (isinstance(value, str) and "<" in value), (chart["title"], value)
        shown = " ".join(str(value) for value in hostile[0].values())
        assert html.escape(HOSTILE_CHECK) in shown or "&lt;b onmouseover" in shown
    # the canned query behind the attention table is Datasette's own page, which escapes: raw there
    rows = _json(ds, f"/{DB}/portals_needing_attention.json?_shape=array")
    assert HOSTILE_RUN_SITE in {row["portal"] for row in rows}


def test_every_response_carries_a_content_security_policy(ds):
    for path in ["/", f"/{DB}/articles", "/-/dashboards/govnews", f"/{DB}/articles?_sort=nosuch"]:
        policy = _get(ds, path).headers.get("content-security-policy", "")
        for directive in ["object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'", "connect-src 'self'"]:
            assert directive in policy, (path, directive)
        # vega compiles the charts' expressions with Function(): only the dashboards may evaluate code
        assert ("'unsafe-eval'" in policy) == path.startswith("/-/dashboards"), path


@pytest.mark.parametrize("month", ["0001-01", "9999-12", "2025-02"])
def test_any_month_of_years_1_to_9999_filters(ds, month):
    assert _get(ds, f"/{DB}/articles.json?published__month={month}").status_code == 200


@pytest.mark.parametrize(
    "month", ["0000-01", "2025-13", "2025-00", "\u0662\u0660\u0662\u0665-01", "２０２５-01", "2025-1"]
)
def test_a_month_that_is_not_one_is_a_400(ds, month):
    response = _get(ds, f"/{DB}/articles.json?published__month={quote(month)}")
    assert response.status_code == 400, response.text[:300]
    assert "YYYY-MM" in response.json()["error"]


def test_month_bounds_at_the_ends_of_the_calendar():
    from crawler.serve.plugin import month_bounds

    assert month_bounds("0001-01") == ("0001-01-01 00:00:00", "0001-01-31 17:00:00")
    assert month_bounds("9999-12") == ("9999-11-30 17:00:00", "9999-12-31 17:00:00")
    assert month_bounds("2024-02") == ("2024-01-31 17:00:00", "2024-02-29 17:00:00")


def test_client_mistakes_are_4xx_not_500(ds):
    for path in [f"/{DB}/articles?_sort=nosuch", f"/{DB}/articles?_sort_desc=nosuch",
                 f"/{DB}/articles?_sort=title&_sort_desc=title", f"/{DB}/articles?_through=x",
                 f"/{DB}/articles.json?id__in=%5B1"]:
        response = _get(ds, path)
        assert response.status_code == 400, (path, response.status_code)

    async def send(method: str, path: str):
        return await ds.client.request(method, path, data={"q": "dang bo"})

    for method, path in [("POST", f"/{DB}/search"), ("POST", f"/{DB}"), ("PUT", f"/{DB}/articles"),
                         ("DELETE", f"/{DB}/articles/1"), ("PATCH", "/")]:
        response = asyncio.run(send(method, path))
        assert response.status_code == 405, (method, path, response.status_code)
        assert "read-only" in response.text


def test_a_search_that_cannot_run_says_why(ds):
    """More than 64 words, or a word longer than any indexed one: the CLI's usage error, in the
    browser too, not an empty page."""
    many = "+".join(f"tu{i}" for i in range(70))
    table = _get(ds, f"/{DB}/articles?_search={many}")
    assert table.status_code == 400
    assert "too many words" in table.text
    canned = _get(ds, f"/{DB}/search?q={many}")
    assert canned.status_code == 200
    assert '<p class="message-error">too many words in the query (70; at most 64)</p>' in canned.text
    as_json = _get(ds, f"/{DB}/search.json?q={many}")
    assert as_json.status_code == 400
    assert as_json.json()["error"] == "too many words in the query (70; at most 64)"
    assert _get(ds, f"/{DB}/search.json?q=dang+bo").status_code == 200
    long_word = _get(ds, f"/{DB}/articles.json?_search={'a' * 150}")
    assert long_word.status_code == 400
    assert "150 letters" in long_word.json()["error"]
    assert "message-error" not in _get(ds, f"/{DB}/search?q=dang+bo").text
    assert "message-error" not in _get(ds, f"/{DB}/search").text


def test_the_article_page_resolves_relative_links_against_the_article(ds, serve_store):
    """A body's ``/uploads/a.jpg`` is the portal's image; shown by Datasette it must not point at
    127.0.0.1."""
    with sqlite3.connect(make_url(serve_store).database) as connection:
        rows = connection.execute(
            "SELECT id, url, body_html FROM articles WHERE body_html LIKE '%src=\"/%' OR body_html LIKE '%href=\"/%'"
            " LIMIT 20"
        ).fetchall()
    assert rows, "the corpora hold relative image and link URLs"
    for article_id, url, _ in rows:
        from parsel import Selector

        body = Selector(_get(ds, f"/{DB}/articles/{article_id}").text).css("article.govnews-article .body")
        assert body, url
        addresses = body.css("[src]::attr(src), [href]::attr(href)").getall()
        assert addresses
        origin = "/".join(url.split("/")[:3]) + "/"
        relative = [a for a in addresses if not a.startswith(("http://", "https://", "mailto:", "#"))]
        assert relative == [], (url, relative)
        assert any(a.startswith(origin) for a in addresses)


def test_raw_search_mode_is_refused(ds):
    """``_searchmode=raw`` passes FTS5 syntax past the fold: it could match the index's placeholders
    (U+E000) and never finds a word typed with tone marks."""
    response = _get(ds, f"/{DB}/articles.json?_search=%EE%80%80&_searchmode=raw")
    assert response.status_code == 400
    assert "_searchmode=raw" in response.json()["error"]


def test_a_run_with_unreadable_stats_is_shown_not_an_error(tmp_path, serve_store):
    """One crawl_runs row whose stats are not JSON made every health view a 400 (audit)."""
    import shutil

    from crawler.serve.metadata import dashboard

    path = tmp_path / "govnews.sqlite3"
    shutil.copy(make_url(serve_store).database, path)
    with sqlite3.connect(path) as connection:
        connection.execute(
            "INSERT INTO crawl_runs (site, started_at, mode, stats, outcome) "
            "VALUES ('hong.gov.vn', '2030-01-01 00:00:00', 'incremental', 'not json{', 'finished')"
        )
    served = build_datasette(f"sqlite:///{path}")
    rows = _json(served, f"/{DB}/portals_needing_attention.json?_shape=array")
    assert {row["portal"]: row["failed_checks"] for row in rows}["hong.gov.vn"] == "stats unreadable"
    for chart in dashboard(DB)["charts"].values():
        rows = _json(served, f"/{DB}.json?_shape=array&sql={quote(chart['query'])}")
        assert rows, chart["title"]


def test_a_stored_time_past_year_9999_in_vietnam_shows(tmp_path, serve_store):
    import shutil

    path = tmp_path / "govnews.sqlite3"
    shutil.copy(make_url(serve_store).database, path)
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE articles SET published = '9999-12-31 20:00:00.000000' WHERE url = ?", (HOSTILE_URL,))
    served = build_datasette(f"sqlite:///{path}")
    article = _article_id(f"sqlite:///{path}", HOSTILE_URL)
    page = _get(served, f"/{DB}/articles/{article}")
    assert page.status_code == 200
    assert "9999-12-31 20:00:00" in page.text
    with sqlite3.connect(path) as connection:  # a body_html another tool wrote as a BLOB: was a 500
        connection.execute("UPDATE articles SET body_html = ? WHERE id = ?", ("<p>Nhị phân</p>".encode(), article))
    page = _get(served, f"/{DB}/articles/{article}")
    assert page.status_code == 200
    assert "<p>Nhị phân</p>" in page.text


def test_the_dashboard_tables_say_when_there_is_nothing(tmp_path):
    """datasette-dashboards' table chart fails on an empty result and leaves a blank box: a healthy
    archive looked like a broken panel (audit). An empty store: one row saying so per table."""
    from crawler.serve.metadata import dashboard
    from pipelines.db import make_engine, upgrade

    url = f"sqlite:///{tmp_path / 'govnews.sqlite3'}"
    engine = make_engine(url)
    upgrade(engine)  # the current schema, no rows
    engine.dispose()
    served = build_datasette(url)
    notes = {}
    for name, chart in dashboard(DB)["charts"].items():
        if chart["library"] == "table":
            rows = _json(served, f"/{DB}.json?_shape=array&sql={quote(chart['query'])}")
            assert len(rows) == 1, name
            notes[name] = rows[0]["portal"]
    assert notes == {"health": "no crawl recorded yet", "attention": "nothing needs attention"}


def test_the_dashboard_shows_times_in_vietnam(ds, serve_store):
    from crawler.serve.metadata import dashboard

    chart = dashboard(DB)["charts"]["health"]
    rows = _json(ds, f"/{DB}.json?_shape=array&sql={quote(chart['query'])}")
    hostile = next(row for row in rows if "hostile-run" in row["portal"])
    assert hostile["last_run"] == "2025-10-01 07:00", "stored 00:00 UTC"


def test_a_huge_article_page_stays_light(tmp_path, serve_store):
    """A 1 MB body, 300 images and 30 versions (crawls take pages up to 16 MB): Datasette's row table
    repeated the body in full and every image and version was laid out, so the browser never
    finished the page (audit). The body is shown once; the table cell, images and versions are cut."""
    import shutil

    path = tmp_path / "govnews.sqlite3"
    shutil.copy(make_url(serve_store).database, path)
    url = f"sqlite:///{path}"
    article = _article_id(url, HOSTILE_URL)
    body = "Đoạn văn rất dài. " * 60_000
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE articles SET body_text = ?, body_html = NULL WHERE id = ?", (body, article))
        connection.executemany(
            "INSERT INTO images (article_id, position, image_url, caption) VALUES (?, ?, ?, ?)",
            [(article, 100 + i, f"https://hostile.example.gov.vn/anh-{i}.jpg", f"Ảnh {i}") for i in range(300)],
        )
        connection.executemany(
            "INSERT INTO article_versions (article_id, version, title, body_text, replaced_at)"
            " VALUES (?, ?, ?, ?, '2025-10-01 00:00:00')",
            [(article, 100 + i, f"Bản {i}", body) for i in range(30)],
        )
    page = _get(build_datasette(url), f"/{DB}/articles/{article}").text
    assert page.count(body) == 1, "the body once, in the article"
    assert len(page) < 2 * len(body.encode())
    assert f"{len(body):,} characters in all" in page
    assert page.count('<figure class="govnews-image">') == 200
    assert f"/{DB}/images?article_id={article}" in page
    assert page.count('<details class="govnews-version">') == 20
    assert page.count("characters in all: the whole text is in") == 20, "each version's text cut, with a link"
    assert f"/{DB}/article_versions?article_id={article}" in page
