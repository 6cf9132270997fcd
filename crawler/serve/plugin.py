"""govnews's Datasette plugin: the search box folds like ``govnews search``, a month facet, the article page.

Registered by ``govnews serve`` only (not as an entry point, so a plain ``datasette`` of another
database never runs it).

* Search: Datasette's table search calls the SQL function ``escape_fts(:search)``. This plugin
  replaces it (``trylast``, so after Datasette's own) with :func:`pipelines.search.match_expression`,
  which folds tone marks and ``đ`` exactly as the index was folded: "dang bo" and "Đảng bộ" find
  the same articles in the browser, in ``govnews search`` and in PostgreSQL. Every typed character
  is a word or a separator, never FTS5 syntax.
* List facet: ``{"list": "categories"}``, Datasette's array facet without its copy of every row.
* Month facet: ``{"month": "published"}`` counts articles per calendar month in Vietnam (UTC+7) and
  filters with ``published__month=YYYY-MM``.
* Article page (the row page of ``articles``): the body as HTML sanitised by
  :func:`pipelines.sanitise.sanitise_html` (the export's nh3 allow-list: no script, no event handler,
  no ``javascript:`` URL), each image beside its caption, attachments, the source link, the other URLs
  it was reached under, its original or syndicated copies, and its earlier versions. Links and images
  are only shown for http(s) URLs; everything else Datasette escapes.
* Headers: no page of the archive is framed by another site, nor leaks its URL to the portals whose
  images it shows.
"""

from __future__ import annotations

import json
import re
from typing import Any

from datasette import hookimpl
from datasette.facets import ArrayFacet, Facet
from datasette.filters import FilterArguments
from datasette.utils import escape_sqlite, path_with_added_args, path_with_removed_args
from markupsafe import Markup

from crawler.serve.metadata import VN_OFFSET

MONTH = re.compile(r"[0-9]{4}-[0-9]{2}")  # ASCII digits: \d takes ٣ and ３ too, which int() reads
_WEB_URL = re.compile(r"https?://", re.IGNORECASE)
SECURITY_HEADERS = [
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]  # and a content-security-policy per page: content_security_policy()
# Nothing loads from or talks to another origin but images (the portals' own, on the article page);
# no plugin, no <base>, no form posting elsewhere. Inline scripts stay allowed: Datasette's own pages
# are built on them; what keeps stored text inert is that it is escaped everywhere (and the
# dashboard's table cells, which datasette-dashboards writes as innerHTML, are escaped in SQL).
_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'{eval}; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' http: https: data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def content_security_policy(path: str) -> bytes:
    """The page's policy: vega (the dashboard's charts) compiles its expressions with Function(), so
    the dashboards alone may evaluate code."""
    charts = path.startswith("/-/dashboards")
    return _POLICY.format(eval=" 'unsafe-eval'" if charts else "").encode()


# A read-only archive: any other method is refused before Datasette sees it (Datasette 0.65 answers a
# POST to a canned query with a 500).
READ_METHODS = {"GET", "HEAD", "OPTIONS"}


@hookimpl(trylast=True)
def prepare_connection(conn) -> None:
    from pipelines.search import match_expression, register_sqlite_functions

    register_sqlite_functions(conn)
    conn.create_function("escape_fts", 1, match_expression, deterministic=True)
    conn.create_function("govnews_html", 1, html_text, deterministic=True)


def html_text(value):
    """A value as HTML text (``&``, ``<``, ``>``, quotes escaped); numbers and NULL unchanged."""
    import html

    return html.escape(value) if isinstance(value, str) else value


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        async def add_headers(scope, receive, send):
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            if scope.get("method", "GET") not in READ_METHODS:
                await _refuse(send, 405, "405 Method Not Allowed: this archive is read-only")
                return
            problem = _canned_search_json_error(scope)
            if problem:
                await _refuse(send, 400, json.dumps({"ok": False, "error": problem, "status": 400}), "application/json")
                return

            async def sending(message):
                if message["type"] == "http.response.start":
                    names = {name.lower() for name, _ in message.get("headers", [])}
                    policy = (b"content-security-policy", content_security_policy(scope.get("path", "")))
                    extra = [(n, v) for n, v in [*SECURITY_HEADERS, policy] if n not in names]
                    message = {**message, "headers": [*message.get("headers", []), *extra]}
                await send(message)

            await app(scope, receive, sending)

        return add_headers

    return wrap


async def _refuse(send, status: int, body: str, content_type: str = "text/plain") -> None:
    headers = [
        (b"content-type", f"{content_type}; charset=utf-8".encode()),
        *([(b"allow", b"GET, HEAD, OPTIONS")] if status == 405 else []),
        *SECURITY_HEADERS,
        (b"content-security-policy", content_security_policy("")),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body.encode() + b"\n"})


_CANNED_SEARCH_JSON = re.compile(r"/[^/]+/search\.json")


def _canned_search_json_error(scope) -> str | None:
    """Why the canned search's JSON (``/DB/search.json?q=``) cannot run its query, else None. Its
    HTML page says so beside the form (templates/query.html); the JSON would be an empty list."""
    if not _CANNED_SEARCH_JSON.fullmatch(scope.get("path", "")):
        return None
    from urllib.parse import parse_qs

    values = parse_qs(scope.get("query_string", b"").decode("utf-8", "replace")).get("q")
    return search_error(values[0]) if values else None


# Datasette 0.65 raises these for a request it cannot answer with its default status, 500
_CLIENT_ERRORS = ("Cannot sort table by", "Cannot use _sort and _sort_desc")


@hookimpl
def handle_exception(datasette, request, exception):
    """Mistakes in the request, which Datasette 0.65 answers with a 500: a sort by a column the table
    does not have, a parameter that should be JSON and is not (``_through=x``, ``id__in=[1``). They are
    400s; Datasette's own handler (``trylast``) renders the page either way."""
    from datasette.handle_exception import handle_exception as render
    from datasette.views.base import DatasetteError

    if (
        isinstance(exception, DatasetteError)
        and exception.status == 500
        and str(exception.message).startswith(_CLIENT_ERRORS)
    ):
        exception.status = 400
        exception.title = exception.title or "Bad request"
    elif isinstance(exception, json.JSONDecodeError):  # Datasette decodes JSON only from query parameters
        return render(datasette, request, DatasetteError(f"a parameter is not valid JSON: {exception.msg}", status=400))
    return None


def vn_time(value: str | None) -> str:
    """A stored UTC time (``YYYY-MM-DD HH:MM:SS[.ffffff]``) as Vietnam's wall-clock time (UTC+7)."""
    from datetime import datetime, timedelta

    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(str(value)) + timedelta(hours=7)
    except (ValueError, OverflowError):  # not a time, or past year 9999 in Vietnam: shown as stored
        return str(value)
    return moment.strftime("%Y-%m-%d %H:%M") + " (UTC+7)"


@hookimpl
def prepare_jinja2_environment(env, datasette):
    env.filters["vn_time"] = vn_time


# -- month facet ------------------------------------------------------------------------------------
def _month_sql(column: str) -> str:
    return f"strftime('%Y-%m', {escape_sqlite(column)}, {VN_OFFSET})"


class MonthFacet(Facet):
    """Articles per calendar month in Vietnam; a value filters with ``COLUMN__month=YYYY-MM``."""

    type = "month"

    async def suggest(self) -> list:
        return []  # configured in the metadata for articles.published; not guessed for other columns

    async def facet_results(self):
        from datasette.database import QueryInterrupted

        results, timed_out = [], []
        args = dict(self.get_querystring_pairs())
        size = self.get_facet_size()
        for source_and_config in self.get_configs():
            config, source = source_and_config["config"], source_and_config["source"]
            column = config.get("column") or config["simple"]
            month = _month_sql(column)
            # the column comes from the metadata, escaped; the inner SQL is Datasette's own
            sql = (
                f"select {month} as value, count(*) as count from ({self.sql}) where {month} is not null "  # noqa: S608
                f"group by value order by value desc limit {size + 1}"
            )
            try:
                rows = await self.ds.execute(
                    self.database,
                    sql,
                    self.params,
                    truncate=False,
                    custom_time_limit=self.ds.setting("facet_time_limit_ms"),
                )
            except QueryInterrupted:
                timed_out.append(column)
                continue
            key = f"{column}__month"
            values = []
            for row in rows.rows[:size]:
                selected = args.get(key) == row["value"]
                change = path_with_removed_args if selected else path_with_added_args
                values.append(
                    {
                        "value": row["value"],
                        "label": row["value"],
                        "count": row["count"],
                        "toggle_url": self.ds.absolute_url(self.request, change(self.request, {key: row["value"]})),
                        "selected": selected,
                    }
                )
            results.append(
                {
                    "name": column,
                    "type": self.type,
                    "results": values,
                    "hideable": source != "metadata",
                    "toggle_url": path_with_removed_args(self.request, {"_facet_month": column}),
                    "truncated": len(rows) > size,
                }
            )
        return results, timed_out


class ListFacet(ArrayFacet):
    """Datasette's array facet (values of a JSON list, each counted once per row, filtered with
    ``COLUMN__listcontains``, which skips a row holding no JSON list) without its cost: the stock SQL
    deduplicates ``distinct value, row.*``,
    copying every column of every row (bodies included); this one keeps the value and the row's
    ``id``. At 100,000 articles the stock facet passes Datasette's time limit (bench/serve_speed.py)."""

    type = "list"

    async def suggest(self) -> list:
        return []

    async def facet_results(self):
        from datasette.database import QueryInterrupted

        results, timed_out = [], []
        size = self.get_facet_size()
        pairs = self.get_querystring_pairs()
        for source_and_config in self.get_configs():
            config, source = source_and_config["config"], source_and_config["source"]
            column = escape_sqlite(config.get("column") or config["simple"])
            name = config.get("column") or config["simple"]
            # the column comes from the metadata, escaped; the inner SQL is Datasette's own
            sql = (
                f"with inner as ({self.sql}), items as (select distinct j.value as value, inner.id as row_id "  # noqa: S608
                f"from inner, json_each(case when json_valid(inner.{column}) and json_type(inner.{column}) = 'array' "
                f"then inner.{column} else '[]' end) as j where j.type not in ('null', 'array', 'object')) "
                f"select value, count(*) as count from items group by value order by count desc, value "
                f"limit {size + 1}"
            )
            try:
                rows = await self.ds.execute(
                    self.database,
                    sql,
                    self.params,
                    truncate=False,
                    custom_time_limit=self.ds.setting("facet_time_limit_ms"),
                )
            except QueryInterrupted:
                timed_out.append(name)
                continue
            key, values = f"{name}__listcontains", []
            for row in rows.rows[:size]:
                value = str(row["value"])
                selected = (key, value) in pairs
                change = path_with_removed_args if selected else path_with_added_args
                values.append(
                    {
                        "value": value,
                        "label": value,
                        "count": row["count"],
                        "toggle_url": self.ds.absolute_url(self.request, change(self.request, {key: value})),
                        "selected": selected,
                    }
                )
            results.append(
                {
                    "name": name,
                    "type": self.type,
                    "results": values,
                    "hideable": source != "metadata",
                    "toggle_url": self.ds.urls.path(path_with_removed_args(self.request, {"_facet_list": name})),
                    "truncated": len(rows) > size,
                }
            )
        return results, timed_out


@hookimpl
def register_facet_classes():
    return [MonthFacet, ListFacet]


def month_bounds(month: str) -> tuple[str, str]:
    """The UTC bounds ``[start, end)`` of a calendar month in Vietnam (UTC+7), as stored times compare
    (``YYYY-MM-DD HH:MM:SS``): a range an index on the column can answer. Any month of years 1-9999
    (January of year 1 starts before datetime's range: its start is the first stored time possible)."""
    from calendar import monthrange
    from datetime import datetime, timedelta

    year, number = int(month[:4]), int(month[5:7])
    first = datetime(year, number, 1)  # noqa: DTZ001 - naive UTC, as stored
    start = first - timedelta(hours=7) if (year, number) > (1, 1) else first
    # the month ends at midnight after its last day in Vietnam: 17:00 UTC that day
    end = datetime(year, number, monthrange(year, number)[1], 17)  # noqa: DTZ001
    return start.isoformat(sep=" ", timespec="seconds"), end.isoformat(sep=" ", timespec="seconds")


def valid_month(value: str | None) -> bool:
    """``YYYY-MM`` in ASCII digits, a real month of years 1-9999."""
    return bool(value) and MONTH.fullmatch(value) is not None and int(value[:4]) >= 1 and 1 <= int(value[5:]) <= 12


@hookimpl
def filters_from_request(request, database, table, datasette):
    if table == "articles":
        if request.args.get("_searchmode") == "raw":
            from datasette.utils.asgi import BadRequest

            # raw FTS5 syntax would bypass the fold: the index holds folded words (and placeholders)
            raise BadRequest('_searchmode=raw: not offered here; type words, "a phrase" or word* (tone marks ignored)')
        for key in request.args:
            if key == "_search" or key.startswith("_search_"):
                problem = search_error(request.args.get(key))
                if problem:  # the CLI's usage error, not a silent empty page
                    from datasette.utils.asgi import BadRequest

                    raise BadRequest(f"{key}: {problem}")
    clauses, params, described = [], {}, []
    for i, key in enumerate(sorted(request.args)):
        if key.endswith("__listcontains") and not key.startswith("_"):
            # the list facet's filter: like __arraycontains, but a row whose value is not a JSON list
            # is no match rather than a "malformed JSON" error for the whole table
            column = escape_sqlite(key.removesuffix("__listcontains"))
            clauses.append(  # the column escaped, the value a parameter
                f"exists (select 1 from json_each(case when json_valid({column}) and json_type({column}) = 'array' "  # noqa: S608
                f"then {column} else '[]' end) where value = :list_{i})"
            )
            params[f"list_{i}"] = request.args.get(key)
            described.append(f"{key.removesuffix('__listcontains')} holds {request.args.get(key)!r}")
            continue
        if not key.endswith("__month") or key.startswith("_"):
            continue
        column = key.removesuffix("__month")
        value = request.args.get(key)
        if not valid_month(value):
            from datasette.utils.asgi import BadRequest

            raise BadRequest(f"{key}: give a month as YYYY-MM (year 0001-9999, month 01-12)")
        clauses.append(f"{escape_sqlite(column)} >= :month_start_{i} and {escape_sqlite(column)} < :month_end_{i}")
        params[f"month_start_{i}"], params[f"month_end_{i}"] = month_bounds(value)
        described.append(f"{column} in {value} (Vietnam time)")
    return FilterArguments(clauses, params, described) if clauses else None


# -- the article page -------------------------------------------------------------------------------
# What one page shows of an article's images and versions; the rest are a link to their table away
# (an article with 5,000 images and 2,000 versions took 19 s to render).
SHOWN_IMAGES, SHOWN_VERSIONS = 200, 20
# Datasette's row table under the article repeats every column in full, and applies its cell
# truncation to table pages only: a 1 MB body made a page the browser never finished laying out.
LONG_CELLS = {("articles", "body_text"), ("articles", "body_html"), ("article_versions", "body_text")}
CELL_CHARS = 2_000


VERSION_CHARS = 20_000  # of an earlier version's text on the article page (the rest: article_versions)


def _version(version: dict[str, Any]) -> dict[str, Any]:
    text = version.get("body_text") or ""
    version["cut"] = len(text) if len(text) > VERSION_CHARS else None
    version["body_text"] = text[:VERSION_CHARS]
    return version


@hookimpl
def render_cell(row, value, column, table, database, datasette):
    """A long body in an HTML table cell: its start, escaped, and its length (the article page above
    the table shows it whole; JSON and CSV carry it whole)."""
    if (table, column) not in LONG_CELLS or not isinstance(value, str) or len(value) <= CELL_CHARS:
        return None
    from markupsafe import escape

    return Markup(f"{escape(value[:CELL_CHARS])}… <em>({len(value):,} characters in all)</em>")  # noqa: S704


def web_url(value: str | None) -> str | None:
    """``value`` if it is an http(s) URL a page may link to or load, else ``None``."""
    return value if value and _WEB_URL.match(value) else None


async def article_view(datasette, database: str, article_id: str) -> dict[str, Any] | None:
    """Everything the article page shows beside the row's own columns."""
    from pipelines.sanitise import sanitise_html

    db = datasette.get_database(database)
    found = await db.execute(
        "select a.*, s.host as site_host, s.name as site_name from articles as a "
        "join sites as s on s.id = a.site_id where a.id = :id",
        {"id": article_id},
    )
    row = found.first()
    if row is None:
        return None
    article = dict(row)
    images = await db.execute(
        "select position, image_url, caption from images where article_id = :id order by position limit :n",
        {"id": article_id, "n": SHOWN_IMAGES + 1},
    )
    attachments = await db.execute(
        "select url from attachments where article_id = :id order by position", {"id": article_id}
    )
    versions = await db.execute(
        "select version, title, summary, body_text, updated, replaced_at from article_versions "
        "where article_id = :id order by version desc limit :n",
        {"id": article_id, "n": SHOWN_VERSIONS + 1},
    )
    urls = await db.execute(
        "select url from article_urls where article_id = :id and url != :canonical order by url",
        {"id": article_id, "canonical": article["url"]},
    )
    copies = await db.execute(
        "select a.id, a.title, a.url, s.host, a.duplicate_similarity from articles as a "
        "join sites as s on s.id = a.site_id where a.duplicate_of_id = :id order by a.id",
        {"id": article_id},
    )
    original = None
    if article["duplicate_of_id"] is not None:
        found = await db.execute(
            "select a.id, a.title, a.url, s.host from articles as a join sites as s on s.id = a.site_id "
            "where a.id = :id",
            {"id": article["duplicate_of_id"]},
        )
        original = found.first()
    markup = article["body_html"]
    if isinstance(markup, bytes):  # written as a BLOB by another tool: its text, as a browser would guess
        markup = markup.decode("utf-8", "replace")
    body = sanitise_html(markup, article["url"]) if markup else None
    return {
        "article": article,
        "url": web_url(article["url"]),
        "source_url": web_url(article["source_url"]),
        "body_html": Markup(body) if body else None,  # noqa: S704 - sanitised by the export's allow-list
        "images": [
            {"src": web_url(i["image_url"]), "image_url": i["image_url"], "caption": i["caption"]}
            for i in images.rows[:SHOWN_IMAGES]
        ],
        "more_images": len(images.rows) > SHOWN_IMAGES,
        "attachments": [{"href": web_url(a["url"]), "url": a["url"]} for a in attachments.rows],
        "versions": [_version(dict(v)) for v in versions.rows[:SHOWN_VERSIONS]],
        "more_versions": len(versions.rows) > SHOWN_VERSIONS,
        "other_urls": [{"href": web_url(u["url"]), "url": u["url"]} for u in urls.rows],
        "copies": [dict(c) | {"href": web_url(c["url"])} for c in copies.rows],
        "original": dict(original) | {"href": web_url(original["url"])} if original else None,
    }


def search_error(value: str | None) -> str | None:
    """Why a typed search cannot run (too many words, a word too long to be indexed), as
    ``govnews search`` says it; ``None`` for a query that runs, or one with no words at all (only
    punctuation: an empty result, as an empty box gives)."""
    from pipelines.search import SearchQueryError, fold, parse_query

    if not value or not re.search(r"[^\W_]", fold(value)):
        return None
    try:
        parse_query(value)
    except SearchQueryError as error:
        return str(error)
    return None


@hookimpl
def extra_template_vars(template, database, table, view_name, request, datasette):
    if request is None:
        return {}
    if template == "query.html" or template.startswith("query-"):
        # the canned search: a query that cannot run says why instead of listing nothing
        return {"govnews_search_error": search_error(request.args.get("q")) if "q" in request.args else None}
    if view_name != "row" or table != "articles":
        return {}

    async def inner() -> dict[str, Any]:
        from datasette.utils import urlsafe_components

        pks = urlsafe_components(request.url_vars.get("pks", ""))
        if len(pks) != 1:
            return {}
        return {"govnews_article": await article_view(datasette, database, pks[0])}

    return inner
