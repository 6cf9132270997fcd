"""Store articles through SQLAlchemy: one row per article, batched, idempotent.

Every batch is one transaction. An article is found again by any of its URLs
(``crawler.urls.url_key``) or by its platform id, so the same article reached
twice (two categories, a shortlink, a second run, two writers at once) stays one
row that keeps every URL. Rows are written with ``INSERT … ON CONFLICT``.
A changed title/lead/body moves the old content to ``article_versions`` and
bumps ``version``; unchanged content only refreshes ``last_seen``.
Reposts — the same body, or a near-duplicate by MinHash/LSH — are linked by
``duplicate_of_id`` to the earliest published copy; nothing is dropped.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, delete, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from crawler.datafiles import writable_data_dir
from crawler.items import Article as ArticleItem
from crawler.items import ArticleGone
from crawler.urls import url_key
from pipelines import deadletter, dedupe
from pipelines import models as m
from pipelines.db import init_db, make_engine

logger = logging.getLogger(__name__)
A, U = m.Article.__table__, m.ArticleUrl.__table__
_FAR_FUTURE = datetime.max.replace(tzinfo=UTC)


def body_hash(body_text: str) -> str:
    return hashlib.sha256(" ".join(body_text.split()).casefold().encode("utf-8")).hexdigest()


def content_hash(item: ArticleItem) -> str:
    parts = [item.title or "", item.summary or "", item.body_text or ""]
    return hashlib.sha256("\x1f".join(" ".join(p.split()) for p in parts).encode("utf-8")).hexdigest()


def _insert(connection: Connection, table):
    """The dialect's INSERT, which knows ON CONFLICT (SQLite >= 3.24, PostgreSQL)."""
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


class ArticleStore:
    """Writes batches of article items; usable without Scrapy."""

    def __init__(self, engine: Engine, portals: dict | None = None) -> None:
        self.engine = engine
        self.portals = portals or {}
        init_db(engine)
        self.counts = {"new": 0, "updated": 0, "unchanged": 0, "duplicate": 0, "removed": 0}

    # -- batches -----------------------------------------------------------------
    def write(self, items: Iterable[ArticleItem]) -> None:
        """One transaction for the whole batch; raises on a database error (nothing half-written)."""
        now = datetime.now(UTC)
        batch = _merge_same_article(items)
        if not batch:
            return
        counts = dict.fromkeys(self.counts, 0)
        with self.engine.begin() as connection:
            seq = self._next_seq(connection)
            sites = self._sites(connection, {item.site: item.family for item in batch}, now)
            touched: dict[int, set[str]] = {}  # article id -> its body's shingles, computed once
            for item in batch:
                article_id, outcome = self._upsert(connection, item, sites[item.site], now, seq)
                counts[outcome] += 1
                if outcome != "unchanged":
                    touched[article_id] = dedupe.shingles(item.body_text or "")
            for article_id, shingles in touched.items():
                if self._link_duplicates(connection, article_id, shingles, seq):
                    counts["duplicate"] += 1
        for name, value in counts.items():  # only once the transaction is committed
            self.counts[name] += value

    def mark_gone(self, gone: Iterable[ArticleGone]) -> int:
        """Mark stored articles whose URL answers 404/410 as removed (kept, never deleted)."""
        gone = list(gone)
        if not gone:
            return 0
        marked = 0
        with self.engine.begin() as connection:
            seq = self._next_seq(connection)
            for item in gone:
                article_id = connection.scalar(select(U.c.article_id).where(U.c.url_key == url_key(item.url)))
                if article_id is None:
                    continue
                result = connection.execute(
                    update(A)
                    .where(A.c.id == article_id, A.c.removed_at.is_(None))
                    .values(removed_at=item.found_at, change_seq=seq)
                )
                marked += result.rowcount
        self.counts["removed"] += marked
        return marked

    @staticmethod
    def _next_seq(connection: Connection) -> int:
        """The batch's change cursor: one more than the last, under the write lock of this transaction."""
        connection.execute(
            _insert(connection, m.Counter.__table__).values(name="change_seq", value=0).on_conflict_do_nothing()
        )
        connection.execute(
            update(m.Counter.__table__).where(m.Counter.name == "change_seq").values(value=m.Counter.value + 1)
        )
        return connection.scalar(select(m.Counter.value).where(m.Counter.name == "change_seq"))

    def _sites(self, connection: Connection, hosts: dict[str, str | None], now: datetime) -> dict[str, int]:
        for host, family in hosts.items():
            portal = self.portals.get(host)
            connection.execute(
                _insert(connection, m.Site.__table__)
                .values(
                    host=host,
                    name=getattr(portal, "name", None),
                    province=getattr(portal, "province", None),
                    family=family,
                    first_seen=now,
                )
                .on_conflict_do_nothing(index_elements=["host"])
            )
        rows = connection.execute(select(m.Site.host, m.Site.id).where(m.Site.host.in_(hosts)))
        return dict(rows.all())

    # -- one article ---------------------------------------------------------------
    def _find(self, connection: Connection, item: ArticleItem, site_id: int) -> dict | None:
        keys = [url_key(u) for u in (item.url, *item.other_urls)]
        article_id = connection.scalar(select(U.c.article_id).where(U.c.url_key.in_(keys)).limit(1))
        if article_id is None:
            article_id = connection.scalar(select(A.c.id).where(A.c.url == item.url))
        if article_id is None and item.source_key:
            article_id = connection.scalar(
                select(A.c.id).where(A.c.site_id == site_id, A.c.source_key == item.source_key).limit(1)
            )
        if article_id is None:
            return None
        return dict(connection.execute(select(A).where(A.c.id == article_id)).mappings().one())

    def _upsert(self, connection: Connection, item: ArticleItem, site_id: int, now: datetime, seq: int):
        digest = content_hash(item)
        existing = self._find(connection, item, site_id)
        values = _row_values(item, digest)
        if existing is None:
            inserted = connection.execute(
                _insert(connection, A)
                .values(
                    site_id=site_id,
                    url=item.url,
                    first_seen=now,
                    changed_at=now,
                    last_seen=item.fetched_at or now,
                    version=1,
                    change_seq=seq,
                    **values,
                )
                .on_conflict_do_nothing(index_elements=["url"])
                .returning(A.c.id)
            ).scalar()
            if inserted is not None:
                self._children(connection, inserted, item, fresh=True)
                self._urls(connection, inserted, item)
                return inserted, "new"
            existing = dict(connection.execute(select(A).where(A.c.url == item.url)).mappings().one())  # a race
        article_id = existing["id"]
        self._urls(connection, article_id, item)
        if existing["content_hash"] == digest:
            merged = list(dict.fromkeys([*(existing["categories"] or []), *item.categories]))
            changes = {
                "last_seen": item.fetched_at or now,
                "removed_at": None,
                "http_etag": item.http_etag,
                "http_last_modified": item.http_last_modified,
            }
            if merged != (existing["categories"] or []):
                changes.update(categories=merged, change_seq=seq)
            if existing["removed_at"] is not None:
                changes["change_seq"] = seq
            connection.execute(update(A).where(A.c.id == article_id).values(**changes))
            return article_id, "unchanged"
        connection.execute(
            _insert(connection, m.ArticleVersion.__table__)
            .values(
                article_id=article_id,
                version=existing["version"],
                title=existing["title"],
                summary=existing["summary"],
                body_text=existing["body_text"],
                updated=existing["updated"],
                replaced_at=now,
            )
            .on_conflict_do_nothing(index_elements=["article_id", "version"])
        )
        if values["updated"] is None:  # the page states no edit time: the crawl that saw the edit is the best we know
            values["updated"] = now
        connection.execute(
            update(A)
            .where(A.c.id == article_id)
            .values(
                version=existing["version"] + 1,
                changed_at=now,
                change_seq=seq,
                last_seen=item.fetched_at or now,
                removed_at=None,
                **values,
            )
        )
        self._children(connection, article_id, item, fresh=False)
        if existing["body_hash"] != values["body_hash"]:
            connection.execute(delete(m.MinHashBand.__table__).where(m.MinHashBand.article_id == article_id))
        return article_id, "updated"

    @staticmethod
    def _children(connection: Connection, article_id: int, item: ArticleItem, *, fresh: bool) -> None:
        images, attachments = m.Image.__table__, m.Attachment.__table__
        if not fresh:
            connection.execute(delete(images).where(images.c.article_id == article_id))
            connection.execute(delete(attachments).where(attachments.c.article_id == article_id))
        if item.captions:  # executemany: one cached statement, not a VALUES list compiled per size
            connection.execute(
                images.insert(),
                [
                    {"article_id": article_id, "position": i, "image_url": c["image_url"], "caption": c["caption"]}
                    for i, c in enumerate(item.captions)
                ],
            )
        if item.attachments:
            connection.execute(
                attachments.insert(),
                [{"article_id": article_id, "position": i, "url": u} for i, u in enumerate(item.attachments)],
            )

    @staticmethod
    def _urls(connection: Connection, article_id: int, item: ArticleItem) -> None:
        rows = {url_key(u): u for u in reversed([item.url, *item.other_urls])}
        connection.execute(
            _insert(connection, U).on_conflict_do_nothing(index_elements=["url_key"]),
            [{"url_key": key, "url": url, "article_id": article_id} for key, url in rows.items()],
        )

    @staticmethod
    def _bands(connection: Connection, article_id: int, shingles: set[str]) -> None:
        """The article's LSH bands (ON CONFLICT: an unchanged body keeps the bands it has)."""
        bands = dedupe.band_hashes(shingles)
        connection.execute(
            _insert(connection, m.MinHashBand.__table__).on_conflict_do_nothing(),
            [{"article_id": article_id, "band": band} for band in dict.fromkeys(bands)],
        )

    # -- duplicates ------------------------------------------------------------------
    def _link_duplicates(self, connection: Connection, article_id: int, mine: set[str], seq: int) -> bool:
        """Link the article and its copies to the earliest published one; True when it is a copy."""
        self._bands(connection, article_id, mine)
        row = connection.execute(select(A.c.id, A.c.body_hash).where(A.c.id == article_id)).one()
        similar: dict[int, float] = {article_id: 1.0}
        for other in connection.execute(select(A.c.id).where(A.c.body_hash == row.body_hash, A.c.id != article_id)):
            similar[other.id] = 1.0
        band_rows = select(m.MinHashBand.band).where(m.MinHashBand.article_id == article_id)
        candidates = connection.execute(
            select(m.MinHashBand.article_id)
            .where(m.MinHashBand.band.in_(band_rows), m.MinHashBand.article_id != article_id)
            .distinct()
        ).scalars()
        for candidate in candidates:
            if candidate in similar:
                continue
            text = connection.scalar(select(A.c.body_text).where(A.c.id == candidate))
            score = dedupe.jaccard(mine, dedupe.shingles(text or ""))
            if score >= dedupe.SIMILARITY_THRESHOLD:
                similar[candidate] = score
        if len(similar) == 1:
            return False
        members = connection.execute(
            select(A.c.id, A.c.published, A.c.first_seen, A.c.duplicate_of_id).where(A.c.id.in_(similar))
        ).all()
        group = {member.id for member in members} | {
            member.duplicate_of_id for member in members if member.duplicate_of_id is not None
        }
        rows = connection.execute(select(A.c.id, A.c.published, A.c.first_seen).where(A.c.id.in_(group))).all()
        original = min(rows, key=lambda r: (r.published or _FAR_FUTURE, r.first_seen, r.id)).id
        for member in group:
            if member == original:
                values = {"duplicate_of_id": None, "duplicate_similarity": None}
            else:
                if original == article_id:
                    score = similar.get(member)
                elif member == article_id:
                    score = similar.get(original)
                else:
                    score = None
                if score is None:
                    score = _similarity(connection, member, original)
                values = {"duplicate_of_id": original, "duplicate_similarity": round(score, 4)}
            current = connection.execute(
                select(A.c.duplicate_of_id, A.c.duplicate_similarity).where(A.c.id == member)
            ).one()
            if tuple(current) != (values["duplicate_of_id"], values["duplicate_similarity"]):
                connection.execute(update(A).where(A.c.id == member).values(change_seq=seq, **values))
        return original != article_id


def _similarity(connection: Connection, one: int, other: int) -> float:
    texts = dict(connection.execute(select(A.c.id, A.c.body_text).where(A.c.id.in_([one, other]))).all())
    return dedupe.jaccard(dedupe.shingles(texts.get(one) or ""), dedupe.shingles(texts.get(other) or ""))


def _row_values(item: ArticleItem, digest: str) -> dict:
    return {
        "source_key": item.source_key,
        "family": item.family,
        "title": item.title or "",
        "published": item.published,
        "updated": item.updated,
        "summary": item.summary,
        "body_text": item.body_text or "",
        "body_html": item.body_html,
        "source": item.source,
        "source_url": item.source_url,
        "author": item.author,
        "categories": list(item.categories),
        "tags": list(item.tags),
        "body_hash": body_hash(item.body_text or ""),
        "content_hash": digest,
        "http_etag": item.http_etag,
        "http_last_modified": item.http_last_modified,
    }


def _merge_same_article(items: Iterable[ArticleItem]) -> list[ArticleItem]:
    """The same canonical URL twice in one batch is written once (the last fetch wins)."""
    by_url: dict[str, ArticleItem] = {}
    for item in items:
        previous = by_url.pop(item.url, None)
        if previous is not None:
            item.other_urls = list(dict.fromkeys([*previous.other_urls, *item.other_urls]))
            item.categories = list(dict.fromkeys([*previous.categories, *item.categories]))
        by_url[item.url] = item
    return list(by_url.values())


class StorePipeline:
    """Scrapy pipeline around :class:`ArticleStore`: batches, retries, dead-letter file."""

    RETRIES = 3
    BACKOFF_SECONDS = 0.5

    def __init__(self, crawler) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.db_url = settings.get("GOVNEWS_DB")
        self.batch_size = settings.getint("GOVNEWS_STORE_BATCH", 50)
        self.deadletter_dir = Path(settings.get("GOVNEWS_DEADLETTER_DIR") or writable_data_dir())
        self.pending: list[ArticleItem] = []
        self.store: ArticleStore | None = None
        self.failed = False
        self.deadletter_path: Path | None = None

    @classmethod
    def from_crawler(cls, crawler) -> StorePipeline:
        return cls(crawler)

    def open_spider(self, spider=None) -> None:
        from crawler.registry import load_registry

        portals = load_registry(self.crawler.settings.get("GOVNEWS_REGISTRY"))
        for attempt in range(1, self.RETRIES + 1):
            try:
                self.store = ArticleStore(make_engine(self.db_url), portals)
                break
            except SQLAlchemyError as error:
                logger.warning(
                    "database unavailable (%s), attempt %d/%d: %s",
                    _safe_url(self.db_url),
                    attempt,
                    self.RETRIES,
                    str(error).splitlines()[0],
                )
                time.sleep(self.BACKOFF_SECONDS * 2 ** (attempt - 1))
        else:
            logger.error("database unavailable (%s): articles will go to a dead-letter file", _safe_url(self.db_url))
            self.crawler.stats.set_value("govnews/db_error", "database unavailable at start")
            return
        self._load_dead_letters(_site_of(spider or self.crawler.spider))

    def _load_dead_letters(self, site: str | None) -> None:
        """Articles an earlier crawl of this portal could not store are stored first."""
        if not site or self.store is None:
            return
        for path in deadletter.pending_files(self.deadletter_dir, site):
            try:
                result = deadletter.load_into(self.store, path)
            except (OSError, SQLAlchemyError) as error:
                logger.error("dead-letter file %s not loaded: %s", path, str(error).splitlines()[0])
                continue
            self.crawler.stats.inc_value("govnews/deadletter_loaded", result.loaded + result.already)
            logger.warning(
                "stored %d article(s) left unsaved by an earlier crawl (%s)", result.loaded + result.already, path
            )

    def process_item(self, item, spider=None):
        if isinstance(item, ArticleGone):
            self._gone(item)
            return item
        if not isinstance(item, ArticleItem):
            return item
        self.pending.append(item)
        if len(self.pending) >= self.batch_size or self.store is None:
            self._flush()
        return item

    def _gone(self, item: ArticleGone) -> None:
        if self.store is None or self.failed:
            return
        try:
            self._flush()  # the article may still be pending in this batch
            self.store.mark_gone([item])
        except SQLAlchemyError as error:
            logger.error("could not mark %s removed: %s", item.url, str(error).splitlines()[0])

    def close_spider(self, spider=None) -> None:
        self._flush()
        if self.store is not None:
            for name, value in self.store.counts.items():
                self.crawler.stats.set_value(f"govnews/articles/{name}", value)

    def _flush(self) -> None:
        if not self.pending:
            return
        batch, self.pending = self.pending, []
        if self.store is not None and not self.failed:
            for attempt in range(1, self.RETRIES + 1):
                try:
                    self.store.write(batch)
                    self.crawler.stats.inc_value("govnews/stored", len(batch))
                    return
                except SQLAlchemyError as error:
                    logger.warning(
                        "database write failed (attempt %d/%d): %s", attempt, self.RETRIES, str(error).splitlines()[0]
                    )
                    time.sleep(self.BACKOFF_SECONDS * 2 ** (attempt - 1))
        self._dead_letter(batch)

    def _dead_letter(self, batch: list[ArticleItem]) -> None:
        self.failed = True
        if self.deadletter_path is None:
            self.deadletter_path = deadletter.file_for(self.deadletter_dir, batch[0].site)
        path = self.deadletter_path
        deadletter.write(path, batch)
        self.crawler.stats.inc_value("govnews/deadletter", len(batch))
        self.crawler.stats.set_value("govnews/deadletter_file", str(path.resolve()))
        logger.error("database unavailable: %d article(s) written to %s; stopping the crawl", len(batch), path)
        self._stop("db_error")

    def _stop(self, reason: str) -> None:
        from scrapy.utils.defer import deferred_from_coro

        engine = self.crawler.engine
        if engine is not None and engine.running and not getattr(self, "_stopping", False):
            self._stopping = True
            deferred_from_coro(engine.close_spider_async(reason=reason))


def _site_of(spider) -> str | None:
    portal = getattr(spider, "portal", None)
    return getattr(portal, "host", None)


def _safe_url(url: str | None) -> str:
    from sqlalchemy.engine import make_url

    from pipelines.db import database_url

    return make_url(database_url(url)).render_as_string(hide_password=True)


__all__ = ["ArticleStore", "StorePipeline", "body_hash", "content_hash"]
