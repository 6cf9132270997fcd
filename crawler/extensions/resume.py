"""Only a crawl that finished cleanly clears its portal's frontier; any other end leaves it to resume.

Runs at the close of a crawl after the health checks (whose verdict counts): a
crawl killed, interrupted, out of budget, cut off from its database, or failing a
health check keeps what it had still to read in ``crawl_frontier``, and the next
run of the portal carries on from there (see :mod:`pipelines.frontier`). A ``kill
-9`` never reaches this code, and needs not: the frontier is written as pages are
read.
"""

from __future__ import annotations

import logging

from scrapy import signals
from sqlalchemy.exc import SQLAlchemyError

from crawler.outcome import verdict

logger = logging.getLogger(__name__)


class ResumeMark:
    def __init__(self, crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler) -> ResumeMark:
        extension = cls(crawler)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_closed(self, spider, reason) -> None:
        stats = self.crawler.stats
        outcome = verdict(stats.get_stats(), reason)
        stats.set_value("govnews/outcome", outcome.reason)
        frontier = getattr(spider, "frontier", None)
        if frontier is None:
            return
        try:
            left = frontier.finished() if outcome.ok else frontier.size()
        except SQLAlchemyError as error:
            logger.warning("frontier of %s not settled: %s", frontier.site, str(error).splitlines()[0])
            return
        stats.set_value("govnews/frontier/left", left)
        if not outcome.ok and left:
            logger.warning("%s: %s; %d frontier entries kept for the next run", frontier.site, outcome.reason, left)
