"""Declarative families: platforms described by selector presets in ``data/presets.toml``.

Liferay, SharePoint ("tandan"), DotNetNuke and vendor ASP.NET portals cannot be
installed here, so each is data: URL rules, CSS selectors per field, a date
format, listing links and a next-page rule. A registry entry picks a preset by
name and may override any key in its ``options``; adding a portal of a known
platform is one registry entry, no code. Body text, captions and the "Nguồn"
line go through the same shared rules as the coded families.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, tzinfo
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from lxml import etree
from parsel import Selector

from crawler.families.base import (
    Family,
    Link,
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
from crawler.text.bylines import strip_by, trailing_source
from crawler.text.normalise import clean_multiline, clean_text
from crawler.text.vn_dates import VN_TZ, parse_vn_date

PRESETS_FILE = "presets.toml"
_SELECTOR_KEYS = ("title", "date", "lead", "body", "author", "source", "tags", "remove", "listing_links", "next_page")
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
}
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
    for key in ("article_url", "listing_url"):
        try:
            re.compile(preset.get(key, ""))
        except re.error as error:
            raise PresetError(f"preset {name!r}: bad regex in {key!r}: {error}") from error


def parse_with_format(text: str, formats: str | list[str], tz: tzinfo = VN_TZ) -> datetime | None:
    """A date printed in a known strptime format, found anywhere in ``text``; "dmy" = the Vietnamese parser."""
    for fmt in [formats] if isinstance(formats, str) else formats:
        if fmt == "dmy":
            moment = parse_vn_date(text, tz, fallback=False)
            if moment is not None:
                return moment
            continue
        pattern = re.escape(fmt)
        for token, regex in _FORMAT_TOKENS.items():
            pattern = pattern.replace(re.escape(token), regex)
        match = re.search(pattern, text)
        if match:
            try:
                return datetime.strptime(match.group(0).replace(".", "").upper(), fmt).replace(tzinfo=tz)
            except ValueError:
                continue
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
        return PageKind.OTHER

    def article_key(self, url: str) -> str | None:
        parts = urlsplit(url)
        return f"{host_of(url)}{parts.path.rstrip('/')}" + (f"?{parts.query}" if parts.query else "")

    def discover(self, page: Selector, url: str) -> Iterator[Link]:
        """Listing items are articles whatever their URL; the next-page link is a listing."""
        for css in self.css("listing_links"):
            for href in page.css(f"{css}::attr(href)").getall():
                target = urljoin(url, href.strip()).split("#", 1)[0]
                if target.startswith(("http://", "https://")) and self.classify(target) is not PageKind.LISTING:
                    yield Link(target, PageKind.ARTICLE)
        for css in self.css("next_page"):
            for href in page.css(f"{css}::attr(href)").getall()[:1]:
                target = urljoin(url, href.strip()).split("#", 1)[0]
                if target.startswith(("http://", "https://")):
                    yield Link(target, PageKind.LISTING)
        yield from super().discover(page, url)

    # -- parsing ---------------------------------------------------------------
    def _first(self, scope: Selector, key: str) -> Selector | None:
        for css in self.css(key):
            found = scope.css(css)
            for node in found:
                if element_text(node.root) or key == "body":
                    return node
        return None

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
        body_node = self._first(page, "body")
        if body_node is None:
            raise ParseError(f"preset {self.name}: body selectors {self.css('body')} found nothing")
        canonical = canonical_url(page, url)
        body = body_node.root
        skip: set[etree._Element] = set()
        for css in self.css("remove"):
            skip.update(node.root for node in body_node.css(css))
        title_node = self._first(page, "title")
        title = clean_text(element_text(title_node.root)) if title_node is not None else None
        title = title or next(iter(meta_content(page, "og:title")), None)
        lead_node = self._first(page, "lead")
        lead = clean_text(element_text(lead_node.root)) if lead_node is not None else None
        date_node = self._first(page, "date")
        for node in (title_node, date_node, lead_node):  # some layouts print them inside the body block
            if node is not None and body in node.root.iterancestors():
                skip.add(node.root)
        captions, holders = find_captions(body, canonical)
        skip.update(holders)
        source_line = trailing_source(body, canonical, frozenset(skip))
        if source_line is not None:
            skip.add(source_line.element)
        texts = paragraphs(body, skip=skip)
        if title and texts and texts[0] == title:
            texts = texts[1:]
        if self.options.get("lead_first_paragraph") and not lead and texts:
            lead, texts = texts[0], texts[1:]
        published = None
        if date_node is not None:
            published = parse_with_format(element_text(date_node.root), self.options.get("date_format", "dmy"))
        source_node = self._first(page, "source")
        author_node = self._first(page, "author")
        source = source_line.name if source_line else _label_value(source_node)
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
            author=strip_by(_label_value(author_node) or "") or None,
            tags=unique(t for css in self.css("tags") for t in page.css(f"{css} ::text").getall()),
            attachments=document_links(body, canonical),
            other_urls=[u for u in dict.fromkeys([url, *other_urls]) if u != canonical],
            family=self.name,
            fetched_at=fetched_at,
        )


def _label_value(node: Selector | None) -> str | None:
    """ "Nguồn: Báo Nghệ An" -> "Báo Nghệ An"; a bare value stays as it is."""
    if node is None:
        return None
    text = clean_text(element_text(node.root))
    text = re.sub(r"^(?:Nguồn(?:\s+tin)?|Tác giả|Theo)\s*[:：]\s*", "", text, flags=re.IGNORECASE)
    return text or None


def _first_link(node: Selector | None, base_url: str) -> str | None:
    if node is None:
        return None
    href = node.css("a::attr(href)").get()
    return urljoin(base_url, href) if href else None


def preset_names() -> list[str]:
    return sorted(load_presets())
