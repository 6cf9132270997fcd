"""Export stored articles for consumers: JSON lines or CSV, truth.jsonl's field names.

Times are ISO 8601 with the portal's offset (+07:00). ``body_html`` is sanitised
with nh3 (an allow-list); the raw HTML never leaves the database. CSV cells that
a spreadsheet would run as a formula are prefixed with an apostrophe.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, selectinload

from crawler.items import EXPORT_FIELDS
from crawler.text.vn_dates import iso
from pipelines import models as m

_ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "b",
    "em",
    "i",
    "u",
    "s",
    "sub",
    "sup",
    "blockquote",
    "ul",
    "ol",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "a",
    "img",
    "figure",
    "figcaption",
    "table",
    "thead",
    "tbody",
    "tfoot",
    "tr",
    "th",
    "td",
    "caption",
    "div",
    "span",
    "hr",
    "pre",
    "code",
}
_ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}
_EXTRA_FIELDS = ("duplicate_similarity", "removed_at", "version", "change_seq")  # exported beside EXPORT_FIELDS
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def sanitise_html(markup: str | None, base_url: str | None = None) -> str | None:
    """Allow-list sanitising: no scripts, handlers, styles, iframes, javascript:/data: URLs."""
    if not markup:
        return None
    import nh3

    return nh3.clean(
        markup,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


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
        "body_html": sanitise_html(article.body_html),
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


def write_parquet(records: Iterator[dict], path: str) -> int:
    """Parquet for analysts (pyarrow; ``pip install govnews[parquet]``); lists stay lists."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as error:
        raise RuntimeError("parquet export needs pyarrow: pip install 'govnews[parquet]'") from error
    rows = list(records)
    columns = {name: [row.get(name) for row in rows] for name in (*EXPORT_FIELDS, *_EXTRA_FIELDS)}
    columns["captions"] = [json.dumps(value, ensure_ascii=False) for value in columns["captions"]]
    pq.write_table(pa.table(columns), path)
    return len(rows)


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
