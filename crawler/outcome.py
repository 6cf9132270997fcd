"""One verdict per portal crawl, from its Scrapy stats: what the CLI prints and ``crawl_runs`` records.

Scrapy says "finished" whenever the engine ran dry; that is not the same as done.
A crawl that read no listing, feed or sitemap, hit its request budget, failed a
health check or dead-lettered articles is *unfinished*: it exits non-zero and the
next run of the portal resumes it (see :mod:`pipelines.frontier`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Verdict:
    reason: str  # one line, as printed in the crawl summary
    ok: bool  # finished cleanly: the frontier may be cleared, "all known" may end a listing

    def as_dict(self) -> dict:
        return {"outcome": self.reason, "ok": self.ok}


def reached(stats: dict) -> bool:
    """Some listing, feed, sitemap or API page was read."""
    return any(stats.get(f"govnews/discovery/{kind}") for kind in ("pages", "feeds", "sitemaps", "api"))


def verdict(stats: dict, reason: str | None) -> Verdict:
    reason = reason or stats.get("finish_reason") or "not started"
    if reason != "finished":
        if reason == "db_error" or stats.get("govnews/deadletter"):
            return Verdict(f"{reason}: the database failed; unsaved articles are re-stored by the next run", False)
        return Verdict(f"{reason}: unfinished, the next run resumes", False)
    if not reached(stats):
        return Verdict("portal unreachable (no listing, feed or sitemap could be read)", False)
    if stats.get("govnews/deadletter"):
        return Verdict("finished with unsaved articles (dead-lettered): the next run re-stores them", False)
    if stats.get("govnews/limit/requests"):
        sent = stats.get("govnews/requests", stats.get("downloader/request_count", 0))
        return Verdict(f"request budget hit ({sent} requests): unfinished, the next run resumes", False)
    if stats.get("govnews/health/failed"):
        return Verdict(f"health check failed: {stats['govnews/health/failed']}", False)
    return Verdict("finished", True)
