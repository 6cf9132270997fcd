"""End to end: the CLI crawls a recorded portal into SQLite and exports what the truth says."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from conftest import WARCS, read_jsonl, run_govnews
from mockserver import MockServer, routes_from_warc
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from pipelines import models as m

NUKEVIET = WARCS / "nukeviet-khxhnvnghean"
WORDPRESS = WARCS / "wordpress-xaphuchoa.tanyen.bacgiang.gov.vn"
FAST = [
    "-s",
    "DOWNLOAD_DELAY=0",
    "-s",
    "AUTOTHROTTLE_ENABLED=False",
    "-s",
    "CONCURRENT_REQUESTS_PER_DOMAIN=8",
    "-s",
    "GOVNEWS_ALLOW_PRIVATE_HOSTS=127.0.0.1",
]


@pytest.fixture(scope="module")
def nukeviet_crawl(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("e2e")
    db = f"sqlite:///{tmp / 'crawl.db'}"
    crawl = run_govnews(
        "crawl", "https://khxhnvnghean.gov.vn/", "--archive", str(NUKEVIET / "site.warc.gz"), "--db", db
    )
    exported = run_govnews("export", "--db", db, "--format", "jsonl", "--output", str(tmp / "out.jsonl"))
    return crawl, exported, db, read_jsonl(tmp / "out.jsonl") if (tmp / "out.jsonl").exists() else []


def test_crawl_succeeds_and_summarises(nukeviet_crawl):
    crawl, exported, _, _ = nukeviet_crawl
    assert crawl.returncode == 0, crawl.stderr[-3000:]
    assert "govnews crawl summary" in crawl.stderr
    assert exported.returncode == 0, exported.stderr


def test_every_article_stored_once(nukeviet_crawl):
    _, _, db, records = nukeviet_crawl
    truth = read_jsonl(NUKEVIET / "truth.jsonl")
    assert sorted(r["url"] for r in records) == sorted(t["url"] for t in truth)
    with Session(create_engine(db)) as session:
        assert session.scalar(select(func.count()).select_from(m.Article)) == len(truth)
        captions = session.scalar(select(func.count()).select_from(m.Image))
        assert captions == sum(len(t["captions"]) for t in truth)
        assert session.scalar(select(func.count()).select_from(m.Attachment)) == 1


@pytest.mark.parametrize(
    "field",
    [
        "title",
        "summary",
        "body_text",
        "captions",
        "source",
        "source_url",
        "author",
        "categories",
        "tags",
        "attachments",
        "duplicate_of",
    ],
)
def test_exported_field_matches_truth(nukeviet_crawl, field):
    _, _, _, records = nukeviet_crawl
    by_url = {r["url"]: r for r in records}
    for truth in read_jsonl(NUKEVIET / "truth.jsonl"):
        assert by_url[truth["url"]][field] == truth[field], truth["url"]


def test_exported_times_are_iso_with_offset(nukeviet_crawl):
    _, _, _, records = nukeviet_crawl
    by_url = {r["url"]: r for r in records}
    for truth in read_jsonl(NUKEVIET / "truth.jsonl"):
        for field in ("published", "updated"):
            got = by_url[truth["url"]][field]
            if truth[field] is None:
                assert got is None
            else:
                assert got.endswith("+07:00")
                assert datetime.fromisoformat(got) == datetime.fromisoformat(truth[field])


def test_second_category_url_kept(nukeviet_crawl):
    _, _, _, records = nukeviet_crawl
    (article,) = [r for r in records if r["url"].endswith("hoi-thao-song-lam-dong-chay-van-hoa-lich-su-15.html")]
    assert (
        "https://khxhnvnghean.gov.vn/news/khoa-hoc-cong-nghe/hoi-thao-song-lam-dong-chay-van-hoa-lich-su-15.html"
        in (article["other_urls"])
    )


def test_csv_export_is_formula_safe(nukeviet_crawl, tmp_path):
    _, _, db, _ = nukeviet_crawl
    result = run_govnews("export", "--db", db, "--format", "csv", "--output", str(tmp_path / "out.csv"))
    assert result.returncode == 0
    import csv

    rows = list(csv.DictReader((tmp_path / "out.csv").open(encoding="utf-8")))
    assert len(rows) == 33
    assert all(not row["title"].startswith(("=", "+", "@")) for row in rows)
    assert json.loads(rows[0]["categories"])


def test_live_crawl_records_a_warc_that_replays_the_same(tmp_path):
    """A crawl of a local server (the live code path), recorded, then replayed from the recording."""
    routes = routes_from_warc(NUKEVIET / "site.warc.gz")
    record = tmp_path / "recorded.warc.gz"
    with MockServer(routes) as server:
        live = run_govnews(
            "crawl",
            server.url("/"),
            "--family",
            "nukeviet",
            "--record",
            str(record),
            "--db",
            f"sqlite:///{tmp_path / 'live.db'}",
            *FAST,
        )
        assert live.returncode == 0, live.stderr[-3000:]
        assert "/robots.txt" in server.requests
        article_requests = [p for p in server.requests if p.endswith(".html")]
        assert len(article_requests) == len(set(article_requests)), "an article was fetched twice"
    replay = run_govnews(
        "crawl",
        server.url("/"),
        "--family",
        "nukeviet",
        "--archive",
        str(record),
        "--db",
        f"sqlite:///{tmp_path / 'replay.db'}",
    )
    assert replay.returncode == 0, replay.stderr[-3000:]
    for name in ("live", "replay"):
        engine = create_engine(f"sqlite:///{tmp_path / (name + '.db')}")
        with Session(engine) as session:
            assert session.scalar(select(func.count()).select_from(m.Article)) == 33, name


def test_missing_from_archive_is_a_counted_404(tmp_path):
    result = run_govnews(
        "crawl",
        "https://not-recorded.gov.vn/",
        "--family",
        "nukeviet",
        "--archive",
        str(NUKEVIET / "site.warc.gz"),
        "--db",
        f"sqlite:///{tmp_path / 'x.db'}",
    )
    assert result.returncode != 0, "a crawl that stored nothing from an unreachable portal must fail"
    assert "not-recorded.gov.vn" in result.stderr
    assert "'govnews/archive/miss'" in result.stderr


def test_unknown_registry_host_or_bad_url_is_a_usage_error(tmp_path):
    result = run_govnews("crawl", "file:///etc/passwd", "--db", f"sqlite:///{tmp_path / 'x.db'}")
    assert result.returncode == 2
    assert "not an http(s) URL" in result.stderr


def test_scrapy_crawl_command_runs_the_same_spider(tmp_path):
    import subprocess
    import sys

    from conftest import ROOT

    db = f"sqlite:///{tmp_path / 'scrapy.db'}"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "scrapy",
            "crawl",
            "portal",
            "-a",
            "site=khxhnvnghean.gov.vn",
            "-s",
            f"GOVNEWS_DB={db}",
            "-s",
            f"GOVNEWS_ARCHIVES={NUKEVIET / 'site.warc.gz'}",
            "-L",
            "WARNING",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    with Session(create_engine(db)) as session:
        assert session.scalar(select(func.count()).select_from(m.Article)) == 33
        run = session.scalars(select(m.CrawlRun)).one()
        assert run.finish_reason == "finished"
        assert run.finished_at is not None
        assert run.stats["summary"]["articles"]["new"] == 33
        assert run.stats["scrapy"]["item_scraped_count"] == 33


@pytest.fixture(scope="module")
def wordpress_crawl(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("wp")
    db = f"sqlite:///{tmp / 'crawl.db'}"
    crawl = run_govnews(
        "crawl", "https://xaphuchoa.tanyen.bacgiang.gov.vn/", "--archive", str(WORDPRESS / "site.warc.gz"), "--db", db
    )
    assert crawl.returncode == 0, crawl.stderr[-3000:]
    assert "looks like wordpress" in crawl.stderr, "a host outside the registry is detected"
    run_govnews("export", "--db", db, "--output", str(tmp / "out.jsonl"))
    return read_jsonl(tmp / "out.jsonl")


@pytest.mark.parametrize(
    "field",
    [
        "title",
        "published",
        "summary",
        "body_text",
        "captions",
        "source",
        "source_url",
        "author",
        "categories",
        "tags",
        "attachments",
        "duplicate_of",
    ],
)
def test_wordpress_exported_field_matches_truth(wordpress_crawl, field):
    by_url = {r["url"]: r for r in wordpress_crawl}
    truth = read_jsonl(WORDPRESS / "truth.jsonl")
    assert sorted(by_url) == sorted(t["url"] for t in truth), "every post once, no page or archive"
    for article in truth:
        assert by_url[article["url"]][field] == article[field], article["url"]
