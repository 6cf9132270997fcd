"""The one spider: crawl a portal's listings, feeds and sitemaps, then its articles.

Discovery comes first (home page, category listings with their pagination,
RSS/Atom feeds, sitemaps). Every article link found is filed under the
platform's article id, so an article reached under several URLs (one per
category, a shortlink, a redirect) is fetched once and knows all its URLs.
When discovery has nothing left to do the articles are fetched; only article
pages become items. The spider only routes: URL rules and selectors belong to
the CMS family (``crawler.families``).
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import scrapy
from parsel import Selector
from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Response, TextResponse
from sqlalchemy.exc import SQLAlchemyError

from crawler.discovery import feed_entries, looks_like_xml, sitemap_entries
from crawler.families import Family, PageKind, ParseError, get_family
from crawler.families.detect import detect_family
from crawler.items import ArticleGone
from crawler.registry import Portal, load_registry, portal_for_url, resolve_target
from crawler.text.vn_dates import parse_vn_date
from pipelines.state import Known, KnownArticles

# Discovery sources, best first: a sitemap or feed gives the canonical URL of an article.
_RANK = {"sitemap": 0, "feed": 1, "listing": 2}
_HINT_RANK = {"listing": 0, "feed": 1, "sitemap": 2}
ARTICLE_WINDOW = 256  # article requests in the scheduler at once (memory stays flat on big portals)
LOOKUP_CHUNK = 200  # article keys checked against the database per query


class PortalSpider(scrapy.Spider):
    name = "portal"

    def __init__(
        self,
        site: str | None = None,
        url: str | None = None,
        family: str | None = None,
        full: str | bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not site and not url:
            raise ValueError("portal spider needs -a site=<registry host> or -a url=<start URL>")
        self._site_arg, self._url_arg, self._family_arg = site, url, family
        self.full = str(full).lower() in ("1", "true", "yes", "full")
        self.known: KnownArticles | None = None
        self.portal: Portal | None = None
        self.family: Family | None = None
        self._refs: dict[str, dict[str, int]] = {}  # article key -> {url: rank}
        self._hints: dict[str, dict[str, Any]] = {}  # article key -> what listings/feeds said of it
        self._requested: set[str] = set()
        self._queued: set[str] = set()
        self._pending: deque[str] = deque()  # article keys waiting for their turn
        self._ready: deque[tuple[str, Known | None]] = deque()  # looked up, to be fetched
        self._listing_pages: dict[str, int] = {}
        self._requests = 0

    @classmethod
    def from_crawler(cls, crawler, *args: Any, **kwargs: Any) -> PortalSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider._configure(crawler.settings)
        crawler.signals.connect(spider._spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(spider._spider_opened, signal=signals.spider_opened)
        return spider

    def _spider_opened(self, spider=None) -> None:
        self.crawler.stats.set_value("govnews/mode", "full" if self.full else "incremental")

    def _configure(self, settings) -> None:
        registry = load_registry(settings.get("GOVNEWS_REGISTRY"))
        if self._site_arg:
            portal = resolve_target(self._site_arg, registry)
        else:
            portal = resolve_target(self._url_arg, registry)
            if portal.host not in registry:
                portal = portal_for_url(self._url_arg, self._family_arg or "auto")
        self.portal = portal
        self.allowed_domains = list(portal.hosts)
        self.max_listing_pages = settings.getint("GOVNEWS_MAX_LISTING_PAGES")
        self.max_links = settings.getint("GOVNEWS_MAX_LINKS_PER_PAGE")
        self.max_requests = settings.getint("GOVNEWS_MAX_REQUESTS")
        self.recheck_days = settings.getfloat("GOVNEWS_RECHECK_DAYS")
        family = self._family_arg or portal.family
        if family != "auto":
            self.family = get_family(family, dict(portal.options))
        try:
            self.known = KnownArticles.open(settings.get("GOVNEWS_DB"), portal.host)
        except SQLAlchemyError as error:  # the store reports the database; the crawl then discovers everything
            self.logger.warning("no stored state (%s): crawling as if nothing were stored", str(error).splitlines()[0])

    # -- start -----------------------------------------------------------------
    async def start(self) -> AsyncIterator[scrapy.Request]:
        assert self.portal is not None
        if self.family is None:  # unknown platform: read the home page first, then decide
            yield self._request(self.portal.base_url, self._detect_then_discover, kind="home")
            return
        for request in self._seed_requests():
            yield request

    def _seed_requests(self) -> list[scrapy.Request]:
        assert self.portal is not None
        assert self.family is not None
        seeds = self.family.seeds(self.portal.base_url)
        requests = []
        for url in dict.fromkeys([self.portal.base_url, *self.portal.seed_urls("listings"), *seeds.listings]):
            requests.append(self._request(url, self.parse_listing, kind="listing"))
        # feeds and sitemaps first: they name the newest articles and their canonical URLs
        for url in dict.fromkeys(self.portal.seed_urls("feeds") + seeds.feeds):
            requests.append(self._request(url, self.parse_feed, kind="feed", priority=20))
        for url in dict.fromkeys(self.portal.seed_urls("sitemaps") + seeds.sitemaps):
            requests.append(self._request(url, self.parse_sitemap, kind="sitemap", priority=20))
        return requests

    def _detect_then_discover(self, response: Response):
        assert self.portal is not None
        detection = detect_family(response.text if isinstance(response, TextResponse) else "", response.url)
        self.logger.info("%s looks like %s (%s)", self.portal.host, detection.family, "; ".join(detection.evidence))
        self.crawler.stats.set_value("govnews/family", detection.family)
        self.family = get_family(detection.family, dict(self.portal.options))
        yield from self.parse_listing(response)
        for request in self._seed_requests():
            if request.url != response.url:
                yield request

    def _request(self, url: str, callback, *, kind: str, priority: int = 0, **meta: Any) -> scrapy.Request:
        self._requests += 1
        return scrapy.Request(
            url, callback=callback, errback=self._failed, priority=priority, meta={"kind": kind, **meta}
        )

    def _budget_left(self) -> bool:
        if self._requests < self.max_requests:
            return True
        self.crawler.stats.inc_value("govnews/limit/requests")
        return False

    def _on_portal(self, url: str) -> bool:
        parts = urlsplit(url)
        return parts.scheme in ("http", "https") and (parts.hostname or "").lower() in self.portal.hosts

    # -- discovery ---------------------------------------------------------------
    def _note_article(self, url: str, source: str, hints: Mapping[str, Any] | None = None) -> None:
        assert self.family is not None
        url = url.split("#", 1)[0]
        key = self.family.article_key(url) or url
        urls = self._refs.setdefault(key, {})
        rank = _RANK[source]
        if url not in urls or urls[url] > rank:
            urls[url] = rank
        if hints:  # what a page displays beats what a feed says (feeds skip texturizing, entities ...)
            known = self._hints.setdefault(key, {})
            ranks = known.setdefault("_rank", {})
            for name, value in hints.items():
                if name not in known or _HINT_RANK[source] < ranks.get(name, 99):
                    known[name] = value
                    ranks[name] = _HINT_RANK[source]

    def parse_listing(self, response: Response):
        """Home page, category listing or pagination page: file article links, follow listings."""
        if not isinstance(response, TextResponse):
            return
        assert self.family is not None
        self.crawler.stats.inc_value("govnews/discovery/pages")
        page = Selector(text=response.text, base_url=response.url)
        self.family.learn(page, response.url)
        for href in page.xpath(
            "//link[@rel='alternate'][contains(@type, 'rss') or contains(@type, 'atom')]/@href"
        ).getall():
            feed_url = self._same_scheme(response.urljoin(href.strip()))
            if self._on_portal(feed_url) and self.family.classify(feed_url) is PageKind.FEED and self._budget_left():
                yield self._request(feed_url, self.parse_feed, kind="feed")
        articles: list[str] = []
        listings: list[str] = []
        for count, link in enumerate(self.family.discover(page, response.url)):
            if count >= self.max_links:
                self.crawler.stats.inc_value("govnews/limit/links_per_page")
                break
            url = self._same_scheme(link.url)
            if not self._on_portal(url):
                continue
            if link.kind is PageKind.ARTICLE:
                self._note_article(url, "listing", link.hints)
                articles.append(url)
            elif link.kind is PageKind.LISTING:
                listings.append(url)
        stop_paging = not self.full and self._all_known(articles)
        if stop_paging:
            self.crawler.stats.inc_value("govnews/incremental/pagination_stopped")
        for url in dict.fromkeys(listings):
            if stop_paging and self.family.is_pagination(url):
                continue
            if self._follow_listing(url):
                yield self._request(url, self.parse_listing, kind="listing", priority=10)

    def _all_known(self, urls: list[str]) -> bool:
        """Every article this listing page shows is stored already (so older pages hold nothing new)."""
        if not urls or self.known is None:
            return False
        keys = [self.family.article_key(u) for u in urls]
        try:
            known = self.known.lookup(urls, [k for k in keys if k])
        except SQLAlchemyError:
            return False
        return all(url in known or (key and key in known) for url, key in zip(urls, keys, strict=True))

    def _follow_listing(self, url: str) -> bool:
        """Bound pagination: at most GOVNEWS_MAX_LISTING_PAGES pages per listing."""
        shape = self.family.PAGINATION.sub("", url)  # one count per listing, all its pages together
        seen = self._listing_pages.get(shape, 0)
        if seen >= self.max_listing_pages:
            self.crawler.stats.inc_value("govnews/limit/listing_pages")
            return False
        self._listing_pages[shape] = seen + 1
        return self._budget_left()

    def parse_feed(self, response: Response):
        self.crawler.stats.inc_value("govnews/discovery/feeds")
        for entry in feed_entries(response.body, response.url):
            url = self._same_scheme(entry.url)
            if self._on_portal(url) and self.family.classify(url) is PageKind.ARTICLE:
                self._note_article(url, "feed", self.family.feed_hints(entry))
        return ()

    def parse_sitemap(self, response: Response):
        if not looks_like_xml(response.body):
            self.crawler.stats.inc_value("govnews/sitemap/not_xml")
            return
        self.crawler.stats.inc_value("govnews/discovery/sitemaps")
        for entry in sitemap_entries(response.body, response.url):
            url = self._same_scheme(entry.url)
            if not self._on_portal(url):
                continue
            if entry.is_sitemap:
                if self._budget_left():
                    yield self._request(url, self.parse_sitemap, kind="sitemap", priority=5)
                continue
            kind = self.family.sitemap_kind(response.url, url)
            if kind is PageKind.ARTICLE:
                self._note_article(url, "sitemap", {"lastmod": entry.lastmod} if entry.lastmod else None)
            elif kind is PageKind.LISTING and self._follow_listing(url):
                yield self._request(url, self.parse_listing, kind="listing", priority=10)

    def _same_scheme(self, url: str) -> str:
        """Sitemaps and footers often print http:// for an https portal; ask for what the portal serves."""
        base = urlsplit(self.portal.base_url)
        parts = urlsplit(url)
        if parts.hostname and parts.hostname.lower() in self.portal.hosts and parts.scheme != base.scheme:
            return parts._replace(scheme=base.scheme).geturl()
        return url

    # -- articles ----------------------------------------------------------------
    def _spider_idle(self, spider=None) -> None:
        """Discovery is done: fetch the articles this run needs, one URL per article.

        Unknown articles are fetched. Known ones are not, except in a full pass, when
        published within GOVNEWS_RECHECK_DAYS, or when a sitemap's lastmod is newer than
        our last fetch; those go out as conditional requests when we hold validators.
        Articles are fed to the scheduler a window at a time (topped up as responses
        come back), so memory stays flat however large the portal.
        """
        if self.full and not getattr(self, "_full_seeded", False):
            self._full_seeded = True
            self._add_stored_articles()
        self._pending.extend(key for key in self._refs if key not in self._requested and key not in self._queued)
        self._queued.update(self._pending)
        if self._top_up(ARTICLE_WINDOW):
            raise DontCloseSpider

    def _top_up(self, wanted: int) -> int:
        """Schedule up to ``wanted`` more article requests from the pending ones; how many went out."""
        scheduled = 0
        while scheduled < wanted and (self._ready or self._pending):
            if not self._ready:  # look the next keys up in one query, decide for each
                chunk = [self._pending.popleft() for _ in range(min(len(self._pending), LOOKUP_CHUNK))]
                known = self._known_for(chunk)
                horizon = datetime.now(UTC) - timedelta(days=self.recheck_days)
                for key in chunk:
                    stored = known.get(key)
                    if stored is not None and not self.full and not self._due(key, stored, horizon):
                        self._requested.add(key)
                        self.crawler.stats.inc_value("govnews/articles/skipped_known")
                    else:
                        self._ready.append((key, stored))
                continue
            key, stored = self._ready.popleft()
            self._requested.add(key)
            if not self._budget_left():
                self._ready.clear()
                self._pending.clear()
                break
            self.crawler.engine.crawl(self._article_request(key, stored))
            scheduled += 1
        return scheduled

    def _article_request(self, key: str, stored: Known | None) -> scrapy.Request:
        urls = self._refs[key]
        url = min(urls, key=lambda u: (urls[u], len(u)))
        request = self._request(
            url,
            self.parse_article,
            kind="article",
            article_key=key,
            known=stored is not None,
            handle_httpstatus_list=[304, 404, 410],
        )
        if stored is not None and stored.etag:
            request.headers["If-None-Match"] = stored.etag
        if stored is not None and stored.last_modified:
            request.headers["If-Modified-Since"] = stored.last_modified
        return request

    def _known_for(self, keys: list[str]) -> dict[str, Known]:
        """Stored state of the pending articles, by article key (index lookups, in chunks)."""
        if self.known is None:
            return {}
        try:
            found = self.known.lookup([u for k in keys for u in self._refs[k]], keys)
        except SQLAlchemyError as error:
            self.logger.warning("stored state unavailable: %s", str(error).splitlines()[0])
            return {}
        result = {}
        for key in keys:
            hit = found.get(key) or next((found[u] for u in self._refs[key] if u in found), None)
            if hit is not None:
                result[key] = hit
        return result

    def _due(self, key: str, stored: Known, horizon: datetime) -> bool:
        if stored.removed:
            return True  # linked again: has it come back?
        if stored.published is not None and stored.published >= horizon:
            return True
        lastmod = parse_vn_date(self._hints.get(key, {}).get("lastmod") or "", fallback=False)
        return lastmod is not None and lastmod > stored.last_seen

    def _add_stored_articles(self) -> None:
        """A full pass re-checks every stored article, linked from the site or not any more."""
        if self.known is None:
            return
        try:
            for stored in self.known.all():
                self._note_article(self._same_scheme(stored.url), "sitemap")
        except SQLAlchemyError as error:
            self.logger.warning("stored articles unavailable: %s", str(error).splitlines()[0])

    def parse_article(self, response: Response):
        assert self.family is not None
        self._top_up(1)  # one response in, one request out: the window stays full
        key = response.meta.get("article_key")
        if response.status == 304:
            self.crawler.stats.inc_value("govnews/articles/not_modified")
            return
        if response.status in (404, 410):
            self.crawler.stats.inc_value("govnews/article/gone")
            self.logger.info("article gone (%d): %s", response.status, response.url)
            if response.meta.get("known"):
                yield ArticleGone(
                    url=response.url, site=self.portal.host, status=response.status, found_at=datetime.now(UTC)
                )
            return
        if not isinstance(response, TextResponse):
            self.crawler.stats.inc_value("govnews/parse_failed/not_html")
            self.logger.warning("not an HTML page, skipped: %s", response.url)
            return
        others = list(self._refs.get(key, {})) + list(response.meta.get("redirect_urls", []))
        try:
            article = self.family.parse_article(
                response.text,
                response.url,
                other_urls=[u for u in others if u != response.url],
                fetched_at=datetime.now(UTC),
                site=self.portal.host,
                hints=self._hints.get(key),
            )
        except ParseError as error:
            self.crawler.stats.inc_value("govnews/parse_failed")
            self.logger.error("parse failed for %s: %s", response.url, error)
            return
        except Exception:  # a parser bug or a page beyond its limits: counted and logged, the crawl goes on
            self.crawler.stats.inc_value("govnews/parse_failed")
            self.logger.exception("parser error on %s", response.url)
            return
        stats = self.crawler.stats
        stats.inc_value("govnews/fields/articles")
        for field in ("title", "published", "body_text"):  # field coverage, for the health checks
            if getattr(article, field):
                stats.inc_value(f"govnews/fields/{field}")
        article.http_etag = _header(response, b"ETag")
        article.http_last_modified = _header(response, b"Last-Modified")
        for warning in article.warnings:
            self.crawler.stats.inc_value("govnews/parse_warning")
            self.logger.warning("%s: %s", response.url, warning)
        yield article

    def _failed(self, failure) -> None:
        request = failure.request
        kind = request.meta.get("kind", "page")
        if kind == "article":
            self._top_up(1)
        self.crawler.stats.inc_value(f"govnews/fetch_failed/{kind}")
        self.logger.warning("could not fetch %s %s: %s", kind, request.url, failure.getErrorMessage())


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1")[:500] if value else None
