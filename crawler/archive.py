"""Web archives: replay a crawl from WARC files, or record a live crawl into one.

Replay is a Scrapy *download handler*: requests go through the same scheduler,
robots.txt, redirect, decompression and retry middlewares as a live crawl; only
the bytes come from the archive (recorded status, headers and body). A URL the
archive lacks answers 404 and is counted (``govnews/archive/miss``).
Recording listens to ``response_downloaded`` (the bytes as received, before any
middleware decodes them) and writes WARC response records with warcio.
"""

from __future__ import annotations

import gc
import logging
import os
import threading
import zlib
from contextlib import redirect_stderr
from dataclasses import dataclass
from io import BytesIO, StringIO
from pathlib import Path
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.core.downloader.handlers.base import BaseDownloadHandler
from scrapy.http import Headers
from scrapy.responsetypes import responsetypes
from w3lib.url import canonicalize_url

from crawler.errors import UsageError

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
    length: int  # bytes of the record as stored (its gzip member in a .warc.gz)


def _key(url: str) -> str:
    return canonicalize_url(url, keep_fragments=False)


class _Damaged(Exception):
    def __init__(self, offset: int, why: str) -> None:
        super().__init__(why)
        self.offset, self.why = offset, why


def _member_complete(records) -> bool:
    """In a .warc.gz every record is one gzip member: after the record, its member must have ended."""
    decompressor = records.reader.decompressor if records.reader else None
    return decompressor is None or getattr(decompressor, "eof", True)


def _trailing_data(path: str, end: int, size: int) -> bool:
    """Bytes after the last complete record other than blank lines: a record cut short (or garbage)."""
    if size - end > 64:
        return True
    with open(path, "rb") as stream:
        stream.seek(end)
        return bool(stream.read().strip())


def _printable(text: str, limit: int = 80) -> str:
    """First line of a warcio message, without the binary junk it may quote."""
    line = (text.strip().splitlines() or ["unreadable"])[0]
    line = "".join(ch if ch.isprintable() and ord(ch) < 0x7F else "?" for ch in line)
    return line if len(line) <= limit else line[: limit - 1] + "…"


_SHARED: dict[tuple[str, ...], WarcArchive] = {}


def open_archives(paths: list[str] | tuple[str, ...]) -> WarcArchive:
    """The index of these WARC files, built once per process: the CLI builds (and so checks) it
    before the crawl starts, the download handlers of every crawler of the run reuse it."""
    key = tuple(paths)
    if key not in _SHARED:
        _SHARED[key] = WarcArchive(list(key))
    return _SHARED[key]


class WarcArchive:
    """An index of the response records of one or more WARC files, read on demand.

    A file that is missing, no WARC, corrupt or truncated is a :class:`UsageError` naming it
    (and the byte offset where reading failed): replaying half an archive would look like a
    portal that lost half its pages.
    """

    def __init__(self, paths: list[str]) -> None:
        self._index: dict[str, _Location] = {}
        self._keys: dict[str, str] = {}  # each recorded URI as written -> its index key (saves canonicalising it)
        self._files: dict[str, int] = {}  # path -> descriptor, opened on first read, read with pread
        self._lock = threading.Lock()
        for path in paths:
            self._index_file(path)
        logger.info("web archive: %d responses indexed from %s", len(self._index), ", ".join(paths))

    def _index_file(self, path: str) -> None:
        from warcio.archiveiterator import ArchiveIterator

        file = Path(path)
        if not file.exists():
            raise UsageError(f"web archive not found: {path}")
        if not file.is_file():
            raise UsageError(f"web archive {path} is not a file")
        size = file.stat().st_size
        noise = StringIO()  # warcio reports some damage on stderr only, and goes on
        records = None
        end = 0  # where the last complete record ends
        count = 0
        try:
            with open(path, "rb") as stream, redirect_stderr(noise):
                records = ArchiveIterator(stream)
                for record in records:
                    if record.format != "warc" or not record.rec_type:  # warcio also reads ARC files, and
                        raise ValueError("not a WARC record")  # takes some noise for an ARC or WARC record
                    offset, length = records.get_record_offset(), records.get_record_length()  # reads to its end
                    if (
                        getattr(record.raw_stream, "limit", 0) > 0
                        or not _member_complete(records)
                        or record.rec_headers.get_header("Content-Length") is None  # headers cut short
                    ):
                        raise _Damaged(offset, f"truncated: reading failed at byte {size}")
                    if noise.getvalue().strip():
                        raise _Damaged(offset, f"corrupt: {_printable(noise.getvalue())}")
                    end, count = offset + length, count + 1
                    if record.rec_type != "response":
                        continue
                    uri = record.rec_headers.get_header("WARC-Target-URI")
                    if uri:  # the last recording of a URL wins, as in a replay of the latest crawl
                        key = self._keys[uri] = _key(uri)
                        self._index[key] = _Location(path, offset, length)
        except _Damaged as damage:
            raise UsageError(f"web archive {path} is {damage.why} (in the record at byte {damage.offset})") from None
        except OSError as error:
            raise UsageError(f"cannot read web archive {path}: {error.strerror or error}") from None
        except Exception as error:  # warcio's ArchiveLoadFailed, header parse errors, zlib errors
            at = records.offset if records is not None else 0
            if count == 0:
                raise UsageError(f"{path} is not a WARC web archive (no WARC record at its start)") from None
            raise UsageError(
                f"web archive {path} is corrupt: reading failed at byte {at}: {_printable(str(error))}"
            ) from None
        if count == 0:
            raise UsageError(f"{path} is not a WARC web archive (no WARC record in it)")
        if _trailing_data(path, end, size):
            raise UsageError(f"web archive {path} is truncated or corrupt: reading failed at byte {end} of {size}")

    def __len__(self) -> int:
        return len(self._index)

    def urls(self) -> list[str]:
        """Every recorded response URI, as recorded (benchmarks replay them all)."""
        return list(self._keys)

    def __contains__(self, url: str) -> bool:
        return self._find(url) is not None

    def _find(self, url: str) -> _Location | None:
        key = self._keys.get(url)  # a URL asked for as it was recorded needs no canonicalising
        return self._index.get(key if key is not None else _key(url))

    def location(self, url: str) -> tuple[str, int] | None:
        """(file, byte offset) of the record answering ``url``: kept pages point at it instead of copying."""
        found = self._find(url)
        return (found.path, found.offset) if found else None

    def _record_bytes(self, location: _Location) -> bytes:
        """The record at ``location`` as WARC text: its stored bytes read at once (no seek, so no lock:
        ``pread``), a gzip member decompressed in one call."""
        fd = self._files.get(location.path)
        if fd is None:
            with self._lock:
                fd = self._files.get(location.path)
                if fd is None:
                    fd = self._files[location.path] = os.open(location.path, os.O_RDONLY)
        data = os.pread(fd, location.length, location.offset)
        if data[:2] == b"\x1f\x8b":  # a .warc.gz: one gzip member per record
            data = zlib.decompressobj(zlib.MAX_WBITS | 16).decompress(data)
        return data

    def get(self, url: str) -> tuple[int, list[tuple[bytes, bytes]], bytes] | None:
        """(status, headers, body) as recorded, or ``None``."""
        from warcio.archiveiterator import ArchiveIterator

        location = self._find(url)
        if location is None:
            return None
        data = self._record_bytes(location)
        plain = _plain_response(data)
        if plain is not None:
            return plain
        record = next(iter(ArchiveIterator(BytesIO(data))))
        status = int(record.http_headers.get_statuscode() or 200)
        headers = [
            (name.encode("latin-1"), value.encode("latin-1"))
            for name, value in record.http_headers.headers
            if name.lower().encode("latin-1") not in _DROP_HEADERS
        ]
        body = record.content_stream().read()
        return status, headers, body


def _header_lines(block: bytes) -> list[tuple[str, str]] | None:
    """``Name: value`` lines as warcio's parser reads them, when nothing in them needs its care: ASCII,
    CRLF-terminated, no continuation or blank line, each with a colon. Else ``None``."""
    if not block.isascii():
        return None
    lines = block.split(b"\r\n")
    if block.count(b"\n") != len(lines) - 1 or block.count(b"\r") != len(lines) - 1:
        return None  # a bare CR or LF: warcio's readline splits elsewhere
    out = []
    for raw in lines:
        line = raw.decode("ascii").rstrip()
        name, colon, value = line.partition(":")
        if not line or line[0] in " \t" or not colon:
            return None
        out.append((name.rstrip(" \t"), value.lstrip()))
    return out


def _plain_response(data: bytes) -> tuple[int, list[tuple[bytes, bytes]], bytes] | None:
    """(status, headers, body) of a WARC response record read without warcio, exactly as
    :meth:`WarcArchive.get` reads it with warcio, for the plain case: an http(s) response whose body is
    neither chunked nor content-encoded (warcio would decode those). Anything else: ``None``."""
    if not data.startswith((b"WARC/1.0\r\n", b"WARC/1.1\r\n")):
        return None
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return None
    warc = _header_lines(data[10:end])
    if warc is None:
        return None
    fields: dict[str, str] = {}
    for name, value in warc:
        fields.setdefault(name.lower(), value)
    length, uri = fields.get("content-length", ""), fields.get("warc-target-uri", "")
    if fields.get("warc-type") != "response" or not length.isdigit() or not uri.startswith(("http:", "https:")):
        return None
    block = data[end + 4 : end + 4 + int(length)]
    end = block.find(b"\r\n\r\n")
    if end < 0 or not block[:9].upper().startswith((b"HTTP/1.0", b"HTTP/1.1")):
        return None
    status_end = block.find(b"\r\n")
    status_line = block[:status_end].decode("latin-1")
    if not status_line.isascii() or "\n" in status_line or "\r" in status_line:
        return None
    http = _header_lines(block[status_end + 2 : end]) if status_end < end else []
    if http is None:
        return None
    headers = []
    for name, value in http:
        lowered = name.lower()
        if lowered in ("content-encoding", "transfer-encoding"):
            return None  # warcio's content_stream decodes these
        if lowered.encode("latin-1") not in _DROP_HEADERS:
            headers.append((name.encode("latin-1"), value.encode("latin-1")))
    code = status_line.rstrip()[8:].strip().split(" ", 1)[0]
    return int(code or 200), headers, block[end + 4 :]


class WarcReplayHandler(BaseDownloadHandler):
    """Download handler for http/https that answers from ``GOVNEWS_ARCHIVES``."""

    lazy = False

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        paths = tuple(crawler.settings.getlist("GOVNEWS_ARCHIVES"))
        if not paths:
            raise ValueError("WarcReplayHandler needs GOVNEWS_ARCHIVES")
        self.archive = open_archives(paths)  # several crawlers of one run share one index
        self.stats = crawler.stats
        # What exists now (modules, settings, the archive index) lives as long as the replay: out of the
        # garbage collector's full passes, which otherwise walk it again and again as pages pile up objects.
        gc.freeze()

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


# Downloader middlewares that only prepare a request for the network: a replay answers from the archive
# whatever the request's timeout, proxy or credentials say.
_IDLE_IN_REPLAY = (
    "scrapy.downloadermiddlewares.httpauth.HttpAuthMiddleware",
    "scrapy.downloadermiddlewares.downloadtimeout.DownloadTimeoutMiddleware",
    "scrapy.downloadermiddlewares.httpproxy.HttpProxyMiddleware",
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
        middlewares = dict(settings.getdict("DOWNLOADER_MIDDLEWARES"))
        for name in _IDLE_IN_REPLAY:  # what they set (timeouts, proxies, credentials) no archive reads
            middlewares.setdefault(name, None)
        for name, value in (
            ("DOWNLOAD_HANDLERS", handlers),
            ("DOWNLOADER_MIDDLEWARES", middlewares),
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
