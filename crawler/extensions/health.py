"""End-of-crawl health checks per portal, in the spirit of spidermon's close monitors.

A portal whose layout changed still answers 200: the crawl "finishes" and stores
nothing useful. These checks catch that: finish reason, error and parse-failure
counts, whether the portal was reached and linked any article at all, in a full
pass whether it still links at least ``GOVNEWS_HEALTH_MIN_LINKED`` of what is
stored of it, and field coverage of the articles parsed this run (a published
date on at least ``GOVNEWS_HEALTH_MIN_DATE_COVERAGE``, a title and a body on all). The
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
        self.min_linked = settings.getfloat("GOVNEWS_HEALTH_MIN_LINKED", 0.5)

    @classmethod
    def from_crawler(cls, crawler) -> HealthChecks:
        extension = cls(crawler)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def checks(self, stats: dict, reason: str) -> list[tuple[str, str, bool]]:
        from crawler.extensions.progress import error_count
        from crawler.outcome import reached

        parsed = stats.get("govnews/fields/articles", 0)
        failed = stats.get("govnews/parse_failed", 0)
        found = stats.get("govnews/discovery/articles_found", 0)
        results = [
            ("finish reason", f"{reason} (expected finished)", reason == "finished"),
            ("portal reached", "a listing, feed or sitemap was read", reached(stats)),
            ("articles found", f"{found} linked from the portal (at least 1)", found > 0),
            ("errors", f"{error_count(stats)} (at most {self.max_errors})", error_count(stats) <= self.max_errors),
            (
                "parse failures",
                f"{failed} of {parsed + failed} article pages (at most {self.max_parse_failure_rate:.0%})",
                failed <= self.max_parse_failure_rate * max(parsed + failed, 1),
            ),
        ]
        stored = stats.get("govnews/discovery/stored_before")
        if stored:  # a full pass: the site should still link most of what it once published
            linked = stats.get("govnews/discovery/articles_linked", 0)
            results.append(
                (
                    "articles linked",
                    f"{linked} of {stored} stored (at least {self.min_linked:.0%})",
                    linked >= self.min_linked * stored,
                )
            )
        for field in FIELDS:
            present = stats.get(f"govnews/fields/{field}", 0)
            wanted = self.min_date if field == "published" else 1.0
            if not parsed:  # nothing parsed: "100% of 0" would say nothing (the checks above fail instead)
                results.append((f"coverage {field}", "no article parsed this run", True))
                continue
            share = present / parsed
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
