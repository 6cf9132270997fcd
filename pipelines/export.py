"""Export stored articles for consumers: JSON lines or CSV, truth.jsonl's field names.

Times are ISO 8601 with the portal's offset (+07:00). ``body_html`` is sanitised
with nh3 (an allow-list); the raw HTML never leaves the database. CSV cells that
a spreadsheet would run as a formula are prefixed with an apostrophe.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
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
        "fetched_at": iso(article.last_seen),
    }


def iter_records(engine: Engine, site: str | None = None) -> Iterator[dict]:
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
            .order_by(m.Article.id)
        )
        if site:
            query = query.join(m.Site).where(m.Site.host == site.removeprefix("www."))
        for article in session.scalars(query.execution_options(yield_per=500)):
            yield record(article)


def write_jsonl(records: Iterator[dict], out: IO[str]) -> int:
    count = 0
    for item in records:
        out.write(json.dumps(item, ensure_ascii=False) + "\n")
        count += 1
    return count


def _cell(value) -> str:
    if value is None:
        return ""
    text = json.dumps(value, ensure_ascii=False) if isinstance(value, list | dict) else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def write_csv(records: Iterator[dict], out: IO[str]) -> int:
    writer = csv.writer(out)
    writer.writerow(EXPORT_FIELDS)
    count = 0
    for item in records:
        writer.writerow([_cell(item.get(name)) for name in EXPORT_FIELDS])
        count += 1
    return count
