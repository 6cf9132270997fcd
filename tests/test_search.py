"""Full-text search without diacritics (pipelines.search, ``govnews search``), on SQLite and PostgreSQL.

The corpora's recorded portals are crawled into one database per backend; every query's hits are
checked against a plain scan of the stored articles (an oracle written here, folding with NFD on its
own), and the two backends must return the same hits and the same first hit.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import unicodedata
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from conftest import PG_URL, ROOT, WARCS, _drop_postgres_database, _fresh_postgres_database, run_govnews
from sqlalchemy import text

from crawler.items import Article, ArticleGone
from pipelines import search as s
from pipelines.db import make_engine
from pipelines.store import ArticleStore

CORPORA = [
    ("nukeviet-khxhnvnghean", "site.warc.gz"),
    ("nukeviet-khxhnvnghean", "later.warc.gz"),  # edits, new and removed articles: new versions in the index
    ("nukeviet-skhcn.nghean.gov.vn", "site.warc.gz"),
    ("wordpress-vinhthanh.cantho.gov.vn", "site.warc.gz"),
    ("wordpress-xaphuchoa.tanyen.bacgiang.gov.vn", "site.warc.gz"),
    ("wordpress-damha.quangninh.gov.vn", "site.warc.gz"),
]


def _start_url(corpus: str) -> str:
    first = json.loads((WARCS / corpus / "truth.jsonl").read_text(encoding="utf-8").splitlines()[0])["url"]
    scheme, rest = first.split("://", 1)
    return f"{scheme}://{rest.split('/', 1)[0]}/"


def _crawl_corpora(db: str) -> None:
    for corpus, warc in CORPORA:
        extra = ["--full"] if warc != "site.warc.gz" else []
        result = run_govnews(
            "crawl", _start_url(corpus), "--archive", str(WARCS / corpus / warc), "--db", db, "-q", *extra
        )
        assert result.returncode == 0, result.stderr[-2000:]


@pytest.fixture(scope="module")
def corpora(tmp_path_factory) -> Iterator[dict[str, str]]:
    """backend name -> URL of a database holding the crawled corpora (PostgreSQL when there is a server)."""
    urls = {"sqlite": f"sqlite:///{tmp_path_factory.mktemp('search') / 'g.sqlite3'}"}
    name = f"govnews_search_{os.getpid()}"
    if PG_URL:
        urls["postgresql"] = _fresh_postgres_database(name)
    elif os.environ.get("CI"):
        pytest.fail("GOVNEWS_TEST_PG_URL is not set: CI must run the search tests on PostgreSQL")
    try:
        for url in urls.values():
            _crawl_corpora(url)
        yield urls
    finally:
        for url in urls.values():
            make_engine(url).dispose()
        if "postgresql" in urls:
            _drop_postgres_database(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request, corpora) -> str:
    if request.param not in corpora:
        pytest.skip("no PostgreSQL server for tests (set GOVNEWS_TEST_PG_URL; .ci/run starts one)")
    return corpora[request.param]


# -- the oracle: a plain scan, folded its own way ---------------------------------------------------
def _oracle_words(value: str | None) -> list[str]:
    decomposed = unicodedata.normalize("NFD", value or "")
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).replace("đ", "d").replace("Đ", "D")
    return re.findall(r"[^\W_]+", plain.lower())


def _stored(url: str) -> list[dict]:
    with make_engine(url).connect() as connection:
        rows = connection.execute(
            text("SELECT url, title, summary, body_text, removed_at FROM articles ORDER BY id")
        ).mappings()
        return [dict(row) for row in rows]


def _has(words: list[str], term: s.Term) -> bool:
    n = len(term.words)
    for i in range(len(words) - n + 1):
        window = words[i : i + n]
        if window[:-1] == list(term.words[:-1]) and (
            window[-1] == term.words[-1] or (term.prefix and window[-1].startswith(term.words[-1]))
        ):
            return True
    return False


def _oracle(url: str, query: str, *, include_removed: bool = False) -> set[str]:
    """The articles a plain scan finds: every term in one of title, summary, body (a phrase in one)."""
    parsed = s.parse_query(query)
    found = set()
    for row in _stored(url):
        if row["removed_at"] is not None and not include_removed:
            continue
        columns = [_oracle_words(row[name]) for name in ("title", "summary", "body_text")]
        if all(any(_has(words, term) for words in columns) for term in parsed.terms):
            found.add(row["url"])
    return found


def _urls(url: str, query: str, **options) -> list[str]:
    return [hit.url for hit in s.search(make_engine(url), query, limit=10_000, **options)]


# -- the fold and the query parser ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "folded"),
    [
        ("Đảng bộ", "dang bo"),
        ("Quyết định bổ nhiệm", "quyet dinh bo nhiem"),
        ("ĐẦM HÀ", "dam ha"),
        (unicodedata.normalize("NFD", "Nghệ An – Hà Tĩnh"), "nghe an – ha tinh"),  # NFD input: the same
        ("Ưu tiên ương ươm", "uu tien uong uom"),
        ("Ðắk Lắk", "dak lak"),  # U+00D0, the Icelandic eth often typed for Đ
        ("Ελληνικά", "ελληνικα"),  # marks of other scripts go too
        ("ＵＢＮＤ Ｔỉnh １２３", "ubnd tinh 123"),  # full-width letters and digits (East Asian input)
        ("ﬁnance m²", "finance m2"),  # ligatures and superscripts: NFKC
        ("ΛΌΓΟΣ λόγος", "λογοσ λογοσ"),  # final sigma: FTS5 folds it, so the fold does first
    ],
)
def test_fold(value, folded):
    assert s.fold(value) == folded


def test_parse_query_words_phrases_prefixes():
    query = s.parse_query('Quyết "đại học vinh" nhiệ* QĐ-UBND quyết')
    assert query.terms == (
        s.Term(("quyet",)),
        s.Term(("dai", "hoc", "vinh")),
        s.Term(("nhie",), prefix=True),
        s.Term(("qd", "ubnd")),  # punctuation inside a word: a phrase of its parts, as the index holds them
    )
    assert query.fts5() == '"quyet" "dai hoc vinh" "nhie"* "qd ubnd"'
    assert query.tsquery() == "'quyet' & ('dai' <-> 'hoc' <-> 'vinh') & 'nhie':* & ('qd' <-> 'ubnd')"
    assert s.parse_query('"dang bo').terms == (s.Term(("dang", "bo")),), "an unclosed quote runs to the end"


HOSTILE = [
    '"',
    '""',
    "*",
    "AND OR (",
    "NEAR(",
    "NEAR(dang bo, 2)",
    "dang OR bo NOT x",
    'title:"dang" body:bo',
    "^dang",
    "'; DROP TABLE articles; --",
    "dang & | ! <-> :* bo",
    "(((",
    "\\",
    "{}[]",
    "-dang +bo",
    "a" * 300,
]


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_queries_are_words_or_a_usage_error(query):
    """No input reaches FTS5 or tsquery as syntax: it is words, or there is nothing to search for."""
    if not _words_in(query):
        # no words, or a word longer than any indexed one: a usage error that says which
        with pytest.raises(s.SearchQueryError, match="nothing to search for|letters are not indexed"):
            s.parse_query(query)
        return
    for term in s.parse_query(query).terms:
        assert all(re.fullmatch(r"[^\W_]+", word) for word in term.words)


def test_hostile_queries_run_on_both_backends(backend):
    for query in filter(_words_in, HOSTILE):
        assert set(_urls(backend, query)) == _oracle(backend, query), query


# -- the corpora ------------------------------------------------------------------------------------
QUERIES = [
    # (query, words the first hit's title must hold, folded)
    ("dang bo", "dang bo"),
    ("Đảng bộ", "dang bo"),
    ("quyet dinh bo nhiem", "quyet dinh bo nhiem"),
    ("QUYẾT ĐỊNH bổ nhiệm", "quyet dinh bo nhiem"),
    ("cong bo quyet dinh bo nhiem pho giam doc so", "cong bo quyet dinh bo nhiem pho giam doc so"),
    ('"dai hoc vinh"', "dai hoc vinh"),
    ("dam ha", "dam ha"),
    (unicodedata.normalize("NFD", "Đầm Hà"), "dam ha"),
    ('"dong xuan"', None),
    ("vinh thanh", "vinh thanh"),
    ("phuc hoa", None),  # "hoa" is hòa, hoa, hóa, họa: everywhere; "Phúc" in a title counts most
    ('"phuc hoa"', "phuc hoa"),
    ("nghe*", None),
    ("nhiem vu nam 2023", None),
    ("ubnd", None),
    ("khoa hoc cong nghe", None),
    ('"vinh dai hoc"', None),  # the words in another order: not the phrase
]


@pytest.mark.parametrize(("query", "first_title"), QUERIES)
def test_queries_find_what_a_scan_finds(backend, query, first_title):
    hits = s.search(make_engine(backend), query, limit=10_000)
    expected = _oracle(backend, query)
    assert {hit.url for hit in hits} == expected
    if query in ("dang bo", "quyet dinh bo nhiem", '"dai hoc vinh"', "dam ha", "vinh thanh", '"phuc hoa"'):
        assert expected, f"the corpora hold {query!r}: the test would prove nothing"
    if first_title:
        assert first_title in " ".join(s.tokens(hits[0].title)), (query, hits[0].title)
    for hit in hits:
        assert "**" in hit.snippet or first_title is None or first_title in " ".join(s.tokens(hit.title))


def test_without_diacritics_finds_what_with_diacritics_finds(backend):
    for plain, marked in [("dang bo", "Đảng bộ"), ("dai hoc vinh", "Đại học Vinh"), ("dam ha", "ĐẦM HÀ")]:
        assert _urls(backend, plain) == _urls(backend, marked)
        assert _urls(backend, plain), plain


def test_a_phrase_needs_its_words_side_by_side(backend):
    words, phrase = set(_urls(backend, "vinh dai hoc")), set(_urls(backend, '"vinh dai hoc"'))
    assert phrase < words, "every phrase hit has the words; some articles have them apart"
    assert set(_urls(backend, '"dai hoc vinh"')) <= set(_urls(backend, "dai hoc vinh"))


def test_a_title_finds_its_article_first(backend):
    """Query = an article's title (typed with or without diacritics): that article (or one with the
    very same title, a syndicated copy) is the first hit."""
    rows = [row for row in _stored(backend) if row["removed_at"] is None]
    assert len(rows) > 100
    engine = make_engine(backend)
    for row in rows:
        for query in (row["title"], " ".join(s.tokens(row["title"]))):
            first = s.search(engine, query, limit=1)[0]
            assert s.tokens(first.title) == s.tokens(row["title"]), (query, first.url)


def test_both_backends_return_the_same_hits_and_first_hit(corpora):
    if "postgresql" not in corpora:
        pytest.skip("no PostgreSQL server for tests (set GOVNEWS_TEST_PG_URL; .ci/run starts one)")
    lite, pg = make_engine(corpora["sqlite"]), make_engine(corpora["postgresql"])
    titles = [row["title"] for row in _stored(corpora["sqlite"]) if row["removed_at"] is None]
    for query in [q for q, _ in QUERIES] + [q for q in HOSTILE if _words_in(q)] + titles:
        one, other = s.search(lite, query, limit=10_000), s.search(pg, query, limit=10_000)
        assert {h.url for h in one} == {h.url for h in other}, query
        if one:
            assert one[0].url == other[0].url, query
            assert [h.snippet for h in one[:1]] == [h.snippet for h in other[:1]]


def _words_in(query: str) -> bool:
    """Whether a query has a word to search for (letters or digits, not longer than an indexed word)."""
    return any(len(word) <= s.MAX_TOKEN_CHARS for word in re.findall(r"[^\W_]+", query))


def test_filters_site_since_limit(backend):
    engine = make_engine(backend)
    everything = s.search(engine, "nam", limit=10_000)
    sites = {hit.site for hit in everything}
    assert len(sites) >= 4
    only = s.search(engine, "nam", site="www.damha.quangninh.gov.vn", limit=10_000)
    assert only
    assert {hit.site for hit in only} == {"damha.quangninh.gov.vn"}
    assert {h.url for h in only} == {h.url for h in everything if h.site == "damha.quangninh.gov.vn"}
    dated = sorted(hit.published for hit in everything if hit.published)
    middle = dated[len(dated) // 2]
    since = s.search(engine, "nam", since=middle, limit=10_000)
    assert since
    assert all(hit.published and hit.published >= middle for hit in since)
    assert {h.url for h in since} == {h.url for h in everything if h.published and h.published >= middle}
    assert [h.url for h in s.search(engine, "nam", limit=3)] == [h.url for h in everything[:3]]


def test_the_index_holds_every_article_once_and_a_crawled_edit(backend):
    """After the later recording: the edited article is found by its new words, not by its old ones."""
    engine = make_engine(backend)
    with engine.connect() as connection:
        articles = connection.scalar(text("SELECT count(*) FROM articles"))
        if engine.dialect.name == "postgresql":
            indexed = connection.scalar(text("SELECT count(*) FROM articles WHERE search_vector IS NOT NULL"))
        else:
            indexed = connection.scalar(text("SELECT count(*) FROM articles_fts"))
            connection.execute(text("INSERT INTO articles_fts (articles_fts) VALUES ('integrity-check')"))
        edited = connection.execute(
            text("SELECT a.url, v.body_text FROM article_versions v JOIN articles a ON a.id = v.article_id")
        ).all()
    assert indexed == articles
    gis = [row for row in edited if "ung-dung-gis" in row.url]
    assert gis, "the later recording edits the GIS article"
    url, old_body = gis[0]
    assert "87% văn bản đi được ký số" in old_body
    assert url not in _urls(backend, '"87 van ban di duoc ky so"'), "the old body is no longer found"
    assert url in _urls(backend, '"di tich quoc gia dac biet"'), "the new body is"
    assert _urls(backend, "ung dung gis tren dia ban tinh nghe an")[0] == url, "the new title is, first"


def test_removed_articles_are_left_out_unless_asked(backend):
    removed = [row for row in _stored(backend) if row["removed_at"] is not None]
    assert removed, "the later recording removes an article"
    title = removed[0]["title"]
    assert removed[0]["url"] not in _urls(backend, title)
    assert removed[0]["url"] == _urls(backend, title, include_removed=True)[0]


# -- the store keeps the index in step -----------------------------------------------------------
def _item(url: str, title: str, body: str, **fields) -> Article:
    return Article(
        url=url, site="a.gov.vn", title=title, body_text=body, published=datetime(2026, 1, 2, tzinfo=UTC), **fields
    )


def test_the_store_keeps_the_index_in_step(db_url):
    engine = make_engine(db_url)
    store = ArticleStore(engine)
    one, two = "https://a.gov.vn/tin/1.html", "https://a.gov.vn/tin/2.html"
    store.write(
        [
            _item(one, "Đảng bộ phường tổng kết", "Hội nghị đánh giá công tác.", summary="Tin Đảng bộ."),
            _item(two, "Lịch tiếp công dân", "Chủ tịch UBND tiếp công dân.", other_urls=[one + "?print=1"]),
            _item(two, "Lịch tiếp công dân tháng 9", "Chủ tịch UBND tiếp công dân."),  # the same URL twice
        ]
    )

    def found(query: str, **options) -> list[str]:
        return [hit.url for hit in s.search(engine, query, **options)]

    assert found("dang bo") == [one]
    assert found("tiep cong dan thang 9") == [two], "the last write of the batch is the one indexed"
    # a new version from a crawl: the new text is found, the old text is not
    store.write([_item(one, "Đảng bộ phường tổng kết", "Quyết định bổ nhiệm cán bộ.", summary="Tin Đảng bộ.")])
    assert found("quyet dinh bo nhiem") == [one]
    assert found("hoi nghi danh gia") == []
    # a reparse (ArticleStore.revise): the same
    with engine.connect() as connection:
        row = dict(connection.execute(text("SELECT * FROM articles WHERE url = :u"), {"u": two}).mappings().one())
    assert store.revise([(row, _item(two, "Lịch tiếp dân định kỳ", "Chủ tịch UBND tiếp công dân."))]) == 1
    assert found("tiep dan dinh ky") == [two]
    assert found("thang 9") == []
    # a removal: kept in the index, left out of searches unless asked; back when the page is back
    store.mark_gone([ArticleGone(url=one, site="a.gov.vn", status=404, found_at=datetime.now(UTC))])
    assert found("dang bo") == []
    assert found("dang bo", include_removed=True) == [one]
    store.write([_item(one, "Đảng bộ phường tổng kết", "Quyết định bổ nhiệm cán bộ.", summary="Tin Đảng bộ.")])
    assert found("dang bo") == [one]
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            assert connection.scalar(text("SELECT count(*) FROM articles_fts")) == 2
    engine.dispose()


def test_index_limits_match_on_both_backends(db_url):
    """A long body is indexed to the same word on both backends; a word too long to index is skipped."""
    engine = make_engine(db_url)
    body = " ".join(f"tu{i}" for i in range(s.MAX_BODY_TOKENS + 50)) + " " + "x" * 3000
    ArticleStore(engine).write([_item("https://a.gov.vn/dai.html", "Bài dài", body)])
    assert [h.url for h in s.search(engine, f"tu{s.MAX_BODY_TOKENS - 1}")] == ["https://a.gov.vn/dai.html"]
    assert s.search(engine, f"tu{s.MAX_BODY_TOKENS}") == []
    with pytest.raises(s.SearchQueryError, match="3000 letters"):  # longer than any indexed word: said
        s.search(engine, "x" * 3000)
    assert s.search(engine, "x" * s.MAX_TOKEN_CHARS) == []
    assert [h.url for h in s.search(engine, '"bai dai"')] == ["https://a.gov.vn/dai.html"]
    engine.dispose()


def test_postgresql_gets_an_sql_fold_that_agrees_with_the_index(corpora):
    """govnews_fold() (unaccent, for people querying in SQL) folds every stored title to the words
    the index holds (unaccent also turns curly quotes straight: punctuation is no word)."""
    if "postgresql" not in corpora:
        pytest.skip("no PostgreSQL server for tests (set GOVNEWS_TEST_PG_URL; .ci/run starts one)")
    with make_engine(corpora["postgresql"]).connect() as connection:
        rows = connection.execute(
            text("SELECT title, summary, govnews_fold(title), govnews_fold(summary) FROM articles")
        )
        rows = rows.all()
        assert connection.scalar(text("SELECT govnews_fold('Quyết Định bổ nhiệm Đảng bộ')")) == (
            "quyet dinh bo nhiem dang bo"
        )
        found = connection.scalar(
            text(
                "SELECT count(*) FROM articles"
                " WHERE removed_at IS NULL AND search_vector @@ plainto_tsquery('simple', govnews_fold(:q))"
            ),
            {"q": "Đảng bộ"},
        )
    assert len(rows) > 100
    for title, summary, folded_title, folded_summary in rows:
        assert re.findall(r"[^\W_]+", folded_title) == s.tokens(title)
        assert re.findall(r"[^\W_]+", folded_summary or "") == s.tokens(summary)
    assert found == len(s.search(make_engine(corpora["postgresql"]), "dang bo", limit=10_000))


# -- the command ----------------------------------------------------------------------------------
def test_cli_lines_and_json(corpora):
    db = corpora["sqlite"]
    result = run_govnews("search", "quyet dinh bo nhiem", "--db", db)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    first = lines[0].split("\t")
    assert len(first) == 5
    url, site, published, title, snippet = first
    assert title == "Công bố quyết định bổ nhiệm Phó Giám đốc Sở"
    assert site == "skhcn.nghean.gov.vn"
    assert url.startswith("https://skhcn.nghean.gov.vn/")
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", published)
    assert "**" in snippet
    assert f"{len(lines)} article(s)" in result.stderr
    result = run_govnews("search", "dang bo", "--db", db, "--json", "--limit", "2", "--site", "khxhnvnghean.gov.vn")
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 2
    assert set(records[0]) == {"url", "site", "published", "title", "summary", "snippet", "rank", "removed_at"}
    assert {r["site"] for r in records} == {"khxhnvnghean.gov.vn"}
    assert records[0]["published"].endswith("+07:00")
    assert [r["rank"] for r in records] == [1, 2]
    result = run_govnews("search", "nam", "--db", db, "--since", "2099-01-01")
    assert (result.returncode, result.stdout) == (0, "")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["search", "x", "--since", "yesterday"], "--since"),
        (["search", "x", "--limit", "0"], "--limit"),
        (["search", '"*"'], "nothing to search for"),
        (["search", "x", "--db", "sqlite:////nonexistent/g.sqlite3"], "no database"),
        (["search", "x", "--db", "mysql://u@h/d"], "unsupported database"),
    ],
)
def test_cli_usage_errors_are_one_line(corpora, argv, message):
    if "--db" not in argv:
        argv = [*argv, "--db", corpora["sqlite"]]
    result = run_govnews(*argv)
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_phrases_past_256_repeats_of_a_word_agree_on_both_backends(db_url):
    """PostgreSQL keeps 256 positions per word; SQLite holds a placeholder past them, so a phrase
    later in a long body is found by neither rather than by one (a hostile-input audit found it)."""
    engine = make_engine(db_url)
    body = " ".join(["xa"] * 300) + " xa phuong dac biet"
    ArticleStore(engine).write([_item("https://a.gov.vn/lap.html", "Bài lặp", body)])
    assert [h.url for h in s.search(engine, "xa")] == ["https://a.gov.vn/lap.html"]
    assert [h.url for h in s.search(engine, "phuong dac biet")] == ["https://a.gov.vn/lap.html"]
    assert s.search(engine, '"xa phuong"') == [], "the 301st 'xa' holds no position on either backend"
    assert s.search(engine, '"xa xa"') != []
    document = s._document("Bài lặp", None, body)[2]
    assert document[: s.MAX_POSITIONS_PER_LEXEME] == ["xa"] * s.MAX_POSITIONS_PER_LEXEME
    assert document[s.MAX_POSITIONS_PER_LEXEME] is None
    engine.dispose()


def test_a_megabyte_of_distinct_words_is_stored_and_indexed_to_the_limit(db_url):
    """A 1.5 MB body of distinct 100-letter words: PostgreSQL refuses a tsvector over 1 MB, which
    failed the portal's whole batch; the document now stops before, the same on SQLite."""
    engine = make_engine(db_url)
    words = [f"{i:06d}" + "a" * (s.MAX_TOKEN_CHARS - 6) for i in range(15_000)]
    ArticleStore(engine).write(
        [
            _item("https://a.gov.vn/lon.html", "Bài rất lớn", " ".join(words)),
            _item("https://a.gov.vn/nho.html", "Bài nhỏ", "Nội dung bình thường."),
        ]
    )
    assert len(s.tsvector_literal("Bài rất lớn", None, " ".join(words)).encode()) < 1_048_576
    assert [h.url for h in s.search(engine, "rat lon " + words[0])] == ["https://a.gov.vn/lon.html"]
    indexed = sum(1 for word in s._document("Bài rất lớn", None, " ".join(words))[2] if word)
    assert 5_000 < indexed < 15_000
    assert [h.url for h in s.search(engine, words[indexed - 1])] == ["https://a.gov.vn/lon.html"]
    assert s.search(engine, words[indexed]) == [], "past the budget: on neither backend"
    assert [h.url for h in s.search(engine, "binh thuong")] == ["https://a.gov.vn/nho.html"]
    engine.dispose()


def test_a_phrase_of_a_whole_page_is_a_usage_error():
    """One quoted phrase is one term: 20,000 words in it made PostgreSQL fail (StatementTooComplex)."""
    with pytest.raises(s.SearchQueryError, match="at most 256"):
        s.parse_query("-".join(f"w{i}" for i in range(20_000)))
    assert len(s.parse_query('"' + " ".join(f"w{i}" for i in range(256)) + '"').terms[0].words) == 256


def test_greek_final_sigma_agrees_on_both_backends(db_url):
    engine = make_engine(db_url)
    ArticleStore(engine).write([_item("https://a.gov.vn/hy-lap.html", "Tin Hy Lạp", "Ο λόγος του δήμου.")])
    for typed in ("λογοσ", "λόγος", "ΛΌΓΟΣ"):
        assert [h.url for h in s.search(engine, typed)] == ["https://a.gov.vn/hy-lap.html"], typed
    engine.dispose()


def test_times_past_year_9999_in_vietnam_print(db_url, tmp_path):
    """A stored time in the last hours of 9999 (UTC) is year 10000 in Vietnam: search and export
    printed an OverflowError traceback; the time is now given in UTC."""
    engine = make_engine(db_url)
    edge = datetime(9999, 12, 31, 20, tzinfo=UTC)
    ArticleStore(engine).write([_item("https://a.gov.vn/bien.html", "Ngày biên", "Nội dung edgeday.", updated=edge)])
    with engine.begin() as connection:
        connection.execute(text("UPDATE articles SET published = :p"), {"p": edge.replace(tzinfo=None)})
    engine.dispose()
    found = run_govnews("search", "edgeday", "--db", db_url, "--json")
    assert found.returncode == 0, found.stderr
    assert '"published": "9999-12-31T20:00:00+00:00"' in found.stdout
    exported = run_govnews("export", "--db", db_url)
    assert exported.returncode == 0, exported.stderr
    assert '"updated": "9999-12-31T20:00:00+00:00"' in exported.stdout


def test_snippets_look_only_at_what_the_index_holds():
    """A body past MAX_BODY_TOKENS words is not indexed further, so its snippet is not searched
    further either (folding a 5 MB body per hit timed the canned search out)."""
    query = s.parse_query("dac biet")
    early = "Tin đặc biệt hôm nay. " + "lời nói " * 400_000
    assert "**đặc** **biệt**" in s.snippet(query, None, early)
    late = "lời nói " * 20_000 + "Tin đặc biệt hôm nay."
    assert "**" not in s.snippet(query, None, late), "past the indexed words: no match shown"
    assert s.snippet(query, None, late).startswith("lời nói")


def test_a_stored_time_that_is_no_time_does_not_end_the_search(tmp_path):
    """SQLite keeps whatever text a hand edit or another tool wrote in ``published`` (audit)."""
    db = f"sqlite:///{tmp_path / 'g.sqlite3'}"
    engine = make_engine(db)
    ArticleStore(engine).write([_item("https://a.gov.vn/hong.html", "Ngày hỏng", "Nội dung hongngay.")])
    with engine.begin() as connection:
        connection.execute(text("UPDATE articles SET published = 'hôm qua'"))
    (hit,) = s.search(engine, "hongngay")
    assert hit.published is None
    engine.dispose()
    result = run_govnews("search", "hongngay", "--db", db)
    assert result.returncode == 0, result.stderr
    assert "\t-\t" in result.stdout


def test_full_width_input_finds_the_article(db_url):
    engine = make_engine(db_url)
    ArticleStore(engine).write([_item("https://a.gov.vn/ubnd.html", "Ｑuyết định của ＵＢＮＤ", "Nội dung.")])
    assert [h.url for h in s.search(engine, "quyet dinh ubnd")] == ["https://a.gov.vn/ubnd.html"]
    assert [h.url for h in s.search(engine, "ＵＢＮＤ")] == ["https://a.gov.vn/ubnd.html"]
    engine.dispose()


def test_cli_edges_are_one_line_errors_or_results(corpora):
    """Found by a hostile-input audit: tracebacks for a huge --limit and --since 0001-01-01, a
    case-sensitive --site."""
    db = corpora["sqlite"]
    huge = run_govnews("search", "dang bo", "--db", db, "--limit", "99999999999999999999")
    assert huge.returncode == 2
    assert "--limit" in huge.stderr
    assert "Traceback" not in huge.stderr
    assert len(huge.stderr.strip().splitlines()) == 1
    every = run_govnews("search", "dang bo", "--db", db, "--since", "0001-01-01", "--limit", "1000")
    plain = run_govnews("search", "dang bo", "--db", db, "--limit", "1000")
    assert every.returncode == 0, every.stderr
    assert every.stdout == plain.stdout
    assert every.stdout
    host = plain.stdout.splitlines()[0].split("\t")[1]
    for typed in (host.upper(), f"www.{host}", f"https://{host}/tin/", f"{host}."):
        result = run_govnews("search", "dang bo", "--db", db, "--site", typed, "--limit", "1000")
        assert result.returncode == 0, result.stderr
        assert result.stdout, typed
        assert {line.split("\t")[1] for line in result.stdout.splitlines()} == {host}, typed
    missing = run_govnews("search", "dang bo", "--db", db, "--site", "khong-co.gov.vn")
    assert missing.returncode == 0
    assert "no portal khong-co.gov.vn" in missing.stderr
    bad = run_govnews("search", "dang bo", "--db", db, "--site", "<b>x</b>")
    assert bad.returncode == 2
    assert "not a portal host" in bad.stderr
    long_word = run_govnews("search", "a" * 101, "--db", db)
    assert long_word.returncode == 2
    assert "101 letters" in long_word.stderr


def test_cli_output_carries_no_terminal_controls(tmp_path):
    """A title stored with C1 controls and bidi overrides (by an older govnews, or another tool)
    is printed without them: U+009B starts a terminal escape sequence, U+202E reverses text."""
    import json as json_

    db = f"sqlite:///{tmp_path / 'c.sqlite3'}"
    engine = make_engine(db)
    ArticleStore(engine).write([_item("https://a.gov.vn/dk.html", "Điều khiển", "Nội dung kiểm tra.")])
    with engine.begin() as connection:
        connection.execute(text("UPDATE articles SET title = :t"), {"t": "Điều\x9b31m khiển\u202egpj.exe\ttab"})
    engine.dispose()
    lines = run_govnews("search", "kiem tra", "--db", db)
    assert lines.returncode == 0, lines.stderr
    assert not any(c in lines.stdout for c in "\x9b\u202e"), repr(lines.stdout)
    assert lines.stdout.count("\t") == 4
    as_json = run_govnews("search", "kiem tra", "--db", db, "--json")
    assert not any(c in as_json.stdout for c in "\x9b\u202e"), repr(as_json.stdout)
    assert json_.loads(as_json.stdout)["title"] == "Điều\x9b31m khiển\u202egpj.exe\ttab", "escaped, not lost"


def test_cli_hostile_query_is_not_a_crash(corpora):
    for query in ("AND OR (", "NEAR(", 'title:"x'):
        result = run_govnews("search", query, "--db", corpora["sqlite"])
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr


def test_cli_search_on_an_older_schema_says_upgrade(tmp_path):
    from pipelines.db import upgrade

    db = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    upgrade(make_engine(db), "0005")
    result = run_govnews("search", "x", "--db", db)
    assert result.returncode == 2
    assert "govnews db upgrade" in result.stderr


def test_search_imports_no_crawler_machinery_and_no_orm(corpora):
    script = (
        "import contextlib, io, json, sys\n"
        "from crawler.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        f"    code = main(['search', 'dang bo', '--db', {corpora['sqlite']!r}])\n"
        "print(json.dumps([code, out.getvalue(), sorted(sys.modules)]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    code, output, modules = json.loads(result.stdout.strip().splitlines()[-1])
    assert code == 0
    assert "skhcn" in output or "khxhnvnghean" in output
    top = {name.split(".")[0] for name in modules}
    assert top.isdisjoint({"scrapy", "twisted", "alembic", "trafilatura"}), top
    assert "sqlalchemy.orm" not in modules
    assert "pipelines.models" not in modules


def test_other_sqlite_readers_search_alike_through_sql_functions(corpora):
    """What a Datasette search box will run: plain SQL over the FTS table, the query folded by the
    registered govnews_match() — the same articles as govnews search."""
    import sqlite3

    path = corpora["sqlite"].removeprefix("sqlite:///")
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    s.register_sqlite_functions(connection)
    try:
        for query in ("Đảng bộ", "dang bo", '"dai hoc vinh"', "NEAR(", '"', "quyết định*"):
            rows = connection.execute(
                "SELECT a.url FROM articles a WHERE a.removed_at IS NULL AND a.id IN"
                " (SELECT rowid FROM articles_fts WHERE articles_fts MATCH govnews_match(?))",
                (query,),
            ).fetchall()
            expected = set(_urls(corpora["sqlite"], query)) if _words_in(query) else set()
            assert {row[0] for row in rows} == expected, query
        assert connection.execute("SELECT govnews_fold('Đảng Bộ')").fetchone() == ("dang bo",)
    finally:
        connection.close()


def _slow_matches(query: s.Query, value: str) -> tuple[list[int], set[str]]:
    """The snippet's matching as it was first written: every word folded and tested on its own."""
    hits, seen = [], set()
    for i, match in enumerate(s._WORD.finditer(value)):
        matched = [word for word in s.tokens(match.group()) if query.matches(word)]
        if matched:
            hits.append(i)
            seen.update(matched)
    return hits, seen


def test_snippet_matching_by_one_pattern_equals_word_by_word():
    import unicodedata

    texts = []
    for path in sorted(WARCS.glob("*/truth.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            texts += [record.get("title") or "", record.get("summary") or "", record.get("body_text") or ""]
    texts += ["Đảng bộ xã Đông Hòa", "ĐẢNG BỘ", "a\u0301 combining đ", "covid-19 QĐ-UBND 12/2025", "x" * 150 + " bo"]
    queries = ["dang bo", '"dang bo"', "bo*", "quyet dinh bo nhiem", "ubnd*", "2025", "hoa* dong", "xxxx*", "d"]
    for query in map(s.parse_query, queries):
        for value in texts:
            value = unicodedata.normalize("NFC", value)
            _, hits, seen = s._matches_in(query, value)
            assert (hits, seen) == _slow_matches(query, value), (query, value[:80])
