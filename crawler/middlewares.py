"""Downloader middlewares govnews adds to or swaps into Scrapy's chain."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import time
from email.utils import parsedate_to_datetime

from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, TextResponse
from scrapy.http.request import NO_CALLBACK
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

_WESTERN = {"latin-1", "latin1", "iso-8859-1", "iso8859-1", "cp1252", "windows-1252", "ascii", "us-ascii"}


class MislabelledUtf8Middleware:
    """A page *declared* Western-European but really UTF-8 is read as UTF-8, for every callback.

    Vietnamese cannot be written in Latin-1 or Windows-1252, so such a declaration on a body
    that is valid, non-ASCII UTF-8 is a server misconfiguration, not the page's encoding.
    """

    def process_response(self, request, response):
        if not isinstance(response, TextResponse) or (response.encoding or "").lower() not in _WESTERN:
            return response
        try:
            text = response.body.decode("utf-8")
        except UnicodeDecodeError:
            return response
        return response if text.isascii() else response.replace(encoding="utf-8")


class SuccessOnlyMetaRefreshMiddleware(MetaRefreshMiddleware):
    """Follow ``<meta http-equiv=refresh>`` on successful pages only.

    NukeViet's (and many portals') 404 page refreshes to the home page after a few
    seconds; following it would turn "this article is gone" into "here is the home
    page". The error status must reach the spider.
    """

    def process_response(self, request, response):
        if not 200 <= response.status < 300:
            return response
        return super().process_response(request, response)


logger = logging.getLogger(__name__)
MAX_CRAWL_DELAY = 60.0  # seconds; a robots.txt asking for more is honoured at this rate and logged
MAX_RETRY_AFTER = 600.0  # seconds; a longer Retry-After ends this run's attempts (the retry budget runs out)


def _host_state(crawler) -> dict:
    """Per-host timing shared by the robots and politeness middlewares of one crawler."""
    if not hasattr(crawler, "_govnews_hosts"):
        crawler._govnews_hosts = {"crawl_delay": {}, "not_before": {}, "last": {}}
    return crawler._govnews_hosts


class HostDeferred(IgnoreRequest):
    """A request not sent because its host's robots.txt could not be read this run (not a robots rule)."""


class _DisallowAll:
    """Stands in for robots.txt when it could not be read: nothing is allowed (fail closed)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def allowed(self, url: str, user_agent: str | bytes) -> bool:
        return False


class FailClosedRobotsTxtMiddleware(RobotsTxtMiddleware):
    """robots.txt obeyed, failing *closed*, with ``Crawl-delay`` honoured.

    Stock Scrapy allows everything when robots.txt cannot be fetched and parses a 5xx
    error page as if it were robots.txt. Here (RFC 9309 §2.3.1): a 5xx, a 429 or a
    network error defers the host — nothing is fetched from it this run, the crawl
    reports it, and the scheduler retries it later; a 4xx means no rules (allowed).

    A host whose robots.txt cannot be reached (DNS failure, connection refused, timeout)
    is one WARNING line, ``robots.txt of HOST unreachable: REASON``: no traceback (stock
    Scrapy logs one at ERROR), no "Gave up retrying" ERROR for robots.txt, and its other
    requests fail with :class:`HostDeferred`, never as "Forbidden by robots.txt".
    """

    async def robot_parser(self, request: Request):
        """Stock ``robot_parser`` but for the logging: our ``_robots_error`` says what failed, once."""
        url = urlparse_cached(request)
        netloc = url.netloc
        if netloc not in self._parsers:
            self._parsers[netloc] = Deferred()
            robots_request = Request(
                f"{url.scheme}://{netloc}/robots.txt",
                priority=self.DOWNLOAD_PRIORITY,
                # retried as any request, but giving up is ours to log (the WARNING below)
                meta={"dont_obey_robotstxt": True, "give_up_log_level": "DEBUG"},
                callback=NO_CALLBACK,
            )
            try:
                response = await self.crawler.engine.download_async(robots_request)
                await self._parse_robots(response, netloc, request)
            except Exception as error:  # any failure to read robots.txt defers the host (fail closed)
                self._robots_error(error, netloc)
            self._stats.inc_value("robotstxt/request_count")
        parser = self._parsers[netloc]
        if isinstance(parser, Deferred):
            return await maybe_deferred_to_future(parser)
        return parser

    def process_request_2(self, rp, request: Request) -> None:
        """A deferred host's requests fail as such, so no log or stat blames a robots.txt rule."""
        if isinstance(rp, _DisallowAll):  # a deferred host, not a robots.txt rule
            self._stats.inc_value("govnews/robots/deferred_requests")
            raise HostDeferred(f"host deferred: {rp.reason}")
        super().process_request_2(rp, request)

    async def _parse_robots(self, response, netloc, request) -> None:
        status = response.status
        if status >= 500 or status == 429:
            self._stats.inc_value("govnews/robots/deferred")
            logger.warning("robots.txt of %s answered %d: host deferred, nothing fetched this run", netloc, status)
            self._settle(netloc, _DisallowAll(f"robots.txt answered {status}"))
            return
        if 400 <= status < 500:  # no robots.txt: no rules
            response = response.replace(body=b"")
        await super()._parse_robots(response, netloc, request)
        parser = self._parsers.get(netloc)
        delay = _crawl_delay(parser, self._robotstxt_useragent or self._default_useragent)
        if delay:
            if delay > MAX_CRAWL_DELAY:
                logger.warning("%s asks for Crawl-delay %.0f s; using %.0f s", netloc, delay, MAX_CRAWL_DELAY)
            _host_state(self.crawler)["crawl_delay"][urlparse_cached(request).hostname] = min(delay, MAX_CRAWL_DELAY)
            self._stats.set_value(f"govnews/robots/crawl_delay/{netloc}", delay)

    def _robots_error(self, exc: Exception, netloc: str) -> None:
        reason = str(exc).strip() or type(exc).__name__
        if isinstance(exc, IgnoreRequest):  # refused by our own middlewares (e.g. a private address)
            state, short = "not fetched", f"robots.txt not fetched ({reason})"
        else:
            self._stats.inc_value(f"robotstxt/exception_count/{type(exc)}")
            state, short = "unreachable", "robots.txt unreachable"
        self._stats.inc_value("govnews/robots/deferred")
        logger.warning("robots.txt of %s %s: %s (host deferred, nothing fetched this run)", netloc, state, reason)
        self._settle(netloc, _DisallowAll(short))

    def _settle(self, netloc: str, parser) -> None:
        pending = self._parsers.get(netloc)
        self._parsers[netloc] = parser
        if pending is not None and hasattr(pending, "callback") and not pending.called:
            pending.callback(parser)


def _crawl_delay(parser, user_agent) -> float | None:
    robots = getattr(parser, "rp", None)  # Protego behind Scrapy's ProtegoRobotParser
    if robots is None or not hasattr(robots, "crawl_delay"):
        return None
    agent = user_agent.decode() if isinstance(user_agent, bytes) else str(user_agent or "*")
    try:
        delay = robots.crawl_delay(agent)
    except Exception:  # a malformed value is no delay
        return None
    return float(delay) if delay else None


class PolitenessMiddleware:
    """Waits out ``Crawl-delay`` and ``Retry-After`` (429/503) for the host concerned only."""

    def __init__(self, crawler) -> None:
        self.crawler = crawler
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def process_request(self, request):
        host = urlparse_cached(request).hostname or ""
        state = _host_state(self.crawler)
        wait_until = max(
            state["not_before"].get(host, 0.0),
            state["last"].get(host, 0.0) + state["crawl_delay"].get(host, 0.0),
        )
        now = time.monotonic()
        start = max(now, wait_until)
        state["last"][host] = start  # reserve the slot first: concurrent requests queue behind it
        if start > now:
            await asyncio.sleep(start - now)
        return None

    def process_response(self, request, response):
        if response.status in (429, 503):
            seconds = _retry_after(response.headers.get(b"Retry-After"))
            if seconds is not None:
                host = urlparse_cached(request).hostname or ""
                seconds = min(seconds, MAX_RETRY_AFTER)
                _host_state(self.crawler)["not_before"][host] = time.monotonic() + seconds
                self.stats.inc_value("govnews/politeness/retry_after")
                logger.info("%s asked us to wait %.0f s (Retry-After, %d)", host, seconds, response.status)
        return response


def _retry_after(value: bytes | None) -> float | None:
    if not value:
        return None
    text = value.decode("latin-1").strip()
    if text.isdigit():
        return float(text)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


class PublicAddressesOnlyMiddleware:
    """Never fetch private, loopback, link-local or reserved addresses (SSRF through links or redirects).

    Host names are resolved (in a thread, cached per host) and every address checked;
    ``GOVNEWS_ALLOW_PRIVATE_HOSTS`` lists the exceptions (tests use 127.0.0.1). A replay
    from WARC files reaches no network and is not checked.
    """

    def __init__(self, crawler) -> None:
        settings = crawler.settings
        self.allowed = set(settings.getlist("GOVNEWS_ALLOW_PRIVATE_HOSTS"))
        self.enabled = not settings.getlist("GOVNEWS_ARCHIVES")
        self.stats = crawler.stats
        self._verdicts: dict[str, bool] = {}

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def process_request(self, request):
        if not self.enabled:
            return None
        host = (urlparse_cached(request).hostname or "").lower()
        if host in self.allowed:
            return None
        if host not in self._verdicts:
            self._verdicts[host] = await _is_public(host)
        if not self._verdicts[host]:
            self.stats.inc_value("govnews/blocked/private_address")
            logger.warning("refused %s: %s is a private, loopback or link-local address", request.url, host)
            raise IgnoreRequest(f"private address: {host}")
        return None


async def _is_public(host: str) -> bool:
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            infos = await asyncio.to_thread(socket.getaddrinfo, host, None)
        except OSError:
            return True  # unresolvable: the download fails on its own, with its own error
        addresses = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]
    return all(address.is_global for address in addresses)
