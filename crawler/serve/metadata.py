"""What Datasette shows of a govnews store: descriptions, search, facets, canned queries, the dashboard.

Everything here is derived, not restated: table and column descriptions are the comments of
``pipelines.models`` (the same words ``docs/schema.md`` prints), so the browser, the schema document
and the database agree. The canned queries are plain read-only SQLite SQL a user can copy.

Times are stored in UTC. Vietnam keeps one offset all year (+07:00, no daylight saving), so a
calendar day or month *in Vietnam* is ``strftime(..., published, '+7 hours')`` in SQL.
"""

from __future__ import annotations

from typing import Any

VN_OFFSET = "'+7 hours'"  # Asia/Ho_Chi_Minh: UTC+7 all year (written out in the SQL below)
DASHBOARD = "govnews"  # /-/dashboards/govnews

# Per portal, its newest five by the (site_id, published) index: no sort of the whole table.
LATEST_PER_PORTAL = """
select s.host as portal, a.published, a.title, a.url, a.id as article
from sites as s
join articles as a on a.id in (
  select id from articles where site_id = s.id and removed_at is null order by published desc, id desc limit 5
)
order by s.host, a.published desc, a.id desc
"""

PER_PORTAL_PER_MONTH = """
select s.host as portal, strftime('%Y-%m', a.published, '+7 hours') as month, count(*) as articles
from articles as a join sites as s on s.id = a.site_id
where a.removed_at is null and a.published is not null
group by portal, month
order by portal, month desc
"""

SYNDICATED = """
select o.id as original, os.host as original_portal, o.title as original_title, o.published as original_published,
       c.id as copy, cs.host as copy_portal, c.url as copy_url, round(c.duplicate_similarity, 3) as similarity
from articles as c
join articles as o on o.id = c.duplicate_of_id
join sites as os on os.id = o.site_id
join sites as cs on cs.id = c.site_id
order by o.published desc, o.id, c.id
"""

# The last run of each portal, its health, and its date coverage against the portal's earlier runs:
# a portal whose layout changed still answers 200, so a drop in coverage is the first sign.
_RUNS = """
with valid as (
  -- a run whose stats are not JSON (a hand edit, a truncated write) is shown as such, not an error
  -- that blanks every portal's row
  select site, id, started_at, finished_at, outcome, json_valid(stats) as readable,
         case when json_valid(stats) then stats else '{}' end as stats
  from crawl_runs
),
runs as (
  select site, id, started_at, finished_at, outcome,
         json_extract(stats, '$.summary.health') as health,
         case when readable then json_extract(stats, '$.scrapy."govnews/health/failed"')
              else 'stats unreadable' end as failed_checks,
         json_extract(stats, '$.scrapy."govnews/fields/articles"') as parsed,
         json_extract(stats, '$.scrapy."govnews/fields/published"') as dated,
         json_extract(stats, '$.scrapy."govnews/archive/hit"') is null as live,
         row_number() over (partition by site order by id desc) as n
  from valid
),
earlier as (
  select site, avg(1.0 * dated / parsed) as dated_share from runs where n > 1 and parsed > 0 group by site
),
live_success as (
  select site, max(finished_at) as last_live_success from runs where live and outcome = 'finished' group by site
)
"""

NEEDS_ATTENTION = (
    _RUNS  # noqa: S608 - constant SQL text, no input
    + """
select r.site as portal, r.started_at as last_run, r.outcome, r.failed_checks,
       round(1.0 * r.dated / nullif(r.parsed, 0), 2) as published_coverage,
       round(e.dated_share, 2) as published_coverage_before, l.last_live_success
from runs as r
left join earlier as e on e.site = r.site
left join live_success as l on l.site = r.site
where r.n = 1 and (
  r.outcome is not 'finished' or r.failed_checks is not null
  or (r.parsed > 0 and e.dated_share - 1.0 * r.dated / r.parsed > 0.1)
)
order by r.started_at desc
"""
)

PORTAL_HEALTH = (
    _RUNS  # noqa: S608 - constant SQL text, no input
    + """
select r.site as portal, r.started_at as last_run, r.outcome,
       case when r.failed_checks is null then 'ok' else 'FAIL: ' || r.failed_checks end as health,
       r.parsed as articles_parsed, round(1.0 * r.dated / nullif(r.parsed, 0), 2) as published_coverage,
       l.last_live_success,
       (select count(*) from articles as a
         where a.site_id = (select id from sites where host = r.site) and a.removed_at is null) as stored
from runs as r left join live_success as l on l.site = r.site
where r.n = 1
order by (r.outcome is 'finished' and r.failed_checks is null), r.site
"""
)

ARTICLES_PER_DAY = """
select date(a.published, '+7 hours') as day, s.host as portal, count(*) as articles
from articles as a join sites as s on s.id = a.site_id
where a.removed_at is null and a.published is not null
  and date(a.published, '+7 hours') >= date((select max(published) from articles), '+7 hours', '-365 days')
group by day, portal
order by day
"""

# pipelines.search's own ranking, in SQL: tiers (the words in order in the title, all in the title,
# in title or lead, anywhere; shortest title first in the title tiers), then bm25 title > lead > body.
# The snippet (Python) is made for the 50 hits shown only, not for every match before the sort.
SEARCH_RANKED = """
with hits as materialized (
  select a.id,
         case when a.id in (select rowid from articles_fts where articles_fts match govnews_match(:q, 'sequence'))
              then 4
              when a.id in (select rowid from articles_fts where articles_fts match govnews_match(:q, 'title'))
              then 3
              when a.id in (select rowid from articles_fts where articles_fts match govnews_match(:q, 'lead'))
              then 2
              else 1 end as tier,
         bm25(articles_fts, 10.0, 4.0, 1.0) as rank
  from articles_fts join articles as a on a.id = articles_fts.rowid
  where articles_fts match govnews_match(:q) and a.removed_at is null
  order by tier desc, case when tier >= 3 then length(a.title) else 0 end, rank,
           a.published is null, a.published desc, a.id
  limit 50
)
select a.id as article, s.host as portal, a.published, a.title, a.url,
       govnews_snippet(:q, a.summary, a.body_text) as snippet, h.tier
from hits as h join articles as a on a.id = h.id join sites as s on s.id = a.site_id
order by h.tier desc, case when h.tier >= 3 then length(a.title) else 0 end, h.rank,
         a.published is null, a.published desc, a.id
"""

CANNED_QUERIES: dict[str, dict[str, str]] = {
    "search": {
        "title": "Search, best match first",
        "description": "Every word must occur; tone marks and đ/d are ignored (dang bo finds Đảng bộ); "
        '"quoted words" are a phrase, word* a prefix. Title matches rank above lead and body.',
        "sql": SEARCH_RANKED,
        "hide_sql": True,
    },
    "latest_per_portal": {
        "title": "Latest articles per portal",
        "description": "The five newest articles of each portal (removed ones left out).",
        "sql": LATEST_PER_PORTAL,
    },
    "articles_per_portal_per_month": {
        "title": "Articles per portal per month",
        "description": "Months in Vietnam's time (UTC+7).",
        "sql": PER_PORTAL_PER_MONTH,
    },
    "syndicated_copies": {
        "title": "Syndicated copies and their originals",
        "description": "Articles that repeat another one (reposts, syndication across portals), "
        "with the original and the similarity of their texts.",
        "sql": SYNDICATED,
    },
    "portals_needing_attention": {
        "title": "Portals whose last crawl failed or whose field coverage dropped",
        "description": "The last crawl of each portal that did not finish, failed a health check, or dated "
        "10 points fewer of its articles than the portal's earlier crawls did; with its last successful live "
        "crawl (a replay from an archive is not one).",
        "sql": NEEDS_ATTENTION,
    },
}

ARTICLE_FACETS: list[Any] = ["site_id", {"list": "categories"}, {"month": "published"}]


def _tables() -> dict[str, dict[str, Any]]:
    from pipelines.models import Base

    tables: dict[str, dict[str, Any]] = {}
    for table in Base.metadata.sorted_tables:
        entry: dict[str, Any] = {"columns": {c.name: c.comment for c in table.columns if c.comment}}
        if table.comment:
            entry["description"] = table.comment
        tables[table.name] = entry
    return tables


HEALTH_COLUMNS = (
    *("portal", "last_run", "outcome", "health", "articles_parsed"),
    *("published_coverage", "last_live_success", "stored"),
)
ATTENTION_COLUMNS = (
    *("portal", "last_run", "outcome", "failed_checks"),
    *("published_coverage", "published_coverage_before", "last_live_success"),
)


TIME_COLUMNS = ("last_run", "last_live_success")


def html_escaped(sql: str, columns: tuple[str, ...], *, when_empty: str) -> str:
    """``sql`` for datasette-dashboards' table chart: each of its ``columns`` HTML-escaped by
    ``govnews_html`` (the chart writes every cell with ``innerHTML``, so a portal name or a check
    name holding markup would run in the operator's browser; escaped, it shows as written), times
    in Vietnam's wall-clock time, and one row saying ``when_empty`` when there is none (the chart
    fails on an empty result and shows a blank box, which looks like a broken panel)."""

    def cell(column: str) -> str:
        if column in TIME_COLUMNS:
            return f"strftime('%Y-%m-%d %H:%M', {column}, '+7 hours') as {column}"
        return f"govnews_html({column}) as {column}"

    selected = ", ".join(cell(column) for column in columns)
    blanks = ", ".join(["null"] * (len(columns) - 1))
    note = when_empty.replace("'", "''")
    return (
        f"with shown as (select {selected} from ({sql.strip()}))\n"  # noqa: S608 - constant SQL and names
        f"select * from shown union all select '{note}', {blanks} where not exists (select 1 from shown)"
    )


def dashboard(database: str) -> dict[str, Any]:
    """The datasette-dashboards configuration: articles per day per portal, and per-portal health."""
    return {
        "title": "govnews: portals at a glance",
        "description": "Articles published per day per portal (the last year of the archive), and the "
        "state of each portal's last crawl: a portal whose layout changed or went dark shows here first.",
        "layout": [["per-day", "per-day"], ["health", "health"], ["attention", "attention"]],
        "charts": {
            "per-day": {
                "title": "Articles per day per portal",
                "db": database,
                "query": ARTICLES_PER_DAY,
                "library": "vega-lite",
                "display": {
                    "mark": {"type": "bar", "tooltip": True},
                    "encoding": {
                        "x": {"field": "day", "type": "temporal", "timeUnit": "yearmonthdate", "title": "day"},
                        "y": {"field": "articles", "type": "quantitative", "aggregate": "sum"},
                        "color": {"field": "portal", "type": "nominal"},
                    },
                },
            },
            "health": {
                "title": "Per-portal health (last crawl; times in Vietnam, UTC+7)",
                "db": database,
                "query": html_escaped(PORTAL_HEALTH, HEALTH_COLUMNS, when_empty="no crawl recorded yet"),
                "library": "table",
                "display": {},
            },
            "attention": {
                "title": "Needing attention",
                "db": database,
                "query": html_escaped(NEEDS_ATTENTION, ATTENTION_COLUMNS, when_empty="nothing needs attention"),
                "library": "table",
                "display": {},
            },
        },
    }


def build_metadata(database: str) -> dict[str, Any]:
    """Datasette metadata for the store opened as database ``database`` (its file's stem)."""
    tables = _tables()
    tables["articles"].update(
        {
            "fts_table": "articles_fts",
            "fts_pk": "id",
            "sort_desc": "published",
            "facets": ARTICLE_FACETS,
            "label_column": "title",
        }
    )
    tables["sites"]["label_column"] = "host"
    tables["articles_fts"] = {"hidden": True}
    for name in ("minhash_bands", "counters", "alembic_version"):
        tables.setdefault(name, {})["hidden"] = True
    return {
        "title": "govnews",
        "description": "News of Vietnam's government portals, crawled by govnews. Search without tone marks "
        "(dang bo finds Đảng bộ) in the articles table or the search query; the dashboard is at "
        f"/-/dashboards/{DASHBOARD}.",
        "databases": {database: {"tables": tables, "queries": CANNED_QUERIES}},
        "plugins": {"datasette-dashboards": {DASHBOARD: dashboard(database)}},
    }
