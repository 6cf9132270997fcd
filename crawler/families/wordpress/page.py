"""What WordPress prints on a post page, whatever the theme.

Core prints the same things through every theme: ``body_class()`` (``single-post
postid-N``, ``page``, ``archive``, ``category``), ``post_class()`` on the post's
container (``post-N type-post hentry category-<slug> tag-<slug>``), term links
(``rel="category tag"``, ``rel="tag"``), ``<time datetime>`` from the date
template tags, ``[caption]`` and block-editor figures. Block themes print the
post's fields through core blocks (``wp-block-post-title``, ``wp-block-post-date``,
``wp-block-post-terms`` with ``taxonomy-category`` / ``taxonomy-post_tag``,
``wp-block-post-author``, ``wp-block-post-excerpt``); SEO plugins add JSON-LD
(Yoast's ``@graph``, Rank Math, AIOSEO) and ``article:*`` metas. Selectors here
are named for what they find; the parser takes the first that finds something.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from parsel import Selector

from crawler.families.base import class_tokens, elements, json_ld_texts
from crawler.text.normalise import clean_text
from crawler.text.vn_dates import parse_iso, parse_vn_date


def has_class(name: str) -> str:
    return f"(@class and contains(concat(' ', normalize-space(@class), ' '), ' {name} '))"


# Containers of the post on a single page: post_class() output, then the block theme's main.
POST = (
    f"//article[{has_class('type-post')} or {has_class('hentry')}]",
    f"//*[{has_class('type-post')} and not(self::body) and not(ancestor::*[{has_class('wp-block-post-template')}])]",
    "//main//article",
    "//*[@id='main'] | //main",
)
# Not the post: query loops (related / latest posts), widgets, comments, navigation.
NOT_THE_POST = (
    f"ancestor::*[{has_class('wp-block-post-template')} or {has_class('wp-block-query')}"
    f" or {has_class('widget')} or {has_class('widget-area')} or {has_class('comments-area')}"
    f" or {has_class('related-posts')} or {has_class('jp-relatedposts')} or self::nav or self::aside]"
)
TITLE = (
    f".//*[{has_class('entry-title')}]",
    f".//*[{has_class('wp-block-post-title')}]",
    f".//*[{has_class('post-title')} or {has_class('single-post-title')} or {has_class('td-post-title')}]",
    ".//h1[@itemprop='headline'] | .//*[@itemprop='headline']",
)
BODY = (
    f".//*[{has_class('entry-content')}]",
    f".//*[{has_class('wp-block-post-content')}]",
    ".//*[@itemprop='articleBody']",
    f".//*[{has_class('post-content')} or {has_class('td-post-content')} or {has_class('single-content')}"
    f" or {has_class('article-content')} or {has_class('post-entry')} or {has_class('entry')}]",
)
PUBLISHED = (
    f".//time[{has_class('published')}]/@datetime",
    f".//*[{has_class('wp-block-post-date')} and not({has_class('wp-block-post-date__modified-date')})]"
    "//time/@datetime",
    f".//*[{has_class('entry-date')}]/@datetime",
    ".//time[@itemprop='datePublished']/@datetime | .//*[@itemprop='datePublished']/@content",
    f".//time[@datetime and not({has_class('updated')})]/@datetime",
)
MODIFIED = (
    f".//time[{has_class('updated')} and not({has_class('published')})]/@datetime",
    f".//*[{has_class('wp-block-post-date__modified-date')}]//time/@datetime",
    ".//time[@itemprop='dateModified']/@datetime | .//*[@itemprop='dateModified']/@content",
)
VISIBLE_DATE = (
    f".//*[{has_class('wp-block-post-date')} and not({has_class('wp-block-post-date__modified-date')})]",
    f".//*[@itemprop='datePublished' or ({has_class('published')} and not(self::time))]",  # Astra: text only
    f".//*[{has_class('posted-on')} or {has_class('entry-date')} or {has_class('post-date')}"
    f" or {has_class('td-post-date')} or {has_class('date')}]",
)
AUTHOR = (
    f".//*[{has_class('byline')} or {has_class('author')} or {has_class('vcard')}]//a[@rel='author']",
    f".//*[{has_class('wp-block-post-author__name')} or {has_class('wp-block-post-author-name')}]",
    f".//*[{has_class('td-post-author-name')} or {has_class('jeg_meta_author')} or {has_class('meta-author')}]//a",
    f".//*[{has_class('post-author')}]//*[{has_class('meta-text')}]",  # Twenty Twenty: "By <a>Name</a>"
    f".//*[{has_class('author-title')} or {has_class('author-name')} or {has_class('td-post-author-name')}]",
    f".//*[{has_class('fn')}]",
    f".//a[@rel='author' and not({has_class('author-link')})]",
)
CATEGORY_LINKS = (
    f".//*[{has_class('taxonomy-category')}]//a",
    ".//a[(@rel and contains(concat(' ', normalize-space(@rel), ' '), ' category '))]",
    f".//*[{has_class('cat-links')} or {has_class('entry-categories')} or {has_class('post-categories')}"
    f" or {has_class('td-category')}]//a",
)
TAG_LINKS = (
    f".//*[{has_class('taxonomy-post_tag')}]//a",
    ".//a[(@rel and contains(concat(' ', normalize-space(@rel), ' '), ' tag '))"
    " and not((@rel and contains(concat(' ', normalize-space(@rel), ' '), ' category ')))"
    f" and not(ancestor::*[contains(@class, 'taxonomy-') and not({has_class('taxonomy-post_tag')})])]",
    f".//*[{has_class('tags-links')} or {has_class('post-tags')} or {has_class('entry-tags')}"
    f" or {has_class('td-tags')}]//a",
)
FILE_BLOCKS = f".//*[{has_class('wp-block-file')}]"
SCREEN_READER = f"ancestor-or-self::*[{has_class('screen-reader-text')}]"
# Archive (listing) entries: post_class() output on whatever element the theme uses.
ARCHIVE_ENTRIES = f"//*[({has_class('type-post')} or {has_class('hentry')}) and not(self::body)]"
ARCHIVE_LINK = (
    f".//*[{has_class('entry-title')} or {has_class('wp-block-post-title')} or {has_class('post-title')}]//a/@href",
    ".//a[@rel='bookmark']/@href",
    ".//h2//a/@href | .//h3//a/@href",
)
ARCHIVE_EXCERPT = (
    f".//*[{has_class('entry-summary')}]",
    f".//*[{has_class('wp-block-post-excerpt')}]",
    f".//*[{has_class('post-excerpt')} or {has_class('excerpt')} or {has_class('td-excerpt')}]",
    f".//*[{has_class('entry-content')}]",
)
MORE_LINKS = (
    f".//a[{has_class('more-link')} or {has_class('read-more')} or {has_class('wp-block-post-excerpt__more-link')}]"
    f" | .//*[{has_class('wp-block-post-excerpt__more-text')}]"
)
_POST_ID = re.compile(r"\bpostid-(\d+)\b")
_POST_CLASS_ID = re.compile(r"\bpost-(\d+)\b")
ARTICLE_TYPES = ("Article", "NewsArticle", "BlogPosting", "Report", "ReportageNewsArticle", "AnalysisNewsArticle")


def _attribute_values(page: Selector, tag: str, attribute: str) -> list[str]:
    """``//tag/@attribute``, in document order."""
    return [value for element in elements(page, tag) if (value := element.get(attribute)) is not None]


def body_classes(page: Selector) -> set[str]:
    return set(" ".join(_attribute_values(page, "body", "class")).split())


def terms(post: Selector, xpaths: tuple[str, ...]) -> list[str]:
    """Term names of the first selector that finds links outside query loops, widgets and screen-reader text."""
    for xpath in xpaths:
        names = []
        for link in post.xpath(f"{xpath}[not({NOT_THE_POST})]"):
            text = clean_text(" ".join(link.xpath(f".//text()[not({SCREEN_READER})]").getall()))
            if text:
                names.append(text)
        if names:
            return names
    return []


def first_time(post: Selector, xpaths: tuple[str, ...]) -> datetime | None:
    """The first date the xpaths (ending in an attribute) find on the post itself, not in a query loop."""
    for xpath in xpaths:
        for value in post.xpath(f"({xpath})[not(parent::*[{NOT_THE_POST}])]").getall():
            moment = parse_iso(value.strip())
            if moment is not None:
                return moment
    return None


def block_dates(post: Selector) -> list[datetime]:
    """The post-date blocks of the post itself, in order: a block theme's single template prints the
    publish date, and a second block set to the modified date when the site shows edits."""
    moments: list[datetime] = []
    for value in post.xpath(f".//*[{has_class('wp-block-post-date')}][not({NOT_THE_POST})]//time/@datetime").getall():
        moment = parse_iso(value.strip())
        if moment is not None:
            moments.append(moment)
    return moments


def visible_date(post: Selector) -> datetime | None:
    """A date in the site's own format when the theme printed no ``datetime``."""
    for xpath in VISIBLE_DATE:
        for node in post.xpath(f"{xpath}[not({NOT_THE_POST})]"):
            text = clean_text(" ".join(node.xpath(f".//text()[not({SCREEN_READER})]").getall()))
            if text and len(text) < 120:
                moment = parse_vn_date(text, fallback=False)
                if moment is not None:
                    return moment
    return None


def post_id(page: Selector) -> str | None:
    for classes in _attribute_values(page, "body", "class"):
        match = _POST_ID.search(classes)
        if match:
            return f"p:{match.group(1)}"
    for href in [link.get("href") for link in elements(page, "link") if link.get("rel") == "shortlink"]:
        if href is None:
            continue
        match = re.search(r"[?&]p=(\d+)", href)
        if match:
            return f"p:{match.group(1)}"
    for classes in _attribute_values(page, "article", "class")[:1]:
        match = _POST_CLASS_ID.search(classes)
        if match and "type-post" in classes:
            return f"p:{match.group(1)}"
    return None


def json_ld(page: Selector) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The Article node of the page's JSON-LD (Yoast's ``@graph`` included) and every node by ``@id``."""
    nodes: list[dict[str, Any]] = []
    for raw in json_ld_texts(page)[:10]:
        try:
            data = json.loads(raw)
        except ValueError:
            continue
        stack = [data]
        while stack and len(nodes) < 500:
            node = stack.pop()
            if isinstance(node, list):
                stack.extend(node)
            elif isinstance(node, dict):
                nodes.append(node)
                graph = node.get("@graph")
                if isinstance(graph, list):
                    stack.extend(graph)
    by_id = {n["@id"]: n for n in nodes if isinstance(n.get("@id"), str)}
    for node in nodes:
        kinds = node.get("@type")
        kinds = kinds if isinstance(kinds, list) else [kinds]
        if any(k in ARTICLE_TYPES for k in kinds):
            return node, by_id
    return {}, by_id


def ld_author(article: dict[str, Any], by_id: dict[str, dict[str, Any]]) -> str | None:
    author = article.get("author")
    if isinstance(author, list) and author:
        author = author[0]
    if isinstance(author, dict) and "name" not in author and isinstance(author.get("@id"), str):
        author = by_id.get(author["@id"], author)  # Yoast: {"@id": ".../#/schema/person/..."}
    if isinstance(author, dict):
        author = author.get("name")
    return clean_text(author) if isinstance(author, str) and clean_text(author) else None


def ld_list(article: dict[str, Any], key: str) -> list[str]:
    value = article.get(key)
    if isinstance(value, str):
        return [v for v in re.split(r"\s*,\s*", value) if v]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def strip_site_name(title: str, page: Selector) -> str:
    """SEO titles end in " - Site name" / " | Site name" / " – Site name"."""
    site_names = [clean_text(n) for n in page.xpath("//meta[@property='og:site_name']/@content").getall()]
    for name in site_names:
        for separator in (" - ", " – ", " — ", " | ", " :: ", " » "):
            if name and title.endswith(separator + name):
                return title[: -len(separator + name)].strip()
    return title


# -- the post's fields without XPath ---------------------------------------------------------------
# libxml2 evaluates ``has_class`` (concat + normalize-space) on every element of a query's subtree and the
# ``NOT_THE_POST`` ancestor test on every candidate: ~0.5 us an element per query, a dozen queries a post.
# The functions below answer the same selectors from one pass over the post (its elements with their
# class tokens, cached on the post), each a plain Python test of the same predicates.
_NOT_THE_POST_CLASSES = frozenset(
    ["wp-block-post-template", "wp-block-query", "widget", "widget-area", "comments-area", "related-posts"]
    + ["jp-relatedposts"]
)
_NOT_THE_POST_TAGS = frozenset(["nav", "aside"])


def classes_of(element: Any) -> frozenset[str]:
    return class_tokens(element.get("class")) if isinstance(element.tag, str) else frozenset()


def not_the_post(element: Any) -> bool:
    """``NOT_THE_POST`` for ``element``: some ancestor is a query loop, a widget, comments, nav or aside."""
    for ancestor in element.iterancestors():
        if ancestor.tag in _NOT_THE_POST_TAGS or classes_of(ancestor) & _NOT_THE_POST_CLASSES:
            return True
    return False


class _Index:
    """A subtree's descendant elements (``.//*``) in document order, each with its class tokens, and the
    same entries by tag and by class token (one pass, cached on the post)."""

    __slots__ = ("every", "by_tag", "by_class")

    def __init__(self, root: Any) -> None:
        self.every: list[tuple[int, Any, frozenset[str]]] = []
        self.by_tag: dict[str, list[tuple[int, Any, frozenset[str]]]] = {}
        self.by_class: dict[str, list[tuple[int, Any, frozenset[str]]]] = {}
        for position, element in enumerate(e for e in root.iterdescendants() if isinstance(e.tag, str)):
            entry = (position, element, class_tokens(element.get("class")))
            self.every.append(entry)
            self.by_tag.setdefault(element.tag, []).append(entry)
            for token in entry[2]:
                self.by_class.setdefault(token, []).append(entry)

    def pool(self, test: Any) -> list[tuple[int, Any, frozenset[str]]]:
        """The entries ``test`` can hold for: those of its tag, or of its classes, else every one."""
        tag = getattr(test, "tag", None)
        if tag is not None:
            return self.by_tag.get(tag, [])
        names = getattr(test, "classes", None)
        if names is None:
            return self.every
        groups = [group for name in names if (group := self.by_class.get(name))]
        if len(groups) <= 1:
            return groups[0] if groups else []
        return sorted({entry[0]: entry for group in groups for entry in group}.values())


def _index(post: Selector | Any) -> _Index:
    cache = getattr(post, "cache", None)
    found = cache.get("wp_index") if isinstance(cache, dict) else None
    if found is None:
        found = _Index(post.root if isinstance(post, Selector) else post)
        if isinstance(cache, dict):
            cache["wp_index"] = found
    return found


def _holder_above(element: Any, stop: Any, holder: Callable[[Any, frozenset[str]], bool]) -> bool:
    """Some ancestor of ``element`` strictly below ``stop`` is a ``holder`` (``.//*[holder]//element``)."""
    for ancestor in element.iterancestors():
        if ancestor is stop:
            return False
        if holder(ancestor, classes_of(ancestor)):
            return True
    return False


def select(
    post: Selector | Any,
    test: Callable[[Any, frozenset[str]], bool],
    holder: Callable[[Any, frozenset[str]], bool] | None = None,
) -> list[Any]:
    """``.//*[test]`` (or ``.//*[holder]//*[test]``) under the post, in document order."""
    stop = post.root if isinstance(post, Selector) else post
    return [
        e
        for _, e, classes in _index(post).pool(test)
        if test(e, classes) and (holder is None or _holder_above(e, stop, holder))
    ]


class classed:  # noqa: N801 - a test, named like the other tests
    """The test ``has_class(a) or has_class(b) ...``."""

    __slots__ = ("classes",)

    def __init__(self, *names: str) -> None:
        self.classes = frozenset(names)

    def __call__(self, e: Any, classes: frozenset[str]) -> bool:
        return bool(classes & self.classes)


class tagged:  # noqa: N801 - a test, named like the other tests
    """The test ``self::tag[test]``."""

    __slots__ = ("tag", "test")

    def __init__(self, tag: str, test: Callable[[Any, frozenset[str]], bool] | None = None) -> None:
        self.tag, self.test = tag, test

    def __call__(self, e: Any, classes: frozenset[str]) -> bool:
        return e.tag == self.tag and (self.test is None or self.test(e, classes))


def texts(node: Any, skip_screen_reader: bool = False) -> list[str]:
    """``node.xpath('.//text()')`` -- without the text of screen-reader-only elements when asked
    (``.//text()[not(ancestor-or-self::*[has_class('screen-reader-text')])]``)."""
    hidden = skip_screen_reader and any("screen-reader-text" in classes_of(a) for a in (node, *node.iterancestors()))
    out: list[str] = []
    _collect(node, hidden, skip_screen_reader, out)
    return out


def _collect(node: Any, hidden: bool, skipping: bool, out: list[str]) -> None:
    if skipping and not hidden and "screen-reader-text" in classes_of(node):
        hidden = True
    if isinstance(node.tag, str) and node.text and not hidden:
        out.append(node.text)
    for child in node:
        _collect(child, hidden, skipping, out)
        if child.tail and not hidden:
            out.append(child.tail)


def _rel_tokens(element: Any) -> frozenset[str]:
    return class_tokens(element.get("rel"))


def _itemprop(value: str) -> Callable[[Any, frozenset[str]], bool]:
    return lambda e, classes: e.get("itemprop") == value


# The selectors above, as tests (with the holder the element sits in, when the XPath has one), in the same order.
_BODIES = (
    (classed("entry-content"), None),
    (classed("wp-block-post-content"), None),
    (_itemprop("articleBody"), None),
    (classed("post-content", "td-post-content", "single-content", "article-content", "post-entry", "entry"), None),
)
_TITLES = (
    (classed("entry-title"), None),
    (classed("wp-block-post-title"), None),
    (classed("post-title", "single-post-title", "td-post-title"), None),
    (_itemprop("headline"), None),  # with .//h1[@itemprop='headline'] kept even in a query loop (the XPath's union)
)
_POST_DATE = classed("wp-block-post-date")


def _post_date_holder(e: Any, classes: frozenset[str]) -> bool:
    return "wp-block-post-date" in classes and "wp-block-post-date__modified-date" not in classes


def _itemprop_date(value: str) -> Callable[[Any], list[str]]:
    """``.//time[@itemprop=v]/@datetime | .//*[@itemprop=v]/@content``: the attributes in document order."""

    def read(e: Any) -> list[str]:
        return [v for k, v in e.items() if k == "content" or (k == "datetime" and e.tag == "time")]

    return read


def _datetime(e: Any) -> list[str]:
    value = e.get("datetime")
    return [] if value is None else [value]


_PUBLISHED = (
    (tagged("time", classed("published")), None, _datetime),
    (tagged("time"), _post_date_holder, _datetime),
    (classed("entry-date"), None, _datetime),
    (_itemprop("datePublished"), None, _itemprop_date("datePublished")),
    (tagged("time", lambda e, c: "updated" not in c), None, _datetime),
)
_MODIFIED = (
    (tagged("time", lambda e, c: "updated" in c and "published" not in c), None, _datetime),
    (tagged("time"), classed("wp-block-post-date__modified-date"), _datetime),
    (_itemprop("dateModified"), None, _itemprop_date("dateModified")),
)
_VISIBLE_DATES = (
    _post_date_holder,
    lambda e, c: e.get("itemprop") == "datePublished" or ("published" in c and e.tag != "time"),
    classed("posted-on", "entry-date", "post-date", "td-post-date", "date"),
)
_AUTHORS = (
    (tagged("a", lambda e, c: e.get("rel") == "author"), classed("byline", "author", "vcard")),
    (classed("wp-block-post-author__name", "wp-block-post-author-name"), None),
    (tagged("a"), classed("td-post-author-name", "jeg_meta_author", "meta-author")),
    (classed("meta-text"), classed("post-author")),
    (classed("author-title", "author-name", "td-post-author-name"), None),
    (classed("fn"), None),
    (tagged("a", lambda e, c: e.get("rel") == "author" and "author-link" not in c), None),
)


def _in_other_taxonomy(element: Any) -> bool:
    """``ancestor::*[contains(@class, 'taxonomy-') and not(has_class('taxonomy-post_tag'))]``."""
    for ancestor in element.iterancestors():
        raw = ancestor.get("class")
        if raw and "taxonomy-" in raw and "taxonomy-post_tag" not in class_tokens(raw):
            return True
    return False


_CATEGORY_LINKS = (
    (tagged("a"), classed("taxonomy-category")),
    (tagged("a", lambda e, c: "category" in _rel_tokens(e)), None),
    (tagged("a"), classed("cat-links", "entry-categories", "post-categories", "td-category")),
)
_TAG_LINKS = (
    (tagged("a"), classed("taxonomy-post_tag")),
    (
        tagged(
            "a",
            lambda e, c: "tag" in (rel := _rel_tokens(e)) and "category" not in rel and not _in_other_taxonomy(e),
        ),
        None,
    ),
    (tagged("a"), classed("tags-links", "post-tags", "entry-tags", "td-tags")),
)


def body(post: Selector) -> Any | None:
    """The first element :data:`BODY` finds, in its order."""
    for test, holder in _BODIES:
        found = select(post, test, holder)
        if found:
            return found[0]
    return None


def title(post: Selector) -> str | None:
    """The first non-empty text of :data:`TITLE` on the post itself."""
    last = len(_TITLES) - 1
    for index, (test, holder) in enumerate(_TITLES):
        for node in select(post, test, holder):
            if not_the_post(node) and not (index == last and node.tag == "h1"):
                continue
            text = clean_text(" ".join(texts(node)))
            if text:
                return text
    return None


def _first_time(post: Selector, selectors: tuple) -> datetime | None:
    for test, holder, read in selectors:
        for element in select(post, test, holder):
            if not_the_post(element):
                continue
            for value in read(element):
                moment = parse_iso(value.strip())
                if moment is not None:
                    return moment
    return None


def published_time(post: Selector) -> datetime | None:
    """``first_time(post, PUBLISHED)``."""
    return _first_time(post, _PUBLISHED)


def modified_time(post: Selector) -> datetime | None:
    """``first_time(post, MODIFIED)``."""
    return _first_time(post, _MODIFIED)


def post_block_dates(post: Selector) -> list[datetime]:
    """:func:`block_dates`: the times in the post's own post-date blocks, in document order."""
    moments: list[datetime] = []
    for element in select(post, tagged("time"), lambda h, c: "wp-block-post-date" in c and not not_the_post(h)):
        for value in _datetime(element):
            moment = parse_iso(value.strip())
            if moment is not None:
                moments.append(moment)
    return moments


def post_visible_date(post: Selector) -> datetime | None:
    """:func:`visible_date`."""
    for test in _VISIBLE_DATES:
        for node in select(post, test):
            if not_the_post(node):
                continue
            text = clean_text(" ".join(texts(node, skip_screen_reader=True)))
            if text and len(text) < 120:
                moment = parse_vn_date(text, fallback=False)
                if moment is not None:
                    return moment
    return None


def author_texts(post: Selector) -> Iterator[str]:
    """The texts of :data:`AUTHOR`'s elements on the post itself (screen-reader text left out), in order."""
    for test, holder in _AUTHORS:
        for node in select(post, test, holder):
            if not not_the_post(node):
                yield clean_text(" ".join(texts(node, skip_screen_reader=True)))


def _terms(post: Selector, selectors: tuple) -> list[str]:
    for test, holder in selectors:
        names = []
        for link in select(post, test, holder):
            if not_the_post(link):
                continue
            text = clean_text(" ".join(texts(link, skip_screen_reader=True)))
            if text:
                names.append(text)
        if names:
            return names
    return []


def category_names(post: Selector) -> list[str]:
    """``terms(post, CATEGORY_LINKS)``."""
    return _terms(post, _CATEGORY_LINKS)


def tag_names(post: Selector) -> list[str]:
    """``terms(post, TAG_LINKS)``."""
    return _terms(post, _TAG_LINKS)


def file_blocks(body_element: Any) -> list[Any]:
    """``.//*[has_class('wp-block-file')]`` under the body."""
    return select(body_element, classed("wp-block-file"))


def file_links(body_element: Any) -> list[str]:
    """``FILE_BLOCKS//a/@href`` under the body."""
    links = select(body_element, tagged("a"), classed("wp-block-file"))
    return [href for a in links if (href := a.get("href")) is not None]


def post_container(page: Selector) -> Selector:
    """The first container :data:`POST` finds (``//article`` with post_class() from the tag index), else the page."""
    wanted = frozenset(["type-post", "hentry"])
    articles = elements(page, "article")
    for article in articles:  # //article[has_class('type-post') or has_class('hentry')]
        if class_tokens(article.get("class")) & wanted:
            return type(page)(root=article, type=page.type)
    # one pass for //*[has_class('type-post') and not(self::body) and not(ancestor::*[has_class(
    # 'wp-block-post-template')])] and //*[@id='main'] | //main; //main//article from the tag index
    post_classed = main = None
    for element in page.root.iter():  # (a comment's tag is no string, its attributes are None)
        if main is None and (element.tag == "main" or element.get("id") == "main"):
            main = element
        raw = element.get("class")
        if (
            raw
            and "type-post" in raw
            and "type-post" in class_tokens(raw)
            and element.tag != "body"
            and not any("wp-block-post-template" in classes_of(a) for a in element.iterancestors())
        ):
            post_classed = element
            break
    if post_classed is None:
        post_classed = next(
            (a for a in articles if any(ancestor.tag == "main" for ancestor in a.iterancestors())), main
        )
    return page if post_classed is None else type(page)(root=post_classed, type=page.type)
