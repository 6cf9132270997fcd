"""Hostile and broken servers, each a local misbehaving server (Scrapy mockserver style); the crawl goes on."""

from __future__ import annotations

import gzip
import json
import time

import pytest
from conftest import read_jsonl, run_govnews
from mockserver import MockServer

FAST = [
    "-s",
    "DOWNLOAD_DELAY=0",
    "-s",
    "AUTOTHROTTLE_ENABLED=False",
    "-s",
    "GOVNEWS_ALLOW_PRIVATE_HOSTS=127.0.0.1",
    "-s",
    "RETRY_TIMES=0",
    "-s",
    "DOWNLOAD_TIMEOUT=3",
]
HTML = [("Content-Type", "text/html; charset=utf-8")]


def article(
    title: str,
    body: str = "<p>Nội dung bài viết về hội nghị tổng kết công tác năm của cơ quan.</p>",
    charset: str = "utf-8",
) -> bytes:
    page = (
        f'<html><head><meta charset="{charset}"><meta property="article:published_time" '
        f'content="2024-05-12+0708:30:00"></head><body><div itemscope itemtype="http://schema.org/NewsArticle">'
        f'<h1 itemprop="headline">{title}</h1><div id="news-bodyhtml">{body}</div></div></body></html>'
    )
    return page.encode(charset, "xmlcharrefreplace")


def site(*hostile: str) -> dict:
    """A NukeViet-shaped portal: one listing linking a good article and the hostile paths."""
    links = "".join(f'<a href="/news/tin/{name}">x</a>' for name in ("bai-tot-1.html", *hostile))
    return {
        "/": (200, HTML, f"<html><body><a href='/news/tin/'>Tin</a>{links}</body></html>".encode()),
        "/robots.txt": (200, [("Content-Type", "text/plain")], b"User-agent: *\nDisallow: /admin/\n"),
        "/news/tin/": (200, HTML, f"<html><body>{links}</body></html>".encode()),
        "/news/tin/bai-tot-1.html": (200, HTML, article("Bài tốt")),
    }


def crawl(server: MockServer, tmp_path, *extra: str):
    db = f"sqlite:///{tmp_path / 'h.db'}"
    result = run_govnews("crawl", server.url("/"), "--family", "nukeviet", "--db", db, *FAST, *extra, timeout=180)
    out = tmp_path / "out.jsonl"
    run_govnews("export", "--db", db, "--include-removed", "-o", str(out))
    runs = run_govnews("runs", "--db", db, "--json").stdout.splitlines()
    return result, {r["title"]: r for r in read_jsonl(out)}, json.loads(runs[-1]) if runs else {}


def test_robots_5xx_defers_the_host(tmp_path):
    routes = site()
    routes["/robots.txt"] = (503, HTML, b"<html>Service Unavailable</html>")
    with MockServer(routes) as server:
        result, stored, _ = crawl(server, tmp_path)
    assert server.requests == ["/robots.txt"], "nothing but robots.txt is fetched from a deferred host"
    assert result.returncode == 1
    assert "deferred" in result.stderr
    assert stored == {}


def test_robots_timeout_defers_the_host(tmp_path):
    def hang(request) -> bool:
        if request.path == "/robots.txt":
            time.sleep(6)
            return True
        return False

    with MockServer(site(), hang) as server:
        result, stored, _ = crawl(server, tmp_path)
    assert all(path == "/robots.txt" for path in server.requests)
    assert result.returncode == 1
    assert stored == {}


def test_crawl_delay_honoured(tmp_path):
    routes = site()
    routes["/robots.txt"] = (200, [("Content-Type", "text/plain")], b"User-agent: *\nCrawl-delay: 1\n")
    stamps: list[float] = []

    def stamp(request) -> bool:
        stamps.append(time.monotonic())
        return False

    with MockServer(routes, stamp) as server:
        result, stored, _ = crawl(server, tmp_path, "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=4")
    assert result.returncode == 0, result.stderr[-2000:]
    gaps = [b - a for a, b in zip(stamps[1:], stamps[2:], strict=False)]  # after robots.txt itself
    assert gaps
    assert min(gaps) >= 0.9, gaps
    assert "Bài tốt" in stored


def test_retry_after_honoured_for_that_host(tmp_path):
    stamps: list[float] = []

    def busy_once(request) -> bool:
        if request.path == "/news/tin/bai-tot-1.html":
            stamps.append(time.monotonic())
            if len(stamps) == 1:
                request.send_response(429)
                request.send_header("Retry-After", "2")
                request.send_header("Content-Length", "0")
                request.end_headers()
                return True
        return False

    with MockServer(site(), busy_once) as server:
        result, stored, _ = crawl(server, tmp_path, "-s", "RETRY_TIMES=2")
    assert result.returncode == 0, result.stderr[-2000:]
    assert len(stamps) == 2
    assert stamps[1] - stamps[0] >= 1.9
    assert "Bài tốt" in stored


BOMB = b"\0" * (64 * 1024 * 1024)  # 64 MiB of zeros; compressed to a few dozen KiB


def _compressed(encoding: str) -> bytes:
    if encoding == "gzip":
        return gzip.compress(BOMB, compresslevel=9)
    if encoding == "deflate":
        import zlib

        return zlib.compress(BOMB, 9)
    import brotli

    return brotli.compress(BOMB, quality=5)


def _bomb(request, encoding: str = "gzip") -> bool:
    if request.path != "/news/tin/bom-2.html":
        return False
    payload = _compressed(encoding)
    request.send_response(200)
    request.send_header("Content-Type", "text/html")
    request.send_header("Content-Encoding", encoding)
    request.send_header("Content-Length", str(len(payload)))
    request.end_headers()
    request.wfile.write(payload)
    return True


def _endless(request) -> bool:
    if request.path != "/news/tin/vo-tan-3.html":
        return False
    request.send_response(200)
    request.send_header("Content-Type", "text/html")
    request.send_header("Transfer-Encoding", "chunked")
    request.end_headers()
    chunk = b"<p>" + b"x" * 65536 + b"</p>"
    try:
        for _ in range(2000):  # bounded: ~130 MiB at most, far past the crawler's limit
            request.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
    except OSError:
        pass  # the crawler hung up, as it should
    return True


def _silent(request) -> bool:
    if request.path != "/news/tin/im-lang-4.html":
        return False
    time.sleep(6)  # accepts, never answers within the crawler's timeout
    return True


def _truncated(request) -> bool:
    if request.path != "/news/tin/cut-5.html":
        return False
    request.send_response(200)
    request.send_header("Content-Type", "text/html")
    request.send_header("Content-Length", "100000")
    request.end_headers()
    request.wfile.write(b"<html><body><h1>cut")
    request.close_connection = True
    return True


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br"])
def test_bombs_endless_silent_and_truncated_bodies(tmp_path, encoding):
    handlers = (lambda request: _bomb(request, encoding), _endless, _silent, _truncated)

    def hostile(request) -> bool:
        return any(handler(request) for handler in handlers)

    routes = site("bom-2.html", "vo-tan-3.html", "im-lang-4.html", "cut-5.html")
    with MockServer(routes, hostile) as server:
        result, stored, run = crawl(
            server, tmp_path, "-s", "DOWNLOAD_MAXSIZE=1048576", "-s", "GOVNEWS_HEALTH_MAX_ERRORS=10"
        )
    assert "Bài tốt" in stored, result.stderr[-3000:]
    assert len(stored) == 1
    assert run["errors"] >= 4, run
    assert result.returncode == 0, result.stderr[-3000:]


def test_redirect_and_meta_refresh_loops_end(tmp_path):
    routes = site("vong-6.html", "lam-moi-7.html")
    routes["/news/tin/vong-6.html"] = (302, [("Location", "/news/tin/vong-6b.html")], b"")
    routes["/news/tin/vong-6b.html"] = (302, [("Location", "/news/tin/vong-6.html")], b"")
    refresh = b'<html><head><meta http-equiv="refresh" content="0;url=/news/tin/lam-moi-7.html"></head></html>'
    routes["/news/tin/lam-moi-7.html"] = (200, HTML, refresh)
    with MockServer(routes) as server:
        result, stored, _ = crawl(server, tmp_path)
    assert list(stored) == ["Bài tốt"]
    assert server.requests.count("/news/tin/vong-6.html") <= 6
    assert server.requests.count("/news/tin/lam-moi-7.html") <= 6


def test_private_addresses_never_fetched(tmp_path):
    routes = site("chuyen-8.html")
    routes["/news/tin/chuyen-8.html"] = (302, [("Location", "http://169.254.169.254/latest/meta-data/")], b"")
    with MockServer(routes) as server:
        result, stored, _ = crawl(server, tmp_path, "-s", "GOVNEWS_ALLOW_PRIVATE_HOSTS=127.0.0.1")
        assert "Bài tốt" in stored
        blocked = run_govnews(
            "crawl",
            "http://10.1.2.3/",
            "--family",
            "nukeviet",
            "--db",
            f"sqlite:///{tmp_path / 'p.db'}",
            *FAST[:4],
            timeout=60,
        )
    assert blocked.returncode == 1
    assert "private" in blocked.stderr


def test_legacy_encodings_become_nfc_text(tmp_path):
    routes = site("cu-9.html", "thuc-the-10.html")
    routes["/news/tin/cu-9.html"] = (
        200,
        [("Content-Type", "text/html; charset=windows-1258")],
        article("Hội nghị tổng kết", charset="windows-1258"),
    )
    entity = article(
        "H&#7897;i ngh&#7883; t&#7893;ng k&#7871;t c&ocirc;ng t&aacute;c",
        "<p>Nh&acirc;n s&#7921; c&#7911;a Trung t&acirc;m đã tham dự hội nghị tổng kết.</p>",
    )
    routes["/news/tin/thuc-the-10.html"] = (200, HTML, entity)
    with MockServer(routes) as server:
        result, stored, _ = crawl(server, tmp_path)
    assert "Hội nghị tổng kết" in stored, list(stored)
    assert "Hội nghị tổng kết công tác" in stored
    assert "Nhân sự của Trung tâm" in stored["Hội nghị tổng kết công tác"]["body_text"]


def test_changed_template_is_a_counted_parse_failure(tmp_path):
    routes = site("moi-11.html")
    routes["/news/tin/moi-11.html"] = (200, HTML, b"<html><body><div class='new-theme'><h1>X</h1></div></body></html>")
    with MockServer(routes) as server:
        result, stored, run = crawl(server, tmp_path)
    assert list(stored) == ["Bài tốt"], "no empty article is stored"
    assert run["parse_failed"] == 1
    assert result.returncode == 1, "the health check (parse failures > 5%) makes the crawl fail"
    assert "health check failed" in result.stderr


XXE_SITEMAP = b"""<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY xxe SYSTEM "file:///etc/passwd">
<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>/news/tin/bai-tot-1.html&xxe;&lol3;</loc></url><url><loc>/news/tin/bai-so-12.html</loc></url></urlset>"""


def test_hostile_xml_deep_nesting_and_nul_bytes(tmp_path):
    routes = site("sau-13.html")
    routes["/sitemap.xml"] = (200, [("Content-Type", "application/xml")], XXE_SITEMAP)
    routes["/news/rss/"] = (200, [("Content-Type", "application/rss+xml")], XXE_SITEMAP.replace(b"urlset", b"rss"))
    routes["/news/tin/bai-so-12.html"] = (200, HTML, article("Bài từ sitemap"))
    deep = "<div>" * 10_000 + "sâu" + "</div>" * 10_000
    routes["/news/tin/sau-13.html"] = (200, HTML, article("Bài có NUL", f"<p>Đoạn\x00 một.</p>{deep}<p>Đoạn hai.</p>"))
    with MockServer(routes) as server:
        result, stored, _ = crawl(server, tmp_path)
    assert "Bài tốt" in stored
    assert "Bài từ sitemap" in stored, "the sitemap's entries are read, its entities never expanded"
    assert "Bài có NUL" in stored
    body = stored["Bài có NUL"]["body_text"]
    assert "\x00" not in body
    assert body.startswith("Đoạn một.")
    assert "root:" not in json.dumps(stored)


def test_missing_and_wrong_charset_declarations(tmp_path):
    routes = site("khong-khai-14.html", "khai-sai-15.html")
    plain = article("Không khai báo bảng mã").replace(b'<meta charset="utf-8">', b"")
    routes["/news/tin/khong-khai-14.html"] = (200, [("Content-Type", "text/html")], plain)
    wrong = article("Khai báo sai bảng mã").replace(b'<meta charset="utf-8">', b'<meta charset="iso-8859-1">')
    routes["/news/tin/khai-sai-15.html"] = (200, [("Content-Type", "text/html; charset=iso-8859-1")], wrong)
    with MockServer(routes) as server:
        _, stored, _ = crawl(server, tmp_path)
    assert "Không khai báo bảng mã" in stored, list(stored)
    assert "Khai báo sai bảng mã" in stored, list(stored)


def test_every_loop_is_bounded(tmp_path):
    import subprocess
    import sys

    from conftest import ROOT

    server = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "synthetic_portal.py"), "--articles", "400", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    url = server.stdout.readline().rsplit(" on ", 1)[1].strip()
    try:
        db = f"sqlite:///{tmp_path / 'b.db'}"
        result = run_govnews(
            "crawl",
            url,
            "--family",
            "nukeviet",
            "--db",
            db,
            *FAST,
            "-s",
            "GOVNEWS_MAX_LISTING_PAGES=1",
            "-s",
            "GOVNEWS_MAX_REQUESTS=40",
            "-s",
            "GOVNEWS_MAX_LINKS_PER_PAGE=15",
        )
    finally:
        server.terminate()
    import sqlite3

    with sqlite3.connect(tmp_path / "b.db") as connection:
        stats = json.loads(connection.execute("SELECT stats FROM crawl_runs").fetchone()[0])["scrapy"]
    assert stats["downloader/request_count"] <= 40 + 1, "requests per portal per run (robots.txt aside)"
    assert stats["govnews/limit/requests"] > 0
    assert stats["govnews/limit/listing_pages"] > 0, "pages per listing"
    assert stats["govnews/limit/links_per_page"] > 0, "links read per page"
    assert result.returncode in (0, 1)
