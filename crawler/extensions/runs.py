"""Record every crawl in ``crawl_runs``: start, end, finish reason and the counters.

The row is written when the crawl opens, with the machine and process id, so a
crash leaves a row without an end (``finished_at`` empty) rather than no trace at
all; the next run of the portal on that machine marks it interrupted. A fleet job's run names
its scrapyd node and job (crawler.fleet_job). ``outcome``
is the verdict the CLI prints (:mod:`crawler.outcome`).
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import UTC, datetime

from scrapy import signals
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from crawler.outcome import verdict

logger = logging.getLogger(__name__)


def _jsonable(stats: dict) -> dict:
    return {
        key: value if isinstance(value, int | float | str | bool) or value is None else str(value)
        for key, value in stats.items()
    }


def summarise(stats: dict) -> dict:
    """The counters a scheduler or a script needs from one crawl's Scrapy stats."""
    from crawler.extensions.progress import error_count

    prefix = "downloader/response_status_count/"
    return {
        "requests": stats.get("downloader/request_count", 0),
        "responses_by_status": {k[len(prefix) :]: v for k, v in stats.items() if k.startswith(prefix)},
        "articles": {
            name: stats.get(f"govnews/articles/{name}", 0)
            for name in ("new", "updated", "unchanged", "duplicate", "removed", "not_modified", "skipped_known")
        },
        "dropped": {k.rsplit("/", 1)[1]: v for k, v in stats.items() if k.startswith("govnews/dropped/")},
        "parse_failed": stats.get("govnews/parse_failed", 0),
        "degraded": stats.get("govnews/articles/degraded", 0),
        "not_article": stats.get("govnews/not_article", 0),
        "probes": stats.get("govnews/probe/requests", 0),
        "profile_changed": stats.get("govnews/profile/changed"),
        "kept_pages": stats.get("govnews/pages/kept", 0),
        "kept_bytes": stats.get("govnews/pages/bytes", 0),
        "health": stats.get("govnews/health/failed") or "ok",
        "errors": error_count(stats),
    }


class CrawlRuns:
    def __init__(self, crawler) -> None:
        self.crawler = crawler
        self.run_id: int | None = None
        self.engine = None

    @classmethod
    def from_crawler(cls, crawler) -> CrawlRuns:
        extension = cls(crawler)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self, spider) -> None:
        from pipelines.db import init_db, make_engine
        from pipelines.models import CrawlRun

        try:
            self.engine = make_engine(self.crawler.settings.get("GOVNEWS_DB"))
            init_db(self.engine)
            with Session(self.engine) as session, session.begin():
                site = _site(spider)
                _mark_interrupted(session, site)
                settings = self.crawler.settings
                run = CrawlRun(
                    site=site,
                    started_at=datetime.now(UTC),
                    stats={},
                    hostname=socket.gethostname(),
                    pid=os.getpid(),
                    node=settings.get("GOVNEWS_FLEET_NODE"),
                    job=settings.get("GOVNEWS_FLEET_JOB") or getattr(spider, "_job", None),  # scrapyd's -a _job
                )
                session.add(run)
                session.flush()
                self.run_id = run.id
        except SQLAlchemyError as error:  # the store pipeline reports and handles an unusable database
            logger.warning("crawl run not recorded: %s", error)

    def spider_closed(self, spider, reason) -> None:
        from pipelines.models import CrawlRun

        if self.engine is None or self.run_id is None:
            return
        try:
            with Session(self.engine) as session, session.begin():
                run = session.get(CrawlRun, self.run_id)
                run.finished_at = datetime.now(UTC)
                stats = self.crawler.stats.get_stats()
                outcome = verdict(stats, reason)  # what the CLI prints
                run.finish_reason = reason
                run.outcome = outcome.reason[:500]
                run.mode = stats.get("govnews/mode", "incremental")
                run.stats = {"summary": {**summarise(stats), **outcome.as_dict()}, "scrapy": _jsonable(stats)}
        except SQLAlchemyError as error:
            logger.warning("crawl run %s not updated: %s", self.run_id, error)


def _mark_interrupted(session: Session, site: str) -> None:
    """Runs of this portal on this machine left open by a process that is gone were interrupted."""
    from sqlalchemy import select

    from crawler.schedule import pid_alive
    from pipelines.models import CrawlRun

    host = socket.gethostname()
    for run in session.scalars(
        select(CrawlRun).where(CrawlRun.site == site, CrawlRun.finished_at.is_(None), CrawlRun.outcome.is_(None))
    ):
        if run.hostname == host and run.pid and not pid_alive(run.pid, run.started_at):
            run.outcome = f"interrupted: the crawl process ({run.pid}) ended without closing the run"


def _site(spider) -> str:
    portal = getattr(spider, "portal", None)
    return portal.host if portal is not None else spider.name
