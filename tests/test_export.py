"""Exports for consumers: change cursor, date range, site filter, formats, safety."""

from __future__ import annotations

import csv
import json
from datetime import datetime, timedelta, timezone

from conftest import run_govnews
from test_store import make_item

from pipelines.db import make_engine
from pipelines.store import ArticleStore

VN = timezone(timedelta(hours=7))


def _seed(url: str) -> ArticleStore:
    store = ArticleStore(make_engine(url))
    store.write([make_item()])
    store.write(
        [
            make_item(
                url="https://b.gov.vn/tin/b-2.html",
                site="b.gov.vn",
                source_key=None,
                title="=HYPERLINK(1)",
                body_text="Bài B khác hẳn.\n\nĐoạn hai của bài B.",
                published=datetime(2025, 3, 1, 8, tzinfo=VN),
            )
        ]
    )
    return store


def _export(db: str, *args: str) -> tuple[list[dict], str]:
    result = run_govnews("export", "--db", db, *args)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()], result.stderr


def test_since_cursor_returns_only_new_or_changed(sqlite_url):
    store = _seed(sqlite_url)
    everything, log = _export(sqlite_url)
    assert len(everything) == 2
    cursor = int(log.rsplit("next cursor:", 1)[1])
    assert _export(sqlite_url, "--since", str(cursor))[0] == []
    store.write([make_item(body_text="Nội dung đã sửa.")])
    changed, log = _export(sqlite_url, "--since", str(cursor))
    assert [r["url"] for r in changed] == ["https://portal.gov.vn/news/tin-tuc/hoi-thao-15.html"]
    assert changed[0]["version"] == 2
    assert int(log.rsplit("next cursor:", 1)[1]) > cursor


def test_date_range_and_site(sqlite_url):
    _seed(sqlite_url)
    assert [r["site"] for r in _export(sqlite_url, "--from", "2025-01-01")[0]] == ["b.gov.vn"]
    assert [r["site"] for r in _export(sqlite_url, "--to", "2025-01-01")[0]] == ["portal.gov.vn"]
    assert [r["site"] for r in _export(sqlite_url, "--site", "www.b.gov.vn")[0]] == ["b.gov.vn"]


def test_csv_cells_cannot_run_as_formulas(sqlite_url, tmp_path):
    _seed(sqlite_url)
    out = tmp_path / "out.csv"
    assert run_govnews("export", "--db", sqlite_url, "--format", "csv", "-o", str(out)).returncode == 0
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    title = next(r["title"] for r in rows if r["site"] == "b.gov.vn")
    assert title.startswith("'=")


def test_parquet(sqlite_url, tmp_path):
    import pyarrow.parquet as pq

    _seed(sqlite_url)
    out = tmp_path / "out.parquet"
    result = run_govnews("export", "--db", sqlite_url, "--format", "parquet", "-o", str(out))
    assert result.returncode == 0, result.stderr
    table = pq.read_table(out)
    assert table.num_rows == 2
    assert {"url", "title", "published", "body_text", "categories", "duplicate_of"} <= set(table.column_names)
