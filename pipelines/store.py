"""Store articles through SQLAlchemy: one row per article, batched, idempotent.

An article is found again by any of its URLs or by its platform id, so the same
article reached twice (two categories, a shortlink, a second run) stays one row
that keeps every URL. Changed title/lead/body moves the old content to
``article_versions``; unchanged content writes nothing but ``last_seen``.
Exact reposts (same body text) are linked to the earliest published copy.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Iterable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from crawler.items import Article as ArticleItem
from pipelines import models as m
from pipelines.db import init_db, make_engine

logger = logging.getLogger(__name__)


def body_hash(body_text: str) -> str:
    return hashlib.sha256(" ".join(body_text.split()).casefold().encode("utf-8")).hexdigest()


def content_hash(item: ArticleItem) -> str:
    parts = [item.title or "", item.summary or "", item.body_text or ""]
    return hashlib.sha256("\x1f".join(" ".join(p.split()) for p in parts).encode("utf-8")).hexdigest()


class ArticleStore:
    """Writes batches of article items; usable without Scrapy."""

    def __init__(self, engine: Engine, portals: dict | None = None) -> None:
        self.engine = engine
        self.portals = portals or {}
        init_db(engine)
        self.counts = {"new": 0, "updated": 0, "unchanged": 0}

    def write(self, items: Iterable[ArticleItem]) -> None:
        """One transaction for the whole batch; raises on a database error (nothing half-written)."""
        now = datetime.now(UTC)
        with Session(self.engine) as session, session.begin():
            touched_hashes: set[str] = set()
            for item in _merge_same_article(items):
                article = self._upsert(session, item, now)
                touched_hashes.add(article.body_hash)
            session.flush()
            for digest in touched_hashes:
                self._link_duplicates(session, digest)

    def _site(self, session: Session, item: ArticleItem, now: datetime) -> m.Site:
        site = session.scalar(select(m.Site).where(m.Site.host == item.site))
        if site is None:
            portal = self.portals.get(item.site)
            site = m.Site(
                host=item.site,
                name=getattr(portal, "name", None),
                province=getattr(portal, "province", None),
                family=item.family,
                first_seen=now,
            )
            session.add(site)
            session.flush()
        return site

    def _find(self, session: Session, item: ArticleItem, site: m.Site) -> m.Article | None:
        urls = [item.url, *item.other_urls]
        found = session.scalar(
            select(m.Article).join(m.ArticleUrl).where(m.ArticleUrl.url.in_(urls)).limit(1)
        ) or session.scalar(select(m.Article).where(m.Article.url == item.url))
        if found is None and item.source_key:
            found = session.scalar(
                select(m.Article).where(m.Article.site_id == site.id, m.Article.source_key == item.source_key)
            )
        return found

    def _upsert(self, session: Session, item: ArticleItem, now: datetime) -> m.Article:
        site = self._site(session, item, now)
        article = self._find(session, item, site)
        digest = content_hash(item)
        if article is None:
            article = m.Article(site=site, url=item.url, first_seen=now, changed_at=now, version=1)
            session.add(article)
            self._assign(session, article, item, digest)
            self.counts["new"] += 1
        elif article.content_hash != digest:
            session.add(
                m.ArticleVersion(
                    article_id=article.id,
                    version=article.version,
                    title=article.title,
                    summary=article.summary,
                    body_text=article.body_text,
                    updated=article.updated,
                    replaced_at=now,
                )
            )
            article.version += 1
            article.changed_at = now
            if item.updated is None:  # the page states no edit time: the crawl that saw it is the best we know
                item.updated = now
            self._assign(session, article, item, digest)
            self.counts["updated"] += 1
        else:
            self._merge_lists(article, item)
            self.counts["unchanged"] += 1
        article.last_seen = item.fetched_at or now
        known = {u.url for u in article.urls}
        for url in dict.fromkeys([item.url, *item.other_urls]):
            if url not in known and session.get(m.ArticleUrl, url) is None:
                article.urls.append(m.ArticleUrl(url=url))
        return article

    @staticmethod
    def _assign(session: Session, article: m.Article, item: ArticleItem, digest: str) -> None:
        article.source_key = item.source_key
        article.family = item.family
        article.title = item.title or ""
        article.published = item.published
        article.updated = item.updated
        article.summary = item.summary
        article.body_text = item.body_text or ""
        article.body_html = item.body_html
        article.source = item.source
        article.source_url = item.source_url
        article.author = item.author
        article.categories = list(item.categories)
        article.tags = list(item.tags)
        article.body_hash = body_hash(item.body_text or "")
        article.content_hash = digest
        captions = [(c["image_url"], c["caption"]) for c in item.captions]
        if [(i.image_url, i.caption) for i in article.images] != captions:
            if article.images:  # delete the old rows before the new ones take their positions
                article.images.clear()
                session.flush()
            article.images = [m.Image(position=i, image_url=u, caption=c) for i, (u, c) in enumerate(captions)]
        if [a.url for a in article.attachments] != list(item.attachments):
            if article.attachments:
                article.attachments.clear()
                session.flush()
            article.attachments = [m.Attachment(position=i, url=u) for i, u in enumerate(item.attachments)]

    @staticmethod
    def _merge_lists(article: m.Article, item: ArticleItem) -> None:
        """Same content reached again: keep categories learnt from any of its URLs."""
        merged = list(dict.fromkeys([*(article.categories or []), *item.categories]))
        if merged != (article.categories or []):
            article.categories = merged

    @staticmethod
    def _link_duplicates(session: Session, digest: str) -> None:
        """Same body = same article: the earliest published copy is the original (ties: first stored)."""
        copies = session.scalars(select(m.Article).where(m.Article.body_hash == digest)).all()
        if len(copies) < 2:
            if copies and copies[0].duplicate_of_id is not None:
                copies[0].duplicate_of_id = None
            return
        far_future = datetime.max.replace(tzinfo=UTC)
        original = min(copies, key=lambda a: (a.published or far_future, a.first_seen, a.id))
        for copy in copies:
            wanted = None if copy is original else original.id
            if copy.duplicate_of_id != wanted:
                copy.duplicate_of_id = wanted


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
        self.deadletter_dir = Path(settings.get("GOVNEWS_DEADLETTER_DIR") or "data")
        self.pending: list[ArticleItem] = []
        self.store: ArticleStore | None = None
        self.failed = False

    @classmethod
    def from_crawler(cls, crawler) -> StorePipeline:
        return cls(crawler)

    def open_spider(self, spider=None) -> None:
        from crawler.registry import load_registry

        portals = load_registry(self.crawler.settings.get("GOVNEWS_REGISTRY"))
        try:
            self.store = ArticleStore(make_engine(self.db_url), portals)
        except SQLAlchemyError as error:
            self.failed = True
            logger.error("database unavailable (%s): %s", _safe_url(self.db_url), error)
            self.crawler.stats.set_value("govnews/db_error", str(error)[:500])
            self._stop("db_error")

    def process_item(self, item, spider=None):
        if not isinstance(item, ArticleItem):
            return item
        self.pending.append(item)
        if len(self.pending) >= self.batch_size:
            self._flush()
        return item

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
                    logger.warning("database write failed (attempt %d/%d): %s", attempt, self.RETRIES, error)
                    time.sleep(self.BACKOFF_SECONDS * 2 ** (attempt - 1))
        self._dead_letter(batch)

    def _dead_letter(self, batch: list[ArticleItem]) -> None:
        self.failed = True
        self.deadletter_dir.mkdir(parents=True, exist_ok=True)
        path = self.deadletter_dir / f"deadletter-{datetime.now(UTC):%Y%m%dT%H%M%S}.jsonl"
        with path.open("a", encoding="utf-8") as handle:
            for item in batch:
                handle.write(json.dumps(asdict(item), default=str, ensure_ascii=False) + "\n")
        self.crawler.stats.inc_value("govnews/deadletter", len(batch))
        self.crawler.stats.set_value("govnews/deadletter_file", str(path))
        logger.error("database unavailable: %d article(s) written to %s; stopping the crawl", len(batch), path)
        self._stop("db_error")

    def _stop(self, reason: str) -> None:
        from scrapy.utils.defer import deferred_from_coro

        engine = self.crawler.engine
        if engine is not None and engine.running:
            deferred_from_coro(engine.close_spider_async(reason=reason))


def _safe_url(url: str | None) -> str:
    from sqlalchemy.engine import make_url

    from pipelines.db import database_url

    return make_url(database_url(url)).render_as_string(hide_password=True)


__all__ = ["ArticleStore", "StorePipeline", "body_hash", "content_hash"]
