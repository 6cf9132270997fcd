"""What the database already knows, for incremental crawls.

The database, not Scrapy's JOBDIR, is the record of what is stored: the spider
asks it which discovered URLs are known articles (index lookups on
``article_urls.url_key`` and ``(site_id, source_key)``), which of them are
recent enough to re-check, and which validators (ETag, Last-Modified) a
conditional request can send.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from crawler.urls import url_key
from pipelines import models as m
from pipelines.db import init_db, make_engine

_CHUNK = 500  # keys per IN (...) lookup


@dataclass(frozen=True, slots=True)
class Known:
    article_id: int
    url: str
    source_key: str | None
    published: datetime | None
    last_seen: datetime
    etag: str | None
    last_modified: str | None
    removed: bool


class KnownArticles:
    def __init__(self, engine: Engine, site: str) -> None:
        self.engine = engine
        self.site = site

    @classmethod
    def open(cls, db_url: str | None, site: str) -> KnownArticles:
        engine = make_engine(db_url)
        init_db(engine)
        return cls(engine, site)

    def _site_id(self, session: Session) -> int | None:
        return session.scalar(select(m.Site.id).where(m.Site.host == self.site))

    @staticmethod
    def _row(article: m.Article) -> Known:
        return Known(
            article.id,
            article.url,
            article.source_key,
            article.published,
            article.last_seen,
            article.http_etag,
            article.http_last_modified,
            article.removed_at is not None,
        )

    def lookup(self, urls: Iterable[str], source_keys: Iterable[str] = ()) -> dict[str, Known]:
        """Known articles by the URLs (and platform ids) given: ``{url or source key: Known}``."""
        urls, keys = list(dict.fromkeys(urls)), list(dict.fromkeys(k for k in source_keys if k))
        found: dict[str, Known] = {}
        by_key = {url_key(u): u for u in urls}
        with Session(self.engine) as session:
            chunks = [list(by_key)[i : i + _CHUNK] for i in range(0, len(by_key), _CHUNK)]
            for chunk in chunks:
                rows = session.execute(
                    select(m.ArticleUrl.url_key, m.Article).join(m.Article).where(m.ArticleUrl.url_key.in_(chunk))
                )
                for key, article in rows:
                    found[by_key[key]] = self._row(article)
            site_id = self._site_id(session) if keys else None
            for i in range(0, len(keys) if site_id is not None else 0, _CHUNK):
                chunk = keys[i : i + _CHUNK]
                rows = session.scalars(
                    select(m.Article).where(m.Article.site_id == site_id, m.Article.source_key.in_(chunk))
                )
                for article in rows:
                    found[article.source_key] = self._row(article)
        return found

    def all(self) -> Iterator[Known]:
        """Every stored article of the site (a full pass re-checks them all, removed ones too)."""
        with Session(self.engine) as session:
            site_id = self._site_id(session)
            if site_id is None:
                return
            for article in session.scalars(
                select(m.Article).where(m.Article.site_id == site_id).execution_options(yield_per=1000)
            ):
                yield self._row(article)
