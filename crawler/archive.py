"""Web archives: replay a crawl from WARC files, or record a live crawl into one.

Replay is a Scrapy *download handler*: requests go through the same scheduler,
robots.txt, redirect, decompression and retry middlewares as a live crawl; only
the bytes come from the archive (recorded status, headers and body). A URL the
archive lacks answers 404 and is counted (``govnews/archive/miss``).
Recording listens to ``response_downloaded`` (the bytes as received, before any
middleware decodes them) and writes WARC response records with warcio.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.core.downloader.handlers.base import BaseDownloadHandler
from scrapy.http import Headers
from scrapy.responsetypes import responsetypes
from w3lib.url import canonicalize_url

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

logger = logging.getLogger(__name__)

# Hop-by-hop framing the archive no longer applies to its stored (de-chunked) body.
_DROP_HEADERS = {b"transfer-encoding", b"content-length"}


@dataclass(frozen=True, slots=True)
class _Location:
    path: str
    offset: int


def _key(url: str) -> str:
    return canonicalize_url(url, keep_fragments=False)


class WarcArchive:
    """An index of the response records of one or more WARC files, read on demand."""

    def __init__(self, paths: list[str]) -> None:
        from warcio.archiveiterator import ArchiveIterator

        self._index: dict[str, _Location] = {}
        self._lock = threading.Lock()
        for path in paths:
            if not Path(path).is_file():
                raise FileNotFoundError(f"web archive not found: {path}")
            with open(path, "rb") as stream:
                records = ArchiveIterator(stream)
                for record in records:
                    if record.rec_type != "response":
                        continue
                    uri = record.rec_headers.get_header("WARC-Target-URI")
                    if uri:  # the last recording of a URL wins, as in a replay of the latest crawl
                        self._index[_key(uri)] = _Location(path, records.get_record_offset())
        logger.info("web archive: %d responses indexed from %s", len(self._index), ", ".join(paths))

    def __len__(self) -> int:
        return len(self._index)

    def __contains__(self, url: str) -> bool:
        return _key(url) in self._index

    def get(self, url: str) -> tuple[int, list[tuple[bytes, bytes]], bytes] | None:
        """(status, headers, body) as recorded, or ``None``."""
        from warcio.archiveiterator import ArchiveIterator

        location = self._index.get(_key(url))
        if location is None:
            return None
        with self._lock, open(location.path, "rb") as stream:
            stream.seek(location.offset)
            record = next(iter(ArchiveIterator(stream)))
            status = int(record.http_headers.get_statuscode() or 200)
            headers = [
                (name.encode("latin-1"), value.encode("latin-1"))
                for name, value in record.http_headers.headers
                if name.lower().encode("latin-1") not in _DROP_HEADERS
            ]
            body = record.content_stream().read()
        return status, headers, body


class WarcReplayHandler(BaseDownloadHandler):
    """Download handler for http/https that answers from ``GOVNEWS_ARCHIVES``."""

    lazy = False
    _shared: dict[tuple[str, ...], WarcArchive] = {}

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        paths = tuple(crawler.settings.getlist("GOVNEWS_ARCHIVES"))
        if not paths:
            raise ValueError("WarcReplayHandler needs GOVNEWS_ARCHIVES")
        if paths not in self._shared:  # several crawlers of one run share one index
            self._shared[paths] = WarcArchive(list(paths))
        self.archive = self._shared[paths]
        self.stats = crawler.stats

    async def download_request(self, request: Request) -> Response:
        found = self.archive.get(request.url)
        if found is None:
            self.stats.inc_value("govnews/archive/miss")
            logger.debug("not in the web archive: %s", request.url)
            status, headers, body = 404, [(b"Content-Type", b"text/plain")], b"not in the web archive"
        else:
            self.stats.inc_value("govnews/archive/hit")
            status, headers, body = found
        scrapy_headers = Headers(headers)
        respcls = responsetypes.from_args(headers=scrapy_headers, url=request.url, body=body)
        return respcls(
            url=request.url, status=status, headers=scrapy_headers, body=body, request=request, flags=["warc"]
        )


class ReplayAddon:
    """Scrapy add-on: when ``GOVNEWS_ARCHIVES`` is set, answer http(s) from the archives.

    Politeness protects servers; a replay reads local files, so delays go too.
    Works the same for ``govnews crawl --archive`` and ``scrapy crawl -s GOVNEWS_ARCHIVES=...``.
    """

    # Above the project's settings.py and the spider's, below what the user sets on the command line.
    PRIORITY = 35

    def update_settings(self, settings) -> None:
        if not settings.getlist("GOVNEWS_ARCHIVES"):
            return
        handlers = dict(settings.getdict("DOWNLOAD_HANDLERS"))
        handlers.update({"http": f"{__name__}.WarcReplayHandler", "https": f"{__name__}.WarcReplayHandler"})
        for name, value in (
            ("DOWNLOAD_HANDLERS", handlers),
            ("DOWNLOAD_DELAY", 0),
            ("AUTOTHROTTLE_ENABLED", False),
            ("CONCURRENT_REQUESTS_PER_DOMAIN", 16),
        ):
            settings.set(name, value, priority=self.PRIORITY)


class WarcRecorder:
    """Extension: every downloaded response of the crawl goes into ``GOVNEWS_RECORD``."""

    def __init__(self, path: str) -> None:
        from warcio.warcwriter import WARCWriter

        self._file = open(path, "ab")  # noqa: SIM115 - closed on spider_closed
        self._writer = WARCWriter(self._file, gzip=True)
        self.path = path
        self.count = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcRecorder:
        from scrapy.exceptions import NotConfigured

        path = crawler.settings.get("GOVNEWS_RECORD")
        if not path:
            raise NotConfigured
        recorder = cls(path)
        crawler.signals.connect(recorder.response_downloaded, signal=signals.response_downloaded)
        crawler.signals.connect(recorder.close, signal=signals.spider_closed)
        return recorder

    def response_downloaded(self, response: Response, request: Request, spider=None) -> None:
        from warcio.statusandheaders import StatusAndHeaders

        if "warc" in response.flags:
            return
        headers = [
            (name.decode("latin-1"), value.decode("latin-1"))
            for name, values in response.headers.items()
            for value in values
        ]
        protocol = response.protocol or "HTTP/1.1"
        http_headers = StatusAndHeaders(f"{response.status} {_reason(response.status)}", headers, protocol=protocol)
        record = self._writer.create_warc_record(
            response.url, "response", payload=BytesIO(response.body), http_headers=http_headers
        )
        self._writer.write_record(record)
        self.count += 1

    def close(self, spider=None) -> None:
        self._file.close()
        logger.info("recorded %d responses into %s", self.count, self.path)


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"
