"""NukeViet (VINADES): news modules of any name, any URL mode, any theme.

Discovery follows the site's own URL space (:mod:`.urls`), learned while crawling:
the sitemap index names every module and language, RSS links and the JavaScript
variables of each page name the news modules and whether their name is in their
URLs. The detail page is read the way the news module's templates print it in
every theme (:mod:`.page`); a page of the news module whose theme renamed every
container is still an article: its body then comes from the generic extractor and
the rest from what the platform prints anyway (metas, schema.org, byline labels).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from typing import Any
from urllib.parse import urljoin

from lxml import etree
from parsel import Selector

from crawler.families.base import (
    Family,
    NotAnArticle,
    PageKind,
    ParseError,
    canonical_url,
    document_links,
    elements,
    host_of,
    meta_content,
    page_cache,
    parse_page,
    unique,
)
from crawler.families.nukeviet import page as nvpage
from crawler.families.nukeviet.urls import NvSite, news_op_kind
from crawler.items import Article
from crawler.text.blocks import element_text, find_captions, paragraphs
from crawler.text.normalise import clean_multiline, clean_text
from crawler.text.vn_dates import VN_TZ

_JS_VAR = re.compile(
    r"\b(nv_base_siteurl|nv_lang_data|nv_module_name|nv_func_name)\s*=\s*[\"']([^\"']{0,200})[\"']"
    r"|\b(nv_my_ofs)\s*=\s*(-?\d{1,2}(?:\.\d+)?)\b"
)
_NEWS_FUNCS = frozenset(["main", "viewcat", "detail"])
_LISTING_FUNCS = frozenset(["main", "viewcat"])


@lru_cache(maxsize=4096)
def _join(base: str, href: str) -> str:
    return urljoin(base, href)


def page_variables(page: Selector) -> dict[str, str]:
    """``nv_module_name``, ``nv_func_name``, ``nv_lang_data``, ``nv_base_siteurl``, ``nv_my_ofs`` (the
    render zone's UTC offset in hours) as the page's inline script prints them (``nv_html_site_js``)."""
    cache = page_cache(page)
    if cache is not None and "nv_variables" in cache:
        return dict(cache["nv_variables"])
    found: dict[str, str] = {}
    for script in elements(page, "script"):
        text = script.text or ""
        if "nv_" not in text:
            continue
        for name, value, offset_name, offset in _JS_VAR.findall(text[:20000]):
            found.setdefault(name or offset_name, value or offset)
        if len(found) == 5:
            break
    if cache is not None:
        cache["nv_variables"] = dict(found)
    return found


def render_zone(variables: Mapping[str, str]) -> tzinfo:
    """The zone the page was rendered in: Asia/Ho_Chi_Minh unless ``nv_my_ofs`` says otherwise."""
    try:
        hours = float(variables.get("nv_my_ofs", "7"))
    except ValueError:
        return VN_TZ
    if hours == 7 or not -12 <= hours <= 14:
        return VN_TZ
    return timezone(timedelta(hours=hours))


class NukeViet(Family):
    name = "nukeviet"
    default_feeds = ()  # each news module's RSS is learned from the pages (<link rel=alternate>)
    default_sitemaps = ("/sitemap.xml",)

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        super().__init__(options)
        self.site = NvSite()
        # registry hints (else the stock module name): they start discovery; what the site shows still wins
        for module in self.options.get("modules", ["news"]):
            self.site.note_module(str(module), news=True, hint=True)
        if self.options.get("module_in_url") is False and self.options.get("modules"):
            self.site.op_mod = str(self.options["modules"][0])

    # -- discovery -------------------------------------------------------------
    def classify(self, url: str) -> PageKind:
        return self.site.classify(url)

    def article_key(self, url: str) -> str | None:
        return self.site.article_key(url)

    def learn(self, page: Selector, url: str) -> None:
        variables = page_variables(page)
        base = variables.get("nv_base_siteurl")
        if base and base.startswith("/"):
            self.site.base_path = base if base.endswith("/") else base + "/"
        module = variables.get("nv_module_name")
        func = variables.get("nv_func_name")
        if module:
            self.site.note_page(url, module, func, variables.get("nv_lang_data"))
            if func == "detail" and nvpage.article_scopes(page):
                self.site.note_module(module, news=True)
        for link in elements(page, "link"):  # //link[@rel='alternate'][contains(@type, 'rss')]/@href
            href = link.get("href")
            if href is not None and link.get("rel") == "alternate" and "rss" in (link.get("type") or ""):
                self.site.note_rss(_join(url, href.strip()), module)

    def learn_sitemap(self, sitemap_url: str, entries: list[Any]) -> None:
        module = self.site.note_sitemap_index_entry(sitemap_url)
        if entries and entries[0].is_sitemap:
            for entry in entries:
                named = self.site.note_sitemap_index_entry(entry.url)
                if named and named not in self.site.news_modules:
                    self.site.note_module(named)
            return
        if module:
            self.site.note_module_urls(module, [e.url for e in entries])

    def learn_feed(self, feed_url: str, entries: list[Any]) -> None:
        nv = self.site.parse(feed_url)
        if nv is not None and nv.module and nv.op[:1] == ("rss",):
            self.site.note_module(nv.module, news=True)

    def sitemap_kind(self, sitemap_url: str, entry_url: str) -> PageKind:
        return self.classify(entry_url)

    def page_kind(self, page: Selector, url: str) -> PageKind | None:
        """What the page's own ``nv_func_name`` says (the news module's detail / main / viewcat)."""
        variables = page_variables(page)
        func, module = variables.get("nv_func_name"), variables.get("nv_module_name")
        if not func or not module:
            return None
        news = module in self.site.news_modules or bool(nvpage.article_scopes(page))
        if func == "detail" and news:
            return PageKind.ARTICLE
        if func in _LISTING_FUNCS and module in self.site.news_modules:
            return PageKind.LISTING
        if func in _NEWS_FUNCS and not news:
            return PageKind.OTHER
        return PageKind.OTHER

    def facts(self) -> dict[str, Any]:
        return self.site.facts()

    def apply_facts(self, facts: Mapping[str, Any]) -> None:
        self.site.apply(dict(facts))

    def category_alias(self, url: str) -> str | None:
        return self.site.category_alias(url)

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
        page = parse_page(html)
        variables = page_variables(page)
        self.learn(page, url)  # the page names its own module and language: its URLs then parse
        if variables.get("nv_func_name") and variables["nv_func_name"] != "detail":
            kind = f"{variables.get('nv_module_name')}/{variables['nv_func_name']}"
            raise NotAnArticle(f"the page says it is {kind}, not a news detail page")
        scope = nvpage.article_scope(page)
        canonical = canonical_url(page, url)
        body = nvpage.body_element(page, scope)
        warnings: list[str] = []
        degraded = body is None
        title, headline = nvpage.headline(page, scope)
        if degraded:
            body = self._degraded_body(page)
            if body is None:
                raise ParseError("no article body: none of the news module's containers, no text block either")
        dates = nvpage.read_dates(page, scope, body if not degraded else None, headline, render_zone(variables))
        warnings.extend(dates.warnings)
        captions, caption_holders = find_captions(body, canonical)
        lines = nvpage.byline(scope, body)
        skip = caption_holders + lines.pop("_holders", [])
        text = "\n\n".join(paragraphs(body, skip=skip))
        lead, lead_node = nvpage.first_visible_text(scope, nvpage.LEADS)
        if lead_node is not None and (lead_node is body or body in lead_node.iterancestors()):
            lead = None  # a "lead" holding the body is the body
        aliases = [a for a in (self.site.category_alias(u) for u in [url, *other_urls]) if a]
        return Article(
            url=canonical,
            site=site or host_of(canonical),
            title=title or nvpage.title_from_head(page),
            published=dates.published,
            updated=dates.updated,
            summary=lead,
            body_text=clean_multiline(text) or None,
            body_html=etree.tostring(body, encoding="unicode", method="html", with_tail=False),
            captions=[c.as_dict() for c in captions],
            source=lines.get("source"),
            source_url=lines.get("source_url"),
            author=lines.get("author"),
            categories=self._categories(page, url, aliases),
            tags=unique(
                meta_content(page, "article:tag")
                or scope.xpath(nvpage.TAG_LINKS + "//text()").getall()
                or page.xpath(nvpage.TAG_LINE_LINKS + "//text()").getall()
            ),
            attachments=self._attachments(page, body, canonical),
            other_urls=[u for u in dict.fromkeys([url, *other_urls]) if u != canonical],
            family=self.name,
            source_key=self.site.article_key(canonical) or self.site.article_key(url),
            fetched_at=fetched_at,
            warnings=warnings,
            degraded=degraded,
        )

    @staticmethod
    def _degraded_body(page: Selector) -> etree._Element | None:
        """A vendor theme renamed every container: the generic reader finds the body block."""
        from crawler.families.generic import main_block

        return main_block(page)

    def _categories(self, page: Selector, url: str, aliases: list[str]) -> list[str]:
        main = meta_content(page, "article:section") or nvpage.breadcrumb_category(page)
        names = self._category_names(page, url, set(aliases))
        return unique(main + [names[a] for a in aliases if a in names])

    def _category_names(self, page: Selector, url: str, aliases: set[str]) -> dict[str, str]:
        """alias -> name for the aliases asked, from the page's own links to those category listings."""
        names: dict[str, str] = {}
        if not aliases:
            return names
        read: dict[str, tuple[str, str] | None] = {}  # menus repeat links: each href parsed once
        (only,) = aliases if len(aliases) == 1 else (None,)
        for anchor in elements(page, "a"):
            raw = anchor.get("href") or ""
            if not (only in raw if only is not None else any(alias in raw for alias in aliases)):
                continue  # cheap filter before URL parsing
            if raw not in read:
                read[raw] = self.site.listing_alias(_join(url, raw))
            found = read[raw]
            if not found or found[1] not in aliases:
                continue
            name = clean_text(anchor.get("title") or element_text(anchor))
            if name:
                names.setdefault(found[1], name)
        return names

    def _attachments(self, page: Selector, body: etree._Element, base_url: str) -> list[str]:
        hrefs = [h.strip() for h in nvpage.download_hrefs(page)]
        links = [urljoin(base_url, h) for h in hrefs if h and not h.startswith(("#", "javascript:"))]
        return list(dict.fromkeys(links + document_links(body, base_url)))


__all__ = ["NukeViet", "NvSite", "news_op_kind", "page_variables"]
