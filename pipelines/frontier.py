"""The durable frontier: what a portal's crawl still has to read, so an interrupted run is resumed.

Incremental crawls stop a listing's pagination at the first page whose articles are
all stored. That is only sound when the previous run read on to where that was
true; a run killed, interrupted, out of budget or cut off from its database did
not. So every discovery page is checkpointed as it is parsed, in one transaction:
the page leaves the frontier, the listings, feeds, sitemaps and API pages it links
to and the unstored articles it lists enter it. The next run of the portal reads
what is left (where each listing stopped), counts the articles waiting here as
"known" for the stopping rule (they are fetched anyway), and only a run that
finishes cleanly clears it. Fetch failures stay, with a count, and are given up
after :data:`MAX_ATTEMPTS` runs.

Like :mod:`pipelines.state`, this is the spider's memory in the database rather
than Scrapy's JOBDIR: it survives ``kill -9`` and works the same on every node.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session

from pipelines import models as m

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3  # runs in which a page failed to fetch before it is given up
MAX_URL = 2000  # longer URLs are not kept (the column's width); they are rediscovered instead
KINDS = ("listing", "feed", "sitemap", "api", "probe", "article")


@dataclass(frozen=True, slots=True)
class Entry:
    url: str
    kind: str
    attempts: int


class Frontier:
    """The frontier of one portal (``site`` = host) in the govnews database."""

    def __init__(self, engine: Engine, site: str) -> None:
        self.engine = engine
        self.site = site

    def load(self) -> list[Entry]:
        with Session(self.engine) as session:
            rows = session.execute(
                select(m.FrontierEntry.url, m.FrontierEntry.kind, m.FrontierEntry.attempts)
                .where(m.FrontierEntry.site == self.site)
                .order_by(m.FrontierEntry.added_at, m.FrontierEntry.url)
            )
            return [Entry(url, kind, attempts) for url, kind, attempts in rows]

    def size(self) -> int:
        with Session(self.engine) as session:
            return (
                session.scalar(
                    select(func.count()).select_from(m.FrontierEntry).where(m.FrontierEntry.site == self.site)
                )
                or 0
            )

    def checkpoint(
        self,
        done: Iterable[str],
        pages: Iterable[tuple[str, str]],
        articles: Iterable[str],
    ) -> None:
        """One transaction: ``done`` pages leave, the ``(url, kind)`` pages and article URLs found enter."""
        done = [u for u in dict.fromkeys(done) if len(u) <= MAX_URL]
        new = {u: k for u, k in pages if len(u) <= MAX_URL}
        for url in articles:
            if len(url) <= MAX_URL:
                new.setdefault(url, "article")
        for url in done:
            new.pop(url, None)
        if not done and not new:
            return
        now = datetime.now(UTC)
        with Session(self.engine) as session, session.begin():
            if done:
                session.execute(
                    delete(m.FrontierEntry).where(m.FrontierEntry.site == self.site, m.FrontierEntry.url.in_(done))
                )
            if new:
                present = set(
                    session.scalars(
                        select(m.FrontierEntry.url).where(
                            m.FrontierEntry.site == self.site, m.FrontierEntry.url.in_(list(new))
                        )
                    )
                )
                session.add_all(
                    m.FrontierEntry(site=self.site, url=url, kind=kind, attempts=0, added_at=now)
                    for url, kind in new.items()
                    if url not in present
                )

    def failed(self, url: str, kind: str) -> None:
        """A fetch failed: keep the page, one attempt more."""
        if len(url) > MAX_URL:
            return
        with Session(self.engine) as session, session.begin():
            entry = session.get(m.FrontierEntry, (self.site, url))
            if entry is None:
                session.add(m.FrontierEntry(site=self.site, url=url, kind=kind, attempts=1, added_at=datetime.now(UTC)))
            else:
                entry.attempts += 1

    def finished(self) -> int:
        """A clean run: clear the frontier but for failed fetches still worth another try; how many stay."""
        with Session(self.engine) as session, session.begin():
            given_up = session.scalars(
                select(m.FrontierEntry.url).where(
                    m.FrontierEntry.site == self.site, m.FrontierEntry.attempts >= MAX_ATTEMPTS
                )
            ).all()
            for url in given_up[:5]:
                logger.warning("%s: given up after %d failed fetches: %s", self.site, MAX_ATTEMPTS, url)
            if len(given_up) > 5:
                logger.warning("%s: given up on %d more pages after failed fetches", self.site, len(given_up) - 5)
            session.execute(
                delete(m.FrontierEntry).where(
                    m.FrontierEntry.site == self.site,
                    (m.FrontierEntry.attempts == 0) | (m.FrontierEntry.attempts >= MAX_ATTEMPTS),
                )
            )
            return (
                session.scalar(
                    select(func.count()).select_from(m.FrontierEntry).where(m.FrontierEntry.site == self.site)
                )
                or 0
            )
