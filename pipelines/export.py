"""Export stored articles for consumers: JSON lines, CSV or Parquet, truth.jsonl's field names.

Times are ISO 8601 with the portal's offset (+07:00). ``body_html`` is sanitised
with nh3 (an allow-list); the raw HTML never leaves the database. CSV cells that
a spreadsheet would run as a formula are prefixed with an apostrophe. Parquet's
schema is fixed by the field list and the model's column types, never by the data.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, selectinload

from crawler.errors import UsageError
from crawler.items import EXPORT_FIELDS
from crawler.text.vn_dates import VN_TZ, iso
from pipelines import models as m
from pipelines.sanitise import sanitise_html

if TYPE_CHECKING:
    import pyarrow as pa

_EXTRA_FIELDS = ("duplicate_similarity", "removed_at", "version", "change_seq")  # exported beside EXPORT_FIELDS
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def record(article: m.Article) -> dict:
    canonical = article.url
    return {
        "url": canonical,
        "other_urls": sorted(u.url for u in article.urls if u.url != canonical),
        "site": article.site.host,
        "title": article.title,
        "published": iso(article.published),
        "updated": iso(article.updated),
        "summary": article.summary,
        "body_text": article.body_text,
        "body_html": sanitise_html(article.body_html, canonical),  # relative links as the portal resolved them
        "captions": [{"image_url": i.image_url, "caption": i.caption} for i in article.images],
        "source": article.source,
        "source_url": article.source_url,
        "author": article.author,
        "categories": list(article.categories or []),
        "tags": list(article.tags or []),
        "attachments": [a.url for a in article.attachments],
        "duplicate_of": article.duplicate_of.url if article.duplicate_of is not None else None,
        "duplicate_similarity": article.duplicate_similarity,
        "fetched_at": iso(article.last_seen),
        "removed_at": iso(article.removed_at),
        "version": article.version,
        "change_seq": article.change_seq,
    }


@dataclass(slots=True)
class ExportQuery:
    """Which articles to export. ``since``: the change cursor of the previous export."""

    site: str | None = None
    since: int | None = None
    published_from: datetime | None = None
    published_to: datetime | None = None
    include_removed: bool = False
    next_cursor: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if self.site is not None and not isinstance(self.site, str):
            raise UsageError(f"export site must be a host name, got {self.site!r}")
        if self.since is not None and (isinstance(self.since, bool) or not isinstance(self.since, int)):
            raise UsageError(f"export cursor must be a whole number (the 'next cursor' printed), got {self.since!r}")
        if self.since is not None and self.since < 0:
            raise UsageError(f"export cursor must be 0 or more, got {self.since}")
        self.published_from = _moment(self.published_from, "from")
        self.published_to = _moment(self.published_to, "to")
        if self.published_from and self.published_to and self.published_from > self.published_to:
            raise UsageError(
                f"export range is empty: from {iso(self.published_from)} is after to {iso(self.published_to)}"
            )


def _moment(value: Any, name: str) -> datetime | None:
    """An aware datetime; a date means its midnight in the portals' zone; anything else is a usage error."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise UsageError(f"export '{name}' time {value.isoformat()} has no zone: give an offset, e.g. +07:00")
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=VN_TZ)
    raise UsageError(f"export '{name}' must be a date or a datetime, got {type(value).__name__} {value!r}")


def iter_records(engine: Engine, site: str | None = None, query_spec: ExportQuery | None = None) -> Iterator[dict]:
    """Stored articles, in change order; ``query_spec.next_cursor`` ends as the cursor for the next export."""
    spec = query_spec or ExportQuery(site=site, include_removed=True)
    spec.next_cursor = spec.since or 0
    with Session(engine) as session:
        query = (
            select(m.Article)
            .options(
                selectinload(m.Article.urls),
                selectinload(m.Article.images),
                selectinload(m.Article.attachments),
                selectinload(m.Article.site),
                selectinload(m.Article.duplicate_of),
            )
            .order_by(m.Article.change_seq, m.Article.id)
        )
        if spec.site:
            query = query.join(m.Site).where(m.Site.host == spec.site.removeprefix("www."))
        if spec.since is not None:
            query = query.where(m.Article.change_seq > spec.since)
        if spec.published_from is not None:
            query = query.where(m.Article.published >= spec.published_from)
        if spec.published_to is not None:
            query = query.where(m.Article.published < spec.published_to)
        if not spec.include_removed:
            query = query.where(m.Article.removed_at.is_(None))
        for article in session.scalars(query.execution_options(yield_per=500)):
            spec.next_cursor = max(spec.next_cursor, article.change_seq)
            yield record(article)


def write_jsonl(records: Iterator[dict], out: IO[str]) -> int:
    count = 0
    for item in records:
        out.write(json.dumps(item, ensure_ascii=False) + "\n")
        count += 1
    return count


PARQUET_BATCH = 1000  # records per row group: memory stays flat whatever the export's size
PARQUET_TZ = "+07:00"  # the portals' offset (VN has no DST); instants are stored in UTC as always
_FIELDS = (*EXPORT_FIELDS, *_EXTRA_FIELDS)
_COLUMN_OF = {  # export field -> the model column its value comes from (the arrow type follows the column)
    "url": m.Article.url,
    "site": m.Site.host,
    "title": m.Article.title,
    "published": m.Article.published,
    "updated": m.Article.updated,
    "summary": m.Article.summary,
    "body_text": m.Article.body_text,
    "body_html": m.Article.body_html,
    "source": m.Article.source,
    "source_url": m.Article.source_url,
    "author": m.Article.author,
    "duplicate_of": m.Article.url,
    "duplicate_similarity": m.Article.duplicate_similarity,
    "fetched_at": m.Article.last_seen,
    "removed_at": m.Article.removed_at,
    "version": m.Article.version,
    "change_seq": m.Article.change_seq,
}
_STRING_LISTS = ("other_urls", "categories", "tags", "attachments")  # JSON / child-table columns: lists of text


def _arrow_type(column: Any) -> pa.DataType:
    import pyarrow as pa
    from sqlalchemy import BigInteger, Float, Integer, String

    kind = column.property.columns[0].type
    if isinstance(kind, m.UTCDateTime):
        return pa.timestamp("us", tz=PARQUET_TZ)
    if isinstance(kind, BigInteger | Integer):
        return pa.int64()
    if isinstance(kind, Float):
        return pa.float64()
    if isinstance(kind, String):  # Text is a String
        return pa.string()
    raise TypeError(f"no parquet type for {column} ({kind!r})")


def parquet_schema() -> pa.Schema:
    """The export's arrow schema, from the field list and the models: the same for every export."""
    import pyarrow as pa

    types: dict[str, pa.DataType] = {name: _arrow_type(column) for name, column in _COLUMN_OF.items()}
    types.update({name: pa.list_(pa.string()) for name in _STRING_LISTS})
    types["captions"] = pa.list_(pa.struct([("image_url", pa.string()), ("caption", pa.string())]))
    missing = set(_FIELDS) - set(types)
    if missing:
        raise TypeError(f"export fields without a parquet type: {sorted(missing)}")
    return pa.schema([pa.field(name, types[name]) for name in _FIELDS])


def _parquet_row(item: dict, timestamps: tuple[str, ...]) -> dict:
    row = {name: item.get(name) for name in _FIELDS}
    for name in timestamps:
        if isinstance(row[name], str):
            row[name] = datetime.fromisoformat(row[name])
    return row


def write_parquet(records: Iterable[dict], path: str | Path, batch_size: int = PARQUET_BATCH) -> int:
    """Parquet for analysts (``pip install 'govnews[parquet]'``), written a row group per ``batch_size`` records."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as error:
        raise UsageError("parquet export needs pyarrow: pip install 'govnews[parquet]'") from error
    schema = parquet_schema()
    timestamps = tuple(f.name for f in schema if pa.types.is_timestamp(f.type))
    target = Path(path)
    try:
        writer = pq.ParquetWriter(str(target), schema)
    except OSError as error:
        raise UsageError(f"cannot write {target}: {error.strerror or error}") from error
    count = 0
    try:
        batch: list[dict] = []
        for item in records:
            batch.append(_parquet_row(item, timestamps))
            if len(batch) >= batch_size:
                writer.write_batch(pa.RecordBatch.from_pylist(batch, schema=schema))
                count += len(batch)
                batch = []
        if batch:
            writer.write_batch(pa.RecordBatch.from_pylist(batch, schema=schema))
            count += len(batch)
    except BaseException:
        writer.close()
        target.unlink(missing_ok=True)  # no half-written file that looks like a complete export
        raise
    writer.close()
    return count


def _cell(value) -> str:
    if value is None:
        return ""
    text = json.dumps(value, ensure_ascii=False) if isinstance(value, list | dict) else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def write_csv(records: Iterator[dict], out: IO[str]) -> int:
    writer = csv.writer(out)
    writer.writerow((*EXPORT_FIELDS, *_EXTRA_FIELDS))
    count = 0
    for item in records:
        writer.writerow([_cell(item.get(name)) for name in (*EXPORT_FIELDS, *_EXTRA_FIELDS)])
        count += 1
    return count
