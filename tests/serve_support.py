"""A store for the ``govnews serve`` tests: three corpora crawled from their WARCs, an edited and a
removed article (khxhnvnghean's later recording), syndicated copies, and one hostile article whose
every field tries to run script in the viewer's browser."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from conftest import ROOT, WARCS, run_govnews

CORPORA = [
    ("nukeviet-khxhnvnghean", "site.warc.gz"),
    ("nukeviet-khxhnvnghean", "later.warc.gz"),
    ("nukeviet-skhcn.nghean.gov.vn", "site.warc.gz"),
    ("wordpress-vinhthanh.cantho.gov.vn", "site.warc.gz"),
]
HOSTILE_URL = "https://hostile.example.gov.vn/tin/bai-doc-hai.html"
HOSTILE_TITLE = "Bài viết thử nghiệm an toàn hiển thị"
# every way a stored page could try to run script; window.pwned must stay undefined in the browser
HOSTILE_BODY_HTML = (
    "<p>Đoạn văn mở đầu của bài viết thử nghiệm an toàn.</p>"
    "<script>window.pwned=1</script>"
    '<img src=x onerror="window.pwned=2">'
    '<a href="javascript:window.pwned=3">liên kết</a>'
    '<svg onload="window.pwned=4"></svg>'
    '<iframe srcdoc="&lt;script&gt;parent.pwned=5&lt;/script&gt;"></iframe>'
    '<p style="background:url(javascript:window.pwned=6)" onclick="window.pwned=7">Đoạn văn thứ hai.</p>'
    '<object data="javascript:window.pwned=8"></object>'
    '<form action="javascript:window.pwned=9"><button>b</button></form>'
)
HOSTILE_SCRIPTS = "<script>window.pwned=10</script><img src=x onerror=window.pwned=11>"


def start_url(corpus: str) -> str:
    first = json.loads((WARCS / corpus / "truth.jsonl").read_text(encoding="utf-8").splitlines()[0])["url"]
    scheme, rest = first.split("://", 1)
    return f"{scheme}://{rest.split('/', 1)[0]}/"


def build_store(path: Path) -> str:
    """Crawl the corpora into a new SQLite file and add the hostile article; the URL."""
    from crawler.items import Article
    from pipelines.db import make_engine
    from pipelines.store import ArticleStore

    url = f"sqlite:///{path}"
    for corpus, warc in CORPORA:
        extra = ["--full"] if warc != "site.warc.gz" else []
        archive = str(WARCS / corpus / warc)
        result = run_govnews("crawl", start_url(corpus), "--archive", archive, "--db", url, "-q", *extra)
        assert result.returncode == 0, result.stderr[-2000:]
    engine = make_engine(url)
    ArticleStore(engine).write(
        [
            Article(
                url=HOSTILE_URL,
                site="hostile.example.gov.vn",
                title=HOSTILE_TITLE + " " + HOSTILE_SCRIPTS,
                published=datetime(2025, 10, 1, 2, 0, tzinfo=UTC),
                summary="Tóm tắt " + HOSTILE_SCRIPTS,
                body_text="Đoạn văn mở đầu của bài viết thử nghiệm an toàn.\n\nĐoạn văn thứ hai.",
                body_html=HOSTILE_BODY_HTML,
                captions=[
                    {"image_url": "javascript:window.pwned=12", "caption": "Chú thích " + HOSTILE_SCRIPTS},
                    {"image_url": "https://hostile.example.gov.vn/anh.jpg\" onerror=\"window.pwned=13", "caption": "x"},
                ],
                source="Nguồn " + HOSTILE_SCRIPTS,
                source_url="javascript:window.pwned=14",
                author="<b onmouseover=window.pwned=15>Tác giả</b>",
                categories=["<script>window.pwned=16</script>Tin"],
                tags=["<img src=x onerror=window.pwned=17>"],
                attachments=["javascript:window.pwned=18"],
                family="generic",
            )
        ]
    )
    engine.dispose()
    add_hostile_run(path)
    return url


# A crawl run whose portal and failed check hold markup: not a host the registry admits now, but a
# row another tool, an older govnews or a hand edit may leave; the dashboard's table chart writes
# its cells with innerHTML.
HOSTILE_RUN_SITE = "hostile-run.example.gov.vn<img src=x onerror=window.pwned=20>"
HOSTILE_CHECK = "<script>window.pwned=21</script><img src=x onerror=window.pwned=22>"


def add_hostile_run(path: Path) -> None:
    import sqlite3

    stats = {
        "summary": {"health": "failed"},
        "scrapy": {"govnews/fields/articles": 3, "govnews/fields/published": 3, "govnews/health/failed": HOSTILE_CHECK},
    }
    with sqlite3.connect(path) as connection:
        connection.execute(
            "INSERT INTO crawl_runs (site, started_at, finished_at, mode, stats, outcome) "
            "VALUES (?, '2025-10-01 00:00:00', '2025-10-01 00:05:00', 'incremental', ?, ?)",
            (HOSTILE_RUN_SITE, json.dumps(stats), "unfinished: <b onmouseover=window.pwned=23>failed</b>"),
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """``govnews serve`` in its own process, as a user starts it."""

    def __init__(self, db_url: str, log: Path, host: str = "127.0.0.1") -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = log
        self.log = log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "crawler.cli", "serve", "--db", db_url, "--port", str(self.port), "--host", host],
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(self.base + "/-/versions.json", timeout=2):  # noqa: S310 - local
                    return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"govnews serve did not start: {log.read_text()[-2000:]}") from None
                time.sleep(0.2)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()
