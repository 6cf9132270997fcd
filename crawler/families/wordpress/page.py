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
from datetime import datetime
from typing import Any

from parsel import Selector

from crawler.families.base import elements, json_ld_texts
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
