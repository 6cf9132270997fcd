"""The article item: the same field names in the item, the database, the export and truth.jsonl."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(slots=True, kw_only=True)
class Article:
    url: str
    """Canonical URL (``<link rel=canonical>`` when the page gives one on its own host)."""
    site: str
    """Portal host, e.g. ``khxhnvnghean.gov.vn``."""
    title: str | None = None
    published: datetime | None = None
    """Publication time, timezone-aware."""
    updated: datetime | None = None
    """Last edit time when the page states one that differs from ``published``."""
    summary: str | None = None
    """The lead (NukeViet hometext, WordPress hand-written excerpt); never an automatic excerpt."""
    body_text: str | None = None
    """Reader-visible paragraphs joined by a blank line; no captions, bylines or page furniture."""
    body_html: str | None = None
    """The body element's HTML as served (sanitised before it leaves the database)."""
    captions: list[dict[str, str]] = field(default_factory=list)
    """``[{"image_url": absolute URL, "caption": text}]`` in page order."""
    source: str | None = None
    """The "Nguồn tin"/"Nguồn" line: where the text comes from."""
    source_url: str | None = None
    author: str | None = None
    categories: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    attachments: list[str] = field(default_factory=list)
    """Absolute URLs of attached documents."""
    other_urls: list[str] = field(default_factory=list)
    """Other URLs that lead to this article (redirects, second categories)."""
    duplicate_of: str | None = None
    """URL of the original when this article repeats another one (set by the store)."""
    family: str | None = None
    """CMS family whose parser produced the item."""
    source_key: str | None = None
    """The platform's own id of the article (NukeViet id, WordPress post id)."""
    fetched_at: datetime | None = None
    http_etag: str | None = None
    """Validators of the response, for the next crawl's conditional request."""
    http_last_modified: str | None = None
    warnings: list[str] = field(default_factory=list)
    """What the parser could not read (e.g. an impossible date), for the crawl stats."""
    degraded: bool = False
    """The family's containers were missing: the body came from the generic extractor (counted)."""
    kept_page: dict | None = None
    """Where the page it was parsed from is kept (``file``, ``offset``, ``hints``), for ``govnews reparse``."""


@dataclass(slots=True, kw_only=True)
class ArticleGone:
    """A stored article whose URL now answers 404/410: marked removed, never deleted."""

    url: str
    site: str
    status: int
    found_at: datetime


EXPORT_FIELDS = (
    "url",
    "other_urls",
    "site",
    "title",
    "published",
    "updated",
    "summary",
    "body_text",
    "body_html",
    "captions",
    "source",
    "source_url",
    "author",
    "categories",
    "tags",
    "attachments",
    "duplicate_of",
    "fetched_at",
)
