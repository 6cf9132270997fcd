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

from lxml import etree
from parsel import Selector

from crawler.families.base import elements, meta_content, page_cache
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
_XML_SPACE = re.compile(r"[ \t\r\n]+")


def download_hrefs(page: Selector) -> list[str]:
    """What :data:`DOWNLOADS` selects, in document order: the links inside the files block, and the
    ``download`` links of ``?download=1``."""
    inside: set[etree._Element] = set()
    for value in _DOWNLOAD_CLASS(page.root):
        if "news-download-file" in _XML_SPACE.split(value):  # the class token, as normalize-space splits
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
        for node in scope.xpath(xpath):
            if is_hidden(node.root, scope.root):
                continue
            text = clean_text(element_text(node.root))
            if text:
                return text, node.root
    return None, None


_ITEMTYPES = etree.XPath("//@itemtype")
_ARTICLE_TYPES = ("schema.org/NewsArticle", "schema.org/Article", "schema.org/BlogPosting")


def article_scopes(page: Selector) -> list[etree._Element]:
    """The elements :data:`ARTICLE_SCOPE` finds, in document order (once per page)."""
    cache = page_cache(page)
    if cache is not None and "nv_scopes" in cache:
        return cache["nv_scopes"]
    found = [value.getparent() for value in _ITEMTYPES(page.root) if any(kind in value for kind in _ARTICLE_TYPES)]
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
            for node in where.xpath(xpath):
                if element_text(node.root) or node.root.xpath(".//img"):
                    return node.root
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
        for raw in scope.xpath(f"{SCHEMA_PUBLISHED}//text() | {SCHEMA_PUBLISHED}/@content").getall():
            dates.published = parse_vn_date(raw, fallback=False)
            if dates.published:
                break
    for raw in (
        meta_content(page, "article:modified_time")
        + scope.xpath(f"{SCHEMA_MODIFIED}//text() | {SCHEMA_MODIFIED}/@content").getall()
    ):
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
    for label in scope.xpath(LABELS):
        match = BYLINE_LABEL.match(clean_text(" ".join(label.xpath(".//text()").getall())))
        holder = label.root.getparent()
        if not match or holder is None or is_hidden(holder, scope.root):
            continue
        label_text = clean_text("".join(label.root.itertext()))
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
