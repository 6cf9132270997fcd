"""What a crawl exposes besides its requests: no listening socket, no token file, no fetch around the guards.

Each check runs the real CLI in its own process, against a local server or a host that cannot
resolve, so that what is asserted is what a user's crawl (or ``govnews detect``) does.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from conftest import PG_URL, ROOT, WARCS, run_govnews
from mockserver import MockServer, routes_from_warc

NUKEVIET = WARCS / "nukeviet-khxhnvnghean" / "site.warc.gz"
QUICK = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_TIMEOUT=5"]
LOCAL = ["-s", "GOVNEWS_ALLOW_PRIVATE_HOSTS=127.0.0.1"]
HTML = [("Content-Type", "text/html; charset=utf-8")]


def _listening(pid: int) -> set[str]:
    """The process's listening TCP sockets, as host:port (empty once it has gone)."""
    try:
        connections = psutil.Process(pid).net_connections(kind="inet")
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return set()
    return {f"{c.laddr.ip}:{c.laddr.port}" for c in connections if c.status == psutil.CONN_LISTEN}


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def _watched_crawl(tmp_path: Path, *extra: str) -> dict:
    """Crawl a slowed-down local copy of the NukeViet corpus in a subprocess whose HOME and
    XDG_STATE_HOME are empty temp dirs, sampling its listening sockets and those dirs while
    the server is being crawled (the remote-control server lives from engine start to stop)."""
    home, state = tmp_path / "home", tmp_path / "state"
    home.mkdir()
    state.mkdir()

    def slow(request) -> bool:
        time.sleep(0.05)  # a few seconds of crawl to sample
        return False

    seen: dict = {"listening": set(), "files": set(), "samples": 0}
    with MockServer(routes_from_warc(NUKEVIET), slow) as server:
        log = (tmp_path / "crawl.log").open("w+", encoding="utf-8")
        crawl = subprocess.Popen(
            [sys.executable, "-m", "crawler.cli", "crawl", server.url("/"), "--family", "nukeviet"]
            + ["--db", f"sqlite:///{tmp_path / 'c.db'}", *QUICK, *LOCAL, *extra],
            cwd=ROOT,
            env={**os.environ, "HOME": str(home), "XDG_STATE_HOME": str(state)},
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        try:
            deadline = time.monotonic() + 240
            while crawl.poll() is None and time.monotonic() < deadline:
                if server.requests:  # the engine runs: requests reach the server
                    seen["listening"] |= _listening(crawl.pid)
                    seen["files"] |= _files(home) | _files(state)
                    seen["samples"] += 1
                time.sleep(0.02)
        finally:
            if crawl.poll() is None:
                crawl.kill()
            crawl.wait(timeout=30)
        seen["requests"] = list(server.requests)
    log.seek(0)
    seen["log"] = log.read()
    log.close()
    seen["returncode"] = crawl.returncode
    seen["after"] = _files(home) | _files(state)
    return seen


def test_crawl_opens_no_listening_socket_and_writes_no_token_file(tmp_path):
    """Scrapy 2.19's RemoteControl (an HTTP server that runs posted Python) is off in our settings."""
    seen = _watched_crawl(tmp_path)
    assert seen["returncode"] == 0, seen["log"][-3000:]
    assert len(seen["requests"]) > 20
    assert seen["samples"] >= 5, "the crawl was sampled while it ran"
    assert seen["listening"] == set(), f"the crawl listened on {seen['listening']}"
    assert seen["files"] == set(), f"the crawl wrote {seen['files']} under HOME / XDG_STATE_HOME"
    assert seen["after"] == set()
    assert "Remote control" not in seen["log"]
    assert "remote_control" not in seen["log"]


def test_the_socket_watch_sees_remote_control_when_it_is_on(tmp_path):
    """The check above can fail: with the extension on, the same watch finds its port and job file."""
    seen = _watched_crawl(tmp_path, "-s", "REMOTE_CONTROL_ENABLED=True")
    assert seen["returncode"] == 0, seen["log"][-3000:]
    assert any(address.startswith("127.0.0.1:") for address in seen["listening"]), seen["listening"]
    assert any("job_files" in path for path in seen["files"]), seen["files"]


def _portal(robots: bytes) -> dict:
    """A NukeViet-shaped portal: a home page linking a listing and two articles."""
    links = "<a href='/news/tin/'>Tin</a><a href='/news/tin/bai-1.html'>1</a><a href='/news/tin/bai-2.html'>2</a>"
    article = (
        "<html><head><meta charset='utf-8'><meta name='generator' content='NukeViet v4.5'></head><body>"
        "<h1>Bài viết</h1><div id='news-bodyhtml'><p>Nội dung bài viết.</p></div></body></html>"
    ).encode()
    home = f"<html><head><meta name='generator' content='NukeViet v4.5'></head><body>{links}</body></html>"
    return {
        "/": (200, HTML, home.encode()),
        "/robots.txt": (200, [("Content-Type", "text/plain")], robots),
        "/news/tin/": (200, HTML, f"<html><body>{links}</body></html>".encode()),
        "/news/tin/bai-1.html": (200, HTML, article),
        "/news/tin/bai-2.html": (200, HTML, article),
    }


def test_detect_refuses_a_private_address_and_fetches_nothing():
    """detect goes through the crawl's downloader stack: the private-address guard refuses 127.0.0.1."""
    with MockServer(_portal(b"User-agent: *\nDisallow:\n")) as server:
        result = run_govnews("detect", server.url("/"), "--family", "nukeviet", *QUICK, timeout=120)
    assert server.requests == [], "not even robots.txt is fetched from a private address"
    assert result.returncode == 1, result.stderr[-2000:]
    assert "private" in result.stderr
    assert "Traceback" not in result.stderr


def test_detect_obeys_robots_txt():
    """A path robots.txt disallows is never fetched by detect; with it allowed, detect does fetch it."""
    with MockServer(_portal(b"User-agent: *\nDisallow: /admin/\n")) as allowed:
        run_govnews("detect", allowed.url("/"), "--family", "nukeviet", *QUICK, *LOCAL, timeout=120)
    assert any(path.startswith("/news/") for path in allowed.requests), allowed.requests
    with MockServer(_portal(b"User-agent: *\nDisallow: /news/\n")) as server:
        result = run_govnews("detect", server.url("/"), "--family", "nukeviet", *QUICK, *LOCAL, timeout=120)
    assert "/robots.txt" in server.requests
    assert "/" in server.requests
    assert not [path for path in server.requests if path.startswith("/news/")], server.requests
    assert "Traceback" not in result.stderr


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("kind", ["dns", "refused"])
def test_unreachable_robots_txt_is_one_warning(kind, tmp_path):
    """DNS failure or a refused connection on robots.txt: one WARNING naming the host and the reason;
    no traceback, no retry give-up ERROR, and no request blamed on robots.txt rules."""
    if kind == "dns":
        url, host, extra = "http://nonexistent.invalid/", "nonexistent.invalid", []  # .invalid never resolves
    else:
        port = _closed_port()
        url, host, extra = f"http://127.0.0.1:{port}/", f"127.0.0.1:{port}", LOCAL
    result = run_govnews(
        "crawl", url, "--family", "nukeviet", "--db", f"sqlite:///{tmp_path / 'r.db'}", *QUICK, *extra, timeout=120
    )
    assert result.returncode == 1, "an unreachable portal is a failed crawl"
    lines = re.findall(rf"^.* WARNING: robots\.txt of {re.escape(host)} unreachable: .+$", result.stderr, re.M)
    assert len(lines) == 1, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    assert "Forbidden by robots.txt" not in result.stderr
    assert "Gave up retrying" not in result.stderr
    assert "] ERROR:" not in result.stderr
    assert "host deferred" in result.stderr


@pytest.mark.skipif(not PG_URL, reason="no PostgreSQL server for tests (set GOVNEWS_TEST_PG_URL)")
def test_postgres_test_databases_are_dropped_after_each_test(tmp_path):
    """The ``db_url`` fixture drops the database it made, even while the test's engine still holds a
    connection to it: test runs leave the shared server as they found it."""
    (tmp_path / "conftest.py").write_text((Path(__file__).parent / "conftest.py").read_text(encoding="utf-8"))
    (tmp_path / "test_inner.py").write_text(
        "from sqlalchemy import create_engine, text\n"
        "KEEP = []\n\n"
        "def test_store(db_url):\n"
        "    engine = create_engine(db_url)\n"
        "    KEEP.append(engine)  # never disposed: a pooled connection stays open at teardown\n"
        "    with engine.begin() as connection:\n"
        "        connection.execute(text('CREATE TABLE t (x int)'))\n"
        "        assert connection.scalar(text('SELECT current_database()')).startswith('govnews_t_')\n",
        encoding="utf-8",
    )
    before = _test_databases()
    inner = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "postgresql", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert inner.returncode == 0, inner.stdout[-3000:] + inner.stderr[-2000:]
    assert "1 passed" in inner.stdout
    assert _test_databases() == before


def _test_databases() -> set[str]:
    from sqlalchemy import create_engine, text

    engine = create_engine(PG_URL)
    try:
        with engine.connect() as connection:
            return set(connection.scalars(text("SELECT datname FROM pg_database WHERE datname LIKE 'govnews_t_%'")))
    finally:
        engine.dispose()
