"""End-of-crawl health checks per portal, in the spirit of spidermon's close monitors.

A portal whose layout changed still answers 200: the crawl "finishes" and stores
nothing useful. These checks catch that: finish reason, error and parse-failure
counts, and field coverage of the articles parsed this run (a published date on
at least ``GOVNEWS_HEALTH_MIN_DATE_COVERAGE``, a title and a body on all). The
table is logged, kept in the crawl run's stats, and a failed check makes
``govnews crawl`` / ``schedule run`` exit non-zero so cron notices.
"""

from __future__ import annotations

import logging

from scrapy import signals

logger = logging.getLogger("govnews.health")
FIELDS = ("title", "published", "body_text")


class HealthChecks:
    def __init__(self, crawler) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.min_date = settings.getfloat("GOVNEWS_HEALTH_MIN_DATE_COVERAGE", 0.95)
        self.max_errors = settings.getint("GOVNEWS_HEALTH_MAX_ERRORS", 20)
        self.max_parse_failure_rate = settings.getfloat("GOVNEWS_HEALTH_MAX_PARSE_FAILURES", 0.05)

    @classmethod
    def from_crawler(cls, crawler) -> HealthChecks:
        extension = cls(crawler)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def checks(self, stats: dict, reason: str) -> list[tuple[str, str, bool]]:
        from crawler.extensions.progress import error_count

        parsed = stats.get("govnews/fields/articles", 0)
        failed = stats.get("govnews/parse_failed", 0)
        results = [
            ("finish reason", f"{reason} (expected finished)", reason == "finished"),
            ("errors", f"{error_count(stats)} (at most {self.max_errors})", error_count(stats) <= self.max_errors),
            (
                "parse failures",
                f"{failed} of {parsed + failed} article pages (at most {self.max_parse_failure_rate:.0%})",
                failed <= self.max_parse_failure_rate * max(parsed + failed, 1),
            ),
        ]
        for field in FIELDS:
            present = stats.get(f"govnews/fields/{field}", 0)
            wanted = self.min_date if field == "published" else 1.0
            share = present / parsed if parsed else 1.0
            results.append((f"coverage {field}", f"{share:.0%} of {parsed} (at least {wanted:.0%})", share >= wanted))
        return results

    def spider_closed(self, spider, reason) -> None:
        stats = self.crawler.stats
        results = self.checks(stats.get_stats(), reason)
        site = getattr(getattr(spider, "portal", None), "host", spider.name)
        lines = [f"health of {site}:"] + [
            f"  {'ok  ' if ok else 'FAIL'} {name:22} {detail}" for name, detail, ok in results
        ]
        failed = [name for name, _, ok in results if not ok]
        (logger.warning if failed else logger.info)("\n".join(lines))
        stats.set_value("govnews/health/checks", {name: ok for name, _, ok in results})
        if failed:
            stats.set_value("govnews/health/failed", ", ".join(failed))
