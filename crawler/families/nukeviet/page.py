"""Read a NukeViet news detail page, whatever the theme.

The news module fills the same template variables in every theme
(themes/*/modules/news/detail.tpl of NukeViet 4.x and eGovernment): a schema.org
``NewsArticle`` scope, the headline, hidden ``datePublished``/``dateModified``
spans, the lead (``hometext``), the body, the files block, "Tác giả"/"Nguồn tin"
lines and the tag links. Themes differ in the containers: ``#news-bodyhtml`` or a
plain ``div.bodytext``, ``h1.title`` or a bare ``h1``, the lead in ``div.hometext``
or ``#hometext > [itemprop=description]`` with an *empty hidden* ``itemprop=
description`` span before it. So every field is read from the candidates in order
and the first non-empty, visible one wins; the core's own ``<meta>`` tags
(``article:*``, ``og:title``) back them up.

Quirks of the core handled here:
- ``article:published_time``/``modified_time`` print PHP's ``T`` (the zone
  abbreviation) in place of the ISO ``T``: "2023-12-14+0704:21:00". The modified
  time appears nowhere else visible, so the value is repaired, not ignored.
- The hidden ``itemprop=datePublished`` carries the *edit* time of edited
  articles (``SCHEMA_DATEPUBLISHED`` is assigned twice), so it is the last resort.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from lxml import etree
from parsel import Selector

from crawler.families.base import XML_SPACE, class_tokens, elements, meta_content, page_cache
from crawler.text.blocks import element_text
from crawler.text.normalise import clean_text
from crawler.text.vn_dates import VN_TZ, parse_php_t_format, parse_vn_date

ARTICLE_SCOPE = (
    "//*[@itemtype and (contains(@itemtype, 'schema.org/NewsArticle')"
    " or contains(@itemtype, 'schema.org/Article') or contains(@itemtype, 'schema.org/BlogPosting'))]"
)
# Without a schema.org scope (NukeViet < 4.3.08, the mobile_egov theme) the article is the news_column panel
# holding the body; the page's first <h1> is the site name in the egov and mobile headers, never the title.
NEWS_COLUMNS = "//*[(@class and contains(concat(' ', normalize-space(@class), ' '), ' news_column '))]"
HEADLINES = (
    ".//*[@itemprop='headline']",
    ".//h1[(@class and contains(concat(' ', normalize-space(@class), ' '), ' title '))]",
    ".//h1",
    ".//h2[contains(@class, 'title')]",
)
LEADS = (
    ".//*[(@class and contains(concat(' ', normalize-space(@class), ' '), ' hometext '))]",
    ".//*[@id='hometext']//*[@itemprop='description']",
    ".//*[@id='hometext']//*[(@class and contains(concat(' ', normalize-space(@class), ' '), ' h2 '))]",
    ".//*[@id='hometext']/h2 | .//*[@id='hometext']/p",
    ".//*[@itemprop='description']",
)
BODIES = (
    ".//*[@id='news-bodyhtml']",
    ".//*[@itemprop='articleBody']",
    ".//*[(@class and contains(concat(' ', normalize-space(@class), ' '), ' bodytext '))]",
)
DOWNLOADS = (
    "//*[(@class and contains(concat(' ', normalize-space(@class), ' '), ' news-download-file '))]//a/@href"
    " | //a[@download][contains(@href, 'download=1')]/@href"
)
_DOWNLOAD_CLASS = etree.XPath("//@class[contains(., 'news-download-file')]")
# The page's itemtypes and its files-block classes in one selection: libxml2 walks the tree once for the
# union where it walks it twice for the two selections made one after the other.
_SCOPES_AND_DOWNLOADS = etree.XPath("//@itemtype | //@class[contains(., 'news-download-file')]")


def _page_attributes(page: Selector) -> tuple[list[Any], list[Any]] | None:
    """The page's ``//@itemtype`` and ``//@class[contains(., 'news-download-file')]``, in document order,
    from one selection cached on the page (``None`` for a page without a cache)."""
    cache = page_cache(page)
    if cache is None:
        return None
    found = cache.get("nv_attributes")
    if found is None:
        values = _SCOPES_AND_DOWNLOADS(page.root)
        found = (
            [value for value in values if value.attrname == "itemtype"],
            [value for value in values if value.attrname == "class"],
        )
        cache["nv_attributes"] = found
    return found


def download_hrefs(page: Selector) -> list[str]:
    """What :data:`DOWNLOADS` selects, in document order: the links inside the files block, and the
    ``download`` links of ``?download=1``."""
    inside: set[etree._Element] = set()
    attributes = _page_attributes(page)
    for value in _DOWNLOAD_CLASS(page.root) if attributes is None else attributes[1]:
        if "news-download-file" in XML_SPACE.split(value):  # the class token, as normalize-space splits
            inside.update(value.getparent().iterdescendants("a"))
    hrefs = []
    for anchor in elements(page, "a"):
        href = anchor.get("href")
        if href is not None and (anchor in inside or (anchor.get("download") is not None and "download=1" in href)):
            hrefs.append(href)
    return hrefs


SCHEMA_PUBLISHED = ".//*[@itemprop='datePublished']"
SCHEMA_MODIFIED = ".//*[@itemprop='dateModified']"
BREADCRUMB_NAMES = "//*[@itemtype and contains(@itemtype, 'BreadcrumbList')]//*[@itemprop='name']"
TAG_LINKS = ".//a[contains(@href, '/tag/') or contains(@href, 'op=tag/')]"
LABELS = ".//strong | .//b | .//span[contains(@class, 'label')] | .//em[contains(@class, 'label')]"
# The news module's language strings (modules/news/language/{vi,en,fr}.php, 4.0-4.5) for the byline labels:
# "Tác giả" (4.5), "Tác giả bài viết" (up to 4.4 and eGovernment), "Nguồn tin", "Author", "Source", "Auteur".
BYLINE_LABEL = re.compile(
    r"^\s*(Tác giả(?: bài viết)?|Tac gia|Author|Auteur|Nguồn tin|Nguồn|Source)\s*[:：]?\s*$", re.IGNORECASE
)
# The tag line's label: "Tags" (4.3.01+), "Từ khóa" / "Keywords" (up to 4.3.00).
TAG_LINE_LINKS = (
    "//strong[starts-with(normalize-space(.), 'Tags') or starts-with(normalize-space(.), 'Từ khóa')"
    " or starts-with(normalize-space(.), 'Keywords') or starts-with(normalize-space(.), 'Mots')]/.."
    "//a[contains(@href, '/tag/') or contains(@href, 'op=tag/')]"
)
_HIDDEN_CLASSES = frozenset(["hidden", "hide", "d-none", "sr-only", "visually-hidden", "invisible"])
_DATE_LINE = re.compile(r"\d{1,2}/\d{1,2}/\d{4}")


def is_hidden(element: etree._Element, stop: etree._Element | None = None) -> bool:
    """Hidden by the theme (``class="hidden"``, ``display:none``) itself or by an ancestor below ``stop``."""
    node: etree._Element | None = element
    while node is not None and node is not stop:
        classes = set((node.get("class") or "").split())
        if classes & _HIDDEN_CLASSES:
            return True
        style = (node.get("style") or "").replace(" ", "").lower()
        if "display:none" in style or "visibility:hidden" in style:
            return True
        node = node.getparent()
    return False


def first_visible_text(scope: Selector, xpaths: tuple[str, ...]) -> tuple[str | None, etree._Element | None]:
    """The text of the first element the xpaths find that is visible and not empty."""
    for xpath in xpaths:
        for node in scoped(scope, xpath):
            if is_hidden(node, scope.root):
                continue
            text = clean_text(element_text(node))
            if text:
                return text, node
    return None, None


_ITEMTYPES = etree.XPath("//@itemtype")
_ARTICLE_TYPES = ("schema.org/NewsArticle", "schema.org/Article", "schema.org/BlogPosting")


def article_scopes(page: Selector) -> list[etree._Element]:
    """The elements :data:`ARTICLE_SCOPE` finds, in document order (once per page)."""
    cache = page_cache(page)
    if cache is not None and "nv_scopes" in cache:
        return cache["nv_scopes"]
    attributes = _page_attributes(page)
    values = _ITEMTYPES(page.root) if attributes is None else attributes[0]
    found = [value.getparent() for value in values if any(kind in value for kind in _ARTICLE_TYPES)]
    if cache is not None:
        cache["nv_scopes"] = found
    return found


def article_scope(page: Selector) -> Selector:
    """The schema.org NewsArticle element; else the news_column panel holding the body; else the page."""
    found = article_scopes(page)
    if found:
        return type(page)(root=found[0], type=page.type)
    for column in page.xpath(NEWS_COLUMNS):
        if any(column.xpath(xpath) for xpath in BODIES):
            return column
    return page


def body_element(page: Selector, scope: Selector) -> etree._Element | None:
    """The body container: the first of the theme's containers holding text (in the article scope first)."""
    for where in (scope, page):
        for xpath in BODIES:
            for node in scoped(where, xpath):
                if element_text(node) or node.xpath(".//img"):
                    return node
    return None


@dataclass
class Dates:
    published: datetime | None = None
    updated: datetime | None = None
    warnings: list[str] = field(default_factory=list)


def read_dates(
    page: Selector,
    scope: Selector,
    body: etree._Element | None,
    headline: etree._Element | None = None,
    tz: tzinfo = VN_TZ,
) -> Dates:
    """Published: ``article:published_time`` (repaired), the visible date line, the hidden span.
    Updated: ``article:modified_time`` or ``dateModified`` when later than published. ``tz`` is the
    zone the page was rendered in (``nv_my_ofs``: sites set to "byCountry" render in the visitor's)."""
    dates = Dates()
    for raw in meta_content(page, "article:published_time"):
        dates.published = parse_php_t_format(raw, tz)
        if dates.published is None:
            dates.warnings.append(f"unreadable article:published_time {raw[:60]!r}")
        else:
            break
    if dates.published is None:
        dates.published = visible_date(scope, body, headline)
    if dates.published is None:
        for raw in itemprop_values(scope, "datePublished"):
            dates.published = parse_vn_date(raw, fallback=False)
            if dates.published:
                break
    for raw in meta_content(page, "article:modified_time") + itemprop_values(scope, "dateModified"):
        dates.updated = parse_php_t_format(raw) or parse_vn_date(raw, fallback=False)
        if dates.updated is not None:
            break
    if dates.updated is not None and dates.published is not None and dates.updated <= dates.published:
        dates.updated = None
    # the instant as the portal's readers in Vietnam see it, whatever zone the page was rendered in
    dates.published = dates.published.astimezone(VN_TZ) if dates.published else None
    dates.updated = dates.updated.astimezone(VN_TZ) if dates.updated else None
    return dates


def visible_date(
    scope: Selector, body: etree._Element | None, skip: etree._Element | None = None, tz: tzinfo = VN_TZ
) -> datetime | None:
    """The date line of the detail template ("Thứ năm - 14/12/2023 04:21"): visible text before
    the body, outside the headline (a title may quote a document's date)."""
    skipped = set(skip.iter()) if skip is not None else set()
    for node in scope.root.iter():
        if node is body:
            break  # the date line comes before the body in every theme
        if not isinstance(node.tag, str) or node.tag in ("script", "style", "noscript"):
            continue
        texts = []
        if node not in skipped and not is_hidden(node, scope.root):
            texts.append(node.text)
        parent = node.getparent()
        if (
            node is not scope.root
            and parent is not None
            and parent not in skipped
            and not is_hidden(parent, scope.root)
        ):
            texts.append(node.tail)
        for text in texts:
            if text and len(text) < 120 and _DATE_LINE.search(text):
                moment = parse_vn_date(text, tz, fallback=False)
                if moment is not None:
                    return moment
    return None


def breadcrumb_category(page: Selector) -> list[str]:
    crumbs = [clean_text(t) for t in page.xpath(BREADCRUMB_NAMES + "//text()").getall()]
    crumbs = [c for c in crumbs if c]
    return crumbs[-1:] if len(crumbs) > 2 else []


def byline(scope: Selector, body: etree._Element | None) -> dict:
    """ "Tác giả: X" and "Nguồn tin: Y" lines: a bold label, then a value (maybe a link)."""
    found: dict = {"_holders": []}
    for label in scoped(scope, LABELS):
        match = BYLINE_LABEL.match(clean_text(" ".join(texts(label))))
        holder = label.getparent()
        if not match or holder is None or is_hidden(holder, scope.root):
            continue
        label_text = clean_text("".join(label.itertext()))
        value = clean_text(" ".join(t for t in holder.itertext() if t).replace(label_text, "", 1))
        value = re.sub(r"^\s*[:：]\s*", "", value)
        if not value or len(value) > 300:
            continue
        key = "author" if match.group(1).lower().startswith(("tác", "tac", "author")) else "source"
        if key in found:
            continue
        found[key] = value
        if key == "source":
            links = [a.get("href") for a in holder.iter("a") if a.get("href")]
            if links and links[0].startswith(("http://", "https://", "/")):
                found["source_url"] = links[0]
        if body is not None and holder is not body and body in holder.iterancestors():
            found["_holders"].append(holder)
    return found


def headline(page: Selector, scope: Selector) -> tuple[str | None, etree._Element | None]:
    """The article's title: the headline of the article scope. Outside one (a theme without it) the first
    ``<h1>`` is the site name in the egov and mobile headers, so a heading counts only when it says what
    the core's ``og:title`` says, and ``og:title`` itself stands in otherwise."""
    og_titles = [clean_text(t) for t in meta_content(page, "og:title")]
    if scope is not page:
        return first_visible_text(scope, HEADLINES)
    for xpath in HEADLINES:
        for node in page.xpath(xpath):
            text = clean_text(element_text(node.root))
            if text and not is_hidden(node.root) and (not og_titles or text in og_titles):
                return text, node.root
    return (og_titles[0], None) if og_titles else (None, None)


def title_from_head(page: Selector) -> str | None:
    for candidate in (*meta_content(page, "og:title"), " ".join(page.xpath("//title//text()").getall())):
        title = clean_text(candidate)
        if title:
            return title
    return None


# -- the article scope's selectors without XPath -------------------------------------------------------
# The scope (the schema.org NewsArticle element) holds a few dozen elements; libxml2 spends more on each
# query's set-up and ``has_class`` string building than Python spends on one pass over them. So the scoped
# selectors above (BODIES, HEADLINES, LEADS, LABELS, SCHEMA_MODIFIED / SCHEMA_PUBLISHED) are answered from the
# scope's elements with their class tokens (one pass, cached on the scope), by plain tests of the same
# predicates. Over the whole page (no scope found) the XPaths still run.
def scope_elements(scope: Selector) -> list[tuple[etree._Element, frozenset[str]]]:
    """``scope``'s descendant elements (``.//*``) in document order, each with its class tokens."""
    cache = page_cache(scope)
    found = cache.get("nv_descendants") if cache is not None else None
    if found is None:
        found = [(e, class_tokens(e.get("class"))) for e in scope.root.iterdescendants() if isinstance(e.tag, str)]
        if cache is not None:
            cache["nv_descendants"] = found
    return found


def _scope_index(scope: Selector) -> dict[tuple[str, str], list[etree._Element]]:
    """The scope's descendants by ``("id", v)``, ``("itemprop", v)``, ``("tag", t)`` and ``("class", token)``,
    each list in document order, and ``("order", "")``: every descendant in document order (one pass)."""
    cache = page_cache(scope)
    index = cache.get("nv_index") if cache is not None else None
    if index is None:
        index = {}
        every = []
        for element, classes in scope_elements(scope):
            every.append(element)
            index.setdefault(("tag", element.tag), []).append(element)
            for kind in ("id", "itemprop"):
                value = element.get(kind)
                if value is not None:
                    index.setdefault((kind, value), []).append(element)
            for token in classes:
                index.setdefault(("class", token), []).append(element)
        index[("order", "")] = every
        if cache is not None:
            cache["nv_index"] = index
    return index


def _pick(scope: Selector, kind: str, value: str) -> list[etree._Element]:
    return _scope_index(scope).get((kind, value), [])


def _in_order(scope: Selector, *groups: list[etree._Element]) -> list[etree._Element]:
    """The union of groups of the scope's elements, in document order."""
    groups = tuple(group for group in groups if group)
    if len(groups) <= 1:
        return list(groups[0]) if groups else []
    members = {e for group in groups for e in group}
    return [e for e in _scope_index(scope)[("order", "")] if e in members]


def _children_of_id(scope: Selector, value: str, tags: tuple[str, ...]) -> list[etree._Element]:
    """``.//*[@id=value]/t1 | .//*[@id=value]/t2``, in document order."""
    holders = set(_pick(scope, "id", value))
    if not holders:
        return []
    return _in_order(scope, *([e for e in _pick(scope, "tag", tag) if e.getparent() in holders] for tag in tags))


def _inside_id(scope: Selector, value: str, candidates: list[etree._Element]) -> list[etree._Element]:
    """``.//*[@id=value]//candidate``, in document order."""
    if not candidates or not _pick(scope, "id", value):
        return []
    stop = scope.root
    found = []
    for element in candidates:
        for ancestor in element.iterancestors():
            if ancestor is stop:
                break
            if ancestor.get("id") == value:
                found.append(element)
                break
    return found


def scoped(scope: Selector, xpath: str) -> list[etree._Element]:
    """What ``scope.xpath(xpath)`` finds, for the scoped selectors of this module (elements, in order)."""
    if xpath not in _SCOPED or scope.root.getparent() is None:  # the whole page: one C walk per query
        return [node.root for node in scope.xpath(xpath)]
    return _SCOPED[xpath](scope)


def _labelled(scope: Selector, tag: str) -> list[etree._Element]:
    return [e for e in _pick(scope, "tag", tag) if "label" in (e.get("class") or "")]


_SCOPED: dict[str, Any] = {
    BODIES[0]: lambda s: _pick(s, "id", "news-bodyhtml"),
    BODIES[1]: lambda s: _pick(s, "itemprop", "articleBody"),
    BODIES[2]: lambda s: _pick(s, "class", "bodytext"),
    HEADLINES[0]: lambda s: _pick(s, "itemprop", "headline"),
    HEADLINES[1]: lambda s: [e for e in _pick(s, "tag", "h1") if "title" in class_tokens(e.get("class"))],
    HEADLINES[2]: lambda s: _pick(s, "tag", "h1"),
    HEADLINES[3]: lambda s: [e for e in _pick(s, "tag", "h2") if "title" in (e.get("class") or "")],
    LEADS[0]: lambda s: _pick(s, "class", "hometext"),
    LEADS[1]: lambda s: _inside_id(s, "hometext", _pick(s, "itemprop", "description")),
    LEADS[2]: lambda s: _inside_id(s, "hometext", _pick(s, "class", "h2")),
    LEADS[3]: lambda s: _children_of_id(s, "hometext", ("h2", "p")),
    LEADS[4]: lambda s: _pick(s, "itemprop", "description"),
    LABELS: lambda s: _in_order(
        s, _pick(s, "tag", "strong"), _pick(s, "tag", "b"), _labelled(s, "span"), _labelled(s, "em")
    ),
}


def texts(node: etree._Element) -> list[str]:
    """``node.xpath('.//text()')``: the text nodes under ``node``, in document order."""
    out: list[str] = []
    stack: list[tuple[etree._Element, bool]] = [(node, True)]
    while stack:
        element, entering = stack.pop()
        if not entering:
            if element.tail and element is not node:
                out.append(element.tail)
            continue
        if isinstance(element.tag, str) and element.text:
            out.append(element.text)
        stack.append((element, False))
        stack.extend((child, True) for child in reversed(element))
    return out


def itemprop_values(scope: Selector, name: str) -> list[str]:
    """``scope.xpath(".//*[@itemprop=name]//text() | .//*[@itemprop=name]/@content").getall()``: each such
    element's ``content``, then the text under it, in document order (each text once)."""
    if scope.root.getparent() is None:  # the whole page: the XPath's one C walk
        return scope.xpath(f".//*[@itemprop='{name}']//text() | .//*[@itemprop='{name}']/@content").getall()
    holders = _pick(scope, "itemprop", name)
    if not holders:
        return []
    if len(holders) == 1:  # (else one may hold another: the walk below gives each text once)
        content = holders[0].get("content")
        return ([] if content is None else [content]) + texts(holders[0])
    out: list[str] = []
    stack: list[tuple[etree._Element, bool, bool]] = [(child, True, False) for child in reversed(scope.root)]
    while stack:
        element, entering, inside = stack.pop()
        if not entering:
            if inside and element.tail:  # the tail is the parent's text: inside when the parent is
                out.append(element.tail)
            continue
        within = inside
        if isinstance(element.tag, str):
            if element.get("itemprop") == name:
                within = True
                content = element.get("content")
                if content is not None:
                    out.append(content)
            if within and element.text:
                out.append(element.text)
        stack.append((element, False, inside))
        stack.extend((child, True, within) for child in reversed(element))
    return out
