"""Scrapy add-ons of govnews."""

from __future__ import annotations


class BenchmarkAddon:
    """``GOVNEWS_BENCH_NO_POLITENESS = True``: delays and per-host limits off, for benchmarks against
    a local server only. Never for a real portal: it would hammer a small government server."""

    PRIORITY = 35  # above settings.py, below the command line

    def update_settings(self, settings) -> None:
        if not settings.getbool("GOVNEWS_BENCH_NO_POLITENESS"):
            return
        for name, value in (
            ("DOWNLOAD_DELAY", 0),
            ("AUTOTHROTTLE_ENABLED", False),
            ("CONCURRENT_REQUESTS_PER_DOMAIN", 16),
            ("LOG_LEVEL", "WARNING"),
            ("GOVNEWS_ALLOW_PRIVATE_HOSTS", ["127.0.0.1"]),
        ):
            settings.set(name, value, priority=self.PRIORITY)
