"""What every CMS family provides: URL rules for discovery and a page parser.

A family knows its platform's URL shapes (which links are articles, listings,
feeds, sitemaps) and how to read an article page into an :class:`Article`.
Spiders only route requests; all selectors live in the family modules.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import urljoin, urlsplit

from lxml import etree
from parsel import Selector
from parsel.selector import create_root_node

from crawler.items import Article
from crawler.text.blocks import iter_links
from crawler.text.normalise import clean_text
from crawler.text.vn_dates import parse_vn_date

DOCUMENT_EXTENSIONS = (
    ".pdf",
    ".doc",
    ".docx",
    ".xls",
    ".xlsx",
    ".ppt",
    ".pptx",
    ".odt",
    ".ods",
    ".rtf",
    ".zip",
    ".rar",
    ".7z",
)


class Page(Selector):
    """A parsed page: a parsel :class:`Selector` over one lxml tree, with a per-page cache.

    Built once per page by :func:`parse_page` and handed to detection and to the family's
    ``parse_article``, so that neither parses the page again; what several readers need of the
    whole document (the ``<meta>`` values, NukeViet's page variables, ...) is computed once and
    kept in :attr:`cache`. Selections made from a page are Pages too, each with its own cache.
    The tree is never modified by the readers (a reader that edits copies first)."""

    __slots__ = ("cache",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cache: dict[Any, Any] = {}


_MARKUP_START = re.compile(r"\s*<")
_XML_DECLARATION = re.compile(r"[\s\ufeff]*<\?xml\s")  # parsel's test: such text is parsed as XML
_HTML_PARSER = etree.HTMLParser  # plain elements: no Python class lookup per element proxy (lxml.html's)


def parse_page(html: str | bytes | Selector) -> Selector:
    """The page as a :class:`Page`, parsed once: what ``Selector(text=html)`` gives (bytes are read as
    UTF-8, invalid bytes replaced), as plain lxml elements. A Selector passes through as it is (e.g.
    Scrapy's ``response.selector``), so a caller that parsed the page already hands its tree on."""
    if isinstance(html, Selector):
        return html
    text = html.decode("utf-8", "replace") if isinstance(html, bytes) else html
    if _MARKUP_START.match(text) and not _XML_DECLARATION.match(text):
        # what parsel does for such text (not JSON; no XML declaration: HTML), with etree's parser class
        page = Page(root=create_root_node(text, _HTML_PARSER, base_url=None, huge_tree=True), type="html")
    else:
        page = Page(text=text)
    page.cache["text"] = text
    return page


def page_text(page: Selector) -> str:
    """The text the page was parsed from (for readers that need the markup itself, e.g. trafilatura)."""
    cache = page_cache(page)
    if cache is not None and isinstance(cache.get("text"), str):
        return cache["text"]
    if isinstance(getattr(page, "_text", None), str):
        return page._text
    return etree.tostring(
        page.root, encoding="unicode", method="html"
    )  # parsel's own type detection (XML declaration, JSON, empty text)


def page_cache(page: Selector) -> dict[Any, Any] | None:
    """The page's cache (``None`` for a plain Selector, whose readers then compute each time)."""
    return page.cache if isinstance(page, Page) else None


# Tags whose elements readers look up across the whole page: gathered in one pass over the tree.
INDEXED_TAGS = ("meta", "link", "script", "a", "input", "article", "body", "title", "h1", "time")


def elements(page: Selector, tag: str) -> list[etree._Element]:
    """``page.root.iter(tag)`` as a list: for a :class:`Page`, the elements of every tag of
    :data:`INDEXED_TAGS` are gathered in one pass over the tree, the first time one is asked for."""
    cache = page_cache(page)
    if cache is None or tag not in INDEXED_TAGS:
        return list(page.root.iter(tag))
    index = cache.get("tags")
    if index is None:
        index = {name: [] for name in INDEXED_TAGS}
        for element in page.root.iter(*INDEXED_TAGS):
            index[element.tag].append(element)
        cache["tags"] = index
    return index[tag]


class PageKind(enum.Enum):
    ARTICLE = "article"
    LISTING = "listing"
    FEED = "feed"
    SITEMAP = "sitemap"
    OTHER = "other"
    UNKNOWN = "unknown"
    """The family's URL rules cannot place it: learned URL shapes, then the page itself, decide."""


class ParseError(Exception):
    """The page is not an article this parser can read (e.g. the body selector found nothing)."""


class NotAnArticle(ParseError):
    """The page says of itself that it is no article (a static page, a listing): skipped, not a failure."""


@dataclass(frozen=True, slots=True)
class Link:
    """A link found during discovery: where it leads, what it is, what the page said of it."""

    url: str
    kind: PageKind
    hints: Mapping[str, Any] = field(default_factory=dict)
    certain: bool = False
    """The page's own markup says what the link is (a post entry of an archive), not only its URL."""


@dataclass(slots=True)
class ApiResult:
    """What one page of a platform API gave: article URLs with hints, and further API pages."""

    articles: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    more: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Seeds:
    """Where discovery starts: pages to read links from, feeds and sitemaps."""

    listings: list[str] = field(default_factory=list)
    feeds: list[str] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)


class Family:
    """Base class of the CMS families; subclasses set the class attributes and parse."""

    name: ClassVar[str] = "base"
    default_feeds: ClassVar[tuple[str, ...]] = ()
    default_sitemaps: ClassVar[tuple[str, ...]] = ("/sitemap.xml",)

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        self.options = dict(options or {})

    # -- discovery -------------------------------------------------------------
    def seeds(self, base_url: str) -> Seeds:
        return Seeds(
            listings=[base_url],
            feeds=[urljoin(base_url, path) for path in self.default_feeds],
            sitemaps=[urljoin(base_url, path) for path in self.default_sitemaps],
        )

    def classify(self, url: str) -> PageKind:
        raise NotImplementedError

    def article_key(self, url: str) -> str | None:
        """The platform's id of the article behind ``url`` (same id = same article)."""
        return None

    def learn(self, page: Selector, url: str) -> None:  # noqa: B027 - optional hook
        """Let the family learn site facts from any page it fetched (e.g. its news modules)."""

    def learn_sitemap(self, sitemap_url: str, entries: list[Any]) -> None:  # noqa: B027 - optional hook
        """Let the family learn from a sitemap (index or URL set) before its entries are classified."""

    def learn_feed(self, feed_url: str, entries: list[Any]) -> None:  # noqa: B027 - optional hook
        """Let the family learn from a feed's entries (they are articles) before they are classified."""

    def page_kind(self, page: Selector, url: str) -> PageKind | None:
        """What a fetched page says it is (its own markup), or ``None`` when it does not say."""
        return None

    def api_requests(self) -> list[str]:
        """Platform API pages to read now, once per crawl (WordPress REST, once its root is known)."""
        return []

    def read_api(self, url: str, body: bytes, headers: Any) -> ApiResult:
        """Articles (with hints) and further pages from one API response."""
        return ApiResult()

    def facts(self) -> dict[str, Any]:
        """The site's shape as this family learned it, for the site profile."""
        return {}

    def label_shapes(self, article_shapes: list[str]) -> str | None:
        """The platform's own name for the article URL shapes a site showed (e.g. a permalink structure)."""
        return None

    def apply_facts(self, facts: Mapping[str, Any]) -> None:  # noqa: B027 - optional hook
        """Start from a stored profile's facts (fresh evidence of this crawl still wins)."""

    def discover(self, page: Selector, url: str) -> Iterator[Link]:
        """Links of a discovery page (home, listing), classified by URL; families add context.
        The next-page links come first: a page cut at GOVNEWS_MAX_LINKS_PER_PAGE keeps its pagination."""
        nexts = page.xpath("//link[@rel='next']/@href | //a[contains(concat(' ', @rel, ' '), ' next ')]/@href").getall()
        for href in [*nexts, *page.xpath("//a/@href").getall()]:
            href = href.strip()
            if not href or href.startswith(("#", "javascript:", "mailto:", "tel:", "data:")):
                continue
            target = urljoin(url, href).split("#", 1)[0]
            yield Link(target, self.classify(target))

    PAGINATION = re.compile(
        r"(?:[/-]page[-/]?\d+/?$|[?&](?:page|pageindex|trang|paged|start)=\d+|_cur=\d+|/currentpage/\d+)", re.IGNORECASE
    )

    def is_pagination(self, url: str) -> bool:
        """A further page of a listing (page 2, 3 ...), which an incremental crawl may skip."""
        return bool(self.PAGINATION.search(url))

    def feed_hints(self, entry: Any) -> dict[str, Any]:
        """What a feed item says of an article that its page may not (see :class:`crawler.discovery.Entry`)."""
        return {}

    def sitemap_kind(self, sitemap_url: str, entry_url: str) -> PageKind:
        """What an entry of the sitemap at ``sitemap_url`` is (some platforms split sitemaps by type)."""
        return self.classify(entry_url)

    # -- parsing ---------------------------------------------------------------
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
        """Read an article page. ``html``: its text, or the page already parsed (:func:`parse_page`, or any
        parsel Selector over the whole document). ``hints``: what listings and feeds said of it (e.g. an excerpt)."""
        raise NotImplementedError


XML_SPACE = re.compile(r"[ \t\r\n]+")  # what normalize-space() splits at (not Python's wider whitespace)
_CLASS_TOKENS: dict[str, frozenset[str]] = {}


def class_tokens(value: str | None) -> frozenset[str]:
    """The class (or rel) tokens of an attribute value, as XPath's
    ``contains(concat(' ', normalize-space(@class), ' '), ' x ')`` sees them; cached per value
    (a theme repeats a few hundred class strings), the cache bounded."""
    if not value:
        return frozenset()
    found = _CLASS_TOKENS.get(value)
    if found is None:
        found = frozenset(token for token in XML_SPACE.split(value) if token)
        if len(_CLASS_TOKENS) < 50000:
            _CLASS_TOKENS[value] = found
    return found


def host_of(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    return host[4:] if host.startswith("www.") else host


def same_site(url: str, other: str) -> bool:
    return host_of(url) == host_of(other)


# A template variable the CMS printed unrendered ("$headline", "${title}"): never a value.
_UNRENDERED = re.compile(r"^\$\{?[A-Za-z_][\w.]*\}?$")


def meta_content(page: Selector, *names: str) -> list[str]:
    """``content`` of ``<meta property|name=...>`` in document order (one pass over the metas per page)."""
    cache = page_cache(page)
    if cache is None:
        return _meta_values(page, names)
    values = cache.setdefault("metas", {})
    missing = [name for name in names if name not in values]
    if missing:
        raw = cache.get("meta_raw")
        if raw is None:  # every meta's content by its name, in document order, read in one pass
            raw = cache["meta_raw"] = {}
            for meta in elements(page, "meta"):
                key = meta.get("property") or meta.get("name")
                if key is not None:
                    raw.setdefault(key, []).append(meta.get("content"))
        for name in missing:
            values[name] = [text for text in map(clean_text, raw.get(name, ())) if text and not _UNRENDERED.match(text)]
    return [value for name in names for value in values[name]]


def _meta_values(page: Selector, names: tuple[str, ...], grouped: bool = False) -> Any:
    wanted = set(names)
    values: dict[str, list[str]] = {name: [] for name in names}
    for meta in elements(page, "meta"):
        key = meta.get("property") or meta.get("name")
        if key in wanted:
            text = clean_text(meta.get("content"))
            if text and not _UNRENDERED.match(text):
                values[key].append(text)
    if grouped:
        return [values[name] for name in names]
    return [value for name in names for value in values[name]]


def canonical_url(page: Selector, url: str) -> str:
    """The page's own canonical link when it stays on the same site, else the URL fetched."""
    for link in elements(page, "link"):
        if (link.get("rel") or "").strip().lower() != "canonical" or not link.get("href"):
            continue
        absolute = urljoin(url, link.get("href").strip())
        if absolute.startswith(("http://", "https://")) and same_site(absolute, url):
            return absolute
    return url


def is_document_url(href: str) -> bool:
    """A document (PDF, Office, archive) by its path -- also a document store's URL that carries the file
    name before an id (Liferay's ``/documents/<repo>/<folder>/<name>.pdf/<uuid>``, ``get_file?uuid=``)."""
    path = urlsplit(href).path.lower()
    if path.endswith(DOCUMENT_EXTENSIONS):
        return True
    if path.startswith("/documents/"):
        return any(segment.endswith(DOCUMENT_EXTENSIONS) for segment in path.split("/"))
    return path.endswith("/document_library/get_file")


def document_links(element: Any, base_url: str) -> list[str]:
    """Links to documents (PDF, Office, archives) under ``element``, in order, deduplicated."""
    seen: dict[str, None] = {}
    for href, _ in iter_links(element, base_url):
        if is_document_url(href):
            seen.setdefault(href, None)
    return list(seen)


def unique(values: Iterable[str]) -> list[str]:
    """Order-preserving, case-insensitive de-duplication of cleaned, non-empty strings."""
    out: dict[str, str] = {}
    for value in values:
        text = clean_text(value)
        if text:
            out.setdefault(text.casefold(), text)
    return list(out.values())


_TEXT_NODES = etree.XPath("text()", smart_strings=False)


def json_ld_texts(page: Selector) -> list[str]:
    """``//script[@type='application/ld+json']/text()``, from the page's scripts."""
    return [
        text
        for script in elements(page, "script")
        if script.get("type") == "application/ld+json"
        for text in _TEXT_NODES(script)
    ]


def json_ld_article(page: Selector) -> dict:
    """The first Article-like JSON-LD object of the page, or ``{}``."""
    for raw in json_ld_texts(page):
        try:
            data = json.loads(raw)
        except ValueError:
            continue
        stack = [data]
        while stack:
            node = stack.pop()
            if isinstance(node, list):
                stack.extend(node)
            elif isinstance(node, dict):
                kinds = node.get("@type")
                kinds = kinds if isinstance(kinds, list) else [kinds]
                if any(k in ("Article", "NewsArticle", "BlogPosting", "Report", "ReportageNewsArticle") for k in kinds):
                    return node
                graph = node.get("@graph")
                if isinstance(graph, list):
                    stack.extend(graph)
    return {}


def json_ld_author(ld: dict) -> str | None:
    author = ld.get("author")
    if isinstance(author, list) and author:
        author = author[0]
    if isinstance(author, dict):
        author = author.get("name")
    return clean_text(author) if isinstance(author, str) and clean_text(author) else None


def first_date(values: list[str]) -> datetime | None:
    """The first value that reads as a date (strict parser, no dateparser fallback)."""
    for value in values:
        if isinstance(value, str) and value.strip():
            moment = parse_vn_date(value, fallback=False)
            if moment is not None:
                return moment
    return None
