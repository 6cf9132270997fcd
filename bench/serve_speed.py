"""``govnews serve`` at archive scale: how long its pages take on a store of 100,000 articles.

    python bench/serve_speed.py [--articles 100000] [--portals 60] [--rounds 5] [--json]

Builds a SQLite store at the current schema with ``--articles`` synthetic articles spread over
``--portals`` portals, several categories each and four years of dates (titles, leads and bodies
are the corpora's real Vietnamese texts with a number mixed in), the search index filled, and a
crawl run per portal. Then requests each page through Datasette's own ASGI client (no sockets, so
the figures are Datasette + SQLite + govnews's plugin) and reports the median and worst time of
``--rounds`` rounds, beside the **peer**: plain Datasette over the same file with no govnews plugin
or metadata, on the pages both have (the home page, a table page, a table search with the stock
``escape_fts``, the table with its facets: govnews's portal, category and month against the stock
portal and array facets), measured in the same run. Facets that hit Datasette's time limit are reported.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from pipelines import search  # noqa: E402
from pipelines.db import init_db, make_engine  # noqa: E402

CATEGORIES = ["Tin hoạt động", "Thông báo", "Tin tức - Sự kiện", "Văn bản", "Nông nghiệp - Nông thôn", "Đảng bộ"]
ARTICLE = text(
    "INSERT INTO articles (id, site_id, url, title, summary, body_text, categories, tags, body_hash, content_hash,"
    " version, first_seen, last_seen, changed_at, change_seq, published)"
    " VALUES (:id, :site, :url, :title, :summary, :body, :categories, '[]', :h, :h, 1, :t, :t, :t, :id, :published)"
)
RUN = text(
    "INSERT INTO crawl_runs (site, started_at, finished_at, finish_reason, mode, stats, outcome)"
    " VALUES (:site, :t, :t, 'finished', 'incremental', :stats, 'finished')"
)


def _texts() -> list[dict]:
    records = []
    for path in sorted((ROOT / "tests" / "fixtures" / "warc").glob("*/truth.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            if record.get("body_text"):
                records.append(record)
    return records


def build(path: Path, articles: int, portals: int) -> str:
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    init_db(engine)
    texts, rng = _texts(), random.Random(14)
    now = datetime(2026, 12, 3, tzinfo=UTC).replace(tzinfo=None)  # stored as naive UTC
    with engine.begin() as connection:
        for site in range(1, portals + 1):
            connection.execute(
                text("INSERT INTO sites (id, host, family, first_seen) VALUES (:id, :host, 'nukeviet', :t)"),
                {"id": site, "host": f"xa{site}.bench.gov.vn", "t": now},
            )
            stats = {"summary": {"health": "ok"}, "scrapy": {"govnews/fields/articles": 20,
                                                           "govnews/fields/published": 20}}
            connection.execute(RUN, {"site": f"xa{site}.bench.gov.vn", "t": now, "stats": json.dumps(stats)})
        for start in range(0, articles, 5_000):
            rows = []
            for i in range(start + 1, min(start + 5_000, articles) + 1):
                record = rng.choice(texts)
                words = record["body_text"].split()
                cut = rng.randrange(max(1, len(words) - 40))
                rows.append(
                    {
                        "id": i,
                        "site": rng.randrange(1, portals + 1),
                        "url": f"https://bench.gov.vn/tin/{i}.html",
                        "title": f"{record['title']} {i}",
                        "summary": record.get("summary"),
                        "body": " ".join(words[cut:] + [str(i)] + words[:cut]),
                        "categories": json.dumps(rng.sample(CATEGORIES, rng.randrange(1, 3)), ensure_ascii=False),
                        "h": f"{i:064x}",
                        "t": now,
                        "published": now - timedelta(minutes=rng.randrange(4 * 365 * 24 * 60)),
                    }
                )
            connection.execute(ARTICLE, rows)
        search.fill(connection)
    engine.dispose()
    return url


def _plain_datasette(path: Path):
    """The peer: Datasette as a user would start it on the file (``datasette --setting ...``), search
    wired to the FTS table by metadata only, none of govnews's plugin or templates."""
    from datasette.app import Datasette

    metadata = {"databases": {path.stem: {"tables": {"articles": {"fts_table": "articles_fts", "fts_pk": "id"}}}}}
    return Datasette([str(path)], metadata=metadata, settings={"suggest_facets": False, "allow_download": False})


def _time(ds, paths: dict[str, str], rounds: int) -> dict[str, dict]:
    async def run() -> dict[str, dict]:
        results: dict[str, dict] = {}
        for name, path in paths.items():
            response = await ds.client.get(path)  # warm: the first request opens connections, caches schema
            times = []
            for _ in range(rounds):
                started = time.perf_counter()
                response = await ds.client.get(path)
                times.append((time.perf_counter() - started) * 1000)
            body = response.text
            results[name] = {
                "status": response.status_code,
                "median_ms": statistics.median(times),
                "max_ms": max(times),
                "facets_timed_out": "facets timed out" in body.lower() or '"facets_timed_out": ["' in body,
            }
        return results

    return asyncio.run(run())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--portals", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from crawler.serve import build_datasette
    from crawler.serve.metadata import ARTICLES_PER_DAY, NEEDS_ATTENTION, PORTAL_HEALTH

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "govnews.sqlite3"
        started = time.perf_counter()
        url = build(path, args.articles, args.portals)
        built = time.perf_counter() - started
        db = path.stem
        shared = {
            "home": "/",
            "table page, no facets": f"/{db}/articles?_size=50&_nofacet=1",
            "table search 'dang bo', no facets": f"/{db}/articles?_search=dang+bo&_nofacet=1",
            "table search 'quyet dinh', no facets": f"/{db}/articles?_search=quyet+dinh&_nofacet=1",
        }
        ours = {
            **shared,
            "table search 'Đảng bộ', no facets": f"/{db}/articles?_search={quote('Đảng bộ')}&_nofacet=1",
            "facets site+category+month": f"/{db}/articles.json?_size=0",
            "month filter": f"/{db}/articles?published__month=2025-06",
            "ranked search 'dang bo'": f"/{db}/search?q=dang+bo",
            "article page": f"/{db}/articles/{args.articles // 2}",
            "dashboard page": "/-/dashboards/govnews",
            "chart: articles per day": f"/{db}.json?sql={quote(ARTICLES_PER_DAY)}&_shape=array",
            "chart: portal health": f"/{db}.json?sql={quote(PORTAL_HEALTH)}&_shape=array",
            "chart: needing attention": f"/{db}.json?sql={quote(NEEDS_ATTENTION)}&_shape=array",
            "latest per portal": f"/{db}/latest_per_portal",
            "per portal per month": f"/{db}/articles_per_portal_per_month",
        }
        # the same page with its facets: govnews's three (portal, category, month) configured; the
        # peer asked for the stock ones it has (portal, category as an array)
        ours["table page with facets"] = f"/{db}/articles?_size=50"
        ours["table search with facets"] = f"/{db}/articles?_search=dang+bo"
        peer_paths = {
            **shared,
            "table page with facets": f"/{db}/articles?_size=50&_facet=site_id&_facet_array=categories",
            "table search with facets": f"/{db}/articles?_search=dang+bo&_facet=site_id&_facet_array=categories",
        }
        peer = _time(_plain_datasette(path), peer_paths, args.rounds)
        govnews = _time(build_datasette(url), ours, args.rounds)
        size_mb = path.stat().st_size / 1e6
    report = {"articles": args.articles, "portals": args.portals, "file_mb": round(size_mb, 1),
              "build_s": round(built, 1), "govnews": govnews, "plain_datasette": peer}
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
        return 0
    print(f"govnews serve over {args.articles:,} articles, {args.portals} portals ({size_mb:.0f} MB SQLite, built in"
          f" {built:.0f} s); median of {args.rounds} rounds, in-process ASGI client")
    print(f"{'page':38} {'status':>6} {'median ms':>10} {'max ms':>8} {'plain ms':>9} {'ratio':>6}  facets")
    for name, row in govnews.items():
        plain = peer.get(name)
        ratio = f"{row['median_ms'] / plain['median_ms']:.2f}" if plain else "-"
        plain_ms = f"{plain['median_ms']:.1f}" if plain else "-"
        facets = "TIMED OUT" if row["facets_timed_out"] else ""
        print(f"{name:38} {row['status']:>6} {row['median_ms']:>10.1f} {row['max_ms']:>8.1f} {plain_ms:>9} {ratio:>6}"
              f"  {facets}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
