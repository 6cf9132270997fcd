"""The durable frontier's rules, on SQLite and PostgreSQL: checkpoints, failed fetches, a clean finish."""

from __future__ import annotations

from pipelines.db import init_db, make_engine
from pipelines.frontier import MAX_ATTEMPTS, Frontier


def _frontier(db_url: str, site: str = "a.gov.vn") -> Frontier:
    engine = make_engine(db_url)
    init_db(engine)
    return Frontier(engine, site)


def test_a_read_page_leaves_and_what_it_found_enters_in_one_step(db_url):
    frontier = _frontier(db_url)
    frontier.checkpoint(done=[], pages=[("https://a.gov.vn/news/", "listing")], articles=[])
    frontier.checkpoint(
        done=["https://a.gov.vn/news/"],
        pages=[("https://a.gov.vn/news/page-2/", "listing"), ("https://a.gov.vn/rss/", "feed")],
        articles=["https://a.gov.vn/news/c/x-1.html", "https://a.gov.vn/news/c/x-1.html"],
    )
    assert sorted((e.url, e.kind) for e in frontier.load()) == [
        ("https://a.gov.vn/news/c/x-1.html", "article"),
        ("https://a.gov.vn/news/page-2/", "listing"),
        ("https://a.gov.vn/rss/", "feed"),
    ]
    # found again by another page: still one entry
    frontier.checkpoint(done=[], pages=[("https://a.gov.vn/news/page-2/", "listing")], articles=[])
    assert frontier.size() == 3
    assert _frontier(db_url, "b.gov.vn").load() == [], "each portal has its own frontier"


def test_clean_finish_keeps_failed_fetches_until_they_are_given_up(db_url, caplog):
    frontier = _frontier(db_url)
    frontier.checkpoint(
        done=[], pages=[("https://a.gov.vn/news/page-9/", "listing")], articles=["https://a.gov.vn/x-2.html"]
    )
    frontier.failed("https://a.gov.vn/news/page-9/", "listing")
    assert frontier.finished() == 1, "a clean run clears all but the failed page"
    assert [(e.url, e.attempts) for e in frontier.load()] == [("https://a.gov.vn/news/page-9/", 1)]
    for _ in range(MAX_ATTEMPTS - 1):
        frontier.failed("https://a.gov.vn/news/page-9/", "listing")
    assert frontier.finished() == 0
    assert "given up after 3 failed fetches: https://a.gov.vn/news/page-9/" in caplog.text


def test_urls_beyond_the_column_are_left_to_rediscovery(db_url):
    frontier = _frontier(db_url)
    frontier.checkpoint(done=[], pages=[("https://a.gov.vn/" + "x" * 2100, "listing")], articles=[])
    frontier.failed("https://a.gov.vn/" + "y" * 2100, "article")
    assert frontier.size() == 0
