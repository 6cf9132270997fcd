"""Health checks and verdicts that mean what they say: 0 articles, an unreached portal, a full pass that
finds far fewer than is stored all fail the crawl, and ``crawl_runs`` records what the CLI printed."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

from conftest import ROOT, WARCS, run_govnews

from crawler.extensions.health import HealthChecks
from crawler.outcome import verdict

WORDPRESS = (
    "https://xaphuchoa.tanyen.bacgiang.gov.vn/",
    WARCS / "wordpress-xaphuchoa.tanyen.bacgiang.gov.vn" / "site.warc.gz",
)


def _outcomes(db) -> list[tuple[str, str]]:
    with sqlite3.connect(db) as connection:
        return connection.execute("SELECT finish_reason, outcome FROM crawl_runs").fetchall()


def test_wrong_family_finds_no_article_and_fails(tmp_path):
    db = tmp_path / "g.sqlite3"
    url, warc = WORDPRESS
    result = run_govnews("crawl", url, "--archive", str(warc), "--family", "nukeviet", "--db", f"sqlite:///{db}", "-q")
    assert result.returncode == 1
    assert "health check failed: articles found" in result.stderr
    assert "no article: family nukeviet" in result.stderr, "the diagnostics say what was tried"
    [(reason, outcome)] = _outcomes(db)
    assert reason == "finished"
    assert outcome.startswith("health check failed: articles found")


def test_unreachable_portal_is_recorded_as_the_cli_printed_it(tmp_path):
    db = tmp_path / "g.sqlite3"
    result = run_govnews(
        "crawl", "http://nonexistent.invalid/", "--family", "nukeviet", "--db", f"sqlite:///{db}", "-q"
    )
    assert result.returncode == 1
    assert "portal unreachable" in result.stderr
    [(_, outcome)] = _outcomes(db)
    assert outcome.startswith("portal unreachable"), "crawl_runs says what the CLI said, not 'finished'"
    runs = run_govnews("runs", "--db", f"sqlite:///{db}")
    assert runs.returncode == 0
    header, row = runs.stdout.splitlines()
    assert row[header.index("outcome") :].startswith("portal unreachable")


class _Crawler:
    class settings:  # noqa: N801 - a stand-in for Scrapy's Settings: the defaults
        @staticmethod
        def getfloat(name, default):
            return default

        @staticmethod
        def getint(name, default):
            return default


def _failed(stats: dict) -> list[str]:
    return [name for name, _, ok in HealthChecks(_Crawler()).checks(stats, "finished") if not ok]


def test_zero_articles_is_no_pass():
    stats = {"govnews/discovery/pages": 3, "govnews/discovery/articles_found": 0}
    assert _failed(stats) == ["articles found"]
    stats["govnews/health/failed"] = "articles found"
    assert not verdict(stats, "finished").ok


def test_full_pass_linking_under_half_of_what_is_stored_fails():
    base = {"govnews/discovery/pages": 40, "govnews/discovery/articles_found": 1000, "govnews/fields/articles": 10}
    base.update({f"govnews/fields/{f}": 10 for f in ("title", "published", "body_text")})
    assert _failed({**base, "govnews/discovery/stored_before": 1000, "govnews/discovery/articles_linked": 980}) == []
    shrunk = {**base, "govnews/discovery/stored_before": 1000, "govnews/discovery/articles_linked": 120}
    assert _failed(shrunk) == ["articles linked"]


def test_budget_hit_and_interruptions_are_unfinished():
    reached = {"govnews/discovery/pages": 1}
    assert verdict({**reached, "govnews/limit/requests": 1, "govnews/requests": 800}, "finished").reason == (
        "request budget hit (800 requests): unfinished, the next run resumes"
    )
    assert not verdict(reached, "shutdown").ok
    assert verdict(reached, "finished").ok


def test_bare_scrapy_crawl_portal_is_a_usage_error_not_a_traceback():
    result = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "portal"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2
    assert "the portal spider needs -a site=<registry host> or -a url=<start URL>" in result.stderr
    assert "Traceback" not in result.stderr
    assert "Task exception was never retrieved" not in result.stderr
