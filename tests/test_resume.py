"""Nothing lost after any interruption: a crawl stopped any way is completed by the next run.

Each case crawls the 3,000-article synthetic portal (``bench/synthetic_portal.py``,
served from this process on 127.0.0.1) in a real ``govnews crawl`` process, stops
it -- SIGINT, ``kill -9`` at several moments, the request budget, the database
stopped under it -- and asserts that one incremental rerun stores all 3,000
articles, each once.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))
from synthetic_portal import make_handler  # noqa: E402

TOTAL = 3000


@pytest.fixture(scope="module")
def portal() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(TOTAL))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def crawl_command(portal: str, db: str, tmp_path: Path, *settings: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "crawler.cli",
        "crawl",
        portal,
        "--family",
        "nukeviet",
        "--db",
        db,
        "-q",
        "-s",
        "GOVNEWS_BENCH_NO_POLITENESS=True",
        "-s",
        "GOVNEWS_ALLOW_PRIVATE_HOSTS=127.0.0.1",
        "-s",
        f"GOVNEWS_DEADLETTER_DIR={tmp_path / 'dead'}",
        *[part for pair in settings for part in ("-s", pair)],
    ]


def start(command: list[str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(command, cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT)


def wait_for(condition: Callable[[], bool], process: subprocess.Popen, deadline: float = 120) -> None:
    end = time.monotonic() + deadline
    while not condition():
        assert process.poll() is None, "the crawl ended before the moment to stop it"
        assert time.monotonic() < end, "the moment to stop the crawl never came"
        time.sleep(0.05)


def sqlite_count(path: Path, sql: str) -> int:
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1) as connection:
            return connection.execute(sql).fetchone()[0]
    except sqlite3.OperationalError:  # the schema is being created, or the table does not exist yet
        return 0


def stored(path: Path) -> int:
    return sqlite_count(path, "SELECT count(*) FROM articles")


def frontier(path: Path) -> int:
    return sqlite_count(path, "SELECT count(*) FROM crawl_frontier")


def rerun(portal: str, db: str, tmp_path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        crawl_command(portal, db, tmp_path), cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
    )


def assert_complete(path: Path, result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 0, result.stderr[-2000:]
    assert stored(path) == TOTAL
    assert sqlite_count(path, "SELECT count(DISTINCT source_key) FROM articles") == TOTAL
    assert frontier(path) == 0, "a clean run clears the frontier"
    assert sqlite_count(path, "SELECT count(*) FROM crawl_runs WHERE outcome = 'finished'") == 1


def test_sigint_then_one_rerun_stores_every_article(portal, tmp_path):
    db = tmp_path / "g.sqlite3"
    process = start(crawl_command(portal, f"sqlite:///{db}", tmp_path), tmp_path / "first.log")
    wait_for(lambda: stored(db) >= 200, process)
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=120) == 1, "an interrupted crawl is unfinished: exit 1"
    first = stored(db)
    assert 0 < first < TOTAL
    assert frontier(db) > 0, "the interrupted run left its frontier"
    log = (tmp_path / "first.log").read_text()
    assert "FAILED" in log
    assert "the next run resumes" in log
    assert sqlite_count(db, "SELECT count(*) FROM crawl_runs WHERE outcome LIKE '%next run resumes%'") == 1
    assert_complete(db, rerun(portal, f"sqlite:///{db}", tmp_path))


@pytest.mark.parametrize(
    "moment",
    [
        pytest.param(lambda db: frontier(db) > 0 and stored(db) == 0, id="during-discovery"),
        pytest.param(lambda db: stored(db) >= 1000, id="a-third-stored"),
        pytest.param(lambda db: stored(db) >= 2900, id="nearly-done"),
    ],
)
def test_kill_9_at_any_moment_then_one_rerun_stores_every_article(portal, tmp_path, moment):
    db = tmp_path / "g.sqlite3"
    process = start(crawl_command(portal, f"sqlite:///{db}", tmp_path), tmp_path / "first.log")
    wait_for(lambda: moment(db), process)
    process.kill()
    process.wait(timeout=30)
    assert stored(db) < TOTAL
    result = rerun(portal, f"sqlite:///{db}", tmp_path)
    assert_complete(db, result)
    runs = sqlite_count(db, "SELECT count(*) FROM crawl_runs WHERE outcome LIKE 'interrupted%'")
    assert runs == 1, "the killed run is recorded as interrupted, not running for ever"


def test_request_budget_counts_requests_sent_and_the_rerun_resumes(portal, tmp_path):
    db = tmp_path / "g.sqlite3"
    budget = subprocess.run(
        crawl_command(portal, f"sqlite:///{db}", tmp_path, "GOVNEWS_MAX_REQUESTS=800"),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert budget.returncode == 1, "a crawl that hit its budget is unfinished"
    assert "request budget hit (800 requests)" in budget.stderr
    sent = sqlite_count(db, "SELECT count(*) FROM crawl_runs")
    assert sent == 1
    # 800 requests sent: robots.txt aside, every one is a listing page or an article
    first = stored(db)
    assert 500 <= first < 800, first
    assert_complete(db, rerun(portal, f"sqlite:///{db}", tmp_path))


def _postgres_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3]))
    return found[-1].parent if found else None


@pytest.fixture
def private_postgres() -> Iterator[tuple[str, Callable[[], None], Callable[[], None]]]:
    """A PostgreSQL cluster of this test's own (the shared one must not be stopped): URL, stop, start."""
    import shutil
    import socket
    import tempfile

    binaries = _postgres_bin()
    if binaries is None or os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail("CI must run the database-stopped case: PostgreSQL binaries and root are needed")
        pytest.skip("needs PostgreSQL server binaries and root (to run them as the postgres user)")
    home = Path(tempfile.mkdtemp(prefix="govnews-pg-", dir="/tmp"))
    shutil.chown(home, "postgres")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    def as_postgres(*command: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *command], check=True, capture_output=True, timeout=120)

    data = home / "data"
    as_postgres(str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres")
    options = f"-p {port} -k {home} -c listen_addresses=127.0.0.1 -c fsync=off"

    def start_server() -> None:
        as_postgres(str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(home / "log"), "-w", "start")

    def stop_server() -> None:
        as_postgres(str(binaries / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")

    start_server()
    as_postgres(str(binaries / "createdb"), "-h", str(home), "-p", str(port), "govnews")
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/govnews", stop_server, start_server
    finally:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(home, ignore_errors=True)


def pg_count(url: str, sql: str) -> int:
    import psycopg

    try:
        with psycopg.connect(url.replace("postgresql+psycopg", "postgresql"), connect_timeout=2) as connection:
            return connection.execute(sql).fetchone()[0]
    except psycopg.Error:
        return 0


def test_database_stopped_mid_crawl_then_restarted_loses_nothing(portal, tmp_path, private_postgres):
    url, stop_server, start_server = private_postgres
    process = start(crawl_command(portal, url, tmp_path), tmp_path / "first.log")
    wait_for(lambda: pg_count(url, "SELECT count(*) FROM articles") >= 300, process)
    stop_server()
    assert process.wait(timeout=180) == 1, "a crawl whose database went away is unfinished"
    log = (tmp_path / "first.log").read_text()
    assert "dead-letter" in log or "unsaved articles" in log
    letters = list((tmp_path / "dead").glob("deadletter-*.jsonl"))
    assert len(letters) == 1
    start_server()
    before = pg_count(url, "SELECT count(*) FROM articles")
    assert before < TOTAL
    result = rerun(portal, url, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert pg_count(url, "SELECT count(*) FROM articles") == TOTAL
    assert pg_count(url, "SELECT count(DISTINCT source_key) FROM articles") == TOTAL
    assert pg_count(url, "SELECT count(*) FROM crawl_frontier") == 0
    assert not letters[0].exists(), "the dead-letter file is marked done once stored"
    assert letters[0].with_name(letters[0].name + ".done").exists()
