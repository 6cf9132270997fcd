"""Migrations 0006 (search backfill) and 0009 (re-index) at scale: how long an existing database takes to upgrade.

    python bench/search_backfill.py [--articles 100000] [--db URL] [--json]

Makes a database at revision 0005 (a fresh SQLite file, or ``--db``: an *empty* PostgreSQL
database), inserts ``--articles`` synthetic articles whose titles, leads and bodies are the
corpora's real Vietnamese texts (tests/fixtures/warc/*/truth.jsonl) with a number mixed in, then
times the upgrade to 0008 (0006 builds the index and backfills it; 0007 and 0008 add tables and
indexes), then to the head (0009 indexes every article again with the current fold), and a few
searches. On SQLite it also reports the file size before and after (what the FTS5 copy costs).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from pipelines import search  # noqa: E402
from pipelines.db import make_engine, upgrade  # noqa: E402

INSERT = text(
    "INSERT INTO articles (id, site_id, url, title, summary, body_text, categories, tags, body_hash, content_hash,"
    " version, first_seen, last_seen, changed_at, change_seq, published)"
    " VALUES (:id, 1, :url, :title, :summary, :body, '[]', '[]', :h, :h, 1, :t, :t, :t, :id, :t)"
)


def _texts() -> list[dict]:
    texts = []
    for path in sorted((ROOT / "tests" / "fixtures" / "warc").glob("*/truth.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            if record.get("body_text"):
                texts.append(record)
    return texts


def _fill(url: str, count: int) -> float:
    """Insert ``count`` articles at revision 0005; the mean body length in characters."""
    engine = make_engine(url)
    upgrade(engine, "0005")
    texts, rng = _texts(), random.Random(14)
    now = datetime(2026, 12, 3, tzinfo=UTC).replace(tzinfo=None)
    total_chars = 0
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO sites (id, host, family, first_seen) VALUES (1, 'bench.gov.vn', 'nukeviet', :t)"),
            {"t": now},
        )
        for start in range(0, count, 5_000):
            rows = []
            for i in range(start + 1, min(count, start + 5_000) + 1):
                record = rng.choice(texts)
                body = record["body_text"]
                total_chars += len(body)
                rows.append(
                    {
                        "id": i,
                        "url": f"https://bench.gov.vn/news/{i}.html",
                        "title": f"{record['title']} số {i}",
                        "summary": record.get("summary"),
                        "body": body,
                        "h": f"{i:064d}",
                        "t": now,
                    }
                )
            connection.execute(INSERT, rows)
    engine.dispose()
    return total_chars / max(count, 1)


def _size(url: str, path: Path) -> int | None:
    """The SQLite file's size with its write-ahead log folded in (checkpointed); None on PostgreSQL."""
    if not path.exists():
        return None
    engine = make_engine(url)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return path.stat().st_size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--db", help="an empty database (default: a new SQLite file in a temporary directory)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.sqlite3"
        url = args.db or f"sqlite:///{path}"
        started = time.perf_counter()
        mean_body = _fill(url, args.articles)
        filled = time.perf_counter() - started
        size_before = _size(url, path)
        engine = make_engine(url)
        started = time.perf_counter()
        upgrade(engine, "0008")  # 0005 -> 0006: create the index and backfill it (0007, 0008: small)
        backfill = time.perf_counter() - started
        started = time.perf_counter()
        upgrade(engine)  # 0008 -> 0009: every article indexed again
        reindex = time.perf_counter() - started
        size_after = _size(url, path)
        queries = {}
        for query in ("dang bo", "quyet dinh bo nhiem", '"dai hoc vinh"', "nghe*"):
            started = time.perf_counter()
            hits = search.search(engine, query, limit=20)
            queries[query] = {"ms": round((time.perf_counter() - started) * 1000, 1), "hits": len(hits)}
        engine.dispose()
    report = {
        "backend": engine.dialect.name,
        "articles": args.articles,
        "mean_body_chars": round(mean_body),
        "insert_s": round(filled, 1),
        "backfill_s": round(backfill, 1),
        "articles_per_s": round(args.articles / backfill),
        "reindex_s": round(reindex, 1),
        "size_before_mb": round(size_before / 1e6, 1) if size_before else None,
        "size_after_mb": round(size_after / 1e6, 1) if size_after else None,
        "search_top20": queries,
    }
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    else:
        for key, value in report.items():
            print(f"{key:16} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
