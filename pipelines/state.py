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
from sqlalchemy.engine import Connection

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

    def _site_id(self, connection: Connection) -> int | None:
        return connection.scalar(select(m.Site.id).where(m.Site.host == self.site))

    @staticmethod
    def _row(article) -> Known:
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
        with self.engine.connect() as connection:
            chunks = [list(by_key)[i : i + _CHUNK] for i in range(0, len(by_key), _CHUNK)]
            for chunk in chunks:
                rows = connection.execute(
                    select(_U.c.url_key, *_KNOWN)
                    .join_from(_U, _A, _U.c.article_id == _A.c.id)
                    .where(_U.c.url_key.in_(chunk))
                )
                for row in rows:
                    found[by_key[row.url_key]] = self._row(row)
            site_id = self._site_id(connection) if keys else None
            for i in range(0, len(keys) if site_id is not None else 0, _CHUNK):
                chunk = keys[i : i + _CHUNK]
                rows = connection.execute(select(*_KNOWN).where(_A.c.site_id == site_id, _A.c.source_key.in_(chunk)))
                for row in rows:
                    found[row.source_key] = self._row(row)
        return found

    def all(self) -> Iterator[Known]:
        """Every stored article of the site (a full pass re-checks them all, removed ones too)."""
        with self.engine.connect() as connection:
            site_id = self._site_id(connection)
            if site_id is None:
                return
            rows = connection.execution_options(yield_per=1000).execute(select(*_KNOWN).where(_A.c.site_id == site_id))
            for row in rows:
                yield self._row(row)


_A, _U = m.Article.__table__, m.ArticleUrl.__table__
# the columns a Known needs: never the bodies (the ORM loaded whole rows, HTML included, to read these)
_KNOWN = (
    _A.c.id,
    _A.c.url,
    _A.c.source_key,
    _A.c.published,
    _A.c.last_seen,
    _A.c.http_etag,
    _A.c.http_last_modified,
    _A.c.removed_at,
)
