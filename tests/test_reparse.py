"""Kept pages and ``govnews reparse``: a parser change reaches stored articles without refetching.

Crawls keep every article page (crawler.keep_pages); reparse re-extracts the stored
articles from them and writes a new version exactly where a field changed.
"""

from __future__ import annotations

import gzip
import json
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import ROOT, WARCS, run_govnews

from crawler.keep_pages import PageKeeper, PageReader, complete_end, repair_interrupted
from pipelines.db import make_engine
from pipelines.reparse import Reparser

sys.path.insert(0, str(ROOT / "bench"))
from synthetic_portal import make_handler  # noqa: E402

NUKEVIET = WARCS / "nukeviet-khxhnvnghean"
WORDPRESS = WARCS / "wordpress-vinhthanh.cantho.gov.vn"


def _start_url(corpus: Path) -> str:
    first = json.loads((corpus / "truth.jsonl").read_text(encoding="utf-8").splitlines()[0])["url"]
    scheme, rest = first.split("://", 1)
    return f"{scheme}://{rest.split('/', 1)[0]}/"


def _crawl(corpus: Path, db: str, *extra: str, warc: str = "site.warc.gz") -> None:
    result = run_govnews("crawl", _start_url(corpus), "--archive", str(corpus / warc), "--db", db, "-q", *extra)
    assert result.returncode == 0, result.stderr[-2000:]


def _rows(path: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(path) as connection:
        return connection.execute(sql).fetchall()


ARTICLE_STATE = "SELECT id, url, title, summary, body_text, version, change_seq, last_seen, changed_at FROM articles"


@pytest.fixture
def stored_corpora(tmp_path: Path) -> Path:
    """Two corpora replayed into one SQLite file (NukeViet with its later recording, and WordPress)."""
    db = tmp_path / "g.sqlite3"
    _crawl(NUKEVIET, f"sqlite:///{db}")
    _crawl(NUKEVIET, f"sqlite:///{db}", "--full", warc="later.warc.gz")
    _crawl(WORDPRESS, f"sqlite:///{db}")
    return db


def test_a_replay_references_the_archive_instead_of_copying_it(stored_corpora, tmp_path):
    files = {row[0] for row in _rows(stored_corpora, "SELECT file FROM article_pages")}
    assert files == {
        str((NUKEVIET / "later.warc.gz").resolve()),
        str((NUKEVIET / "site.warc.gz").resolve()),
        str((WORDPRESS / "site.warc.gz").resolve()),
    }
    articles = _rows(stored_corpora, "SELECT count(*) FROM articles")[0][0]
    assert _rows(stored_corpora, "SELECT count(*) FROM article_pages")[0][0] == articles


def test_reparse_with_the_same_parsers_changes_nothing(stored_corpora, tmp_path):
    before = _rows(stored_corpora, ARTICLE_STATE)
    versions = _rows(stored_corpora, "SELECT * FROM article_versions")
    result = run_govnews("reparse", "--db", f"sqlite:///{stored_corpora}", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["selected"] == report["reparsed"] == len(before)
    assert (report["changed"], report["failed"], report["no_page"], report["fields"]) == (0, 0, 0, {})
    assert _rows(stored_corpora, ARTICLE_STATE) == before
    assert _rows(stored_corpora, "SELECT * FROM article_versions") == versions


def test_reparse_after_a_parser_change_writes_exactly_the_changed_versions(stored_corpora, monkeypatch):
    from crawler.families.nukeviet import NukeViet

    before = {row[0]: row for row in _rows(stored_corpora, ARTICLE_STATE)}
    versions_before = _rows(stored_corpora, "SELECT count(*) FROM article_versions")[0][0]
    nukeviet_urls = [row[1] for row in before.values() if "khxhnvnghean" in row[1]]
    chosen = set(sorted(nukeviet_urls)[:3])
    original = NukeViet.parse_article

    def fixed_parser(self, page, url, **options):  # the "fix": three articles get a better title and an author
        article = original(self, page, url, **options)
        if url in chosen:
            article.title = f"{article.title} (sửa)"
            article.author = "Ban biên tập"
        return article

    monkeypatch.setattr(NukeViet, "parse_article", fixed_parser)
    engine = make_engine(f"sqlite:///{stored_corpora}")
    report = Reparser(engine, Path("/nonexistent")).run()
    assert report.changed == 3
    assert report.failed == report.no_page == 0
    assert dict(report.fields) == {"title": 3, "author": 3}
    after = {row[0]: row for row in _rows(stored_corpora, ARTICLE_STATE)}
    for article_id, row in after.items():
        if row[1] in chosen:
            old = before[article_id]
            assert row[2] == old[2] + " (sửa)"
            assert row[5] == old[5] + 1, "one new version"
            assert row[6] > old[6], "a new change cursor: consumers of export --since see it"
            assert row[7] == old[7], "reparse fetched nothing: last_seen stays"
        else:
            assert row == before[article_id], "an article whose fields did not change is untouched"
    versions = _rows(
        stored_corpora, "SELECT a.url, v.title FROM article_versions v JOIN articles a ON a.id = v.article_id"
    )
    assert len(versions) == versions_before + 3
    old_titles = {row[1]: row[2] for row in before.values()}
    assert {(url, old_titles[url]) for url in chosen} <= set(versions), "each old title kept as the earlier version"
    # the same parser again: nothing more to change
    again = Reparser(engine, Path("/nonexistent")).run()
    assert (again.changed, again.unchanged) == (0, again.reparsed)


def test_reparse_filters_and_dry_run(stored_corpora):
    db = f"sqlite:///{stored_corpora}"
    host = _start_url(WORDPRESS).split("//")[1].strip("/")
    wordpress = _rows(
        stored_corpora, f"SELECT count(*) FROM articles a JOIN sites s ON s.id = a.site_id WHERE s.host = '{host}'"
    )
    result = run_govnews("reparse", "--db", db, "--site", host, "--json")
    assert json.loads(result.stdout)["selected"] == wordpress[0][0]
    result = run_govnews("reparse", "--db", db, "--family", "nukeviet", "--since", "2099-01-01", "--json")
    assert json.loads(result.stdout)["selected"] == 0
    result = run_govnews("reparse", "--db", db, "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "would change" in result.stdout
    result = run_govnews("reparse", "--db", db, "--since", "yesterday")
    assert result.returncode == 2
    assert "--since" in result.stderr


def test_a_missing_kept_page_is_counted_and_the_article_kept(tmp_path):
    db = tmp_path / "g.sqlite3"
    warc = tmp_path / "copy.warc.gz"
    warc.write_bytes((NUKEVIET / "site.warc.gz").read_bytes())
    result = run_govnews("crawl", _start_url(NUKEVIET), "--archive", str(warc), "--db", f"sqlite:///{db}", "-q")
    assert result.returncode == 0, result.stderr[-2000:]
    before = _rows(db, ARTICLE_STATE)
    warc.unlink()
    result = run_govnews("reparse", "--db", f"sqlite:///{db}")
    assert result.returncode == 1
    assert f"{len(before)} failed" in result.stdout
    assert result.stderr.count("kept page unreadable") == len(before)
    assert _rows(db, ARTICLE_STATE) == before


# -- kept pages of a live crawl ----------------------------------------------------------------------
TOTAL = 600


@pytest.fixture(scope="module")
def portal() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(TOTAL))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def _live_crawl(portal: str, db: Path, pages: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "crawler.cli",
        "crawl",
        portal,
        "--family",
        "nukeviet",
        "--db",
        f"sqlite:///{db}",
        "-q",
        "-s",
        "GOVNEWS_BENCH_NO_POLITENESS=True",
        "-s",
        "GOVNEWS_ALLOW_PRIVATE_HOSTS=127.0.0.1",
        "-s",
        f"GOVNEWS_PAGES_DIR={pages}",
        *extra,
    ]


def _count(db: Path, sql: str) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as connection:
            return connection.execute(sql).fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def test_kept_pages_survive_kill_9_and_a_torn_record_never_breaks_reparse(portal, tmp_path):
    db, pages = tmp_path / "g.sqlite3", tmp_path / "pages"
    process = subprocess.Popen(
        _live_crawl(portal, db, pages), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 120
    while _count(db, "SELECT count(*) FROM article_pages") < 150:
        assert process.poll() is None, "the crawl ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    process.kill()
    process.wait(timeout=30)
    (kept,) = list(pages.rglob("*.warc.gz"))
    marker = Path(str(kept) + ".open")
    assert marker.exists(), "a killed crawl leaves its file marked open"
    # as if the kill had cut the last record in half: a gzip member that never ends
    member = gzip.compress(b"WARC/1.0\r\nWARC-Type: response\r\n" + b"x" * 5000)
    with kept.open("ab") as stream:
        stream.write(member[: len(member) // 2])
    stored = _count(db, "SELECT count(*) FROM articles")
    report = Reparser(make_engine(f"sqlite:///{db}"), pages).run()
    assert (report.reparsed, report.failed, report.changed) == (stored, 0, 0), "every stored article's page is whole"
    # the next crawl of the portal closes the torn file, then goes on
    result = subprocess.run(_live_crawl(portal, db, pages), cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert not marker.exists()
    assert kept.stat().st_size == complete_end(kept), "cut back to its last complete record"
    assert len(list(pages.rglob("*.open"))) == 0, "the second run closed its own file"
    report = Reparser(make_engine(f"sqlite:///{db}"), pages).run()
    assert (report.selected, report.reparsed, report.failed, report.changed) == (TOTAL, TOTAL, 0, 0)
    runs = run_govnews("runs", "--db", f"sqlite:///{db}", env={"GOVNEWS_PAGES_DIR": str(pages)})
    assert "kept pages: 2 file(s)" in runs.stderr, "the killed run's file and the rerun's"


def test_no_keep_pages_keeps_nothing(portal, tmp_path):
    db, pages = tmp_path / "g.sqlite3", tmp_path / "pages"
    command = [*_live_crawl(portal, db, pages), "--no-keep-pages"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert not pages.exists()
    assert _count(db, "SELECT count(*) FROM article_pages") == 0
    report = Reparser(make_engine(f"sqlite:///{db}"), pages).run()
    assert (report.selected, report.no_page, report.reparsed) == (TOTAL, TOTAL, 0)


# -- the keeper on its own ----------------------------------------------------------------------------
def test_keeper_writes_readable_records_and_repair_leaves_a_live_writer_alone(tmp_path):
    keeper = PageKeeper(tmp_path, "a.gov.vn")
    body = "<html><head><title>Tin</title></head><body>Đảng bộ</body></html>".encode()
    headers = [("Content-Type", "text/html; charset=utf-8"), ("Content-Encoding", "gzip")]
    first = keeper.keep("https://a.gov.vn/1.html", 200, headers, body)
    second = keeper.keep("https://a.gov.vn/2.html", 200, headers, body * 2)
    assert repair_interrupted(tmp_path, "a.gov.vn") == [], "this process is alive: its file is left alone"
    reader = PageReader(tmp_path)
    page = reader.read(*second)
    assert (page.url, page.status) == ("https://a.gov.vn/2.html", 200)
    assert page.text().count("Đảng bộ") == 2
    assert reader.read(*first).body == body, "a decoded body is kept without its Content-Encoding"
    keeper.close()
    assert not list(tmp_path.rglob("*.open"))
    with pytest.raises(ValueError, match="no record"):
        reader.read(first[0], keeper.path.stat().st_size)


def test_reparse_writes_the_same_on_both_backends(db_url, monkeypatch):
    from sqlalchemy import func, select

    from crawler.families.nukeviet import NukeViet
    from pipelines import models as m

    _crawl(NUKEVIET, db_url)
    engine = make_engine(db_url)
    with engine.connect() as connection:
        urls = sorted(connection.scalars(select(m.Article.url)))
        seq_before = connection.scalar(select(func.max(m.Article.change_seq)))
    chosen = set(urls[:2])
    original = NukeViet.parse_article

    def fixed_parser(self, page, url, **options):
        article = original(self, page, url, **options)
        if url in chosen:
            article.tags = [*article.tags, "Chuyển đổi số"]
        return article

    monkeypatch.setattr(NukeViet, "parse_article", fixed_parser)
    report = Reparser(engine, Path("/nonexistent")).run()
    assert (report.changed, dict(report.fields)) == (2, {"tags": 2})
    with engine.connect() as connection:
        changed = connection.execute(select(m.Article.url, m.Article.tags).where(m.Article.version == 2)).all()
        assert {url for url, _ in changed} == chosen
        assert all(tags[-1] == "Chuyển đổi số" for _, tags in changed)
        assert connection.scalar(select(func.count()).select_from(m.ArticleVersion)) == 2
        assert connection.scalar(select(func.max(m.Article.change_seq))) == seq_before + 1
    assert Reparser(engine, Path("/nonexistent")).run().changed == 0
    engine.dispose()


def test_retention_removes_only_old_files_no_article_points_at(tmp_path):
    import os

    from crawler.keep_pages import prune

    folder = tmp_path / "a.gov.vn"
    folder.mkdir()
    old_free, old_used, new_free, old_open = (folder / f"{name}.warc.gz" for name in ("1", "2", "3", "4"))
    for path in (old_free, old_used, new_free, old_open):
        path.write_bytes(b"x")
    Path(str(old_open) + ".open").write_text("1")
    hundred_days_ago = time.time() - 100 * 86400
    for path in (old_free, old_used, old_open):
        os.utime(path, (hundred_days_ago, hundred_days_ago))
    removed = prune(tmp_path, "a.gov.vn", {"a.gov.vn/2.warc.gz"}, days=90)
    assert removed == [old_free]
    assert old_used.exists(), "an article's newest page is kept whatever its age"
    assert new_free.exists(), "younger than the retention"
    assert old_open.exists(), "being written (or to be repaired)"
    assert prune(tmp_path, "a.gov.vn", set(), days=0) == [], "0: keep for ever"
