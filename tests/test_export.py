"""Exports for consumers: change cursor, date range, site filter, formats, safety."""

from __future__ import annotations

import csv
import json
from datetime import date, datetime, timedelta, timezone

import pytest
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
    assert [r["site"] for r in _export(sqlite_url, "--site", "B.GOV.VN.")[0]] == ["b.gov.vn"]
    assert [r["site"] for r in _export(sqlite_url, "--from", "0001-01-01")[0]] == ["portal.gov.vn", "b.gov.vn"]


def test_exported_body_html_links_resolve_against_the_article(sqlite_url):
    """A body's relative image and link are the portal's: the export makes them absolute (audit)."""
    store = ArticleStore(make_engine(sqlite_url))
    store.write([make_item(body_html='<p>Ảnh <img src="/uploads/a.jpg"> <a href="b.html">tiếp</a></p>')])
    (record,), _ = _export(sqlite_url)
    assert '<img src="https://portal.gov.vn/uploads/a.jpg">' in record["body_html"]
    assert 'href="https://portal.gov.vn/news/tin-tuc/b.html"' in record["body_html"]


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


def _parquet_export(db: str, path) -> int:
    from pipelines.export import iter_records, write_parquet

    return write_parquet(iter_records(make_engine(db)), path)


def test_parquet_schema_comes_from_the_models_not_the_data(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from pipelines.export import parquet_schema

    without, with_author, empty = (f"sqlite:///{tmp_path / name}.db" for name in ("a", "b", "c"))
    _seed(without)  # author, updated, removed_at, duplicate_of, source: None in every row
    ArticleStore(make_engine(with_author)).write(
        [make_item(author="Nguyễn Văn A", source="Báo Nghệ An", updated=datetime(2024, 10, 11, 9, tzinfo=VN))]
    )
    ArticleStore(make_engine(empty)).write([])
    schemas = []
    for db in (without, with_author, empty):
        _parquet_export(db, tmp_path / "out.parquet")
        schemas.append(pq.read_schema(tmp_path / "out.parquet"))
    assert schemas[0].equals(schemas[1])
    assert schemas[0].equals(schemas[2])
    assert schemas[0].equals(parquet_schema())
    assert schemas[0].field("author").type == pa.string()
    assert schemas[0].field("updated").type == pa.timestamp("us", tz="+07:00")
    assert schemas[0].field("version").type == pa.int64()
    assert schemas[0].field("tags").type == pa.list_(pa.string())
    _parquet_export(with_author, tmp_path / "out.parquet")
    (row,) = pq.read_table(tmp_path / "out.parquet").to_pylist()
    assert row["author"] == "Nguyễn Văn A"
    assert row["published"] == datetime(2024, 10, 10, 13, 30, tzinfo=VN)
    assert row["captions"] == [{"image_url": "https://portal.gov.vn/a.jpg", "caption": "Ảnh"}]


def test_parquet_streams_in_row_groups(tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    from pipelines.export import write_parquet

    pulled = 0
    seen_at_write: list[tuple[int, int]] = []  # (records pulled from the source, batch size) at each write
    original = pq.ParquetWriter.write_batch

    def spy(self, batch, *args, **kwargs):
        seen_at_write.append((pulled, batch.num_rows))
        return original(self, batch, *args, **kwargs)

    monkeypatch.setattr(pq.ParquetWriter, "write_batch", spy)

    def records():
        nonlocal pulled
        for n in range(2500):
            pulled += 1
            yield {"url": f"https://a.gov.vn/{n}.html", "site": "a.gov.vn", "title": f"T{n}", "version": 1}

    assert write_parquet(records(), tmp_path / "big.parquet") == 2500
    assert seen_at_write == [(1000, 1000), (2000, 1000), (2500, 500)]
    meta = pq.ParquetFile(tmp_path / "big.parquet").metadata
    assert (meta.num_rows, meta.num_row_groups) == (2500, 3)


def test_parquet_without_pyarrow_is_a_usage_error(tmp_path, monkeypatch):
    import sys
    import tomllib

    from conftest import ROOT

    from crawler.errors import UsageError
    from pipelines.export import write_parquet

    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(UsageError, match=r"^parquet export needs pyarrow: pip install 'govnews\[parquet\]'$"):
        write_parquet(iter([]), tmp_path / "x.parquet")
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    assert any(dep.startswith("pyarrow") for dep in extras["parquet"])  # the extra the message names exists


def test_parquet_to_an_unwritable_path_is_a_usage_error(tmp_path):
    from crawler.errors import UsageError
    from pipelines.export import write_parquet

    with pytest.raises(UsageError, match="cannot write"):
        write_parquet(iter([]), tmp_path / "no-such-dir" / "x.parquet")


def test_parquet_failure_leaves_no_partial_file(tmp_path):
    from pipelines.export import write_parquet

    def records():
        yield {"url": "https://a.gov.vn/1.html", "title": "T"}
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        write_parquet(records(), tmp_path / "x.parquet", batch_size=1)
    assert not (tmp_path / "x.parquet").exists()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"published_from": datetime(2025, 1, 1)}, "has no zone"),  # noqa: DTZ001 - the naive time under test
        ({"published_to": "2025-01-01"}, "must be a date or a datetime, got str"),
        ({"since": "41"}, "cursor must be a whole number"),
        ({"since": -1}, "cursor must be 0 or more"),
        ({"site": 3}, "site must be a host name"),
        ({"published_from": date(2025, 2, 1), "published_to": date(2025, 1, 1)}, "range is empty"),
    ],
)
def test_bad_export_query_is_a_usage_error(kwargs, message):
    from crawler.errors import UsageError
    from pipelines.export import ExportQuery

    with pytest.raises(UsageError, match=message):
        ExportQuery(**kwargs)


def test_export_query_day_is_midnight_in_the_portals_zone(sqlite_url):
    from pipelines.export import ExportQuery, iter_records

    _seed(sqlite_url)
    spec = ExportQuery(published_from=date(2025, 1, 1))
    assert spec.published_from == datetime(2025, 1, 1, tzinfo=VN)
    assert [r["site"] for r in iter_records(make_engine(sqlite_url), query_spec=spec)] == ["b.gov.vn"]


def test_output_dash_is_standard_output(sqlite_url):
    from conftest import ROOT

    _seed(sqlite_url)
    records, _ = _export(sqlite_url, "--output", "-")  # run in ROOT (conftest.run_govnews)
    assert len(records) == 2
    assert not (ROOT / "-").exists()
