"""WordPress (classic and block themes).

Read from what WordPress core emits whatever the theme: the post ``article``
(``.hentry``/``.type-post``, ``postid-N``), ``.entry-content`` /
``.wp-block-post-content``, ``time[datetime]``, ``rel="category tag"`` and
``rel="tag"`` links, block-editor figures and classic ``[caption]`` output,
``wp-sitemap-posts-post-*.xml``, ``/feed/``, ``<link rel=shortlink>``.

The hand-written excerpt is the summary. Post pages do not show it; archives
and feeds do, next to posts without one, which show an *automatic* excerpt (the
body's first words, cut, with a "more" marker). Discovery passes what archives
and feeds showed as hints; :func:`handwritten_excerpt` keeps only a real one.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

from lxml import etree
from parsel import Selector

from crawler.families.base import (
    Family,
    Link,
    PageKind,
    ParseError,
    canonical_url,
    document_links,
    first_date,
    host_of,
    json_ld_article,
    json_ld_author,
    meta_content,
    unique,
)
from crawler.items import Article
from crawler.text.blocks import element_text, find_captions, paragraphs, parse_fragment
from crawler.text.bylines import strip_by, trailing_source
from crawler.text.normalise import clean_multiline, clean_text
from crawler.text.vn_dates import parse_iso

_WORD = re.compile(r"\w+")
_MORE_MARKER = re.compile(r"(\[\s*(…|\.\.\.|&hellip;)\s*\]|…|\.\.\.)\s*$")
_DATED_PERMALINK = re.compile(r"^/(?:\d{4}/\d{1,2}/(?:\d{1,2}/)?)[^/]+/?$")
_NOT_LISTINGS = ("/tag/", "/author/", "/wp-json", "/wp-admin", "/wp-login", "/comments/", "/feed", "/wp-content/")


def _class_test(name: str) -> str:
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


class WordPress(Family):
    name = "wordpress"
    default_feeds = ("/feed/",)
    default_sitemaps = ("/wp-sitemap.xml",)

    POST = (
        f"//article[{_class_test('type-post')} or {_class_test('hentry')} or {_class_test('post')}]",
        "//main//article",
        "//*[@id='main'] | //main",
    )
    TITLE = (
        f".//*[{_class_test('entry-title')}]",
        f".//*[{_class_test('wp-block-post-title')}]",
        f".//*[{_class_test('post-title')}]",
    )
    BODY = (
        f".//*[{_class_test('entry-content')}]",
        f".//*[{_class_test('wp-block-post-content')}]",
        ".//*[@itemprop='articleBody']",
        f".//*[{_class_test('post-content')}]",
    )
    PUBLISHED = (
        f".//time[{_class_test('published')}]/@datetime",
        f".//*[{_class_test('wp-block-post-date')}]//time/@datetime",
        ".//time[@datetime]/@datetime",
    )
    MODIFIED = (f".//time[{_class_test('updated')} and not({_class_test('published')})]/@datetime",)
    AUTHOR = (
        f".//*[{_class_test('byline')} or {_class_test('author')} or {_class_test('vcard')}]//a[@rel='author']",
        f".//*[{_class_test('wp-block-post-author__name')}]",
        f".//*[{_class_test('author-title')} or {_class_test('author-name')}]",
        f".//*[{_class_test('fn')}]",
    )
    CATEGORY_LINKS = ".//a[contains(concat(' ', normalize-space(@rel), ' '), ' category ')]"
    TAG_LINKS = (
        ".//a[contains(concat(' ', normalize-space(@rel), ' '), ' tag ')"
        " and not(contains(concat(' ', normalize-space(@rel), ' '), ' category '))]"
    )
    FILE_BLOCKS = f".//*[{_class_test('wp-block-file')}]"
    ARCHIVE_ENTRIES = f"//article[{_class_test('type-post')} or {_class_test('hentry')}]"
    ARCHIVE_LINK = (
        f".//*[{_class_test('entry-title')} or {_class_test('wp-block-post-title')}]//a/@href",
        ".//a[@rel='bookmark']/@href",
    )
    ARCHIVE_EXCERPT = (
        f".//*[{_class_test('entry-summary')}]",
        f".//*[{_class_test('wp-block-post-excerpt')}]",
        f".//*[{_class_test('entry-content')}]",
    )
    MORE_LINKS = (
        f".//a[{_class_test('more-link')} or {_class_test('read-more')}"
        f" or {_class_test('wp-block-post-excerpt__more-link')}]"
    )

    # -- discovery -------------------------------------------------------------
    def classify(self, url: str) -> PageKind:
        parts = urlsplit(url)
        path = parts.path or "/"
        query = parse_qs(parts.query)
        if "p" in query and query["p"][0].isdigit():
            return PageKind.ARTICLE
        if re.search(r"/wp-sitemap[\w-]*\.xml$|/sitemap[\w-]*\.xml$", path):
            return PageKind.SITEMAP
        if re.search(r"/feed/?$", path):
            return PageKind.OTHER if "/comments/" in path else PageKind.FEED
        if any(marker in path for marker in _NOT_LISTINGS) or parts.query:
            return PageKind.OTHER
        if path == "/" or re.match(r"^/page/\d+/?$", path):
            return PageKind.LISTING
        if re.match(r"^/(?:category|chuyen-muc)/[^/]+(?:/[^/]+)*?/?(?:page/\d+/?)?$", path):
            return PageKind.LISTING
        if _DATED_PERMALINK.match(path):
            return PageKind.ARTICLE
        return PageKind.OTHER

    def article_key(self, url: str) -> str | None:
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        if "p" in query and query["p"][0].isdigit():
            return f"p:{query['p'][0]}"
        return f"{host_of(url)}{parts.path.rstrip('/')}"

    def discover(self, page: Selector, url: str) -> Iterator[Link]:
        """Archive entries are posts whatever their URL shape; their excerpt goes along as a hint."""
        for entry in page.xpath(self.ARCHIVE_ENTRIES):
            href = next((h for xpath in self.ARCHIVE_LINK if (h := entry.xpath(xpath).get())), None)
            if not href:
                continue
            hints: dict[str, Any] = {}
            holder = next((found[0] for xpath in self.ARCHIVE_EXCERPT if (found := entry.xpath(xpath))), None)
            if holder is not None:
                hints.update(excerpt_hint(holder.root))
            yield Link(urljoin(url, href.strip()).split("#", 1)[0], PageKind.ARTICLE, hints)
        yield from super().discover(page, url)

    def feed_hints(self, entry: Any) -> dict[str, Any]:
        hints = feed_excerpt_hint(entry.summary_html)
        if entry.author:
            hints["author"] = entry.author
        return hints

    def sitemap_kind(self, sitemap_url: str, entry_url: str) -> PageKind:
        name = urlsplit(sitemap_url).path.rsplit("/", 1)[-1]
        if name.startswith("wp-sitemap-posts-post-"):
            return PageKind.ARTICLE
        if name.startswith("wp-sitemap-taxonomies-category-"):
            return PageKind.LISTING
        if name.startswith(("wp-sitemap-posts-", "wp-sitemap-users-", "wp-sitemap-taxonomies-")):
            return PageKind.OTHER  # pages, attachments, authors, tags: not news listings we need
        return self.classify(entry_url)

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
        hints = hints or {}
        page = Selector(text=html.decode("utf-8", "replace") if isinstance(html, bytes) else html)
        post = next((found[0] for xpath in self.POST if (found := page.xpath(xpath))), page)
        body_node = next((found[0] for xpath in self.BODY if (found := post.xpath(xpath))), None)
        if body_node is None:
            raise ParseError("no post body (.entry-content / .wp-block-post-content) on the page")
        canonical = canonical_url(page, url)
        body = body_node.root
        ld = json_ld_article(page)
        captions, caption_holders = find_captions(body, canonical)
        skip = set(caption_holders) | set(e.root for e in body_node.xpath(self.FILE_BLOCKS))
        source = trailing_source(body, canonical, frozenset(skip))
        if source is not None:
            skip.add(source.element)
        text = clean_multiline("\n\n".join(paragraphs(body, skip=skip))) or None
        published = self._time(post, self.PUBLISHED) or first_date(
            meta_content(page, "article:published_time") + [ld.get("datePublished", "")]
        )
        updated = self._time(post, self.MODIFIED) or first_date(
            meta_content(page, "article:modified_time") + [ld.get("dateModified", "")]
        )
        if updated is not None and published is not None and updated <= published:
            updated = None
        attachments = [urljoin(canonical, h) for h in body_node.xpath(f"{self.FILE_BLOCKS}//a/@href").getall()]
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
            author=self._author(page, post, ld, hints),
            categories=unique(post.xpath(self.CATEGORY_LINKS + "//text()").getall())
            or unique(hints.get("categories", ())),
            tags=unique(post.xpath(self.TAG_LINKS + "//text()").getall()),
            attachments=list(dict.fromkeys(attachments + document_links(body, canonical))),
            other_urls=[u for u in dict.fromkeys([url, *other_urls]) if u != canonical],
            family=self.name,
            source_key=_post_id(page),
            fetched_at=fetched_at,
        )

    def _title(self, page: Selector, post: Selector, ld: dict) -> str | None:
        for xpath in self.TITLE:
            title = clean_text(" ".join(post.xpath(xpath + "//text()").getall()))
            if title:
                return title
        for candidate in (*meta_content(page, "og:title"), ld.get("headline", "")):
            if clean_text(candidate):
                return clean_text(candidate)
        return None

    @staticmethod
    def _time(post: Selector, xpaths: tuple[str, ...]) -> datetime | None:
        for xpath in xpaths:
            for value in post.xpath(xpath).getall():
                moment = parse_iso(value.strip())
                if moment is not None:
                    return moment
        return None

    def _author(self, page: Selector, post: Selector, ld: dict, hints: Mapping[str, Any]) -> str | None:
        for xpath in self.AUTHOR:
            for node in post.xpath(xpath):
                name = strip_by(element_text(node.root))
                if name and len(name) <= 80:
                    return name
        return json_ld_author(ld) or clean_text(hints.get("author")) or None


def excerpt_hint(holder: etree._Element) -> dict[str, Any]:
    """What an archive or feed shows of a post: the excerpt text, and whether it ends in a "more" marker."""
    holder = copy.deepcopy(holder)  # the page tree stays intact for the other links
    more = False
    for link in holder.xpath(WordPress.MORE_LINKS):
        more = True
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


def _post_id(page: Selector) -> str | None:
    for classes in page.xpath("//body/@class").getall():
        match = re.search(r"\bpostid-(\d+)\b", classes)
        if match:
            return f"p:{match.group(1)}"
    for href in page.xpath("//link[@rel='shortlink']/@href").getall():
        match = re.search(r"[?&]p=(\d+)", href)
        if match:
            return f"p:{match.group(1)}"
    return None
