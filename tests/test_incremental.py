"""Scheduled, incremental crawls on the NukeViet corpus: its first and later recordings."""

from __future__ import annotations

import json

import pytest
from conftest import WARCS, read_jsonl, run_govnews

CORPUS = WARCS / "nukeviet-khxhnvnghean"
SITE = "khxhnvnghean.gov.vn"
REMOVED = "https://khxhnvnghean.gov.vn/news/xay-dung-dang/hoi-nghi-danh-gia-xep-loai-chat-luong-to-chuc-dang-dang-vien-nam-2022-22.html"
EDITED = "https://khxhnvnghean.gov.vn/news/khoa-hoc-cong-nghe/ung-dung-gis-trong-quan-ly-di-tich-lich-su-van-hoa-tren-dia-ban-tinh-26.html"


def crawl(db: str, warc: str, *extra: str) -> None:
    result = run_govnews("crawl", SITE, "--archive", str(CORPUS / warc), "--db", db, "-q", *extra)
    assert result.returncode == 0, result.stderr[-2000:]


def runs(db: str) -> list[dict]:
    result = run_govnews("runs", "--db", db, "--json")
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    db = f"sqlite:///{tmp_path_factory.mktemp('incremental') / 'govnews.db'}"
    crawl(db, "site.warc.gz")
    crawl(db, "site.warc.gz")
    crawl(db, "later.warc.gz")
    crawl(db, "later.warc.gz", "--full")
    return db, runs(db)


def test_first_crawl_stores_every_article(history):
    _, (first, *_) = history
    assert first["articles"]["new"] == 33
    assert first["mode"] == "incremental"


def test_second_crawl_fetches_no_article_again(history):
    _, (first, second, *_) = history
    assert second["articles"]["new"] == second["articles"]["updated"] == second["articles"]["unchanged"] == 0
    assert second["articles"]["skipped_known"] == 33
    # home, /news/, page 1 of the 4 categories, 5 feeds, the sitemap index and its 3 sitemaps, robots.txt
    assert second["requests"] == 16
    assert second["requests"] < first["requests"]


def test_later_recording_adds_exactly_the_four_new_articles(history):
    _, (_, _, later, _) = history
    assert later["articles"]["new"] == 4
    assert later["articles"]["unchanged"] == later["articles"]["updated"] == 0, "no unchanged article is fetched"


def test_full_pass_finds_the_edit_and_the_removal(history):
    _, (*_, full) = history
    assert full["mode"] == "full"
    assert full["articles"]["updated"] == 1
    assert full["articles"]["removed"] == 1
    assert full["articles"]["new"] == 0


def test_export_matches_the_later_truth(history, tmp_path):
    db, _ = history
    out = tmp_path / "out.jsonl"
    assert run_govnews("export", "--db", db, "-o", str(out)).returncode == 0
    records = {r["url"]: r for r in read_jsonl(out)}
    truth = read_jsonl(CORPUS / "later-truth.jsonl")
    assert sorted(records) == sorted(t["url"] for t in truth), "the removed article is left out by default"
    for article in truth:
        for field in ("title", "body_text", "summary", "captions", "categories", "tags", "updated", "published"):
            got, want = records[article["url"]][field], article[field]
            if field in ("updated", "published") and want:
                from datetime import datetime

                assert datetime.fromisoformat(got) == datetime.fromisoformat(want), (article["url"], field)
            else:
                assert got == want, (article["url"], field)
    assert records[EDITED]["version"] == 2


def test_removed_article_kept_and_marked(history, tmp_path):
    db, _ = history
    out = tmp_path / "all.jsonl"
    assert run_govnews("export", "--db", db, "--include-removed", "-o", str(out)).returncode == 0
    removed = {r["url"]: r for r in read_jsonl(out)}[REMOVED]
    assert removed["removed_at"] is not None
    assert removed["title"].startswith("Hội nghị đánh giá")


WORDPRESS = WARCS / "wordpress-xaphuchoa.tanyen.bacgiang.gov.vn"


def _without_newest_posts(tmp_path, count: int = 2):
    """The WordPress recording as it was before its newest posts: their pages are not in it yet."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.warcwriter import WARCWriter

    truth = read_jsonl(WORDPRESS / "truth.jsonl")
    newest = {t["url"] for t in sorted(truth, key=lambda t: t["published"])[-count:]}
    before = tmp_path / "before.warc.gz"
    with (WORDPRESS / "site.warc.gz").open("rb") as source, before.open("wb") as out:
        writer = WARCWriter(out, gzip=True)
        for record in ArchiveIterator(source):
            if record.rec_headers.get_header("WARC-Target-URI") not in newest:
                writer.write_record(record)
    return before, newest


def test_wordpress_before_and_after(tmp_path):
    db = f"sqlite:///{tmp_path / 'wp.db'}"
    before, newest = _without_newest_posts(tmp_path)
    url = "https://xaphuchoa.tanyen.bacgiang.gov.vn/"
    for warc in (before, WORDPRESS / "site.warc.gz"):
        result = run_govnews("crawl", url, "--archive", str(warc), "--db", db, "-q")
        assert result.returncode == 0, result.stderr[-2000:]
    first, second = runs(db)
    assert first["articles"]["new"] == 24
    assert second["articles"]["new"] == 2, "exactly the newest posts are added"
    assert second["articles"]["unchanged"] == 0, "no stored post is fetched again"
    assert second["requests"] < first["requests"]
    out = tmp_path / "out.jsonl"
    run_govnews("export", "--db", db, "-o", str(out))
    assert {r["url"] for r in read_jsonl(out)} >= newest


def test_recent_articles_rechecked_with_conditional_requests(tmp_path):
    """A recent stored article is asked for again with its validators; a 304 is not parsed."""
    from datetime import UTC, datetime, timedelta

    from mockserver import MockServer

    now = datetime.now(UTC).astimezone()
    published = (now - timedelta(days=1)).strftime("%Y-%m-%d+07%H:%M:%S")
    article = (
        '<html><head><meta property="article:published_time" content="' + published + '"></head><body>'
        '<div itemscope itemtype="http://schema.org/NewsArticle"><h1 itemprop="headline">Tin mới</h1>'
        '<div id="news-bodyhtml"><p>Nội dung tin mới của cổng thông tin.</p></div></div></body></html>'
    ).encode()
    home = '<html><body><a href="/news/tin-tuc/tin-moi-1.html">Tin mới</a></body></html>'.encode()
    seen_headers: list[dict] = []

    def handler(request) -> bool:
        if request.path != "/news/tin-tuc/tin-moi-1.html":
            return False
        seen_headers.append(dict(request.headers))
        if request.headers.get("If-None-Match") == '"v1"':
            request.send_response(304)
            request.send_header("Content-Length", "0")
            request.end_headers()
            return True
        request.send_response(200)
        for name, value in (
            ("Content-Type", "text/html; charset=utf-8"),
            ("ETag", '"v1"'),
            ("Content-Length", str(len(article))),
        ):
            request.send_header(name, value)
        request.end_headers()
        request.wfile.write(article)
        return True

    routes = {"/": (200, [("Content-Type", "text/html")], home), "/robots.txt": (200, [], b"User-agent: *\n")}
    db = f"sqlite:///{tmp_path / 'c.db'}"
    fast = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "GOVNEWS_ALLOW_PRIVATE_HOSTS=127.0.0.1"]
    with MockServer(routes, handler) as server:
        for _ in range(2):
            result = run_govnews("crawl", server.url("/"), "--family", "nukeviet", "--db", db, "-q", *fast)
            assert result.returncode == 0, result.stderr[-2000:]
    assert len(seen_headers) == 2
    assert "If-None-Match" not in seen_headers[0]
    assert seen_headers[1]["If-None-Match"] == '"v1"'
    first, second = runs(db)
    assert first["articles"]["new"] == 1
    assert second["articles"]["not_modified"] == 1
    assert second["articles"]["unchanged"] == 0
