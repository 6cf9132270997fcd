"""NukeViet (VINADES) news module.

Everything here is read from what the *news module* emits, not from one theme:
its URL scheme (``/<module>/<cat>/<alias>-<id>.html``), the schema.org
``NewsArticle`` scope, ``#news-bodyhtml``, the ``article:*`` metas written by
the core, and the language strings "Tác giả" / "Nguồn tin".

Quirks handled:
- ``article:published_time``/``modified_time`` are printed with PHP's ``T``
  (zone abbreviation) in place of the ISO ``T``: "2023-12-14+0704:21:00". The
  modified time appears nowhere else, so the value is repaired, not ignored.
- The hidden ``itemprop=datePublished`` carries the *edit* time of edited
  articles, so it is only the last resort for ``published``.
- An article in several categories is reachable under each category's path;
  the path segment names the category, so those URLs give the other categories.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, unquote, urljoin, urlsplit

from lxml import etree
from parsel import Selector

from crawler.families.base import (
    Family,
    PageKind,
    ParseError,
    canonical_url,
    document_links,
    host_of,
    meta_content,
    unique,
)
from crawler.items import Article
from crawler.text.blocks import element_text, find_captions, paragraphs
from crawler.text.normalise import clean_multiline, clean_or_none, clean_text
from crawler.text.vn_dates import parse_php_t_format, parse_vn_date

# Operations of the news module that share its URL space but are not categories.
RESERVED_OPS = frozenset(
    [
        "rss",
        "tag",
        "topic",
        "topics",
        "groups",
        "search",
        "sendmail",
        "print",
        "savefile",
        "content",
        "author",
        "instant-rss",
        "rating",
        "viewcat",
        "detail",
        "main",
        "comment",
        "sitemap",
    ]
)
_ID_HTML = re.compile(r"^(?P<alias>[\w%.-]+)-(?P<id>\d+)\.html?$")
_PAGE = re.compile(r"^page-\d+$")
_LANG = re.compile(r"^[a-z]{2}$")
_BYLINE = re.compile(r"^\s*(Tác giả|Tac gia|Author|Nguồn tin|Nguồn|Source)\s*[:：]?\s*$", re.IGNORECASE)


class NukeViet(Family):
    name = "nukeviet"
    default_feeds = ()  # discovered from the <link rel=alternate> of the home page, per module
    default_sitemaps = ("/sitemap.xml",)

    # Selectors of the news module's detail page (themes/*/modules/news/detail.tpl).
    ARTICLE_SCOPE = (
        "//*[@itemtype and (contains(@itemtype, 'schema.org/NewsArticle')"
        " or contains(@itemtype, 'schema.org/Article') or contains(@itemtype, 'schema.org/BlogPosting'))]"
    )
    TITLE = ".//*[@itemprop='headline']"
    LEAD = ".//*[@itemprop='description']"
    BODY = (
        "//*[@id='news-bodyhtml']",
        "//*[@itemprop='articleBody']",
        "//*[contains(concat(' ', normalize-space(@class), ' '), ' bodytext ')]",
    )
    DOWNLOADS = (
        "//*[contains(concat(' ', normalize-space(@class), ' '), ' news-download-file ')]//a/@href"
        " | //a[@download][contains(@href, 'download=1')]/@href"
    )
    LABELS = ".//strong | .//b | .//span[contains(@class, 'label')]"
    SCHEMA_PUBLISHED = ".//*[@itemprop='datePublished']"
    SCHEMA_MODIFIED = ".//*[@itemprop='dateModified']"
    BREADCRUMB_NAMES = "//*[@itemtype and contains(@itemtype, 'BreadcrumbList')]//*[@itemprop='name']"
    TAG_LINKS = ".//a[contains(@href, '/tag/')]"

    def __init__(self, options=None) -> None:
        super().__init__(options)
        self.modules: set[str] = set(self.options.get("modules", ["news"]))
        # rewrite_op_mod: the home module's name is dropped from its URLs
        self.module_in_url: bool = bool(self.options.get("module_in_url", True))

    # -- discovery -------------------------------------------------------------
    def _segments(self, url: str) -> list[str] | None:
        parts = urlsplit(url)
        if parts.query:
            query = parse_qs(parts.query)
            if "nv" in query:  # index.php?language=vi&nv=news&op=cat/alias-id
                module = query["nv"][0]
                op = [s for s in query.get("op", [""])[0].split("/") if s]
                if len(op) == 2 and re.match(r"^[\w.-]+-\d+$", op[1]):
                    op[1] += ".html"  # the query form names the detail page without its suffix
                return [module, *op]
            return None
        segments = [unquote(s) for s in parts.path.split("/") if s]
        if segments and _LANG.match(segments[0]) and len(segments) > 1 and segments[1] in self.modules:
            segments = segments[1:]
        if not self.module_in_url and (not segments or segments[0] not in self.modules):
            segments = [next(iter(self.modules), "news"), *segments]
        return segments

    def classify(self, url: str) -> PageKind:
        segments = self._segments(url)
        if not segments:
            return PageKind.LISTING if urlsplit(url).path in ("", "/") else PageKind.OTHER
        module, rest = segments[0], segments[1:]
        if module in ("sitemap.xml",) or module.startswith("sitemap") and module.endswith(".xml"):
            return PageKind.SITEMAP
        if module not in self.modules:
            return PageKind.OTHER
        if rest and rest[0] == "rss":
            return PageKind.FEED
        if len(rest) == 2 and rest[0] not in RESERVED_OPS and _ID_HTML.match(rest[1]):
            return PageKind.ARTICLE
        if not rest or (len(rest) == 1 and (_PAGE.match(rest[0]) or rest[0] not in RESERVED_OPS)):
            return PageKind.LISTING if not (rest and "." in rest[0]) else PageKind.OTHER
        if len(rest) == 2 and rest[0] not in RESERVED_OPS and _PAGE.match(rest[1]):
            return PageKind.LISTING
        return PageKind.OTHER

    def article_key(self, url: str) -> str | None:
        segments = self._segments(url)
        if not segments or len(segments) != 3:
            return None
        match = _ID_HTML.match(segments[2])
        return f"{segments[0]}:{match.group('id')}" if match else None

    def category_alias(self, url: str) -> str | None:
        segments = self._segments(url)
        return segments[1] if segments and len(segments) == 3 else None

    def learn(self, page: Selector, url: str) -> None:
        """News modules announce themselves by their RSS links: ``/<module>/rss/``."""
        for href in page.xpath("//link[@rel='alternate'][contains(@type, 'rss')]/@href").getall():
            segments = [s for s in urlsplit(urljoin(url, href)).path.split("/") if s]
            if segments and _LANG.match(segments[0]) and len(segments) > 2:
                segments = segments[1:]
            if len(segments) >= 2 and segments[1] == "rss":
                self.modules.add(segments[0])

    # -- parsing ---------------------------------------------------------------
    def parse_article(
        self,
        html: str | bytes,
        url: str,
        *,
        other_urls: Iterable[str] = (),
        fetched_at: datetime | None = None,
        site: str | None = None,
        hints: Mapping[str, Any] | None = None,
    ) -> Article:
        page = Selector(text=html.decode("utf-8", "replace") if isinstance(html, bytes) else html)
        body_node = next((found[0] for xpath in self.BODY if (found := page.xpath(xpath))), None)
        if body_node is None:
            raise ParseError("no article body (#news-bodyhtml / itemprop=articleBody) on the page")
        scope = page.xpath(self.ARTICLE_SCOPE)
        scope_node = scope[0] if scope else page
        canonical = canonical_url(page, url)
        warnings: list[str] = []

        published, updated = self._dates(page, scope_node, warnings)
        body = body_node.root
        captions, caption_holders = find_captions(body, canonical)
        byline = self._byline(scope_node, body)
        text = "\n\n".join(paragraphs(body, skip=caption_holders + byline.pop("_holders", [])))

        aliases = [a for a in (self.category_alias(u) for u in [url, *other_urls]) if a]
        return Article(
            url=canonical,
            site=site or host_of(canonical),
            title=self._title(page, scope_node),
            published=published,
            updated=updated,
            summary=clean_or_none(element_text(scope_node.xpath(self.LEAD)[0].root))
            if scope_node.xpath(self.LEAD)
            else None,
            body_text=clean_multiline(text) or None,
            body_html=etree.tostring(body, encoding="unicode", method="html", with_tail=False),
            captions=[c.as_dict() for c in captions],
            source=byline.get("source"),
            source_url=byline.get("source_url"),
            author=byline.get("author"),
            categories=self._categories(page, url, aliases),
            tags=unique(meta_content(page, "article:tag") or scope_node.xpath(self.TAG_LINKS + "//text()").getall()),
            attachments=self._attachments(page, body, canonical),
            other_urls=[u for u in dict.fromkeys([url, *other_urls]) if u != canonical],
            family=self.name,
            source_key=self.article_key(canonical) or self.article_key(url),
            fetched_at=fetched_at,
            warnings=warnings,
        )

    def _title(self, page: Selector, scope: Selector) -> str | None:
        for candidate in (
            scope.xpath(self.TITLE + "//text()").getall(),
            meta_content(page, "og:title"),
            page.xpath("//title/text()").getall(),
        ):
            title = clean_text(" ".join(candidate))
            if title:
                return title
        return None

    def _dates(self, page: Selector, scope: Selector, warnings: list[str]) -> tuple[datetime | None, datetime | None]:
        published = None
        for raw in meta_content(page, "article:published_time"):
            published = parse_php_t_format(raw)
            if published is None:
                warnings.append(f"unreadable article:published_time {raw!r}")
        if published is None:
            published = self._visible_date(scope)
        if published is None:
            for raw in scope.xpath(
                self.SCHEMA_PUBLISHED + "//text() | " + self.SCHEMA_PUBLISHED + "/@content"
            ).getall():
                published = parse_vn_date(raw, fallback=False)
                if published:
                    break
        updated = None
        for raw in (
            meta_content(page, "article:modified_time")
            + scope.xpath(self.SCHEMA_MODIFIED + "//text() | " + self.SCHEMA_MODIFIED + "/@content").getall()
        ):
            updated = parse_php_t_format(raw) or parse_vn_date(raw, fallback=False)
            if updated is not None:
                break
        if updated is not None and published is not None and updated <= published:
            updated = None
        return published, updated

    def _visible_date(self, scope: Selector) -> datetime | None:
        """The date line of the detail template ("Thứ năm - 14/12/2023 04:21"), before the body."""
        for text in scope.xpath(".//text()[not(ancestor::*[@id='news-bodyhtml'])]").getall()[:400]:
            if "/" in text and ":" in text and len(text) < 80:
                moment = parse_vn_date(text, fallback=False)
                if moment is not None:
                    return moment
        return None

    def _byline(self, scope: Selector, body: etree._Element) -> dict:
        """ "Tác giả: X" and "Nguồn tin: Y" lines: a bold label, then a value (maybe a link)."""
        found: dict = {"_holders": []}
        for label in scope.xpath(self.LABELS):
            match = _BYLINE.match(clean_text(" ".join(label.xpath(".//text()").getall())))
            holder = label.root.getparent()
            if not match or holder is None:
                continue
            value = clean_text(
                " ".join(t for t in holder.itertext() if t).replace(clean_text("".join(label.root.itertext())), "", 1)
            )
            value = re.sub(r"^\s*[:：]\s*", "", value)
            if not value:
                continue
            key = "author" if match.group(1).lower().startswith(("tác", "tac", "author")) else "source"
            if key in found:
                continue
            found[key] = value
            if key == "source":
                links = [a.get("href") for a in holder.iter("a") if a.get("href")]
                if links and links[0].startswith(("http://", "https://", "/")):
                    found["source_url"] = links[0]
            if holder is not body and body in holder.iterancestors():
                found["_holders"].append(holder)
        return found

    def _categories(self, page: Selector, url: str, aliases: list[str]) -> list[str]:
        main = meta_content(page, "article:section")
        if not main:
            crumbs = [clean_text(t) for t in page.xpath(self.BREADCRUMB_NAMES + "//text()").getall()]
            crumbs = [c for c in crumbs if c]
            main = crumbs[-1:] if len(crumbs) > 2 else []
        names = self._category_names(page, url, set(aliases))
        return unique(main + [names[a] for a in aliases if a in names])

    def _category_names(self, page: Selector, url: str, aliases: set[str]) -> dict[str, str]:
        """alias -> name for the aliases asked, from the page's own links to those category listings."""
        names: dict[str, str] = {}
        for anchor in page.root.iter("a"):
            raw = anchor.get("href") or ""
            if not any(alias in raw for alias in aliases):  # cheap filter before URL parsing
                continue
            href = urljoin(url, raw)
            segments = self._segments(href)
            if not segments or len(segments) != 2 or segments[0] not in self.modules:
                continue
            if segments[1] in RESERVED_OPS or _PAGE.match(segments[1]) or "." in segments[1]:
                continue
            name = clean_text(anchor.get("title") or element_text(anchor))
            if name:
                names.setdefault(segments[1], name)
        return names

    def _attachments(self, page: Selector, body: etree._Element, base_url: str) -> list[str]:
        hrefs = [h.strip() for h in page.xpath(self.DOWNLOADS).getall()]
        links = [urljoin(base_url, h) for h in hrefs if h and not h.startswith(("#", "javascript:"))]
        return list(dict.fromkeys(links + document_links(body, base_url)))
