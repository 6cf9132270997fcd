"""Read article links out of RSS/Atom feeds and XML sitemaps, safely.

Feeds and sitemaps are untrusted XML: entities are never resolved (no billion
laughs, no XXE), no network access, libxml2's default depth/size limits stay
on, and the number of links taken from one document is bounded.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urljoin

from lxml import etree

MAX_LINKS_PER_DOCUMENT = 50_000  # the sitemap protocol's own limit


@dataclass(frozen=True, slots=True)
class Entry:
    url: str
    lastmod: str | None = None
    is_sitemap: bool = False
    summary_html: str | None = None
    """A feed item's description (HTML), e.g. a WordPress excerpt."""
    author: str | None = None
    categories: tuple[str, ...] = ()


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, recover=True, remove_pis=True, load_dtd=False, huge_tree=False
    )


def _strip_doctype(body: bytes) -> bytes:
    """Feeds and sitemaps never need a DTD; dropping it removes every entity trick at the source."""
    start = body.find(b"<!DOCTYPE", 0, 65536)
    if start < 0:
        return body
    subset = body.find(b"[", start, start + 4096)
    close = body.find(b">", start)
    if subset != -1 and (close == -1 or subset < close):
        close = body.find(b"]>", subset)
        close = -1 if close == -1 else close + 1
    return body if close == -1 else body[:start] + body[close + 1 :]


def _root(body: bytes) -> etree._Element | None:
    try:
        return etree.fromstring(_strip_doctype(body.lstrip()), parser=_parser())
    except (etree.XMLSyntaxError, ValueError):
        return None


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def feed_entries(body: bytes, base_url: str) -> Iterator[Entry]:
    """Item links of an RSS 2.0 / RSS 1.0 / Atom feed, in feed order."""
    root = _root(body)
    if root is None:
        return
    count = 0
    for element in root.iter():
        if _local(element.tag) not in ("item", "entry"):
            continue
        link = None
        when = summary = author = None
        categories: list[str] = []
        for child in element:
            name = _local(child.tag)
            text = (child.text or "").strip()
            if name in ("description", "summary") and text:
                summary = text
            elif name in ("creator", "author") and (text or len(child)):
                author = text or "".join(child.itertext()).strip()
            elif name == "category" and (text or child.get("term")):
                categories.append(text or child.get("term", ""))
            if name == "link":
                href = child.get("href")
                rel = child.get("rel", "alternate")
                if href and rel == "alternate":
                    link = href
                elif child.text and child.text.strip():
                    link = child.text.strip()
            elif name == "guid" and link is None and (child.get("isPermaLink", "true") != "false"):
                if child.text and child.text.strip().startswith("http"):
                    link = child.text.strip()
            elif name in ("pubdate", "updated", "published", "date"):
                when = (child.text or "").strip() or None
        if link:
            yield Entry(
                urljoin(base_url, link), when, summary_html=summary, author=author, categories=tuple(categories)
            )
            count += 1
            if count >= MAX_LINKS_PER_DOCUMENT:
                return


def sitemap_entries(body: bytes, base_url: str) -> Iterator[Entry]:
    """``<loc>`` of a sitemap (``is_sitemap`` for entries of a sitemap index)."""
    root = _root(body)
    if root is None:
        return
    index = _local(root.tag) == "sitemapindex"
    count = 0
    for element in root:
        if _local(element.tag) not in ("url", "sitemap"):
            continue
        loc = lastmod = None
        for child in element:
            name = _local(child.tag)
            if name == "loc" and child.text:
                loc = child.text.strip()
            elif name == "lastmod" and child.text:
                lastmod = child.text.strip()
        if loc:
            yield Entry(urljoin(base_url, loc), lastmod, is_sitemap=index)
            count += 1
            if count >= MAX_LINKS_PER_DOCUMENT:
                return


def looks_like_xml(body: bytes) -> bool:
    head = body[:512].lstrip().lower()
    return head.startswith((b"<?xml", b"<rss", b"<feed", b"<urlset", b"<sitemapindex", b"<rdf"))
