"""The SQL schema (SQLAlchemy 2 declarative). Times are stored in UTC.

Column comments are the schema's documentation; ``docs/schema.md`` is written
from them and a test keeps the two in step.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out; stored as UTC on every backend."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: store timezone-aware values only")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime()}


class Site(Base):
    __tablename__ = "sites"
    __table_args__ = {"comment": "One row per portal (host) that articles were stored from."}

    id: Mapped[int] = mapped_column(Integer, primary_key=True, comment="Surrogate key.")
    host: Mapped[str] = mapped_column(String(255), unique=True, comment="Portal host name without www.")
    name: Mapped[str | None] = mapped_column(String(500), comment="Portal name from the registry.")
    province: Mapped[str | None] = mapped_column(String(100), comment="Province from the registry.")
    family: Mapped[str | None] = mapped_column(String(50), comment="CMS family used to parse it.")
    first_seen: Mapped[datetime] = mapped_column(comment="When govnews first stored an article of it (UTC).")


class Article(Base):
    __tablename__ = "articles"
    __table_args__ = (
        Index("ix_articles_site_published", "site_id", "published"),
        Index("ix_articles_body_hash", "body_hash"),
        Index("ix_articles_site_source_key", "site_id", "source_key"),
        Index("ix_articles_published", "published"),  # newest first over all portals (govnews serve)
        Index("ix_articles_duplicate_of_id", "duplicate_of_id"),  # an original's syndicated copies
        {"comment": "One row per real article; its other URLs are in article_urls."},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, comment="Surrogate key.")
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), comment="Portal the article belongs to.")
    url: Mapped[str] = mapped_column(String(2048), unique=True, comment="Canonical URL.")
    source_key: Mapped[str | None] = mapped_column(String(100), comment="The platform's own article id.")
    family: Mapped[str | None] = mapped_column(String(50), comment="CMS family parser that produced it.")
    title: Mapped[str] = mapped_column(Text, comment="Title as displayed, NFC.")
    published: Mapped[datetime | None] = mapped_column(comment="Publication time (UTC).")
    updated: Mapped[datetime | None] = mapped_column(comment="Last edit time stated by the page (UTC), if any.")
    summary: Mapped[str | None] = mapped_column(Text, comment="Lead / hand-written excerpt.")
    body_text: Mapped[str] = mapped_column(Text, comment="Body paragraphs separated by a blank line.")
    body_html: Mapped[str | None] = mapped_column(Text, comment="Body HTML as served (raw; exports sanitise it).")
    source: Mapped[str | None] = mapped_column(Text, comment='"Nguồn tin" / "Nguồn" name.')
    source_url: Mapped[str | None] = mapped_column(String(2048), comment='"Nguồn tin" link, if shown.')
    author: Mapped[str | None] = mapped_column(String(500), comment='"Tác giả" / byline.')
    categories: Mapped[list] = mapped_column(JSON, default=list, comment="Category names, main first (JSON).")
    tags: Mapped[list] = mapped_column(JSON, default=list, comment="Tags in page order (JSON).")
    body_hash: Mapped[str] = mapped_column(String(64), comment="sha256 of the normalised body text.")
    content_hash: Mapped[str] = mapped_column(String(64), comment="sha256 of title, lead and body: changes = edits.")
    duplicate_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("articles.id"), comment="The original when this article repeats another one."
    )
    duplicate_similarity: Mapped[float | None] = mapped_column(
        Float, comment="Jaccard similarity (syllable 3-shingles) to the original; 1.0 for an exact repost."
    )
    version: Mapped[int] = mapped_column(Integer, default=1, comment="1, +1 on every stored edit.")
    first_seen: Mapped[datetime] = mapped_column(comment="When it was first stored (UTC).")
    last_seen: Mapped[datetime] = mapped_column(comment="When a crawl last fetched it (UTC).")
    changed_at: Mapped[datetime] = mapped_column(comment="When its stored content last changed (UTC).")
    change_seq: Mapped[int] = mapped_column(
        BigInteger, index=True, default=0, comment="Export cursor: rises on every insert or change of the row."
    )
    removed_at: Mapped[datetime | None] = mapped_column(
        comment="When a crawl found the article gone (404/410); the row is kept."
    )
    http_etag: Mapped[str | None] = mapped_column(String(500), comment="ETag of the last fetch, for If-None-Match.")
    http_last_modified: Mapped[str | None] = mapped_column(
        String(100), comment="Last-Modified of the last fetch, for If-Modified-Since."
    )

    site: Mapped[Site] = relationship()
    urls: Mapped[list[ArticleUrl]] = relationship(back_populates="article", cascade="all, delete-orphan")
    images: Mapped[list[Image]] = relationship(
        back_populates="article", cascade="all, delete-orphan", order_by="Image.position"
    )
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="article", cascade="all, delete-orphan", order_by="Attachment.position"
    )
    duplicate_of: Mapped[Article | None] = relationship(remote_side="Article.id")


class ArticleUrl(Base):
    __tablename__ = "article_urls"
    __table_args__ = {"comment": "Every URL an article was reached under (canonical one included)."}

    url_key: Mapped[str] = mapped_column(
        String(2048), primary_key=True, comment="crawler.urls.url_key of the URL: one key per spelling."
    )
    url: Mapped[str] = mapped_column(String(2048), comment="The URL as first seen.")
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"), index=True, comment="The article.")

    article: Mapped[Article] = relationship(back_populates="urls")


class Image(Base):
    __tablename__ = "images"
    __table_args__ = (
        UniqueConstraint("article_id", "position"),
        {"comment": "Captioned body images of an article, in page order."},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, comment="Surrogate key.")
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"), comment="The article.")
    position: Mapped[int] = mapped_column(Integer, comment="0-based order on the page.")
    image_url: Mapped[str] = mapped_column(String(2048), comment="Absolute image URL.")
    caption: Mapped[str] = mapped_column(Text, comment="The caption tied to this image.")

    article: Mapped[Article] = relationship(back_populates="images")


class Attachment(Base):
    __tablename__ = "attachments"
    __table_args__ = (
        UniqueConstraint("article_id", "position"),
        {"comment": "Documents attached to or linked from an article."},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, comment="Surrogate key.")
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"), comment="The article.")
    position: Mapped[int] = mapped_column(Integer, comment="0-based order on the page.")
    url: Mapped[str] = mapped_column(String(2048), comment="Absolute download URL.")

    article: Mapped[Article] = relationship(back_populates="attachments")


class ArticleVersion(Base):
    __tablename__ = "article_versions"
    __table_args__ = (
        UniqueConstraint("article_id", "version"),
        {"comment": "Earlier contents of articles that were edited after they were stored."},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, comment="Surrogate key.")
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"), index=True, comment="The article.")
    version: Mapped[int] = mapped_column(Integer, comment="The version number this content had.")
    title: Mapped[str] = mapped_column(Text, comment="Title of that version.")
    summary: Mapped[str | None] = mapped_column(Text, comment="Lead of that version.")
    body_text: Mapped[str] = mapped_column(Text, comment="Body of that version.")
    updated: Mapped[datetime | None] = mapped_column(comment="The edit time the page stated then (UTC).")
    replaced_at: Mapped[datetime] = mapped_column(comment="When a crawl found the newer content (UTC).")


class ArticlePage(Base):
    __tablename__ = "article_pages"
    __table_args__ = {
        "comment": "Where the page each article was last parsed from is kept (a WARC record), for govnews reparse."
    }

    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"), primary_key=True, comment="The article.")
    file: Mapped[str] = mapped_column(
        String(1000),
        index=True,
        comment="WARC file holding the page: relative to the kept-pages directory, or absolute (a replayed archive).",
    )
    offset: Mapped[int] = mapped_column(BigInteger, comment="Byte offset of the page's response record in the file.")
    fetched_at: Mapped[datetime] = mapped_column(comment="When the page was fetched (UTC).")
    hints: Mapped[dict] = mapped_column(
        JSON, default=dict, comment="What discovery told the parser beside the page (feed dates, author, ids; JSON)."
    )


class MinHashBand(Base):
    __tablename__ = "minhash_bands"
    __table_args__ = (
        Index("ix_minhash_bands_band", "band"),
        {"comment": "LSH bands of each article's MinHash: near-duplicate candidates by index lookup."},
    )

    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"), primary_key=True, comment="The article.")
    band: Mapped[int] = mapped_column(BigInteger, primary_key=True, comment="Hash of one band (index, rows).")


class Counter(Base):
    __tablename__ = "counters"
    __table_args__ = {"comment": "Monotonic counters (the export change cursor)."}

    name: Mapped[str] = mapped_column(String(50), primary_key=True, comment="Counter name.")
    value: Mapped[int] = mapped_column(BigInteger, default=0, comment="Last value handed out.")


class PortalSchedule(Base):
    __tablename__ = "portal_schedule"
    __table_args__ = {"comment": "Scheduler state per portal (govnews schedule run / status)."}

    site: Mapped[str] = mapped_column(String(255), primary_key=True, comment="Portal host.")
    last_start: Mapped[datetime | None] = mapped_column(comment="Start of the last scheduled crawl (UTC).")
    last_success: Mapped[datetime | None] = mapped_column(comment="End of the last successful crawl (UTC).")
    last_error: Mapped[str | None] = mapped_column(Text, comment="Why the last crawl failed, if it did.")
    failures: Mapped[int] = mapped_column(Integer, default=0, comment="Failed crawls in a row (backoff grows).")
    next_due: Mapped[datetime | None] = mapped_column(comment="When the next crawl is due (UTC); empty: now.")
    next_full: Mapped[datetime | None] = mapped_column(comment="When the next full pass is due (UTC).")
    last_run_id: Mapped[int | None] = mapped_column(Integer, comment="crawl_runs.id of the last crawl.")


class CrawlRun(Base):
    __tablename__ = "crawl_runs"
    __table_args__ = {"comment": "One row per crawl of one portal."}

    id: Mapped[int] = mapped_column(Integer, primary_key=True, comment="Surrogate key.")
    site: Mapped[str] = mapped_column(String(255), index=True, comment="Portal host crawled.")
    started_at: Mapped[datetime] = mapped_column(comment="Start (UTC).")
    finished_at: Mapped[datetime | None] = mapped_column(comment="End (UTC); empty while running or after a crash.")
    finish_reason: Mapped[str | None] = mapped_column(String(100), comment="Scrapy finish reason.")
    mode: Mapped[str] = mapped_column(String(20), default="full", comment="incremental or full.")
    stats: Mapped[dict] = mapped_column(JSON, default=dict, comment="Counters: requests, items, errors (JSON).")
    outcome: Mapped[str | None] = mapped_column(
        String(500), comment="The verdict the CLI printed: finished, or why the run is unfinished (resumable)."
    )
    hostname: Mapped[str | None] = mapped_column(String(255), comment="Machine that ran the crawl.")
    pid: Mapped[int | None] = mapped_column(Integer, comment="Process id of the crawl (a dead one: interrupted).")
    node: Mapped[str | None] = mapped_column(String(255), comment="scrapyd node (host:port) whose job ran the crawl.")
    job: Mapped[str | None] = mapped_column(String(64), comment="scrapyd job id of the crawl (empty: not a fleet job).")


class PortalLease(Base):
    __tablename__ = "portal_leases"
    __table_args__ = {
        "comment": "Which fleet job holds each portal (crawler.fleet): written by the dispatcher, taken and "
        "ended by the crawl process, which also holds a PostgreSQL advisory lock while it crawls."
    }

    site: Mapped[str] = mapped_column(String(255), primary_key=True, comment="Portal host.")
    politeness_group: Mapped[str] = mapped_column(
        String(255), comment="Politeness group: the fleet crawls one portal of a group at a time."
    )
    node: Mapped[str | None] = mapped_column(String(255), comment="scrapyd node (host:port) the job was sent to.")
    job: Mapped[str | None] = mapped_column(String(64), comment="scrapyd job id holding the portal.")
    dispatched_at: Mapped[datetime | None] = mapped_column(comment="When the dispatcher sent the job (UTC).")
    started_at: Mapped[datetime | None] = mapped_column(comment="When the crawl process took the lease (UTC).")
    finished_at: Mapped[datetime | None] = mapped_column(
        comment="When the crawl process gave the lease back (UTC); empty while dispatched or running."
    )
    hostname: Mapped[str | None] = mapped_column(String(255), comment="Machine of the crawl process.")
    pid: Mapped[int | None] = mapped_column(Integer, comment="Process id of the crawl process.")
    note: Mapped[str | None] = mapped_column(String(500), comment="Why the lease ended without a crawl, if it did.")


class FrontierEntry(Base):
    __tablename__ = "crawl_frontier"
    __table_args__ = {
        "comment": "What a portal's unfinished crawl still had to read: the next run resumes from it "
        "(cleared when a run finishes cleanly)."
    }

    site: Mapped[str] = mapped_column(String(255), primary_key=True, comment="Portal host.")
    url: Mapped[str] = mapped_column(String(2000), primary_key=True, comment="Page to read.")
    kind: Mapped[str] = mapped_column(
        String(20), comment="listing, feed, sitemap, api, probe (a link of unknown kind) or article."
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0, comment="Failed fetches so far (dropped after 3).")
    added_at: Mapped[datetime] = mapped_column(comment="When a crawl found it (UTC).")


class SiteProfileRow(Base):
    __tablename__ = "site_profiles"
    __table_args__ = {"comment": "What govnews learned of each portal's shape (crawler.profile.SiteProfile)."}

    site: Mapped[str] = mapped_column(String(255), primary_key=True, comment="Portal host.")
    family: Mapped[str] = mapped_column(String(50), comment="CMS family detected or configured.")
    fingerprint: Mapped[str] = mapped_column(
        String(32), comment="Hash of the profile's shape (family, facts, URL shapes): changes = the site changed."
    )
    profile: Mapped[dict] = mapped_column(
        JSON, comment="The profile (JSON): family facts, feeds, sitemaps, URL shapes, evidence."
    )
    learned_at: Mapped[datetime] = mapped_column(comment="When a crawl last confirmed the profile (UTC).")
    changed_at: Mapped[datetime] = mapped_column(comment="When the profile's shape last changed (UTC).")
    previous: Mapped[dict | None] = mapped_column(
        JSON, comment="The profile it replaced at the last change of shape (JSON), for review."
    )
