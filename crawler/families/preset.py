"""Declarative families: platforms described by selector presets in ``data/presets.toml``.

Liferay, SharePoint ("tandan"), DotNetNuke and vendor ASP.NET portals cannot be
installed here, so each is data: URL rules, CSS selectors per field (derived from
the platforms' own templates: Liferay's Asset Publisher and Web Content JSPs,
EasyDNNnews, SharePoint publishing layouts), a date format, listing links and a
next-page rule. A registry entry picks a preset by name and may override any key
in its ``options``; adding a portal of a known platform is one registry entry, no
code. Body text, captions and the "Nguồn" line go through the same shared rules
as the coded families.

What selectors cannot say, the engine does for every preset:
- the page's own decoration (``never``: Liferay portlet titles, DNN container
  titles, SharePoint web-part titles) never gives a field's value;
- selectors run inside the portlet the URL addresses (``scopes``), so a sidebar
  publisher's abstracts are never the article's lead;
- a paragraph that is nothing but a date (a template's own date line) and a
  trailing short, bold, right-aligned name (the editor's byline) leave the body,
  the latter as the author when no selector found one;
- the first paragraph is the lead when it is wholly bold and no lead selector
  matched (``lead_first_bold_paragraph``: the Vietnamese sapo convention);
- a date after a "published" label is preferred to other dates in the same line;
- query parameters that only say where a link was clicked (``redirect``, portlet
  state) are not part of an article's identity.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

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
    parse_page,
    unique,
)
from crawler.items import Article
from crawler.text.blocks import element_text, find_captions, paragraphs
from crawler.text.bylines import strip_by, trailing_source
from crawler.text.normalise import clean_multiline, clean_text
from crawler.text.vn_dates import VN_TZ, parse_feed_date, parse_vn_date

PRESETS_FILE = "presets.toml"
_SELECTOR_KEYS = (
    "title",
    "date",
    "lead",
    "body",
    "author",
    "source",
    "tags",
    "remove",
    "listing_links",
    "next_page",
    "never",
)
_KNOWN_KEYS = {
    *_SELECTOR_KEYS,
    "description",
    "verified",
    "inherit",
    "article_url",
    "listing_url",
    "date_format",
    "lead_first_paragraph",
    "detect",
    "modules",
    "scopes",
    "lead_first_bold_paragraph",
    "ignore_params",
}
# Page decoration of the platforms the presets describe: a portlet's / container's / web part's own
# title is never an article's title (Liferay 6.2 portlet.vm, 7.x portlet.ftl; DNN containers; SharePoint).
DECORATIONS = (
    ".portlet-topper",
    ".portlet-title",
    ".portlet-title-text",
    ".portlet-title-default",
    ".portlet-name-text",
    "[id$=_dnnTITLE_titleLabel]",
    ".ms-webpart-titleText",
    ".ms-WPTitle",
    ".ms-webpart-chrome-title",
    ".hide-accessible",
    ".sr-only",
    ".helper-hidden-accessible",
)
# Parameters of a link that say where it was clicked, not which article it is.
IDENTITY_NOISE = re.compile(
    r"(?:^|_)(?:redirect|inheritRedirect|backURL|returnToFullPageURL|p_p_col_id|p_p_col_pos|p_p_col_count|"
    r"p_p_mode|p_p_state|p_p_lifecycle|p_p_auth|resetCur|utm_\w+|fbclid|gclid)$",
    re.IGNORECASE,
)
_PUBLISHED_LABEL = re.compile(
    r"(?:Đã xuất bản|Ngày xuất bản|Ngày đăng|Đăng ngày|Ngày ban hành|Published(?: on)?|Publish Date)\s*[:：]?\s*",
    re.IGNORECASE,
)
# Links that are never an article or a listing, whatever the platform: files, assets, account and search pages.
NOT_CONTENT = re.compile(
    r"\.(?:jpe?g|png|gif|webp|svg|ico|css|js|pdf|docx?|xlsx?|pptx?|zip|rar|7z|mp[34]|avi|wmv|flv|xml|json|txt)(?:\?|$)"
    r"|/(?:wp-admin|admin|login|logout|dang-nhap|dang-ky|search|tim-kiem|lien-he|contact|c/portal/login|"
    r"c/document_library|documents|image)(?:/|\?|$)|[?&](?:p_p_lifecycle=[12]|p_p_state=(?:pop_up|exclusive))",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"[.;!?…]$")
_BYLINE_PUNCTUATION = re.compile(r"[:.;!?…,()\d]")
_FORMAT_TOKENS = {
    "%d": r"\d{1,2}",
    "%m": r"\d{1,2}",
    "%Y": r"\d{4}",
    "%y": r"\d{2}",
    "%H": r"\d{1,2}",
    "%I": r"\d{1,2}",
    "%M": r"\d{2}",
    "%S": r"\d{2}",
    "%p": r"[AaPp]\.?[Mm]\.?",
    "%a": r"[A-Za-z]{3}",
    "%A": r"[A-Za-z]+",
    "%b": r"[A-Za-z]{3}",
    "%B": r"[A-Za-z]+",
}


class PresetError(ValueError):
    """A preset (or a registry override of it) is malformed; the message names it."""


@lru_cache(maxsize=4)
def load_presets(path: str | None = None) -> dict[str, dict[str, Any]]:
    """Presets by name, ``inherit`` resolved, validated."""
    from crawler.datafiles import data_file

    source = Path(path) if path else data_file(PRESETS_FILE)
    raw = tomllib.loads(source.read_text(encoding="utf-8"))
    resolved: dict[str, dict[str, Any]] = {}

    def resolve(name: str, chain: tuple[str, ...] = ()) -> dict[str, Any]:
        if name in chain:
            raise PresetError(f"preset {name!r}: inherit loop {' -> '.join((*chain, name))}")
        if name not in raw:
            raise PresetError(f"preset {chain[-1] if chain else name!r} inherits unknown preset {name!r}")
        entry = dict(raw[name])
        parent = entry.pop("inherit", None)
        merged = {**resolve(parent, (*chain, name)), **entry} if parent else entry
        merged.pop("detect", None) if parent and "detect" not in raw[name] else None
        return merged

    for name in raw:
        preset = resolve(name)
        validate_preset(name, preset)
        resolved[name] = preset
    return resolved


def validate_preset(name: str, preset: Mapping[str, Any]) -> None:
    unknown = set(preset) - _KNOWN_KEYS
    if unknown:
        raise PresetError(f"preset {name!r}: unknown key(s) {sorted(unknown)}")
    for key in _SELECTOR_KEYS:
        value = preset.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise PresetError(f"preset {name!r}: {key!r} must be a list of CSS selectors")
        for css in value:
            try:
                Selector(text="<html></html>").css(css)
            except Exception as error:  # cssselect raises several types for bad syntax
                raise PresetError(f"preset {name!r}: bad CSS in {key!r}: {css!r} ({error})") from error
    if not preset.get("body"):
        raise PresetError(f"preset {name!r}: 'body' selectors are required")
    for scope in preset.get("scopes", []):
        if not isinstance(scope, dict) or set(scope) != {"url", "css"}:
            raise PresetError(
                f"preset {name!r}: each of 'scopes' is {{ url = REGEX with (?P<id>…), css = CSS with {{id}} }}"
            )
        try:
            if "id" not in re.compile(scope["url"]).groupindex:
                raise PresetError(f"preset {name!r}: scopes url {scope['url']!r} needs a group (?P<id>...)")
        except re.error as error:
            raise PresetError(f"preset {name!r}: bad regex in scopes: {error}") from error
    for key in ("article_url", "listing_url", "ignore_params"):
        try:
            re.compile(preset.get(key, ""))
        except re.error as error:
            raise PresetError(f"preset {name!r}: bad regex in {key!r}: {error}") from error


def parse_with_format(text: str, formats: str | list[str], tz: tzinfo = VN_TZ) -> datetime | None:
    """A date printed in a known strptime format, found anywhere in ``text``; "dmy" = the Vietnamese parser.
    After a "published" label ("Đã xuất bản 13/05/2024", "Published May 13, 2024") that date wins over
    the others of the line ("Tạo 10/05/2024 - Đã xuất bản 13/05/2024")."""
    label = _PUBLISHED_LABEL.search(text)
    if label:
        after = text[label.end() :].split(" - ", 1)[0]
        moment = _parse_formats(after, formats, tz)
        if moment is not None:
            return moment
    return _parse_formats(text, formats, tz)


def _parse_formats(text: str, formats: str | list[str], tz: tzinfo) -> datetime | None:
    for fmt in [formats] if isinstance(formats, str) else formats:
        if fmt == "dmy":
            moment = parse_vn_date(text, tz, fallback=False)
            if moment is not None:
                return moment
            continue
        pattern = re.escape(fmt)
        for token, regex in _FORMAT_TOKENS.items():
            pattern = pattern.replace(re.escape(token), regex)
        match = re.search(r"(?<!\d)" + pattern + r"(?!\d)", text)  # %m/%d/%y must not match inside 12/05/2024
        if match:
            try:
                moment = datetime.strptime(match.group(0).replace(".", "").upper(), fmt)  # noqa: DTZ007 - zone below
            except ValueError:
                continue
            offset = re.match(r"\s*(?:GMT|UTC)?\s*([+-])(\d{2}):?(\d{2})\b", text[match.end() :])
            if offset:  # RFC 822 dates of templates: "Sun, 12 May 2024 15:30:00 +0000"
                sign = -1 if offset.group(1) == "-" else 1
                zone = timezone(sign * timedelta(hours=int(offset.group(2)), minutes=int(offset.group(3))))
                return moment.replace(tzinfo=zone)
            return moment.replace(tzinfo=tz)
    return None


class Preset(Family):
    """A family read from a preset; ``name`` is the preset's name."""

    name = "preset"

    def __init__(self, options: Mapping[str, Any] | None = None, *, preset: str, base: Mapping[str, Any]) -> None:
        merged = {**base, **dict(options or {})}
        validate_preset(preset, merged)
        super().__init__(merged)
        self.name = preset  # type: ignore[misc]  # instance name: which preset
        self._article = re.compile(merged.get("article_url") or r"(?!)", re.IGNORECASE)
        self._listing = re.compile(merged.get("listing_url") or r"(?!)", re.IGNORECASE)
        self._noise = re.compile(merged["ignore_params"], re.IGNORECASE) if merged.get("ignore_params") else None

    def css(self, key: str) -> list[str]:
        return list(self.options.get(key, []))

    # -- discovery -------------------------------------------------------------
    def classify(self, url: str) -> PageKind:
        parts = urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        if re.search(r"sitemap[\w-]*\.xml$", parts.path, re.IGNORECASE):
            return PageKind.SITEMAP
        if re.search(r"/(?:rss|feed)(?:/[\w-]*)?/?$|\.rss$", parts.path, re.IGNORECASE):
            return PageKind.FEED
        if self._article.search(target):
            return PageKind.ARTICLE
        if parts.path in ("", "/") or self._listing.search(target):
            return PageKind.LISTING
        if NOT_CONTENT.search(target):
            return PageKind.OTHER
        return PageKind.UNKNOWN  # the site's own shapes (feeds, probes) will say

    def article_key(self, url: str) -> str | None:
        """Host, path and the query parameters that name the article (not where its link was clicked)."""
        parts = urlsplit(url)
        kept = [
            (k, v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if not IDENTITY_NOISE.search(k) and not (self._noise and self._noise.search(k))
        ]
        query = urlencode(sorted(kept))
        return f"{host_of(url)}{parts.path.rstrip('/')}" + (f"?{query}" if query else "")

    def feed_hints(self, entry: Any) -> dict[str, Any]:
        """A feed's item date: the date of record where a platform's page prints none (Liferay 6.2's
        Asset Publisher shows no metadata by default; its RSS/Atom feed has the publish date)."""
        published = parse_feed_date(entry.lastmod)
        return {"published": published} if published is not None else {}

    # -- parsing ---------------------------------------------------------------
    def _scope(self, page: Selector, url: str) -> Selector:
        """The portlet / module the URL addresses (``scopes``), else the page."""
        for scope in self.options.get("scopes", []):
            match = re.search(scope["url"], url)
            if not match or not match.group("id"):
                continue
            found = page.css(scope["css"].replace("{id}", re.sub(r"[^\w-]", "", match.group("id"))))
            if found:
                return found[0]
        return page

    def _decorations(self, page: Selector) -> set[etree._Element]:
        nodes: set[etree._Element] = set()
        for css in (*DECORATIONS, *self.css("never")):
            for node in page.css(css):
                nodes.update(node.root.iter())
        return nodes

    def _first(self, scope: Selector, key: str, never: set[etree._Element] = frozenset()) -> tuple[Any, str | None]:
        """(node, text) of the first selector of ``key`` finding a visible, non-decoration value; a selector
        ending in ``::attr(name)`` reads that attribute."""
        for css in self.css(key):
            attribute = None
            match = re.match(r"^(.*)::attr\(([\w-]+)\)$", css)
            if match:
                css, attribute = match.group(1), match.group(2)
            for node in scope.css(css):
                if node.root in never:
                    continue
                if attribute:
                    text = clean_text(node.root.get(attribute))
                    if text and not text.startswith("$"):
                        return node, text
                    continue
                text = element_text(node.root)
                if text or key == "body":
                    return node, text
        return None, None

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
        scope = self._scope(page, url)
        never = self._decorations(page)
        body_node, _ = self._first(scope, "body")
        if body_node is None and scope is not page:
            body_node, _ = self._first(page, "body")
        if body_node is None:
            raise ParseError(f"preset {self.name}: body selectors {self.css('body')} found nothing")
        canonical = canonical_url(page, url)
        body = body_node.root
        skip: set[etree._Element] = set()
        for css in self.css("remove"):
            skip.update(node.root for node in body_node.css(css))
        skip.update(e for e in never if body in e.iterancestors())
        title_node, title = self._first(scope, "title", never)
        if title is None and scope is not page:
            title_node, title = self._first(page, "title", never)
        title = clean_text(title) or next(iter(meta_content(page, "og:title")), None)
        lead_node, lead = self._first(scope, "lead", never)
        lead = clean_text(lead) or None
        date_node, date_text = self._first(scope, "date", never)
        for node in (title_node, date_node, lead_node):  # some layouts print them inside the body block
            if node is not None and body in node.root.iterancestors():
                skip.add(node.root)
        captions, holders = find_captions(body, canonical)
        skip.update(holders)
        source_line = trailing_source(body, canonical, frozenset(skip))
        if source_line is not None:
            skip.add(source_line.element)
        author_node, author_text = self._first(scope, "author", never)
        author = strip_by(_label_value(author_text) or "") or None
        if author is None and (byline := _trailing_byline(body, frozenset(skip))) is not None:
            author = element_text(byline)
            skip.add(byline)
        if lead is None and self.options.get("lead_first_bold_paragraph"):
            first = _first_bold_paragraph(body, frozenset(skip))
            if first is not None:
                lead = clean_text(element_text(first))
                skip.add(first)
        texts = [t for t in paragraphs(body, skip=skip) if not _only_a_date(t)]
        if title and texts and texts[0] == title:
            texts = texts[1:]
        if self.options.get("lead_first_paragraph") and not lead and texts:
            lead, texts = texts[0], texts[1:]
        published = None
        if date_text:
            published = parse_with_format(date_text, self.options.get("date_format", "dmy"))
        published = published or hints.get("published")
        source_node, source_text = self._first(scope, "source", never)
        source = source_line.name if source_line else _label_value(source_text)
        return Article(
            url=canonical,
            site=site or host_of(canonical),
            title=title,
            published=published,
            summary=lead or None,
            body_text=clean_multiline("\n\n".join(texts)) or None,
            body_html=etree.tostring(body, encoding="unicode", method="html", with_tail=False),
            captions=[c.as_dict() for c in captions],
            source=source,
            source_url=source_line.url if source_line else _first_link(source_node, canonical),
            author=author,
            tags=unique(t for css in self.css("tags") for t in scope.css(f"{css} ::text").getall()),
            attachments=document_links(body, canonical),
            other_urls=[u for u in dict.fromkeys([url, *other_urls]) if u != canonical],
            family=self.name,
            fetched_at=fetched_at,
        )


def _text_blocks(body: etree._Element, skip: frozenset) -> list[etree._Element]:
    """The body's innermost text blocks (p, div without block children), in order, outside ``skip``."""
    blocks = []
    for element in body.iter("p", "div"):
        if element in skip or any(a in skip for a in element.iterancestors()):
            continue
        if element.xpath(".//p|.//div") or not element_text(element):
            continue
        blocks.append(element)
    return blocks


def _wholly_bold(element: etree._Element) -> bool:
    bold = " ".join(element_text(b) for b in element.xpath(".//strong|.//b"))
    return bool(bold) and clean_text(bold) == element_text(element)


def _first_bold_paragraph(body: etree._Element, skip: frozenset) -> etree._Element | None:
    """The sapo convention: a first paragraph wholly in bold, long enough to be a sentence."""
    blocks = _text_blocks(body, skip)
    if len(blocks) < 2:
        return None
    first = blocks[0]
    return first if _wholly_bold(first) and len(element_text(first).split()) >= 8 else None


def _trailing_byline(body: etree._Element, skip: frozenset) -> etree._Element | None:
    """The editor's byline: a last paragraph of at most five words, bold, right-aligned, no punctuation."""
    blocks = _text_blocks(body, skip)
    if len(blocks) < 2:
        return None
    last = blocks[-1]
    text = element_text(last)
    style = (last.get("style") or "").replace(" ", "").lower()
    right = (
        "text-align:right" in style
        or (last.get("align") or "").lower() == "right"
        or "right" in (last.get("class") or "")
    )
    if right and len(text.split()) <= 5 and _wholly_bold(last) and not _BYLINE_PUNCTUATION.search(text):
        return last
    return None


def _only_a_date(text: str) -> bool:
    """A template's own date line inside the body ("12/05/2024", "Thứ Hai, 13/05/2024 09:05")."""
    return len(text) <= 40 and not _SENTENCE_END.search(text) and parse_vn_date(text, fallback=False) is not None


def _label_value(text: str | None) -> str | None:
    """ "Nguồn: Báo Nghệ An" -> "Báo Nghệ An"; a bare value stays as it is."""
    if not text:
        return None
    text = clean_text(text)
    text = re.sub(r"^(?:Nguồn(?:\s+tin)?|Tác giả|Theo)\s*[:：]\s*", "", text, flags=re.IGNORECASE)
    return text or None


def _first_link(node: Selector | None, base_url: str) -> str | None:
    if node is None:
        return None
    href = node.css("a::attr(href)").get()
    return urljoin(base_url, href) if href else None


def preset_names() -> list[str]:
    return sorted(load_presets())
