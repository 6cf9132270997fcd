"""Print crawl progress (pages, articles, errors) at an interval, like Scrapy's LogStats."""

from __future__ import annotations

import logging

from scrapy import signals
from scrapy.exceptions import NotConfigured
from twisted.internet import task

logger = logging.getLogger("govnews.progress")


class Progress:
    def __init__(self, stats, interval: float) -> None:
        self.stats = stats
        self.interval = interval
        self._task: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler) -> Progress:
        interval = crawler.settings.getfloat("GOVNEWS_PROGRESS_INTERVAL", 10.0)
        if interval <= 0:
            raise NotConfigured
        extension = cls(crawler.stats, interval)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self, spider) -> None:
        self._task = task.LoopingCall(self.report, spider)
        self._task.start(self.interval, now=False)

    def report(self, spider) -> None:
        get = self.stats.get_value
        logger.info(
            "%s: %d pages fetched, %d articles parsed, %d stored, %d errors",
            getattr(getattr(spider, "portal", None), "host", spider.name),
            get("response_received_count", 0),
            get("item_scraped_count", 0),
            get("govnews/stored", 0),
            error_count(self.stats.get_stats()),
        )

    def spider_closed(self, spider, reason) -> None:
        if self._task is not None and self._task.running:
            self._task.stop()


def error_count(stats: dict) -> int:
    """Errors a user should know about: failed fetches, parse failures, dropped items, log errors."""
    total = stats.get("log_count/ERROR", 0)
    for key, value in stats.items():
        if key.startswith(("govnews/fetch_failed/", "govnews/dropped/")) and isinstance(value, int):
            total += value
    return total
