"""One fleet job: a batch of portals crawled in one Scrapy process, under the process's own leases.

scrapyd starts ``scrapy crawl portal -a portals=A,B;C -a full=B -a node=N -a _job=ID``: ``;``
separates politeness groups (crawled side by side), ``,`` the portals of one group (crawled one
after another, so the group's server sees one crawler). Before crawling, the process takes each
portal whose lease row names this job, holding an advisory lock per portal and per group on a
connection of its own for as long as it crawls them; a portal leased to another job since (a
second dispatch after this one was lost) is left alone. Each portal's end is recorded in the
schedule and its lease given back at once, not at the end of the batch.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from crawler import fleet

logger = logging.getLogger(__name__)


@dataclass
class Chain:
    """The portals of one politeness group this job holds, in crawl order."""

    group: str
    hosts: list[str] = field(default_factory=list)


def parse_batch(portals: str) -> list[list[str]]:
    return [
        [host.strip() for host in chain.split(",") if host.strip()] for chain in portals.split(";") if chain.strip()
    ]


class LeaseHolder:
    """The job's leases, on one connection kept open for the life of the process (its advisory locks)."""

    def __init__(self, db_url: str, job: str, node: str) -> None:
        from sqlalchemy import create_engine
        from sqlalchemy.pool import NullPool

        from pipelines.db import init_db, make_engine

        init_db(make_engine(db_url))
        self.engine = create_engine(db_url, poolclass=NullPool)
        if self.engine.dialect.name != "postgresql":
            raise RuntimeError("a fleet job needs PostgreSQL (GOVNEWS_DB): leases are advisory locks")
        self.connection: Connection = self.engine.connect()
        self.job, self.node = job, node

    def take(self, batch: list[list[str]]) -> list[Chain]:
        """The chains of ``batch`` this job now holds; the rest is left to whoever holds it, or given back."""
        from pipelines.models import PortalLease

        chains = []
        for hosts in batch:
            with self.connection.begin():
                rows = self.connection.execute(
                    select(PortalLease).where(PortalLease.site.in_(hosts)).order_by(PortalLease.site).with_for_update()
                ).all()
                mine = {  # sent to this job, and not yet taken (a second process of the same job id takes nothing)
                    row.site: row
                    for row in rows
                    if row.job == self.job and row.finished_at is None and row.started_at is None
                }
                for host in hosts:
                    if host not in mine:
                        logger.warning(
                            "fleet: %s is not leased to job %s (dispatched again elsewhere): skipped", host, self.job
                        )
                if not mine:
                    continue
                group = next(iter(mine.values())).politeness_group
                if not fleet.try_lock(self.connection, fleet.NS_GROUP, group):
                    self._end(list(mine), f"skipped: another crawl of politeness group {group} is running")
                    logger.warning("fleet: group %s is being crawled elsewhere; %s given back", group, sorted(mine))
                    continue
                chain = Chain(group)
                for host in (h for h in hosts if h in mine):
                    if fleet.try_lock(self.connection, fleet.NS_PORTAL, host):
                        chain.hosts.append(host)
                    else:
                        self._end([host], "skipped: the portal is being crawled elsewhere")
                self.connection.execute(
                    update(PortalLease)
                    .where(PortalLease.site.in_(chain.hosts))
                    .values(started_at=datetime.now(UTC), hostname=socket.gethostname(), pid=os.getpid())
                )
                if chain.hosts:
                    chains.append(chain)
                else:
                    fleet.unlock(self.connection, fleet.NS_GROUP, group)
        return chains

    def _end(self, hosts: list[str], note: str | None = None) -> None:
        from pipelines.models import PortalLease

        self.connection.execute(
            update(PortalLease)
            .where(PortalLease.site.in_(bindparam("hosts", expanding=True)), PortalLease.job == self.job)
            .values(finished_at=datetime.now(UTC), note=note),
            {"hosts": hosts},
        )

    def finished(self, host: str) -> None:
        """The portal's crawl ended: the lease is given back and its lock released."""
        with self.connection.begin():
            self._end([host])
        fleet.unlock(self.connection, fleet.NS_PORTAL, host)
        self.connection.commit()

    def group_done(self, group: str) -> None:
        fleet.unlock(self.connection, fleet.NS_GROUP, group)
        self.connection.commit()


def run_batch(settings, spargs: dict[str, Any]) -> bool:
    """Crawl the job's batch; True when every crawl it held succeeded."""
    from scrapy.crawler import CrawlerProcess
    from twisted.internet import defer

    from crawler.cli import CrawlOutcome, portal_spider_class
    from crawler.outcome import verdict
    from crawler.registry import load_registry
    from crawler.schedule import Scheduler
    from pipelines.db import database_url, make_engine

    job = spargs.get("_job") or f"local-{os.getpid()}"
    node = spargs.get("node") or socket.gethostname()
    full = {host for host in (spargs.get("full") or "").split(",") if host}
    registry = load_registry(settings.get("GOVNEWS_REGISTRY"))
    db_url = database_url(settings.get("GOVNEWS_DB"))
    holder = LeaseHolder(db_url, job, node)
    chains = holder.take(parse_batch(spargs.get("portals") or ""))
    logger.info(
        "fleet job %s on %s: %s", job, node, "; ".join(", ".join(c.hosts) for c in chains) or "nothing to crawl"
    )
    scheduler = Scheduler(make_engine(db_url), registry)
    settings = settings.copy()
    settings.set("GOVNEWS_FLEET_JOB", job, priority="cmdline")
    settings.set("GOVNEWS_FLEET_NODE", node, priority="cmdline")
    process = CrawlerProcess(settings, install_root_handler=False)
    results: list[bool] = []

    @defer.inlineCallbacks
    def crawl_chain(chain: Chain):
        """The group's portals one after another; each one's end recorded and its lease given back at once."""
        try:
            for host in chain.hosts:
                ok = False
                try:
                    portal = registry[host]  # KeyError: a registry on this node without the portal
                    scheduler.started([(portal, host in full)])
                    crawler = process.create_crawler(portal_spider_class(portal))
                    try:
                        yield process.crawl(crawler, site=host, full=host in full)
                    except Exception:  # a crawl that cannot start must not stop its group's next portals
                        logger.exception("fleet: the crawl of %s failed to run", host)
                    stats = crawler.stats.get_stats() if crawler.stats else {}
                    outcome = verdict(stats, stats.get("finish_reason"))
                    scheduler.finished([CrawlOutcome(portal, stats, outcome.reason, outcome.ok)])
                    ok = outcome.ok
                except Exception:
                    logger.exception("fleet: %s could not be crawled or recorded", host)
                finally:
                    results.append(ok)
                    holder.finished(host)  # before the next portal of the group: the lease is not kept idle
        finally:
            holder.group_done(chain.group)

    from twisted.internet import reactor

    done = defer.DeferredList([crawl_chain(chain) for chain in chains], consumeErrors=True)
    done.addBoth(lambda _: reactor.callLater(0, reactor.stop))
    process.start(stop_after_crawl=False)
    return all(results)
