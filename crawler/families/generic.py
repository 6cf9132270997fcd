"""Generic fallback for portals of no known family.

Metadata comes from what pages declare for machines (JSON-LD, OpenGraph and
``article:*`` metas, ``itemprop``, ``time[datetime]``), then from the visible
Vietnamese date lines. The body comes from trafilatura in precision mode; when
that keeps almost nothing (under ``_SHORT_BODY`` characters) the default mode is
tried and kept if it finds at least twice as much — measured on the Zyte
benchmark (see ``bench/zyte_generic.py``). Captions are read from the main
content block with the shared caption rules and kept out of the body.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from lxml import etree
from parsel import Selector

from crawler.families.base import (
    XML_SPACE,
    Family,
    PageKind,
    ParseError,
    canonical_url,
    document_links,
    elements,
    first_date,
    host_of,
    json_ld_article,
    json_ld_author,
    meta_content,
    page_cache,
    page_text,
    parse_page,
    unique,
)
from crawler.items import Article
from crawler.text.blocks import element_text, find_captions, paragraphs
from crawler.text.blocks import paragraphs as _paragraphs
from crawler.text.bylines import SOURCE_LINE
from crawler.text.normalise import clean_multiline, clean_text
from crawler.text.vn_dates import parse_vn_date

_SHORT_BODY = 1000  # characters: below this, precision mode may have dropped the article
_MIN_ARTICLE_CHARS = 200  # less body text than this is not an article (a listing, a contact page)
_AUTHOR_LINE = re.compile(r"^\s*(?:Tác giả|Người viết|Bài và ảnh|Bài, ảnh)\s*[:：]\s*(?P<name>.{2,80})$", re.IGNORECASE)
_ARTICLE_PATH = re.compile(
    r"(?:-\d{3,}(?:\.\w{2,5})?/?$"  # slug-12345(.html)
    r"|/\d{4}/\d{1,2}/(?:\d{1,2}/)?[^/]+/?$"  # dated permalink
    r"|\.(?:html?|aspx|php)$"  # a page file
    r"|/-/[^/]+$"  # Liferay friendly URL
    r"|[?&](?:id|newsid|itemid|articleid|p)=\d+)",  # query-string ids
    re.IGNORECASE,
)
_LISTING_PATH = re.compile(
    r"(?:/(?:tin-tuc|tin-tuc-su-kien|thong-bao|news|category|chuyen-muc|danh-muc)[\w/-]*/?$"
    r"|[?&](?:page|pageindex|trang|p_p_id)=|/page[-/]\d+/?$)",
    re.IGNORECASE,
)
_SKIP_PATH = re.compile(
    r"\.(?:jpe?g|png|gif|webp|svg|pdf|docx?|xlsx?|pptx?|zip|rar|mp4|mp3|css|js|ico)(?:\?|$)|/(?:wp-admin|admin|login|"
    r"dang-nhap|search|tim-kiem|lien-he|contact|print|in-bai|sendmail|tag|tags)(?:/|$)",
    re.IGNORECASE,
)
# Containers platforms emit for exactly the article body (schema.org, NukeViet, WordPress, Liferay,
# SharePoint). When a page has exactly one, its paragraphs are the body: on the Zyte benchmark this
# scores as trafilatura does (F1 0.970 both) and on Vietnamese CMS pages it drops their furniture.
STRONG_CONTAINERS = (
    "//*[@itemprop='articleBody']",
    "//*[@id='news-bodyhtml']",
    "//*[(@class and contains(concat(' ', normalize-space(@class), ' '), ' entry-content '))]",
    "//*[(@class and contains(concat(' ', normalize-space(@class), ' '), ' journal-content-article '))]",
    "//*[(@class and contains(concat(' ', normalize-space(@class), ' '), ' ms-rtestate-field '))]",
)
MAIN_CANDIDATES = (
    "//*[@itemprop='articleBody']",
    "//article",
    "//*[contains(@class, 'journal-content-article')]",
    "//*[@id='news-bodyhtml' or contains(@class, 'entry-content') or contains(@class, 'article-content')"
    " or contains(@class, 'news-content') or contains(@class, 'noidung') or contains(@class, 'chitiet')"
    " or contains(@class, 'detail') or contains(@class, 'content-detail') or contains(@class, 'post-content')]",
    "//main",
)
_MAIN_CANDIDATES = tuple(etree.XPath(xpath) for xpath in MAIN_CANDIDATES)
# The class tokens of STRONG_CONTAINERS[2:], in that order; an element carries one when it is a word of its
# class attribute split at XML white space (what ``concat(' ', normalize-space(@class), ' ')`` tests).
_STRONG_CLASSES = ("entry-content", "journal-content-article", "ms-rtestate-field")
# The whole-document XPaths the walk of _landmarks replaces, for what it does not cover (nested matches).
_DATE_PUBLISHED = etree.XPath(
    "//*[@itemprop='datePublished']/@content | //*[@itemprop='datePublished']//text()", smart_strings=False
)
_TITLE_TEXTS = etree.XPath("//title//text()", smart_strings=False)
_DESCENDANT_TEXTS = etree.XPath("descendant::text()", smart_strings=False)
_VISIBLE_TEXTS = etree.XPath("//body//text()[not(ancestor::script) and not(ancestor::style)]", smart_strings=False)
_VISIBLE_DATE = re.compile(r"\d{1,2}[/.-]\d{1,2}[/.-]\d{4}")


class Generic(Family):
    name = "generic"
    default_feeds = ("/rss", "/feed/")
    default_sitemaps = ("/sitemap.xml",)

    # -- discovery -------------------------------------------------------------
    def classify(self, url: str) -> PageKind:
        parts = urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        if _SKIP_PATH.search(target):
            return PageKind.OTHER
        if re.search(r"sitemap[\w-]*\.xml$", parts.path, re.IGNORECASE):
            return PageKind.SITEMAP
        if re.search(r"/(?:rss|feed)(?:/[\w-]*)?/?$|\.rss$", parts.path, re.IGNORECASE):
            return PageKind.FEED
        if parts.path in ("", "/") and not parts.query:
            return PageKind.LISTING
        if _LISTING_PATH.search(target):
            return PageKind.LISTING
        if _ARTICLE_PATH.search(target):
            return PageKind.ARTICLE
        return PageKind.UNKNOWN  # learned URL shapes or the page itself (a probe) decide

    def article_key(self, url: str) -> str | None:
        parts = urlsplit(url)
        return f"{host_of(url)}{parts.path.rstrip('/')}" + (f"?{parts.query}" if parts.query else "")

    # -- parsing ---------------------------------------------------------------
    def extract_body_text(self, html: str, url: str) -> str:
        """Main text of any article page (see the module docstring)."""
        page = Selector(text=html)
        strong = _strong_container(page)
        if strong is not None:
            return "\n".join(_container_paragraphs(strong, url))
        return self._trafilatura_text(html, url)

    @staticmethod
    def _trafilatura_text(html: str, url: str) -> str:
        import trafilatura

        text = trafilatura.extract(html, url=url, favor_precision=True, include_comments=False) or ""
        if len(text) < _SHORT_BODY:
            fuller = trafilatura.extract(html, url=url, include_comments=False) or ""
            if len(fuller) >= 2 * len(text):
                text = fuller
        return text

    def parse_article(
        self,
        html: str | bytes | Selector,
        url: str,
        *,
        other_urls: Iterable[str] = (),
        fetched_at: datetime | None = None,
        site: str | None = None,
        hints: Mapping[str, Any] | None = None,
    ) -> Article:
        hints = hints or {}
        page = parse_page(html)
        canonical = canonical_url(page, url)
        ld = json_ld_article(page)
        strong = _strong_container(page)
        main = strong if strong is not None else _main_node(page)
        captions, holders = find_captions(main, canonical) if main is not None else ([], [])
        caption_texts = {c.caption for c in captions}
        if strong is not None:  # main is strong: its captions are found already
            paragraphs = _paragraphs(strong, skip=holders)
        else:
            paragraphs = [clean_text(line) for line in self._trafilatura_text(page_text(page), canonical).splitlines()]
        paragraphs = [p for p in paragraphs if p and p not in caption_texts]
        source = source_url = author = None
        if paragraphs and (match := SOURCE_LINE.match(paragraphs[-1])):
            source = match.group("name").strip(" ()")
            paragraphs.pop()
            if main is not None:
                links = [href for href, text in _links(main, canonical) if text and text in source]
                source_url = links[-1] if links else None
        if paragraphs and (match := _AUTHOR_LINE.match(paragraphs[-1])):
            author = match.group("name")
            paragraphs.pop()
        title = self._title(page, ld)
        if paragraphs and title and paragraphs[0] == title:
            paragraphs.pop(0)
        body_text = clean_multiline("\n\n".join(paragraphs)) or None
        if body_text is None or len(body_text) < _MIN_ARTICLE_CHARS:
            raise ParseError("no article text found by the generic extractor (not an article page?)")
        published, updated = self._dates(page, ld)
        summary = _first_text(meta_content(page, "og:description", "description") + [ld.get("description", "")])
        if summary and body_text.startswith(summary.rstrip(".… ")):
            summary = None  # a description cut from the body is not a lead
        return Article(
            url=canonical,
            site=site or host_of(canonical),
            title=title,
            published=published,
            updated=updated,
            summary=summary,
            body_text=body_text,
            body_html=etree.tostring(main, encoding="unicode", method="html", with_tail=False)
            if main is not None
            else None,
            captions=[c.as_dict() for c in captions],
            source=source,
            source_url=source_url,
            author=author or json_ld_author(ld) or _first_text(meta_content(page, "author", "article:author")),
            categories=unique(meta_content(page, "article:section") + _ld_list(ld, "articleSection")),
            tags=unique(meta_content(page, "article:tag") + _ld_list(ld, "keywords")),
            attachments=document_links(main, canonical) if main is not None else [],
            other_urls=[u for u in dict.fromkeys([url, *other_urls]) if u != canonical],
            family=self.name,
            source_key=None,
            fetched_at=fetched_at,
        )

    @staticmethod
    def _title(page: Selector, ld: dict) -> str | None:
        for candidate in (ld.get("headline"), *meta_content(page, "og:title")):
            text = clean_text(candidate if isinstance(candidate, str) else "")
            if text:
                return text
        h1s = elements(page, "h1")  # (//article//h1 | //h1)[1]: the page's first h1
        text = clean_text(" ".join(_DESCENDANT_TEXTS(h1s[0]))) if h1s else ""
        if text:
            return text
        titles = elements(page, "title")
        if len(titles) == 1:
            text = clean_text(" ".join(_DESCENDANT_TEXTS(titles[0])))
        elif titles:  # nested titles (XML): the document-order union of their texts
            text = clean_text(" ".join(_TITLE_TEXTS(page.root)))
        return text or None

    @staticmethod
    def _dates(page: Selector, ld: dict) -> tuple[datetime | None, datetime | None]:
        marks = _landmarks(page)
        published_marks = marks.itemprops.get("datePublished", [])
        if len(published_marks) == 1:  # its @content, then its texts: the union in document order
            content = published_marks[0].get("content")
            marked = ([] if content is None else [content]) + _DESCENDANT_TEXTS(published_marks[0])
        else:  # none, or several that may nest: the union as XPath orders it
            marked = _DATE_PUBLISHED(page.root) if published_marks else []
        published = first_date(
            [ld.get("datePublished", "")]
            + meta_content(page, "article:published_time", "datePublished", "pubdate", "publishdate", "date")
            + marked
            + [value for time in elements(page, "time") if (value := time.get("datetime")) is not None]
        )
        if published is None:
            published = _visible_date(page)
        updated = first_date(
            [ld.get("dateModified", "")]
            + meta_content(page, "article:modified_time", "dateModified")
            + [value for mark in marks.itemprops.get("dateModified", []) if (value := mark.get("content")) is not None]
        )
        if updated is not None and published is not None and updated <= published:
            updated = None
        return published, updated


def _ld_list(ld: dict, key: str) -> list[str]:
    value = ld.get(key)
    if isinstance(value, str):
        return [v for v in re.split(r"\s*,\s*", value) if v]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def _first_text(values: list[str]) -> str | None:
    for value in values:
        if isinstance(value, str) and clean_text(value):
            return clean_text(value)
    return None


def _visible_date(page: Selector) -> datetime | None:
    """The first short text node that reads as a date with a time (a portal's date line)."""
    for text in _VISIBLE_TEXTS(page.root)[:3000]:
        if len(text) < 90 and _VISIBLE_DATE.search(text):
            moment = parse_vn_date(text, fallback=False)
            if moment is not None:
                return moment
    return None


class _Landmarks:
    """What the generic reader looks up by attribute across the whole page, each found in one walk: the
    elements of each ``itemprop`` value and the candidates of each of :data:`STRONG_CONTAINERS`, in
    document order. The class-marked candidates are gathered only when the page has no earlier one."""

    __slots__ = ("_classed", "_root", "body_html", "itemprops")

    def __init__(self, root: etree._Element) -> None:
        itemprops: dict[str, list[etree._Element]] = {}
        body_html: list[etree._Element] = []
        for element in root.iter(etree.Element):
            keys = element.keys()
            if keys:
                if "itemprop" in keys:
                    itemprops.setdefault(element.get("itemprop"), []).append(element)
                if "id" in keys and element.get("id") == "news-bodyhtml":
                    body_html.append(element)
        self.itemprops, self.body_html = itemprops, body_html
        self._root, self._classed = root, None

    def strong(self) -> Iterator[list[etree._Element]]:
        """The elements each of :data:`STRONG_CONTAINERS` finds, in that order."""
        yield self.itemprops.get("articleBody", [])
        yield self.body_html
        if self._classed is None:
            classed: dict[str, list[etree._Element]] = {name: [] for name in _STRONG_CLASSES}
            for element in self._root.iter(etree.Element):
                value = element.get("class")
                if value and (
                    "entry-content" in value or "journal-content-article" in value or "ms-rtestate-field" in value
                ):
                    words = XML_SPACE.split(value)
                    for name in _STRONG_CLASSES:
                        if name in words:
                            classed[name].append(element)
            self._classed = list(classed.values())
        yield from self._classed


def _landmarks(page: Selector) -> _Landmarks:
    """The page's :class:`_Landmarks` (once per :class:`~crawler.families.base.Page`)."""
    cache = page_cache(page)
    found = cache.get("generic:landmarks") if cache is not None else None
    if found is None:
        found = _Landmarks(page.root.getroottree().getroot())  # //: the whole document
        if cache is not None:
            cache["generic:landmarks"] = found
    return found


def _strong_container(page: Selector) -> etree._Element | None:
    """The one platform-marked body container of the page holding real text, if there is exactly one
    (the first of :data:`STRONG_CONTAINERS` that finds one)."""
    for found in _landmarks(page).strong():
        if len(found) == 1 and sum(len(element_text(p)) for p in found[0].iter("p")) >= _MIN_ARTICLE_CHARS:
            return found[0]
    return None


_TEXT_BLOCKS = frozenset(["p", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table", "blockquote", "pre", "figure"])
_NOT_CONTENT = frozenset(["nav", "header", "footer", "aside", "form", "script", "style", "noscript", "select"])


def main_block(page: Selector) -> etree._Element | None:
    """The block holding a page's article when no known container marks it: a platform-marked
    container if there is one, else the element whose own text blocks (paragraphs, headings,
    lists, tables) carry the most non-link text -- the paragraph cluster of the article."""
    strong = _strong_container(page)
    if strong is not None:
        return strong
    best, best_size = None, 0
    for parent in page.root.iter():
        tag = parent.tag if isinstance(parent.tag, str) else ""
        if not tag or tag in _NOT_CONTENT or tag in _TEXT_BLOCKS:
            continue
        size = 0
        for child in parent:
            if isinstance(child.tag, str) and child.tag in _TEXT_BLOCKS:
                text = len(element_text(child))
                links = sum(len(element_text(a)) for a in child.iter("a"))
                size += max(text - links, 0)
        if size > best_size:
            best, best_size = parent, size
    return best if best_size >= _MIN_ARTICLE_CHARS else None


def _container_paragraphs(container: etree._Element, base_url: str) -> list[str]:
    _, holders = find_captions(container, base_url)
    return paragraphs(container, skip=holders)


def _main_node(page: Selector) -> etree._Element | None:
    """The block holding the article: the candidate with the most paragraph text."""
    best, best_size = None, 0
    for xpath in _MAIN_CANDIDATES:
        for node in xpath(page.root)[:20]:
            size = sum(len(element_text(p)) for p in node.iter("p"))
            if size > best_size:
                best, best_size = node, size
    return best


def _links(element: etree._Element, base_url: str) -> list[tuple[str, str]]:
    return [(urljoin(base_url, a.get("href")), element_text(a)) for a in element.iter("a") if a.get("href")]
