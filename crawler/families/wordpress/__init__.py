"""WordPress: any theme (classic or block), any permalink structure, with or without the REST API.

Read from what WordPress core emits whatever the theme (:mod:`.page`): the post
container of ``post_class()``, ``.entry-content`` / ``.wp-block-post-content``,
``time[datetime]`` (or the site's own date format), term links in
``.taxonomy-category`` / ``.taxonomy-post_tag`` blocks or ``rel="category tag"``
/ ``rel="tag"``, block-editor figures and classic ``[caption]`` output, and
``body_class()`` to tell a post from a page. Discovery (:mod:`.urls`) learns the
site's category and tag bases, its static pages and its post URL shapes from the
sitemaps, feeds, archive entries and REST API (:mod:`.rest`).

The hand-written excerpt is the summary. Post pages do not show it; archives,
feeds and the REST API do, next to posts without one, which show an *automatic*
excerpt (the body's first words, cut, with a "more" marker). Discovery passes
what they showed as hints; :func:`handwritten_excerpt` keeps only a real one.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from lxml import etree
from parsel import Selector

from crawler.families.base import (
    ApiResult,
    Family,
    Link,
    NotAnArticle,
    PageKind,
    ParseError,
    canonical_url,
    document_links,
    elements,
    first_date,
    host_of,
    meta_content,
    parse_page,
    unique,
)
from crawler.families.wordpress import page as wp
from crawler.families.wordpress import rest
from crawler.families.wordpress.urls import WpSite, is_pagination, permalink_label
from crawler.items import Article
from crawler.text.blocks import element_text, find_captions, paragraphs, parse_fragment
from crawler.text.bylines import strip_by, trailing_source
from crawler.text.normalise import clean_multiline, clean_text
from crawler.text.vn_dates import parse_feed_date

_WORD = re.compile(r"\w+")
_MORE_MARKER = re.compile(r"(\[\s*(…|\.\.\.|&hellip;)\s*\]|…|\.\.\.)\s*$")
_NOT_POSTS = frozenset(["page", "attachment", "single-attachment", "error404", "search"])
_LISTING_BODIES = frozenset(["home", "blog", "archive", "category", "paged"])
_OTHER_LISTINGS = frozenset(["tag", "author", "date", "search", "error404"])


class WordPress(Family):
    name = "wordpress"
    default_feeds = ("/feed/",)
    default_sitemaps = ("/wp-sitemap.xml",)
    PAGINATION = re.compile(r"(?:/page/\d+/?$|[?&]paged=\d+)", re.IGNORECASE)

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        super().__init__(options)
        self.site = WpSite()
        if isinstance(self.options.get("category_base"), str):
            self.site.category_base = self.options["category_base"]
        self._api_requested = False

    # -- discovery -------------------------------------------------------------
    def classify(self, url: str) -> PageKind:
        return self.site.classify(url)

    def is_pagination(self, url: str) -> bool:
        return is_pagination(url)

    def article_key(self, url: str) -> str | None:
        parts = urlsplit(url)
        match = re.search(r"(?:^|&)p=(\d+)(?:&|$)", parts.query)
        if match:
            return f"p:{match.group(1)}"
        return f"{host_of(url)}{parts.path.rstrip('/')}"

    def learn(self, page: Selector, url: str) -> None:
        for href in page.xpath("//link[@rel='https://api.w.org/']/@href").getall()[:1]:
            root = urljoin(url, href.strip())
            if root.startswith(("http://", "https://")) and self.site.rest_root is None:
                self.site.rest_root = root
        post = self._post(page)
        for xpath, taxonomy in (
            (wp.CATEGORY_LINKS[0], "category"),
            (wp.CATEGORY_LINKS[1], "category"),
            (wp.TAG_LINKS[0], "post_tag"),
        ):
            for href in post.xpath(f"{xpath}[not({wp.NOT_THE_POST})]/@href").getall()[:20]:
                self.site.note_term_link(urljoin(url, href), taxonomy)

    def learn_sitemap(self, sitemap_url: str, entries: list[Any]) -> None:
        name = urlsplit(sitemap_url).path.rsplit("/", 1)[-1]
        if name.startswith(("wp-sitemap-posts-page-", "page-sitemap")):
            self.site.note_pages([e.url for e in entries])
        elif name.startswith(("wp-sitemap-taxonomies-category-", "category-sitemap")):
            for entry in entries[:20]:
                self.site.note_term_link(entry.url, "category")
        elif name.startswith(("wp-sitemap-taxonomies-post_tag-", "post_tag-sitemap")):
            for entry in entries[:20]:
                self.site.note_term_link(entry.url, "post_tag")

    def sitemap_kind(self, sitemap_url: str, entry_url: str) -> PageKind:
        name = urlsplit(sitemap_url).path.rsplit("/", 1)[-1]
        if name.startswith(("wp-sitemap-posts-post-", "post-sitemap")):
            return PageKind.ARTICLE  # core's and Yoast / Rank Math's post sitemaps list posts only
        if name.startswith(("wp-sitemap-taxonomies-category-", "category-sitemap")):
            return PageKind.LISTING
        if name.startswith(("wp-sitemap-posts-", "wp-sitemap-users-", "wp-sitemap-taxonomies-")):
            return PageKind.OTHER  # pages, attachments, custom types, authors, tags: no news listings
        if name.endswith("-sitemap.xml") or re.search(r"-sitemap\d+\.xml$", name):
            return PageKind.OTHER  # page-sitemap, author-sitemap, post_tag-sitemap ...
        return self.classify(entry_url)

    def discover(self, page: Selector, url: str) -> Iterator[Link]:
        """Archive entries are posts whatever their URL shape; their excerpt goes along as a hint."""
        for entry in page.xpath(wp.ARCHIVE_ENTRIES):
            classes = set((entry.attrib.get("class") or "").split())
            if "type-post" not in classes and "hentry" not in classes:
                continue
            if "type-page" in classes or "type-attachment" in classes:
                continue
            href = next((h for xpath in wp.ARCHIVE_LINK if (h := entry.xpath(xpath).get())), None)
            if not href:
                continue
            hints: dict[str, Any] = {}
            holder = next((found[0] for xpath in wp.ARCHIVE_EXCERPT if (found := entry.xpath(xpath))), None)
            if holder is not None:
                hints.update(excerpt_hint(holder.root))
            target = urljoin(url, href.strip()).split("#", 1)[0]
            yield Link(target, PageKind.ARTICLE, hints, certain="type-post" in classes)
        yield from super().discover(page, url)

    def feed_hints(self, entry: Any) -> dict[str, Any]:
        """The excerpt, the author and the date (RFC 822 ``pubDate`` / Atom ``published``): the date only
        backs a page that prints none for its own post (Twenty Twenty-Five's single template)."""
        hints = feed_excerpt_hint(entry.summary_html)
        if entry.author:
            hints["author"] = entry.author
        moment = parse_feed_date(entry.lastmod)
        if moment is not None:
            hints["published"] = moment
        return hints

    def page_kind(self, page: Selector, url: str) -> PageKind | None:
        """The REST link of the queried object (WordPress 5.5+), else ``body_class()``."""
        rest_links = [  # //link[@rel='alternate'][@type='application/json']/@href
            link.get("href")
            for link in elements(page, "link")
            if link.get("rel") == "alternate"
            and link.get("type") == "application/json"
            and link.get("href") is not None
        ]
        for href in rest_links[:3]:
            route = re.search(r"/wp/v2/(posts|pages|categories|tags|users|media)/\d+", href.replace("%2F", "/"))
            if route:
                return {"posts": PageKind.ARTICLE, "categories": PageKind.LISTING}.get(route.group(1), PageKind.OTHER)
        classes = wp.body_classes(page)
        if not classes:
            return None
        if "single-post" in classes:
            return PageKind.ARTICLE
        other_types = {c for c in classes if c.startswith("single-") and not c.startswith("single-format-")}
        if classes & _NOT_POSTS or other_types:
            return PageKind.OTHER  # a page, an attachment, a custom post type ("single-van-ban")
        if "single" in classes and any(c.startswith("postid-") for c in classes):
            return PageKind.ARTICLE  # themes older than single-<type> body classes
        if classes & _OTHER_LISTINGS:
            return PageKind.OTHER
        if classes & _LISTING_BODIES:
            return PageKind.LISTING
        return None

    def api_requests(self) -> list[str]:
        """The REST API's post list, once its root is known (``<link rel="https://api.w.org/">``)."""
        if self._api_requested or not self.site.rest_root:
            return []
        self._api_requested = True
        return [rest.posts_url(self.site.rest_root)]

    def read_api(self, url: str, body: bytes, headers: Any) -> ApiResult:
        result, term_links = rest.read_posts(url, body, headers, excerpt_hint)
        for href, taxonomy in term_links[:50]:
            self.site.note_term_link(href, taxonomy)
        return result

    def facts(self) -> dict[str, Any]:
        return self.site.facts()

    def label_shapes(self, article_shapes: list[str]) -> str | None:
        return permalink_label(article_shapes)

    def apply_facts(self, facts: Mapping[str, Any]) -> None:
        self.site.apply(dict(facts))

    # -- parsing ---------------------------------------------------------------
    @staticmethod
    def _post(page: Selector) -> Selector:
        return wp.post_container(page)

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
        if self.page_kind(page, url) in (PageKind.OTHER, PageKind.LISTING):
            raise NotAnArticle(f"body classes say it is no post ({' '.join(sorted(wp.body_classes(page)))[:80]})")
        post = self._post(page)
        body = wp.body(post)
        degraded = body is None
        if degraded:
            from crawler.families.generic import main_block

            body = main_block(page)
            if body is None:
                raise ParseError("no post body (.entry-content / .wp-block-post-content) and no text block")
        canonical = canonical_url(page, url)
        ld, by_id = wp.json_ld(page)
        captions, caption_holders = find_captions(body, canonical)
        skip = set(caption_holders) | set(wp.file_blocks(body))
        source = trailing_source(body, canonical, frozenset(skip))
        if source is not None:
            skip.add(source.element)
        text = clean_multiline("\n\n".join(paragraphs(body, skip=skip))) or None
        published = (
            wp.published_time(post)
            or first_date(meta_content(page, "article:published_time") + [ld.get("datePublished", "")])
            or wp.post_visible_date(post)
            or hints.get("published")
        )
        later_blocks = [m for m in wp.post_block_dates(post)[1:] if published is not None and m > published]
        updated = (
            wp.modified_time(post)
            or (later_blocks[0] if later_blocks else None)
            or first_date(meta_content(page, "article:modified_time") + [ld.get("dateModified", "")])
            or hints.get("updated")
        )
        if updated is not None and published is not None and updated <= published:
            updated = None
        attachments = [urljoin(canonical, h) for h in wp.file_links(body)]
        categories = (
            unique(wp.category_names(post))
            or unique(meta_content(page, "article:section") + wp.ld_list(ld, "articleSection"))
            or unique(hints.get("categories", ()))
        )
        tags = (
            unique(wp.tag_names(post))
            or unique(meta_content(page, "article:tag") + wp.ld_list(ld, "keywords"))
            or unique(hints.get("tags", ()))
        )
        return Article(
            url=canonical,
            site=site or host_of(canonical),
            title=self._title(page, post, ld),
            published=published,
            updated=updated,
            summary=handwritten_excerpt(hints, text or ""),
            body_text=text,
            body_html=etree.tostring(body, encoding="unicode", method="html", with_tail=False),
            captions=[c.as_dict() for c in captions],
            source=source.name if source else None,
            source_url=source.url if source else None,
            author=self._author(post, ld, by_id, hints),
            categories=categories,
            tags=tags,
            attachments=list(dict.fromkeys(attachments + document_links(body, canonical))),
            other_urls=[u for u in dict.fromkeys([url, *other_urls]) if u != canonical],
            family=self.name,
            source_key=wp.post_id(page) or hints.get("post_id"),
            fetched_at=fetched_at,
            degraded=degraded,
        )

    def _title(self, page: Selector, post: Selector, ld: dict) -> str | None:
        title = wp.title(post)
        if title:
            return title
        for candidate in (
            ld.get("headline", ""),
            *meta_content(page, "og:title"),
            *page.xpath("//title/text()").getall(),
        ):
            if isinstance(candidate, str) and clean_text(candidate):
                return wp.strip_site_name(clean_text(candidate), page)
        return None

    def _author(self, post: Selector, ld: dict, by_id: dict, hints: Mapping[str, Any]) -> str | None:
        for text in wp.author_texts(post):
            name = strip_by(text).strip(" -|–·,")
            if name and len(name) <= 80:
                return name
        return wp.ld_author(ld, by_id) or clean_text(hints.get("author")) or None


def excerpt_hint(holder: etree._Element) -> dict[str, Any]:
    """What an archive, feed or API shows of a post: the excerpt text, and whether it ends in a "more" marker."""
    holder = copy.deepcopy(holder)  # the page tree stays intact for the other links
    more = False
    for link in holder.xpath(wp.MORE_LINKS):
        more = True
        if link.getparent() is not None:
            link.getparent().remove(link)
    text = element_text(holder)
    if _MORE_MARKER.search(text):
        more = True
        text = _MORE_MARKER.sub("", text).rstrip()
    return {"excerpt": text, "excerpt_more": more} if text else {}


def feed_excerpt_hint(description_html: str | None) -> dict[str, Any]:
    if not description_html:
        return {}
    return excerpt_hint(parse_fragment(description_html))


def handwritten_excerpt(hints: Mapping[str, Any], body_text: str) -> str | None:
    """The excerpt when an editor wrote it; ``None`` for WordPress's automatic one.

    Automatic excerpts are the body's first words, cut with a "more" marker (or the
    whole body when it is short); anything else was written by hand.
    """
    excerpt = clean_text(hints.get("excerpt"))
    if not excerpt:
        return None
    words = _WORD.findall(excerpt.casefold())
    body_words = _WORD.findall(body_text.casefold())
    is_prefix = bool(words) and body_words[: len(words)] == words
    if is_prefix and (hints.get("excerpt_more") or len(words) == len(body_words)):
        return None
    return excerpt


__all__ = ["WordPress", "excerpt_hint", "feed_excerpt_hint", "handwritten_excerpt"]
