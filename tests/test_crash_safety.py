"""kill -9 at any point, then a rerun: every article stored exactly once; SIGINT commits what was parsed."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from conftest import ROOT

ARTICLES = 300


@pytest.fixture
def portal():
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "synthetic_portal.py"), "--articles", str(ARTICLES), "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    line = server.stdout.readline()
    url = line.rsplit(" on ", 1)[1].strip()
    yield url
    server.terminate()
    server.wait(timeout=10)


def _crawl(url: str, db: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "crawler.cli",
            "crawl",
            url,
            "--family",
            "nukeviet",
            "--db",
            f"sqlite:///{db}",
            "-s",
            "GOVNEWS_BENCH_NO_POLITENESS=True",
            "-s",
            "CONCURRENT_REQUESTS_PER_DOMAIN=2",
            "-s",
            "GOVNEWS_STORE_BATCH=10",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _stored(db) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as connection:
            return connection.execute("SELECT count(*) FROM articles").fetchone()[0]
    except sqlite3.Error:
        return 0


def _wait_for(db, count: int, process: subprocess.Popen) -> None:
    for _ in range(600):
        if _stored(db) >= count or process.poll() is not None:
            return
        time.sleep(0.1)


def test_kill_9_then_rerun_stores_every_article_once(portal, tmp_path):
    db = tmp_path / "crash.db"
    first = _crawl(portal, db)
    _wait_for(db, 60, first)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    assert 0 < _stored(db) < ARTICLES, "killed mid-crawl"
    second = _crawl(portal, db)
    assert second.wait(timeout=300) == 0, second.stderr.read()[-2000:]
    with sqlite3.connect(db) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert connection.execute("SELECT count(*) FROM articles").fetchone()[0] == ARTICLES
        assert connection.execute("SELECT count(DISTINCT url) FROM articles").fetchone()[0] == ARTICLES
        unfinished = connection.execute("SELECT count(*) FROM crawl_runs WHERE finished_at IS NULL").fetchone()[0]
        assert unfinished == 1, "the killed run is visible as unfinished"


def test_sigint_stops_cleanly_with_everything_parsed_committed(portal, tmp_path):
    db = tmp_path / "stop.db"
    crawl = _crawl(portal, db)
    _wait_for(db, 40, crawl)
    crawl.send_signal(signal.SIGINT)
    crawl.wait(timeout=120)
    with sqlite3.connect(db) as connection:
        stats = json.loads(connection.execute("SELECT stats FROM crawl_runs").fetchone()[0])
        stored = connection.execute("SELECT count(*) FROM articles").fetchone()[0]
    assert stats["scrapy"]["finish_reason"] == "shutdown"
    assert stored == stats["scrapy"]["item_scraped_count"], "every parsed article was committed"
    assert stored < ARTICLES
