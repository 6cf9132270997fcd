"""The one spider: learn a portal's shape, crawl its listings, feeds and sitemaps, then its articles.

Discovery comes first (home page, sitemaps, feeds, category listings with their
pagination). While it runs the family learns the site's shape (modules,
languages, permalink structure) and the spider learns URL shapes from pages whose
kind is certain (feed items, post sitemaps, pages that say what they are). A link
the family's rules cannot place waits until discovery is done, is classified again
with what was learned, and is otherwise fetched as a *probe* -- the page itself
says what it is -- within a per-portal budget. Every article link is filed under
the platform's article id, so an article reached under several URLs is fetched
once and knows all its URLs. Then the articles are fetched; only article pages
become items. The learned :class:`~crawler.profile.SiteProfile` is stored, and the
next crawl starts from it. The spider only routes: URL rules and selectors belong
to the CMS family (``crawler.families``).
"""

from __future__ import annotations

from collections import Counter, deque
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
from crawler.families import Family, NotAnArticle, PageKind, ParseError, get_family, parse_page
from crawler.families.detect import detect_family
from crawler.items import ArticleGone
from crawler.profile import SiteProfile
from crawler.registry import Portal, load_registry, portal_for_url, resolve_target
from crawler.shapes import ShapeBook, url_shapes
from crawler.text.vn_dates import parse_vn_date
from pipelines.frontier import KINDS, Entry, Frontier
from pipelines.state import Known, KnownArticles

# Discovery sources, best first: a sitemap or feed gives the canonical URL of an article.
_RANK = {"api": 0, "sitemap": 0, "feed": 1, "listing": 2, "probe": 2}
_HINT_RANK = {"listing": 0, "probe": 0, "feed": 1, "sitemap": 2, "api": -1}
ARTICLE_WINDOW = 256  # article requests in the scheduler at once (memory stays flat on big portals)
LOOKUP_CHUNK = 200  # article keys checked against the database per query
MAX_DEFERRED = 20_000  # links of unknown kind kept for re-classification (a hostile site cannot grow it further)
SAMPLE_ARTICLES = 3  # articles a profile-only run (govnews detect) parses to show the parser works


class PortalSpider(scrapy.Spider):
    name = "portal"

    def __init__(
        self,
        site: str | None = None,
        url: str | None = None,
        family: str | None = None,
        full: str | bool = False,
        profile_only: str | bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not site and not url:
            raise ValueError("portal spider needs -a site=<registry host> or -a url=<start URL>")
        self._site_arg, self._url_arg, self._family_arg = site, url, family
        self.full = str(full).lower() in ("1", "true", "yes", "full")
        self.profile_only = str(profile_only).lower() in ("1", "true", "yes")
        self.known: KnownArticles | None = None
        self.profiles = None
        self.portal: Portal | None = None
        self.family: Family | None = None
        self.stored_profile: SiteProfile | None = None
        self.profile: SiteProfile | None = None
        self.evidence: list[str] = []
        self.shapes = ShapeBook()
        self.samples: list[dict[str, Any]] = []
        self._refs: dict[str, dict[str, int]] = {}  # article key -> {url: rank}
        self._hints: dict[str, dict[str, Any]] = {}  # article key -> what listings/feeds said of it
        self._requested: set[str] = set()
        self._queued: set[str] = set()
        self._pending: deque[str] = deque()  # article keys waiting for their turn
        self._ready: deque[tuple[str, Known | None]] = deque()  # looked up, to be fetched
        self._listing_pages: dict[str, int] = {}
        self._deferred: dict[str, str] = {}  # link of unknown kind -> where it was seen
        self._probed: set[str] = set()
        self._pages_seen: set[str] = set()  # discovery URLs requested (listings, feeds, sitemaps)
        self._feeds_read: list[str] = []
        self._sitemaps_read: list[str] = []
        self._links_seen: Counter[str] = Counter()
        self._requests = 0  # requests scheduled (those Scrapy's duplicate filter drops are given back)
        self._samples_requested = 0
        self.frontier: Frontier | None = None
        self._resume: list[Entry] = []  # what an unfinished earlier run left (pipelines.frontier)
        self._waiting: set[str] = set()  # article URLs the frontier holds: fetched this run, so "known"
        self._unsaved: dict[str, str] = {}  # pages found since the last checkpoint: url -> kind
        self._last_page: tuple[Response, Selector] | None = None
        self._finalised = False

    @classmethod
    def from_crawler(cls, crawler, *args: Any, **kwargs: Any) -> PortalSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider._configure(crawler.settings)
        crawler.signals.connect(spider._spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(spider._spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(spider._request_dropped, signal=signals.request_dropped)
        return spider

    def _request_dropped(self, request, spider=None) -> None:
        """The budget counts requests sent: one the duplicate filter drops is given back."""
        self._requests -= 1

    def _spider_opened(self, spider=None) -> None:
        self._opened = True
        self.crawler.stats.set_value("govnews/mode", "full" if self.full else "incremental")
        if self.family is not None:
            self.crawler.stats.set_value("govnews/family", self.family.name)

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
        self.probe_budget = settings.getint("GOVNEWS_PROBE_BUDGET", 100)
        family = self._family_arg or portal.family
        if self.profile_only:  # govnews detect: a bounded look, nothing read from or written to the database
            self.max_requests = min(self.max_requests, settings.getint("GOVNEWS_DETECT_MAX_REQUESTS", 60))
            self.probe_budget = min(self.probe_budget, 15)
            if family != "auto":
                self._use_family(family, f"{family} (named by the registry or --family)")
            return
        try:
            from pipelines.profiles import ProfileStore

            self.known = KnownArticles.open(settings.get("GOVNEWS_DB"), portal.host)
            self.profiles = ProfileStore(self.known.engine)
            self.stored_profile = self.profiles.load(portal.host)
            self.frontier = Frontier(self.known.engine, portal.host)
            self._resume = self.frontier.load()
        except SQLAlchemyError as error:  # the store reports the database; the crawl then discovers everything
            self.logger.warning("no stored state (%s): crawling as if nothing were stored", str(error).splitlines()[0])
        if family != "auto":
            self._use_family(family, f"{family} (named by the registry or --family)")

    def _use_family(self, name: str, why: str) -> None:
        assert self.portal is not None
        self.family = get_family(name, dict(self.portal.options))
        self.evidence = [why] if isinstance(why, str) else list(why)
        stored = self.stored_profile
        if stored is not None and stored.family == name:
            self.family.apply_facts(stored.facts)
            self.shapes = ShapeBook.from_dict(stored.shapes.as_dict())
            self.logger.info("%s: starting from the stored site profile (%s)", self.portal.host, stored.fingerprint())
        elif stored is not None:
            self.logger.warning(
                "%s: the site was %s, it now looks like %s: learning it anew", self.portal.host, stored.family, name
            )
        if getattr(self, "_opened", False):
            self.crawler.stats.set_value("govnews/family", name)

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
        stored = self.stored_profile if self.stored_profile and self.stored_profile.family == self.family.name else None
        requests = []
        listings = [self.portal.base_url, *self.portal.seed_urls("listings"), *seeds.listings]
        for url in dict.fromkeys(listings):
            if url not in self._pages_seen:
                requests.append(self._discovery_request(url, self.parse_listing, "listing"))
        # feeds and sitemaps first: they name the newest articles and their canonical URLs
        feeds = self.portal.seed_urls("feeds") + seeds.feeds + (stored.feeds if stored else [])
        for url in dict.fromkeys(feeds):
            requests.append(self._discovery_request(url, self.parse_feed, "feed", priority=20))
        sitemaps = self.portal.seed_urls("sitemaps") + seeds.sitemaps + (stored.sitemaps if stored else [])
        for url in dict.fromkeys(sitemaps):
            requests.append(self._discovery_request(url, self.parse_sitemap, "sitemap", priority=20))
        for url in self.family.api_requests():
            requests.append(self._discovery_request(url, self.parse_api, "api", priority=15))
        requests.extend(self._resume_requests())
        return [r for r in requests if r is not None]

    def _resume_requests(self) -> list[scrapy.Request | None]:
        """Carry on where an unfinished earlier run stopped: its unread pages, its unfetched articles."""
        entries, self._resume = self._resume, []
        if not entries:
            return []
        kinds = Counter(entry.kind for entry in entries)
        self.crawler.stats.set_value("govnews/resume/entries", len(entries))
        self.logger.info(
            "%s: resuming an unfinished crawl: %s",
            self.portal.host,
            ", ".join(f"{n} {kind}" for kind, n in kinds.most_common()),
        )
        callbacks = {"listing": self.parse_listing, "feed": self.parse_feed, "sitemap": self.parse_sitemap}
        requests: list[scrapy.Request | None] = []
        for entry in entries:
            if not self._on_portal(entry.url):
                continue
            if entry.kind == "article":
                self._waiting.add(entry.url)
                self._note_article(entry.url, "listing")
            elif entry.kind == "probe":
                self._defer(entry.url, "an unfinished earlier run")
            elif entry.kind == "api":
                requests.append(self._discovery_request(entry.url, self.parse_api, "api", priority=15))
            elif entry.kind in callbacks and (entry.kind != "listing" or self._follow_listing(entry.url)):
                requests.append(self._discovery_request(entry.url, callbacks[entry.kind], entry.kind, priority=10))
        return requests

    def _detect_then_discover(self, response: Response):
        assert self.portal is not None
        self._pages_seen.update([response.url, response.request.url])
        detection = detect_family(self._page(response) if isinstance(response, TextResponse) else "", response.url)
        self.logger.info("%s looks like %s (%s)", self.portal.host, detection.family, "; ".join(detection.evidence))
        self._use_family(detection.family, detection.evidence)
        yield from self.parse_listing(response)
        for request in self._seed_requests():
            if request.url != response.url:
                yield request

    def _request(self, url: str, callback, *, kind: str, priority: int = 0, **meta: Any) -> scrapy.Request:
        self._requests += 1
        return scrapy.Request(
            url, callback=callback, errback=self._failed, priority=priority, meta={"kind": kind, **meta}
        )

    def _discovery_request(self, url: str, callback, kind: str, priority: int = 0) -> scrapy.Request | None:
        """A listing, feed, sitemap or API page, once per URL and within the request budget."""
        if url in self._pages_seen or not self._on_portal(url):
            return None
        self._unsaved.setdefault(url, kind)  # into the frontier: read this run or the next
        if not self._budget_left():
            return None
        self._pages_seen.add(url)
        meta: dict[str, Any] = {}
        if kind == "api":  # an API switched off (404/401/403) is normal: HTML discovery carries on
            meta["handle_httpstatus_list"] = [400, 401, 403, 404, 405, 410, 500, 501, 503]
        elif kind in ("sitemap", "feed"):  # /sitemap.xml, /feed/ are guesses; a site without them is no error
            meta["handle_httpstatus_list"] = [404, 410]
        return self._request(url, callback, kind=kind, priority=priority, **meta)

    def _budget_left(self) -> bool:
        if self._requests < self.max_requests:
            return True
        self.crawler.stats.inc_value("govnews/limit/requests")
        return False

    def _on_portal(self, url: str) -> bool:
        parts = urlsplit(url)
        return parts.scheme in ("http", "https") and (parts.hostname or "").lower() in self.portal.hosts

    def _page(self, response: TextResponse) -> Selector:
        """The response parsed once (crawler.families.parse_page), shared by detection, discovery and
        the parser; the last one is kept, since a callback may hand its response on to another."""
        cached = self._last_page
        if cached is not None and cached[0] is response:
            return cached[1]
        page = parse_page(response.text)
        self._last_page = (response, page)
        return page

    # -- classification ------------------------------------------------------------
    def _kind(self, url: str) -> PageKind:
        """The family's URL rules, then the URL shapes learned on this site."""
        kind = self.family.classify(url)
        if kind is PageKind.UNKNOWN:
            kind = self.shapes.kind(url) or PageKind.UNKNOWN
        return kind

    def _defer(self, url: str, where: str) -> None:
        if url not in self._deferred and url not in self._probed and len(self._deferred) < MAX_DEFERRED:
            self._deferred[url] = where
            self._unsaved.setdefault(url, "probe")

    # -- the frontier: what this run has still to read, kept in the database -------------------
    def _checkpoint(self, response: Response | None, articles: list[str] = ()) -> None:
        """A discovery page is read: it leaves the frontier, what it found enters (one transaction)."""
        if self.frontier is None:
            self._unsaved.clear()
            return
        done = [response.request.url, response.url] if response is not None else []
        pages, self._unsaved = list(self._unsaved.items()), {}
        try:
            self.frontier.checkpoint(done=done, pages=pages, articles=articles)
        except SQLAlchemyError as error:  # the crawl goes on; the next run re-reads what it could not record
            self.crawler.stats.inc_value("govnews/frontier/write_failed")
            if self.crawler.stats.get_value("govnews/frontier/write_failed") == 1:
                self.logger.warning("frontier not saved (%s): the next run re-reads more", str(error).splitlines()[0])

    def _unstored(self, urls: list[str]) -> tuple[list[str], bool]:
        """The article URLs not stored yet, and whether every one is stored or waiting in the frontier."""
        if not urls:
            return [], False
        if self.known is None:
            return list(urls), False
        keys = [self.family.article_key(u) for u in urls]
        try:
            known = self.known.lookup(urls, [k for k in keys if k])
        except SQLAlchemyError:
            return list(urls), False
        unstored = [u for u, k in zip(urls, keys, strict=True) if u not in known and not (k and k in known)]
        return unstored, all(u in self._waiting for u in unstored)

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
        page = self._page(response)
        self.family.learn(page, response.url)
        for api_url in self.family.api_requests():
            request = self._discovery_request(api_url, self.parse_api, "api", priority=15)
            if request is not None:
                yield request
        for href in page.xpath(
            "//link[@rel='alternate'][contains(@type, 'rss') or contains(@type, 'atom')]/@href"
        ).getall():
            feed_url = self._same_scheme(response.urljoin(href.strip()))
            if self._on_portal(feed_url) and self.family.classify(feed_url) is PageKind.FEED:
                request = self._discovery_request(feed_url, self.parse_feed, "feed")
                if request is not None:
                    yield request
        articles: list[str] = []
        listings: list[str] = []
        for count, link in enumerate(self.family.discover(page, response.url)):
            if count >= self.max_links:
                self.crawler.stats.inc_value("govnews/limit/links_per_page")
                break
            url = self._same_scheme(link.url)
            if not self._on_portal(url):
                continue
            kind = link.kind if link.kind is not PageKind.UNKNOWN else self._kind(url)
            if link.certain:  # the listing's own markup says it is an article (a post entry)
                self.shapes.observe(url, link.kind)
            self._links_seen[kind.value] += 1
            if kind is PageKind.ARTICLE:
                self._note_article(url, "listing", link.hints)
                articles.append(url)
            elif kind is PageKind.LISTING:
                listings.append(url)
            elif kind is PageKind.FEED:
                request = self._discovery_request(url, self.parse_feed, "feed")
                if request is not None:
                    yield request
            elif kind is PageKind.SITEMAP:
                request = self._discovery_request(url, self.parse_sitemap, "sitemap")
                if request is not None:
                    yield request
            elif kind is PageKind.UNKNOWN:
                self._defer(url, response.url)
        unstored, all_known = self._unstored(articles)
        stop_paging = not self.full and all_known
        if stop_paging:
            self.crawler.stats.inc_value("govnews/incremental/pagination_stopped")
        for url in dict.fromkeys(listings):
            if stop_paging and self.family.is_pagination(url):
                continue
            if self._follow_listing(url):
                request = self._discovery_request(url, self.parse_listing, "listing", priority=10)
                if request is not None:
                    yield request
        self._checkpoint(response, unstored)

    def _follow_listing(self, url: str) -> bool:
        """Bound pagination: at most GOVNEWS_MAX_LISTING_PAGES pages per listing."""
        if url in self._pages_seen:
            return False
        shape = self.family.PAGINATION.sub("", url).rstrip("/")  # one count per listing, all its pages
        seen = self._listing_pages.get(shape, 0)
        if seen >= self.max_listing_pages:
            self.crawler.stats.inc_value("govnews/limit/listing_pages")
            return False
        self._listing_pages[shape] = seen + 1
        return True

    def parse_feed(self, response: Response):
        if response.status != 200:
            self.crawler.stats.inc_value("govnews/discovery/missing")
            self._checkpoint(response)
            return ()
        entries = list(feed_entries(response.body, response.url))
        if not entries:
            self.crawler.stats.inc_value("govnews/feed/empty_or_unreadable")
            self._checkpoint(response)
            return ()
        self.crawler.stats.inc_value("govnews/discovery/feeds")
        self._feeds_read.append(response.url)
        self.family.learn_feed(response.url, entries)
        articles = []
        for entry in entries:
            url = self._same_scheme(entry.url)
            if not self._on_portal(url):
                continue
            kind = self._kind(url)
            if kind in (PageKind.ARTICLE, PageKind.UNKNOWN):  # a feed lists articles
                self.shapes.observe(url, PageKind.ARTICLE)
                self._note_article(url, "feed", self.family.feed_hints(entry))
                articles.append(url)
        self._checkpoint(response, self._unstored(articles)[0])
        return ()

    def parse_sitemap(self, response: Response):
        """A sitemap (or an index of them); it is read whole every run, so only its child pages are
        checkpointed, not its articles."""
        if response.status != 200:
            self.crawler.stats.inc_value("govnews/discovery/missing")
            self._checkpoint(response)
            return
        if not looks_like_xml(response.body):
            self.crawler.stats.inc_value("govnews/sitemap/not_xml")
            self._checkpoint(response)
            return
        entries = list(sitemap_entries(response.body, response.url))
        self.crawler.stats.inc_value("govnews/discovery/sitemaps")
        self._sitemaps_read.append(response.url)
        self.family.learn_sitemap(response.url, entries)
        for entry in entries:
            url = self._same_scheme(entry.url)
            if not self._on_portal(url):
                continue
            if entry.is_sitemap:
                request = self._discovery_request(url, self.parse_sitemap, "sitemap", priority=5)
                if request is not None:
                    yield request
                continue
            kind = self.family.sitemap_kind(response.url, url)
            if kind is PageKind.UNKNOWN:
                kind = self.shapes.kind(url) or PageKind.UNKNOWN
            self._links_seen[kind.value] += 1
            if kind is PageKind.ARTICLE:
                self.shapes.observe(url, PageKind.ARTICLE)
                self._note_article(url, "sitemap", {"lastmod": entry.lastmod} if entry.lastmod else None)
            elif kind is PageKind.LISTING and self._follow_listing(url):
                request = self._discovery_request(url, self.parse_listing, "listing", priority=10)
                if request is not None:
                    yield request
            elif kind is PageKind.UNKNOWN:
                self._defer(url, response.url)
        self._checkpoint(response)

    def parse_api(self, response: Response):
        """A platform API (WordPress REST): the family turns it into article hints and more API pages."""
        if not isinstance(response, TextResponse) or response.status != 200:
            self.crawler.stats.inc_value("govnews/api/unavailable")
            self._checkpoint(response)
            return
        self.crawler.stats.inc_value("govnews/discovery/api")
        result = self.family.read_api(response.url, response.body, response.headers)
        urls = []
        for url, hints in result.articles:
            url = self._same_scheme(url)
            if self._on_portal(url):
                self.shapes.observe(url, PageKind.ARTICLE)
                self._note_article(url, "api", hints)
                urls.append(url)
        unstored, all_known = self._unstored(urls)
        if not self.full and all_known:
            self.crawler.stats.inc_value("govnews/incremental/pagination_stopped")
            self._checkpoint(response, unstored)
            return
        for url in result.more:
            request = self._discovery_request(self._same_scheme(url), self.parse_api, "api", priority=15)
            if request is not None:
                yield request
        self._checkpoint(response, unstored)

    def _same_scheme(self, url: str) -> str:
        """Sitemaps and footers often print http:// for an https portal; ask for what the portal serves."""
        base = urlsplit(self.portal.base_url)
        parts = urlsplit(url)
        if parts.hostname and parts.hostname.lower() in self.portal.hosts and parts.scheme != base.scheme:
            return parts._replace(scheme=base.scheme).geturl()
        return url

    # -- links of unknown kind: classify again, then ask the pages themselves -----------
    def _resolve_deferred(self) -> int:
        """Classify the waiting links with what discovery learned; the requests this schedules."""
        scheduled = 0
        for url in list(self._deferred):
            kind = self._kind(url)
            if kind is PageKind.UNKNOWN:
                continue
            del self._deferred[url]
            self._links_seen[kind.value] += 1
            request = None
            if kind is PageKind.ARTICLE:
                self._note_article(url, "listing")
            elif kind is PageKind.LISTING and self._follow_listing(url):
                request = self._discovery_request(url, self.parse_listing, "listing", priority=10)
            elif kind is PageKind.FEED:
                request = self._discovery_request(url, self.parse_feed, "feed", priority=10)
            elif kind is PageKind.SITEMAP:
                request = self._discovery_request(url, self.parse_sitemap, "sitemap", priority=10)
            if request is not None:
                self.crawler.engine.crawl(request)
                scheduled += 1
        return scheduled

    def _probe_round(self) -> int:
        """Fetch one waiting link per unknown URL shape; the pages say what they are."""
        budget = self.probe_budget - len(self._probed)
        if budget <= 0 or not self._deferred:
            if self._deferred and budget <= 0:
                self.crawler.stats.set_value("govnews/probe/unresolved", len(self._deferred))
            return 0
        by_shape: dict[str, str] = {}
        for url in list(self._deferred):
            if self.shapes.seen(url):  # a shape seen as several kinds: probing more of it decides nothing
                del self._deferred[url]
                self.crawler.stats.inc_value("govnews/probe/ambiguous_skipped")
                continue
            by_shape.setdefault(url_shapes(url)[0], url)
            if len(by_shape) >= budget:
                break
        scheduled = 0
        for url in by_shape.values():
            del self._deferred[url]
            self._probed.add(url)
            if not self._budget_left():
                break
            self.crawler.stats.inc_value("govnews/probe/requests")
            request = self._request(
                url, self.parse_probe, kind="probe", priority=5, handle_httpstatus_list=[403, 404, 410]
            )
            self.crawler.engine.crawl(request)
            scheduled += 1
        return scheduled

    def parse_probe(self, response: Response):
        """A page of unknown kind: its own markup (or a trial parse) says what it is."""
        self._checkpoint(response)  # read: whatever it is, it leaves the frontier
        if response.status != 200:  # a dead link on the site is the site's matter, not a crawl error
            self.crawler.stats.inc_value("govnews/probe/missing")
            return
        if not isinstance(response, TextResponse):
            self.shapes.observe(response.url, PageKind.OTHER)
            return
        page = self._page(response)
        self.family.learn(page, response.url)
        kind = self.family.page_kind(page, response.url)
        if kind is None:
            kind = self._trial_kind(response)
        self.crawler.stats.inc_value(f"govnews/probe/{kind.value}")
        for url in {response.url, response.request.url}:
            self.shapes.observe(url, kind)
        if kind is PageKind.LISTING:
            yield from self.parse_listing(response)
        elif kind is PageKind.ARTICLE:
            key = self.family.article_key(response.url) or response.url
            self._note_article(response.request.url, "probe")
            if key in self._requested:
                return
            stored = self._known_for_urls([response.url, response.request.url])
            if stored is not None and not self.full and not self._due(key, stored, self._horizon()):
                self._requested.add(key)
                self.crawler.stats.inc_value("govnews/articles/skipped_known")
                return
            self._requested.add(key)
            response.meta["article_key"] = key
            response.meta["known"] = stored is not None
            yield from self._article(response, probing=True)

    def _trial_kind(self, response: TextResponse) -> PageKind:
        """No markup says what the page is: an article if the family's parser reads one from it."""
        try:
            article = self.family.parse_article(self._page(response), response.url, site=self.portal.host)
        except ParseError:
            return PageKind.LISTING
        except Exception:  # a parser bug on an odd page: not an article, and logged once
            self.logger.warning("probe of %s: parser error", response.url, exc_info=False)
            return PageKind.OTHER
        if article.title and article.body_text and article.published is not None:
            return PageKind.ARTICLE
        return PageKind.LISTING

    # -- articles ----------------------------------------------------------------
    def _spider_idle(self, spider=None) -> None:
        """Discovery is done: settle the links of unknown kind, then fetch the articles this run needs.

        Unknown articles are fetched. Known ones are not, except in a full pass, when
        published within GOVNEWS_RECHECK_DAYS, or when a sitemap's lastmod is newer than
        our last fetch; those go out as conditional requests when we hold validators.
        Articles are fed to the scheduler a window at a time (topped up as responses
        come back), so memory stays flat however large the portal.
        """
        if self.family is None:
            return
        if self._resolve_deferred() or self._probe_round():
            self._checkpoint(None)
            raise DontCloseSpider
        self._checkpoint(None)
        self._rekey()
        self._drop_misfiled()
        if self.full and not getattr(self, "_full_seeded", False):
            self._full_seeded = True
            self._add_stored_articles()
        self._pending.extend(key for key in self._refs if key not in self._requested and key not in self._queued)
        self._queued.update(self._pending)
        if self._top_up(ARTICLE_WINDOW):
            raise DontCloseSpider
        self._finalise()

    def _rekey(self) -> None:
        """Articles filed under their URL before the site's URL rules were learned get their platform id."""
        for key in [k for k in self._refs if "://" in k and k not in self._requested and k not in self._queued]:
            new = next((k for k in (self.family.article_key(u) for u in self._refs[key]) if k), None)
            if not new or new == key:
                continue
            urls = self._refs.pop(key)
            target = self._refs.setdefault(new, {})
            for url, rank in urls.items():
                target[url] = min(rank, target.get(url, rank))
            hints = self._hints.pop(key, None)
            if hints and new not in self._hints:
                self._hints[new] = hints

    def _drop_misfiled(self) -> None:
        """Links filed as articles by their shape before the site's rules were learned (a static page
        listed by a sitemap read later) are dropped when the family's rules now place them elsewhere."""
        for key in [k for k in self._refs if k not in self._requested and k not in self._queued]:
            kinds = {self.family.classify(url) for url in self._refs[key]}
            if kinds and not kinds & {PageKind.ARTICLE, PageKind.UNKNOWN}:
                del self._refs[key]
                self._hints.pop(key, None)
                self.crawler.stats.inc_value("govnews/discovery/reclassified")

    def _top_up(self, wanted: int) -> int:
        """Schedule up to ``wanted`` more article requests from the pending ones; how many went out."""
        scheduled = 0
        if self.profile_only:  # govnews detect: a few sample articles, no more
            wanted = min(wanted, SAMPLE_ARTICLES - self._samples_requested)
        while scheduled < wanted and (self._ready or self._pending):
            if not self._ready:  # look the next keys up in one query, decide for each
                chunk = [self._pending.popleft() for _ in range(min(len(self._pending), LOOKUP_CHUNK))]
                known = self._known_for(chunk)
                horizon = self._horizon()
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
            self._samples_requested += 1
        return scheduled

    def _horizon(self) -> datetime:
        return datetime.now(UTC) - timedelta(days=self.recheck_days)

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

    def _known_for_urls(self, urls: list[str]) -> Known | None:
        if self.known is None:
            return None
        keys = [k for k in (self.family.article_key(u) for u in urls) if k]
        try:
            found = self.known.lookup(urls, keys)
        except SQLAlchemyError:
            return None
        return next(iter(found.values()), None)

    def _due(self, key: str, stored: Known, horizon: datetime) -> bool:
        if stored.removed:
            return True  # linked again: has it come back?
        if stored.published is not None and stored.published >= horizon:
            return True
        lastmod = parse_vn_date(self._hints.get(key, {}).get("lastmod") or "", fallback=False)
        return lastmod is not None and lastmod > stored.last_seen

    def _add_stored_articles(self) -> None:
        """A full pass re-checks every stored article, linked from the site or not any more."""
        self.crawler.stats.set_value("govnews/discovery/articles_linked", len(self._refs))
        if self.known is None:
            return
        try:
            for stored in self.known.all():
                if not stored.removed:
                    self.crawler.stats.inc_value("govnews/discovery/stored_before")
                self._note_article(self._same_scheme(stored.url), "sitemap")
        except SQLAlchemyError as error:
            self.logger.warning("stored articles unavailable: %s", str(error).splitlines()[0])

    def parse_article(self, response: Response):
        assert self.family is not None
        self._top_up(1)  # one response in, one request out: the window stays full
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
        yield from self._article(response)

    def article_hints(self, response: Response) -> dict[str, Any] | None:
        """What discovery said of the article on this page (the parser's ``hints``), for the kept page."""
        return self._hints.get(response.meta.get("article_key"))

    def _article(self, response: Response, probing: bool = False):
        """Parse an article page into an item (counted, never fatal to the crawl)."""
        stats = self.crawler.stats
        if not isinstance(response, TextResponse):
            stats.inc_value("govnews/parse_failed/not_html")
            self.logger.warning("not an HTML page, skipped: %s", response.url)
            return
        key = response.meta.get("article_key")
        others = list(self._refs.get(key, {})) + list(response.meta.get("redirect_urls", []))
        try:
            article = self.family.parse_article(
                self._page(response),
                response.url,
                other_urls=[u for u in others if u != response.url],
                fetched_at=datetime.now(UTC),
                site=self.portal.host,
                hints=self._hints.get(key),
            )
        except NotAnArticle as error:
            stats.inc_value("govnews/not_article")
            self.shapes.observe(response.url, PageKind.OTHER)
            self.logger.info("not an article, skipped: %s (%s)", response.url, error)
            return
        except ParseError as error:
            stats.inc_value("govnews/parse_failed")
            self.logger.error("parse failed for %s: %s", response.url, error)
            return
        except Exception as error:  # a parser bug or a page beyond its limits: counted and logged, the crawl goes on
            stats.inc_value("govnews/parse_failed")
            self.logger.error("parser error on %s: %s: %s", response.url, type(error).__name__, str(error)[:200])
            return
        self.shapes.observe(response.url, PageKind.ARTICLE)
        stats.inc_value("govnews/fields/articles")
        for field in ("title", "published", "body_text"):  # field coverage, for the health checks
            if getattr(article, field):
                stats.inc_value(f"govnews/fields/{field}")
        if article.degraded:
            stats.inc_value("govnews/articles/degraded")
        article.http_etag = _header(response, b"ETag")
        article.http_last_modified = _header(response, b"Last-Modified")
        for warning in article.warnings:
            stats.inc_value("govnews/parse_warning")
            self.logger.warning("%s: %s", response.url, warning)
        if self.profile_only:
            self.samples.append(_sample(article, key))
            return
        yield article

    def _failed(self, failure) -> None:
        request = failure.request
        kind = request.meta.get("kind", "page")
        if kind == "article":
            self._top_up(1)
        self.crawler.stats.inc_value(f"govnews/fetch_failed/{kind}")
        if not _host_deferred(failure):  # the robots middleware said it once for the whole host
            self.logger.warning("could not fetch %s %s: %s", kind, request.url, failure.getErrorMessage())
        if self.frontier is None or kind not in KINDS:
            return
        try:
            if _final(failure):  # refused by robots.txt or gone: nothing a later run could read
                self.frontier.checkpoint(done=[request.url], pages=[], articles=[])
            else:  # a timeout, a reset, a 5xx: tried again by the next runs
                self.frontier.failed(request.url, kind)
        except SQLAlchemyError:
            self.crawler.stats.inc_value("govnews/frontier/write_failed")

    # -- the end: profile and diagnostics ------------------------------------------------
    def current_profile(self) -> SiteProfile | None:
        if self.family is None or self.portal is None:
            return None
        profile = SiteProfile(
            host=self.portal.host,
            family=self.family.name,
            base_url=self.portal.base_url,
            facts=self.family.facts(),
            feeds=list(dict.fromkeys(self._feeds_read)),
            sitemaps=list(dict.fromkeys(self._sitemaps_read)),
            shapes=self.shapes,
            evidence=self.evidence,
            label=self.family.label_shapes(self.shapes.article_shapes()),
        )
        profile.stamp()
        return profile

    def _finalise(self) -> None:
        """Nothing left to fetch: keep the profile, and say what was tried when nothing was found."""
        if self._finalised:
            return
        self._finalised = True
        self.profile = self.current_profile()
        stats = self.crawler.stats
        articles = len(self._refs)
        stats.set_value("govnews/discovery/articles_found", articles)
        stats.set_value("govnews/requests", self._requests)
        if self.profile is not None:
            stats.set_value("govnews/profile/fingerprint", self.profile.fingerprint())
        if articles == 0 or not stats.get_value("govnews/fields/articles", 0):
            diagnostics = self.diagnostics()
            stats.set_value("govnews/diagnostics", diagnostics)
            if not self.profile_only:
                self.logger.warning(
                    "%s: no article %s; tried: %s", self.portal.host, "found" if not articles else "parsed", diagnostics
                )
        reached = stats.get_value("govnews/discovery/pages", 0) + len(self._feeds_read) + len(self._sitemaps_read)
        if self.profiles is None or self.profile is None or not reached:
            return  # a failed or detection-only crawl does not replace what was learned before
        try:
            changes = self.profiles.save(self.profile)
        except SQLAlchemyError as error:
            self.logger.warning("site profile not stored: %s", str(error).splitlines()[0])
            return
        if changes:
            stats.set_value("govnews/profile/changed", "; ".join(changes)[:500])
            self.logger.warning("%s changed shape since the last crawl: %s", self.portal.host, "; ".join(changes)[:500])

    def diagnostics(self) -> str:
        """One line: what discovery tried and saw (for a crawl that found or parsed no article)."""
        facts = self.family.facts() if self.family else {}
        short_facts = {k: v for k, v in facts.items() if v not in (None, [], {}, "")}
        links = ", ".join(f"{n} {k}" for k, n in self._links_seen.most_common()) or "none"
        parts = [
            f"family {self.family.name if self.family else 'none'}",
            f"facts {short_facts}",
            f"discovery pages {self.crawler.stats.get_value('govnews/discovery/pages', 0)}",
            f"feeds read {len(self._feeds_read)}",
            f"sitemaps read {len(self._sitemaps_read)}",
            f"links seen: {links}",
            f"unknown links left {len(self._deferred)}",
            f"probes {len(self._probed)}/{self.probe_budget}",
            f"not articles {self.crawler.stats.get_value('govnews/not_article', 0)}",
            f"parse failures {self.crawler.stats.get_value('govnews/parse_failed', 0)}",
        ]
        return "; ".join(parts)[:2000]

    def closed(self, reason: str) -> None:
        if not self._finalised and self.family is not None:
            self._finalise()


def _host_deferred(failure) -> bool:
    from crawler.middlewares import HostDeferred

    return bool(failure.check(HostDeferred))


def _final(failure) -> bool:
    """A failed fetch no later run would do better: an ignored request (robots.txt, offsite) or a 404/410."""
    from scrapy.exceptions import IgnoreRequest
    from scrapy.spidermiddlewares.httperror import HttpError

    if failure.check(HttpError):
        return failure.value.response.status in (404, 410)
    return bool(failure.check(IgnoreRequest)) and not _host_deferred(failure)  # robots.txt unreachable: later


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1")[:500] if value else None


def _sample(article, key: str | None) -> dict[str, Any]:
    """What ``govnews detect`` shows of a sample article: which fields the parser found."""
    return {
        "key": key,
        "url": article.url,
        "title": article.title,
        "published": article.published.isoformat() if article.published else None,
        "body_chars": len(article.body_text or ""),
        "fields": sorted(
            name
            for name in ("summary", "author", "source", "categories", "tags", "captions", "attachments", "updated")
            if getattr(article, name)
        ),
        "degraded": article.degraded,
    }
