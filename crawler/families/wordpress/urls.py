"""WordPress's URL space (wp-includes/class-wp-rewrite.php, rewrite.php), learned per site.

Plain permalinks are query strings core understands on every site: ``?p=ID``
(post), ``?page_id=ID`` (page), ``?cat=ID`` (category), ``?tag=slug``,
``?paged=N``, ``?feed=rss2``, ``?m=YYYYMM``, ``?author=ID``, ``?s=``,
``?rest_route=/…`` (the REST API). Pretty permalinks have a structure the site
chose (``/%year%/%monthnum%/%postname%/``, ``/%category%/%postname%-%post_id%.html``,
``/%postname%/`` ...), a category base (``category`` unless set) and a tag base
(``tag``), with or without the trailing slash depending on the structure.

None of that is printed anywhere as such, so it is learned from what the site
shows: the links of category and tag archives (``rel="category tag"`` / ``rel=
"tag"``, ``.taxonomy-category``, the taxonomy sitemaps, the REST API's term
``link``), the static pages of the page sitemap, and the URLs of posts -- whose
shapes the spider learns (``crawler.shapes``), so a link of a post's shape is a post.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from crawler.families.base import PageKind

MAX_PAGES = 300  # static page paths remembered (a site with thousands of pages is classified by shape)
_DATE_ARCHIVE = re.compile(r"^/\d{4}(?:/\d{1,2}(?:/\d{1,2})?)?/?(?:page/\d+/?)?$")
_PAGINATION = re.compile(r"/page/\d+/?$")
_NEVER = ("/wp-admin", "/wp-login", "/wp-content/", "/wp-includes/", "/xmlrpc.php", "/wp-json", "/wp-cron")
_NOT_CONTENT_QUERY = frozenset(
    [
        "page_id",
        "tag",
        "m",
        "author",
        "s",
        "attachment_id",
        "replytocom",
        "preview",
        "rest_route",
        "share",
        "print",
        "year",
        "monthnum",
        "day",
        "w",
        "pagename",
        "attachment",
        "subpage",
        "post_format",
        "static",
        "cpage",
    ]
)


@dataclass
class WpSite:
    category_base: str | None = None
    """First path segment(s) of category archives ("category", "chuyen-muc"); "" when a plugin removed it."""
    tag_base: str | None = None
    author_base: str = "author"
    pages: set[str] = field(default_factory=set)
    """Paths of static pages (from the page sitemap): never posts."""
    rest_root: str | None = None
    """``https://site/wp-json/`` or ``https://site/?rest_route=/`` (from ``<link rel="https://api.w.org/">``)."""
    trailing_slash: bool | None = None

    def classify(self, url: str) -> PageKind:
        parts = urlsplit(url)
        path = unquote(parts.path or "/")
        query = parse_qs(parts.query, keep_blank_values=True)
        if path.startswith("/index.php"):  # PATHINFO permalinks: /index.php/2024/05/slug/
            path = path[len("/index.php") :] or "/"
        if any(marker in path for marker in _NEVER) or "rest_route" in query:
            return PageKind.OTHER
        if re.search(r"/(?:wp-)?sitemap[\w-]*\.xml$|/sitemap_index\.xml$|/[\w-]+-sitemap\d*\.xml$", path):
            return PageKind.SITEMAP
        if "feed" in query:
            return (
                PageKind.OTHER if "withcomments" in query or query.get("feed") == ["comments-rss2"] else PageKind.FEED
            )
        feed = re.search(r"/feed(?:/(?:rss2?|atom|rdf))?/?$", path)
        if feed:
            owner = path[: feed.start()].strip("/")
            if not owner:
                return PageKind.FEED  # the site's feed
            owner_first = owner.split("/", 1)[0]
            if owner_first in (self.category_base or "category", "category"):
                return PageKind.FEED  # a category's feed
            return PageKind.OTHER  # /<post>/feed/ is that post's comments feed; tag/author feeds repeat listings
        if query:
            if "p" in query and query["p"][0].isdigit():
                return PageKind.ARTICLE
            if set(query) & _NOT_CONTENT_QUERY:
                return PageKind.OTHER
            if "cat" in query or set(query) <= {"paged", "cat"}:
                return PageKind.LISTING
            return PageKind.OTHER if path in ("", "/") else PageKind.UNKNOWN
        if path == "/" or re.match(r"^/page/\d+/?$", path):
            return PageKind.LISTING
        first = path.strip("/").split("/", 1)[0]
        if self.category_base and first == self.category_base.split("/")[0]:
            return PageKind.LISTING
        if first == (self.tag_base or "tag") or first == self.author_base or first in ("tag", "author", "search"):
            return PageKind.OTHER
        if path.rstrip("/") in self.pages or path.rstrip("/") + "/" in self.pages:
            return PageKind.OTHER
        if self.category_base is None and first == "category":
            return PageKind.LISTING
        if _DATE_ARCHIVE.match(path):
            return PageKind.OTHER  # date archives repeat the category listings
        if re.search(r"/(?:embed|trackback|amp)/?$", path) or re.search(r"\.(?:jpe?g|png|gif|pdf|docx?|zip)$", path):
            return PageKind.OTHER
        return PageKind.UNKNOWN

    # -- learning --------------------------------------------------------------
    def note_term_link(self, href: str, taxonomy: str) -> None:
        """A link to a category / tag archive: its first path segment is the base."""
        parts = urlsplit(href)
        if parts.query:
            return  # plain permalinks: ?cat=ID
        segments = [s for s in unquote(parts.path).split("/") if s]
        if len(segments) < 2 and not (taxonomy == "category" and len(segments) == 1):
            return
        base = segments[0] if len(segments) >= 2 else ""
        if taxonomy == "category" and self.category_base is None:
            self.category_base = base
        elif taxonomy == "post_tag" and self.tag_base is None and base:
            self.tag_base = base

    def note_pages(self, urls: list[str]) -> None:
        for url in urls:
            if len(self.pages) >= MAX_PAGES:
                return
            path = unquote(urlsplit(url).path).rstrip("/")
            if path:
                self.pages.add(path)

    def facts(self) -> dict[str, Any]:
        return {
            "category_base": self.category_base,
            "tag_base": self.tag_base,
            "rest_root": self.rest_root,
            "static_pages": len(self.pages),
        }

    def apply(self, facts: dict[str, Any]) -> None:
        for name in ("category_base", "tag_base", "rest_root"):
            value = facts.get(name)
            if isinstance(value, str) and getattr(self, name) is None:
                setattr(self, name, value)


def is_pagination(url: str) -> bool:
    parts = urlsplit(url)
    return bool(_PAGINATION.search(parts.path)) or "paged=" in parts.query


def permalink_label(article_shapes: list[str]) -> str | None:
    """The permalink structure a site's post URLs show, in WordPress's notation (for people)."""
    if not article_shapes:
        return None
    generic = sorted({s for s in article_shapes if not re.match(r"^/[a-z0-9%-]+/\{", s) or s.count("/") <= 2})
    shape = min(generic or article_shapes, key=len)
    if shape.startswith("/?"):
        return "plain (?p=%post_id%)"
    label = (
        shape.replace("{yyyy}", "%year%")
        .replace("{nn}", "%monthnum%")
        .replace("{slug}-{n}", "%postname%-%post_id%")
        .replace("{slug}", "%postname%")
        .replace("{n}", "%post_id%")
    )
    if label.count("%postname%") > 1:  # category path segments before the post name
        head, _, tail = label.rpartition("%postname%")
        label = "/%category%/" + "%postname%" + tail if head.count("%postname%") else label
    return label
