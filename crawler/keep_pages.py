"""Kept pages: every article page a crawl parsed, in a compressed WARC per run, for ``govnews reparse``.

A parser fix then reaches the whole archive by re-extracting the kept pages, not by
recrawling 3,800 portals. Files live under ``<data dir>/pages/<host>/<UTC start>-<pid>.warc.gz``;
each record is one gzip member written and flushed before the article is handed to the
store, so a stored article always points at a complete record. A crawl killed mid-write
leaves a marker (``.open``, holding its pid); the next crawl of the portal cuts the file
back to its last complete record. A replay from ``--archive`` keeps nothing: the article
points at the record of the replayed WARC itself.

Retention (``GOVNEWS_KEEP_PAGES_DAYS``, default 90): a file older than that is deleted
once no stored article points at it any more (every article in it was fetched again
later), so the newest page of every article stays kept whatever its age.
"""

from __future__ import annotations

import logging
import os
import time
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

DEFAULT_RETENTION_DAYS = 90.0
# Framing that no longer applies to the decoded body that is kept.
_DROP_HEADERS = {"content-encoding", "content-length", "transfer-encoding"}
_OPEN = ".open"
GZIP_LEVEL = 6


def pages_dir(settings_value: str | None = None) -> Path:
    """The ``GOVNEWS_PAGES_DIR`` setting, else ``$GOVNEWS_PAGES_DIR``, else ``pages/`` in the data directory."""
    chosen = settings_value or os.environ.get("GOVNEWS_PAGES_DIR")
    if chosen:
        return Path(chosen)
    from crawler.datafiles import writable_data_dir

    return writable_data_dir() / "pages"


# -- hints: what discovery told the parser, as JSON ------------------------------------------------
def encode_hints(hints: dict[str, Any] | None) -> dict[str, Any]:
    """JSON-safe hints (datetimes as ISO strings, listed under ``_datetimes``); ranks dropped."""
    out: dict[str, Any] = {}
    stamps = []
    for name, value in (hints or {}).items():
        if name.startswith("_"):
            continue
        if isinstance(value, datetime):
            out[name] = value.isoformat()
            stamps.append(name)
        elif value is None or isinstance(value, str | int | float | bool | list | dict):
            out[name] = value
    if stamps:
        out["_datetimes"] = stamps
    return out


def decode_hints(stored: dict[str, Any] | None) -> dict[str, Any]:
    hints = dict(stored or {})
    for name in hints.pop("_datetimes", []):
        if isinstance(hints.get(name), str):
            hints[name] = datetime.fromisoformat(hints[name])
    return hints


# -- writing -------------------------------------------------------------------------------------
class PageKeeper:
    """Appends article pages of one portal's crawl to its WARC file (opened on the first page)."""

    def __init__(self, root: Path, host: str) -> None:
        self.root = root
        self.host = host
        self.path: Path | None = None
        self._file = None
        self._writer = None
        self.count = 0

    @property
    def bytes(self) -> int:
        return self.path.stat().st_size if self.path is not None and self.path.exists() else 0

    def _open(self) -> None:
        from warcio.warcwriter import WARCWriter

        folder = self.root / _safe_name(self.host)
        folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        self.path = folder / f"{stamp}-{os.getpid()}.warc.gz"
        Path(str(self.path) + _OPEN).write_text(str(os.getpid()))
        self._file = open(self.path, "ab")  # noqa: SIM115 - closed by close()
        self._buffer = BytesIO()
        self._writer = WARCWriter(self._buffer, gzip=False)

    def keep(self, url: str, status: int, headers: list[tuple[str, str]], body: bytes) -> tuple[str, int]:
        """Write one page; (file relative to the kept-pages root, offset of its record)."""
        from warcio.statusandheaders import StatusAndHeaders

        if self._writer is None:
            self._open()
        assert self._file is not None
        assert self.path is not None
        kept = [(name, value) for name, value in headers if name.lower() not in _DROP_HEADERS]
        http_headers = StatusAndHeaders(f"{status} OK", kept, protocol="HTTP/1.1")
        record = self._writer.create_warc_record(url, "response", payload=BytesIO(body), http_headers=http_headers)
        self._buffer.seek(0)
        self._buffer.truncate()
        self._writer.write_record(record)
        # one gzip member per record (what WARC readers seek to), at zlib's default level:
        # warcio's own writer compresses at level 9, three times the CPU for a few % of size
        compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, zlib.MAX_WBITS + 16)
        member = compressor.compress(self._buffer.getvalue()) + compressor.flush()
        offset = self._file.tell()
        self._file.write(member)
        self._file.flush()  # on disk (the page cache) before the store points an article at it
        self.count += 1
        return self.path.relative_to(self.root).as_posix(), offset

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = self._writer = None
            Path(str(self.path) + _OPEN).unlink(missing_ok=True)


def _safe_name(host: str) -> str:
    return "".join(ch if ch.isalnum() or ch in ".-_" else "_" for ch in host) or "_"


# -- a crawl killed mid-write ------------------------------------------------------------------------
def repair_interrupted(root: Path, host: str) -> list[Path]:
    """Files of this portal left open by a process that is gone: cut back to their last complete record."""
    from crawler.schedule import pid_alive

    folder = root / _safe_name(host)
    repaired = []
    for marker in sorted(folder.glob("*" + _OPEN)) if folder.is_dir() else []:
        try:
            pid = int(marker.read_text().strip() or 0)
        except (OSError, ValueError):
            pid = 0
        if pid and pid_alive(pid):
            continue  # a crawl of this portal is writing it
        path = Path(str(marker)[: -len(_OPEN)])
        if path.exists():
            end = complete_end(path)
            if end < path.stat().st_size:
                with open(path, "r+b") as stream:
                    stream.truncate(end)
                logger.warning("kept pages %s: cut back to its last complete record (byte %d)", path, end)
            if end == 0:
                path.unlink()
        marker.unlink(missing_ok=True)
        repaired.append(path)
    return repaired


def complete_end(path: Path) -> int:
    """Byte offset where the last complete gzip-member record of a WARC file ends."""
    from warcio.archiveiterator import ArchiveIterator

    end = 0
    try:
        with open(path, "rb") as stream:
            records = ArchiveIterator(stream)
            for _record in records:
                offset, length = records.get_record_offset(), records.get_record_length()
                decompressor = records.reader.decompressor if records.reader else None
                if decompressor is not None and not getattr(decompressor, "eof", True):
                    break
                end = offset + length
    except Exception:  # noqa: BLE001 - warcio/zlib errors all mean: the rest is damaged
        pass
    return end


# -- retention --------------------------------------------------------------------------------------
def prune(root: Path, host: str, referenced: set[str], days: float) -> list[Path]:
    """Delete this portal's files older than ``days`` that no stored article points at."""
    folder = root / _safe_name(host)
    if days <= 0 or not folder.is_dir():
        return []
    cutoff = time.time() - days * 86400
    removed = []
    for path in sorted(folder.glob("*.warc.gz")):
        relative = path.relative_to(root).as_posix()
        if relative in referenced or Path(str(path) + _OPEN).exists():
            continue
        if path.stat().st_mtime < cutoff:
            path.unlink()
            removed.append(path)
    return removed


def disk_use(root: Path) -> tuple[int, int]:
    """(files, bytes) of every kept-pages file."""
    files = total = 0
    if root.is_dir():
        for path in root.rglob("*.warc.gz"):
            files += 1
            total += path.stat().st_size
    return files, total


# -- reading ---------------------------------------------------------------------------------------
@dataclass(slots=True)
class KeptPage:
    url: str
    status: int
    content_type: str
    body: bytes

    def text(self) -> str:
        """The page decoded as Scrapy decodes it (HTTP charset, then BOM/meta, then detection)."""
        from w3lib.encoding import html_to_unicode

        return html_to_unicode(self.content_type or None, self.body)[1]


class PageReader:
    """Reads kept pages by (file, offset), keeping the last few files open."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._open: dict[str, Any] = {}

    def path_of(self, file: str) -> Path:
        path = Path(file)
        return path if path.is_absolute() else self.root / path

    def read(self, file: str, offset: int) -> KeptPage:
        """The response record at ``offset``; OSError / ValueError when it is missing or damaged."""
        from warcio.archiveiterator import ArchiveIterator

        stream = self._open.get(file)
        if stream is None:
            if len(self._open) >= 8:
                self._open.pop(next(iter(self._open))).close()
            stream = self._open[file] = open(self.path_of(file), "rb")  # noqa: SIM115 - closed by close()
        stream.seek(offset)
        try:
            record = next(iter(ArchiveIterator(stream)))
        except StopIteration:
            raise ValueError(f"no record at byte {offset} of {file}") from None
        except Exception as error:  # noqa: BLE001 - warcio's and zlib's errors
            raise ValueError(f"damaged record at byte {offset} of {file}: {type(error).__name__}") from None
        if record.rec_type != "response" or record.http_headers is None:
            raise ValueError(f"no response record at byte {offset} of {file}")
        return KeptPage(
            url=record.rec_headers.get_header("WARC-Target-URI") or "",
            status=int(record.http_headers.get_statuscode() or 200),
            content_type=record.http_headers.get_header("Content-Type") or "",
            body=record.content_stream().read(),
        )

    def close(self) -> None:
        for stream in self._open.values():
            stream.close()
        self._open.clear()


# -- the crawl side ----------------------------------------------------------------------------------
class KeepPagesMiddleware:
    """Spider middleware: each article item leaves with the page it came from kept (``item.kept_page``).

    ``GOVNEWS_KEEP_PAGES`` (default on; ``govnews crawl --no-keep-pages`` turns it off),
    ``GOVNEWS_PAGES_DIR``, ``GOVNEWS_KEEP_PAGES_DAYS``. A page replayed from ``--archive`` is
    referenced where it is (the replayed WARC's path and offset), not copied.
    """

    def __init__(self, crawler) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.root = pages_dir(settings.get("GOVNEWS_PAGES_DIR"))
        self.days = settings.getfloat("GOVNEWS_KEEP_PAGES_DAYS", DEFAULT_RETENTION_DAYS)
        self.archives = tuple(settings.getlist("GOVNEWS_ARCHIVES"))
        self.keeper: PageKeeper | None = None
        self.failed = False

    @classmethod
    def from_crawler(cls, crawler) -> KeepPagesMiddleware:
        from scrapy import signals
        from scrapy.exceptions import NotConfigured

        if not crawler.settings.getbool("GOVNEWS_KEEP_PAGES", True):
            raise NotConfigured
        middleware = cls(crawler)
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def spider_opened(self, spider) -> None:
        host = getattr(getattr(spider, "portal", None), "host", None)
        if not host or getattr(spider, "profile_only", False):
            return
        self.keeper = PageKeeper(self.root, host)
        try:
            repair_interrupted(self.root, host)
            referenced = self._referenced(spider, host)
            removed = prune(self.root, host, referenced, self.days) if referenced is not None else []
            if removed:
                logger.info("kept pages: %d file(s) of %s past retention removed", len(removed), host)
        except OSError as error:
            logger.warning("kept pages of %s not checked: %s", host, error)

    def _referenced(self, spider, host: str) -> set[str] | None:
        """Files of this portal that stored articles point at (never pruned); None: unknown, prune nothing."""
        from sqlalchemy import select

        from pipelines.models import ArticlePage

        known = getattr(spider, "known", None)
        if known is None:
            return None  # no database: nothing can be proven unreferenced
        prefix = _safe_name(host) + "/"
        try:
            with known.engine.connect() as connection:
                return set(
                    connection.scalars(
                        select(ArticlePage.file).where(ArticlePage.file.startswith(prefix, autoescape=True)).distinct()
                    )
                )
        except Exception as error:  # noqa: BLE001 - an old schema or an unreachable database: keep everything
            logger.warning("kept pages of %s not pruned: %s", host, str(error).splitlines()[0])
            return None

    def spider_closed(self, spider, reason=None) -> None:
        if self.keeper is not None:
            self.keeper.close()
            if self.keeper.count:
                logger.info("kept %d article page(s) in %s", self.keeper.count, self.keeper.path)

    def process_spider_output(self, response, result, spider=None):
        for item in result:
            yield self._keep(response, item, spider)

    async def process_spider_output_async(self, response, result, spider=None):
        async for item in result:
            yield self._keep(response, item, spider)

    def _keep(self, response, item, spider):
        from crawler.items import Article

        if not isinstance(item, Article) or self.keeper is None or self.failed:
            return item
        spider = spider or self.crawler.spider
        hints = encode_hints(spider.article_hints(response) if hasattr(spider, "article_hints") else None)
        stats = self.crawler.stats
        try:
            location = self._in_archive(response)
            if location is None:
                headers = [
                    (name.decode("latin-1"), value.decode("latin-1"))
                    for name, values in response.headers.items()
                    for value in values
                ]
                location = self.keeper.keep(response.url, response.status, headers, response.body)
                stats.set_value("govnews/pages/kept", self.keeper.count)
                stats.set_value("govnews/pages/bytes", self.keeper._file.tell())
                stats.set_value("govnews/pages/file", str(self.keeper.path))
            else:
                stats.inc_value("govnews/pages/referenced")
        except OSError as error:  # a full disk: the crawl goes on, without kept pages
            self.failed = True
            stats.inc_value("govnews/pages/write_failed")
            logger.error("kept pages: cannot write %s (%s): pages are no longer kept this run", self.root, error)
            return item
        file, offset = location
        item.kept_page = {"file": file, "offset": offset, "hints": hints}
        return item

    def _in_archive(self, response) -> tuple[str, int] | None:
        if not self.archives or "warc" not in response.flags:
            return None
        from crawler.archive import open_archives

        found = open_archives(self.archives).location(response.url)
        return (str(Path(found[0]).resolve()), found[1]) if found else None
