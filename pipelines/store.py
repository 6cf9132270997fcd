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

from sqlalchemy import Engine, bindparam, delete, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from crawler.datafiles import writable_data_dir
from crawler.items import Article as ArticleItem
from crawler.items import ArticleGone
from crawler.urls import url_key
from pipelines import deadletter, dedupe, search
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


def _digests(item: ArticleItem) -> tuple[str, str]:
    """(:func:`content_hash`, :func:`body_hash`) of an item, its body's whitespace folded once for both."""
    body = " ".join((item.body_text or "").split())
    parts = (" ".join((item.title or "").split()), " ".join((item.summary or "").split()), body)
    content = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return content, hashlib.sha256(body.casefold().encode("utf-8")).hexdigest()


def _insert(connection: Connection, table):
    """The dialect's INSERT, which knows ON CONFLICT (SQLite >= 3.24, PostgreSQL)."""
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


def _expanding(name: str):
    return bindparam(name, expanding=True)


class _Statements:
    """Every statement the store runs, built once per dialect and reused: SQLAlchemy then compiles
    each one once and finds it by a memoised cache key, instead of building, hashing and looking up
    a new statement object for every article (which cost more than the SQL itself on SQLite)."""

    def __init__(self, connection: Connection) -> None:
        counter, site, version = m.Counter.__table__, m.Site.__table__, m.ArticleVersion.__table__
        bands = m.MinHashBand.__table__
        images, attachments = m.Image.__table__, m.Attachment.__table__
        self.seq_init = _insert(connection, counter).values(name="change_seq", value=0).on_conflict_do_nothing()
        self.seq_bump = update(counter).where(counter.c.name == "change_seq").values(value=counter.c.value + 1)
        self.seq_get = select(counter.c.value).where(counter.c.name == "change_seq")
        self.site_insert = _insert(connection, site).on_conflict_do_nothing(index_elements=["host"])
        self.site_ids = select(site.c.host, site.c.id).where(site.c.host.in_(_expanding("hosts")))
        # lookups of a whole batch (prefetch) and of one article (after the batch wrote its keys)
        self.ids_by_keys = select(U.c.url_key, U.c.article_id).where(U.c.url_key.in_(_expanding("keys")))
        self.ids_by_urls = select(A.c.url, A.c.id).where(A.c.url.in_(_expanding("urls")))
        self.ids_by_sources = select(A.c.site_id, A.c.source_key, A.c.id).where(
            A.c.site_id.in_(_expanding("site_ids")), A.c.source_key.in_(_expanding("source_keys"))
        )
        self.rows_by_ids = select(A).where(A.c.id.in_(_expanding("ids")))
        self.id_by_keys = select(U.c.article_id).where(U.c.url_key.in_(_expanding("keys"))).limit(1)
        self.id_by_url = select(A.c.id).where(A.c.url == bindparam("url"))
        self.id_by_source = (
            select(A.c.id)
            .where(A.c.site_id == bindparam("site_id"), A.c.source_key == bindparam("source_key"))
            .limit(1)
        )
        self.row_by_id = select(A).where(A.c.id == bindparam("b_id"))
        self.row_by_url = select(A).where(A.c.url == bindparam("url"))
        # writes (UPDATE ... WHERE id = :b_id: the SET clause is the parameters' other keys)
        self.article_insert = _insert(connection, A).on_conflict_do_nothing(index_elements=["url"]).returning(A.c.id)
        self.article_update = update(A).where(A.c.id == bindparam("b_id"))
        self.version_insert = _insert(connection, version).on_conflict_do_nothing(
            index_elements=["article_id", "version"]
        )
        self.urls_insert = _insert(connection, U).on_conflict_do_nothing(index_elements=["url_key"])
        self.images_delete = delete(images).where(images.c.article_id == bindparam("b_id"))
        self.attachments_delete = delete(attachments).where(attachments.c.article_id == bindparam("b_id"))
        self.images_insert = images.insert()
        self.attachments_insert = attachments.insert()
        self.bands_delete = delete(bands).where(bands.c.article_id == bindparam("b_id"))
        self.bands_insert = _insert(connection, bands).on_conflict_do_nothing()
        pages = _insert(connection, m.ArticlePage.__table__)
        self.page_upsert = pages.on_conflict_do_update(
            index_elements=["article_id"],
            set_={name: pages.excluded[name] for name in ("file", "offset", "fetched_at", "hints")},
        )
        # duplicates
        self.same_body = select(A.c.id).where(A.c.body_hash == bindparam("body_hash"), A.c.id != bindparam("b_id"))
        self.band_candidates = (
            select(bands.c.article_id)
            .where(
                bands.c.band.in_(select(bands.c.band).where(bands.c.article_id == bindparam("b_id"))),
                bands.c.article_id != bindparam("b_id"),
            )
            .distinct()
        )
        self.texts = select(A.c.id, A.c.body_text).where(A.c.id.in_(_expanding("ids")))
        self.members = select(A.c.id, A.c.duplicate_of_id).where(A.c.id.in_(_expanding("ids")))
        self.group = select(A.c.id, A.c.published, A.c.first_seen, A.c.duplicate_of_id, A.c.duplicate_similarity).where(
            A.c.id.in_(_expanding("ids"))
        )
        self.gone_id = select(U.c.article_id).where(U.c.url_key == bindparam("url_key"))
        self.gone_update = (
            update(A)
            .where(A.c.id == bindparam("b_id"), A.c.removed_at.is_(None))
            .values(removed_at=bindparam("found_at"), change_seq=bindparam("seq"))
        )


_STATEMENTS: dict[str, _Statements] = {}


def _statements(connection: Connection) -> _Statements:
    name = connection.dialect.name
    if name not in _STATEMENTS:
        _STATEMENTS[name] = _Statements(connection)
    return _STATEMENTS[name]


class _Batch:
    """What one batch's transaction knows: the articles its items name, looked up in one query each
    before the first write, and which of those answers the batch's own writes have made stale (an
    item whose URLs, platform id or row an earlier item of the batch wrote is looked up again, so
    the result is the one article-by-article lookups would give)."""

    def __init__(self, connection: Connection, sql: _Statements, items: list[ArticleItem], sites: dict[str, int]):
        self.connection, self.sql = connection, sql
        self.keys_of = {id(item): [url_key(u) for u in (item.url, *item.other_urls)] for item in items}
        keys = sorted({key for ks in self.keys_of.values() for key in ks})
        self.by_key: dict[str, int] = {}
        for i in range(0, len(keys), 500):
            self.by_key.update(connection.execute(sql.ids_by_keys, {"keys": keys[i : i + 500]}).all())
        urls = [item.url for item in items]
        self.by_url: dict[str, int] = {}
        for i in range(0, len(urls), 500):
            self.by_url.update(connection.execute(sql.ids_by_urls, {"urls": urls[i : i + 500]}).all())
        sources = sorted({(sites[item.site], item.source_key) for item in items if item.source_key})
        self.by_source: dict[tuple[int, str], int] = {}
        if sources:
            site_ids = sorted({site_id for site_id, _ in sources})
            source_keys = sorted({key for _, key in sources})
            for i in range(0, len(source_keys), 500):
                rows = connection.execute(
                    sql.ids_by_sources, {"site_ids": site_ids, "source_keys": source_keys[i : i + 500]}
                )
                for site_id, source_key, article_id in rows:
                    previous = self.by_source.get((site_id, source_key))
                    self.by_source[(site_id, source_key)] = min(article_id, previous or article_id)
        ids = sorted({*self.by_key.values(), *self.by_url.values(), *self.by_source.values()})
        self.rows: dict[int, dict] = {}
        for i in range(0, len(ids), 500):
            for row in connection.execute(sql.rows_by_ids, {"ids": ids[i : i + 500]}).mappings():
                self.rows[row["id"]] = dict(row)
        # what this batch has written so far
        self.written_keys: set[str] = set()
        self.written_urls: set[str] = set()
        self.written_sources: set[tuple[int, str | None]] = set()
        self.written_ids: set[int] = set()

    def find(self, item: ArticleItem, site_id: int) -> dict | None:
        keys = self.keys_of[id(item)]
        if (
            self.written_keys.intersection(keys)
            or item.url in self.written_urls
            or (item.source_key and (site_id, item.source_key) in self.written_sources)
        ):
            return self._find_now(item, keys, site_id)
        article_id = next((self.by_key[key] for key in sorted(keys) if key in self.by_key), None)
        if article_id is None:
            article_id = self.by_url.get(item.url)
        if article_id is None and item.source_key:
            article_id = self.by_source.get((site_id, item.source_key))
        if article_id is None:
            return None
        if article_id in self.written_ids:
            return self.row(article_id)
        return self.rows[article_id]

    def _find_now(self, item: ArticleItem, keys: list[str], site_id: int) -> dict | None:
        """The lookup as the database answers it now, inside this transaction."""
        connection, sql = self.connection, self.sql
        article_id = connection.scalar(sql.id_by_keys, {"keys": keys})
        if article_id is None:
            article_id = connection.scalar(sql.id_by_url, {"url": item.url})
        if article_id is None and item.source_key:
            article_id = connection.scalar(sql.id_by_source, {"site_id": site_id, "source_key": item.source_key})
        if article_id is None:
            return None
        return self.row(article_id)

    def row(self, article_id: int) -> dict:
        return dict(self.connection.execute(self.sql.row_by_id, {"b_id": article_id}).mappings().one())

    def wrote(self, article_id: int, item: ArticleItem, site_id: int, existing: dict | None) -> None:
        self.written_ids.add(article_id)
        self.written_keys.update(self.keys_of[id(item)])
        self.written_urls.add(item.url)
        self.written_sources.add((site_id, item.source_key))
        if existing is not None:
            self.written_sources.add((existing["site_id"], existing["source_key"]))


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
            sql = _statements(connection)
            seq = self._next_seq(connection)
            sites = self._sites(connection, {item.site: item.family for item in batch}, now)
            known = _Batch(connection, sql, batch, sites)
            # article id -> (its body hash, its body's shingles), computed once; the last write wins
            touched: dict[int, tuple[str, frozenset[str]]] = {}
            pages: dict[int, dict] = {}  # article id -> where its page is kept (the newest fetch)
            texts: dict[int, tuple] = {}  # article id -> its new searchable text (the last write wins)
            for item in batch:
                article_id, outcome, digest = self._upsert(connection, sql, known, item, sites[item.site], now, seq)
                counts[outcome] += 1
                if item.kept_page:
                    pages[article_id] = _page_row(article_id, item, now)
                if outcome != "unchanged":
                    touched[article_id] = (digest, dedupe.cached_shingles(item.body_text or ""))
                    texts[article_id] = (article_id, item.title or "", item.summary, item.body_text or "")
            _serialise_duplicates(connection)
            for article_id, (digest, shingles) in touched.items():
                if self._link_duplicates(connection, sql, article_id, digest, shingles, seq):
                    counts["duplicate"] += 1
            if pages:
                connection.execute(sql.page_upsert, list(pages.values()))
            search.index_articles(connection, texts.values())  # in the same transaction as the rows
        for name, value in counts.items():  # only once the transaction is committed
            self.counts[name] += value

    def mark_gone(self, gone: Iterable[ArticleGone]) -> int:
        """Mark stored articles whose URL answers 404/410 as removed (kept, never deleted). They stay
        in the search index, as in the table: searches leave them out unless asked (pipelines.search)."""
        gone = list(gone)
        if not gone:
            return 0
        marked = 0
        with self.engine.begin() as connection:
            sql = _statements(connection)
            seq = self._next_seq(connection)
            for item in gone:
                article_id = connection.scalar(sql.gone_id, {"url_key": url_key(item.url)})
                if article_id is None:
                    continue
                result = connection.execute(
                    sql.gone_update, {"b_id": article_id, "found_at": item.found_at, "seq": seq}
                )
                marked += result.rowcount
        self.counts["removed"] += marked
        return marked

    def revise(self, revisions: Iterable[tuple[dict, ArticleItem]]) -> int:
        """Store re-extracted articles (``govnews reparse``): each ``(stored row, new item)`` pair is an
        article whose fields changed. One transaction: the old content goes to ``article_versions``,
        ``version`` +1, a new change cursor; fetch facts (``last_seen``, validators) stay as they are."""
        revisions = list(revisions)
        if not revisions:
            return 0
        now = datetime.now(UTC)
        with self.engine.begin() as connection:
            sql = _statements(connection)
            seq = self._next_seq(connection)
            relink: list[tuple[int, str, frozenset[str]]] = []
            texts: dict[int, tuple] = {}
            for existing, item in revisions:
                article_id = existing["id"]
                digest, body_digest = _digests(item)
                values = _row_values(item, digest, body_digest)
                for kept in ("family", "http_etag", "http_last_modified"):
                    values.pop(kept)
                _keep_version(connection, sql, existing, now)
                connection.execute(
                    sql.article_update,
                    {
                        "b_id": article_id,
                        "version": existing["version"] + 1,
                        "changed_at": now,
                        "change_seq": seq,
                        **values,
                    },
                )
                self._children(connection, sql, article_id, item, fresh=False)
                texts[article_id] = (article_id, values["title"], values["summary"], values["body_text"])
                if existing["body_hash"] != values["body_hash"]:
                    connection.execute(sql.bands_delete, {"b_id": article_id})
                    relink.append((article_id, values["body_hash"], dedupe.cached_shingles(item.body_text or "")))
            _serialise_duplicates(connection)
            for article_id, digest, shingles in relink:
                self._link_duplicates(connection, sql, article_id, digest, shingles, seq)
            search.index_articles(connection, texts.values())
        self.counts["updated"] += len(revisions)
        return len(revisions)

    @staticmethod
    def _next_seq(connection: Connection) -> int:
        """The batch's change cursor: one more than the last, under the write lock of this transaction."""
        sql = _statements(connection)
        connection.execute(sql.seq_init)
        connection.execute(sql.seq_bump)
        return connection.scalar(sql.seq_get)

    def _sites(self, connection: Connection, hosts: dict[str, str | None], now: datetime) -> dict[str, int]:
        sql = _statements(connection)
        for host, family in hosts.items():
            portal = self.portals.get(host)
            connection.execute(
                sql.site_insert,
                {
                    "host": host,
                    "name": getattr(portal, "name", None),
                    "province": getattr(portal, "province", None),
                    "family": family,
                    "first_seen": now,
                },
            )
        return dict(connection.execute(sql.site_ids, {"hosts": list(hosts)}).all())

    # -- one article ---------------------------------------------------------------
    def _upsert(
        self, connection: Connection, sql: _Statements, known: _Batch, item: ArticleItem, site_id: int, now, seq: int
    ) -> tuple[int, str, str]:
        """(article id, outcome, the body hash now stored) of one item."""
        digest, body_digest = _digests(item)
        existing = known.find(item, site_id)
        values = _row_values(item, digest, body_digest)
        if existing is None:
            inserted = connection.scalar(
                sql.article_insert,
                {
                    "site_id": site_id,
                    "url": item.url,
                    "first_seen": now,
                    "changed_at": now,
                    "last_seen": item.fetched_at or now,
                    "version": 1,
                    "change_seq": seq,
                    **values,
                },
            )
            if inserted is not None:
                self._children(connection, sql, inserted, item, fresh=True)
                self._urls(connection, sql, inserted, item)
                known.wrote(inserted, item, site_id, None)
                return inserted, "new", values["body_hash"]
            existing = dict(connection.execute(sql.row_by_url, {"url": item.url}).mappings().one())  # a race
        article_id = existing["id"]
        self._urls(connection, sql, article_id, item)
        known.wrote(article_id, item, site_id, existing)
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
            connection.execute(sql.article_update, {"b_id": article_id, **changes})
            return article_id, "unchanged", existing["body_hash"]
        _keep_version(connection, sql, existing, now)
        if values["updated"] is None:  # the page states no edit time: the crawl that saw the edit is the best we know
            values["updated"] = now
        connection.execute(
            sql.article_update,
            {
                "b_id": article_id,
                "version": existing["version"] + 1,
                "changed_at": now,
                "change_seq": seq,
                "last_seen": item.fetched_at or now,
                "removed_at": None,
                **values,
            },
        )
        self._children(connection, sql, article_id, item, fresh=False)
        if existing["body_hash"] != values["body_hash"]:
            connection.execute(sql.bands_delete, {"b_id": article_id})
        return article_id, "updated", values["body_hash"]

    @staticmethod
    def _children(connection: Connection, sql: _Statements, article_id: int, item: ArticleItem, *, fresh: bool) -> None:
        if not fresh:
            connection.execute(sql.images_delete, {"b_id": article_id})
            connection.execute(sql.attachments_delete, {"b_id": article_id})
        if item.captions:  # executemany: one cached statement, not a VALUES list compiled per size
            connection.execute(
                sql.images_insert,
                [
                    {"article_id": article_id, "position": i, "image_url": c["image_url"], "caption": c["caption"]}
                    for i, c in enumerate(item.captions)
                ],
            )
        if item.attachments:
            connection.execute(
                sql.attachments_insert,
                [{"article_id": article_id, "position": i, "url": u} for i, u in enumerate(item.attachments)],
            )

    @staticmethod
    def _urls(connection: Connection, sql: _Statements, article_id: int, item: ArticleItem) -> None:
        rows = {url_key(u): u for u in reversed([item.url, *item.other_urls])}
        connection.execute(
            sql.urls_insert, [{"url_key": key, "url": url, "article_id": article_id} for key, url in rows.items()]
        )

    @staticmethod
    def _bands(connection: Connection, sql: _Statements, article_id: int, shingles: frozenset[str]) -> None:
        """The article's LSH bands (ON CONFLICT: an unchanged body keeps the bands it has)."""
        bands = dedupe.band_hashes(shingles)
        connection.execute(
            sql.bands_insert, [{"article_id": article_id, "band": band} for band in dict.fromkeys(bands)]
        )

    # -- duplicates ------------------------------------------------------------------
    def _link_duplicates(
        self, connection: Connection, sql: _Statements, article_id: int, digest: str, mine: frozenset[str], seq: int
    ) -> bool:
        """Link the article and its copies to the earliest published one; True when it is a copy.
        ``digest``: the body hash the batch stored for it."""
        self._bands(connection, sql, article_id, mine)
        similar: dict[int, float] = {article_id: 1.0}
        for other in connection.execute(sql.same_body, {"body_hash": digest, "b_id": article_id}).scalars():
            similar[other] = 1.0
        candidates = [
            c for c in connection.execute(sql.band_candidates, {"b_id": article_id}).scalars() if c not in similar
        ]
        texts = dict(connection.execute(sql.texts, {"ids": candidates}).all()) if candidates else {}
        for candidate in candidates:
            score = dedupe.jaccard(mine, dedupe.cached_shingles(texts.get(candidate) or ""))
            if score >= dedupe.SIMILARITY_THRESHOLD:
                similar[candidate] = score
        if len(similar) == 1:
            return False
        members = connection.execute(sql.members, {"ids": list(similar)}).all()
        group = {member.id for member in members} | {
            member.duplicate_of_id for member in members if member.duplicate_of_id is not None
        }
        rows = connection.execute(sql.group, {"ids": sorted(group)}).all()
        original = min(rows, key=lambda r: (r.published or _FAR_FUTURE, r.first_seen, r.id)).id
        current = {row.id: (row.duplicate_of_id, row.duplicate_similarity) for row in rows}
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
            if current.get(member) != (values["duplicate_of_id"], values["duplicate_similarity"]):
                connection.execute(sql.article_update, {"b_id": member, "change_seq": seq, **values})
        return original != article_id


DUPLICATES_LOCK = (0x6F760004, 0)  # crawler.fleet.NS_DEDUPE: one writer at a time links copies


def _serialise_duplicates(connection: Connection) -> None:
    """On PostgreSQL, one transaction at a time past this point until it commits: two jobs storing
    syndicated copies of one article at once would otherwise each look for the other's copy before it
    is committed, and neither would link. (The change cursor's row lock orders writers today as well;
    this lock keeps the linking safe should the cursor ever be taken later or elsewhere.) SQLite has
    one writer at a time anyway."""
    if connection.dialect.name == "postgresql":
        ns, key = DUPLICATES_LOCK
        connection.execute(text("SELECT pg_advisory_xact_lock(:ns, :key)"), {"ns": ns, "key": key})


def _keep_version(connection: Connection, sql: _Statements, existing: dict, now: datetime) -> None:
    """The stored content, before an edit replaces it, as its numbered version in ``article_versions``."""
    connection.execute(
        sql.version_insert,
        {
            "article_id": existing["id"],
            "version": existing["version"],
            "title": existing["title"],
            "summary": existing["summary"],
            "body_text": existing["body_text"],
            "updated": existing["updated"],
            "replaced_at": now,
        },
    )


def _similarity(connection: Connection, one: int, other: int) -> float:
    texts = dict(connection.execute(_statements(connection).texts, {"ids": [one, other]}).all())
    return dedupe.jaccard(dedupe.cached_shingles(texts.get(one) or ""), dedupe.cached_shingles(texts.get(other) or ""))


def _row_values(item: ArticleItem, digest: str, body_digest: str) -> dict:
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
        "body_hash": body_digest,
        "content_hash": digest,
        "http_etag": item.http_etag,
        "http_last_modified": item.http_last_modified,
    }


def _page_row(article_id: int, item: ArticleItem, now: datetime) -> dict:
    page = item.kept_page or {}
    return {
        "article_id": article_id,
        "file": page["file"],
        "offset": int(page["offset"]),
        "fetched_at": item.fetched_at or now,
        "hints": page.get("hints") or {},
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
