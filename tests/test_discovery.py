"""Feeds and sitemaps: links read, entities never expanded, network never touched."""

from __future__ import annotations

import time

from crawler.discovery import feed_entries, sitemap_entries

BASE = "https://portal.gov.vn/"


def test_rss_items():
    body = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
    <item><title>A</title><link>https://portal.gov.vn/news/a/x-1.html</link>
    <pubDate>Wed, 13 Dec 2023 21:12:00 GMT</pubDate></item>
    <item><title>B</title><guid>https://portal.gov.vn/news/a/y-2.html</guid></item></channel></rss>"""
    assert [e.url for e in feed_entries(body, BASE)] == [
        "https://portal.gov.vn/news/a/x-1.html",
        "https://portal.gov.vn/news/a/y-2.html",
    ]


def test_atom_entries():
    body = b"""<feed xmlns="http://www.w3.org/2005/Atom"><entry><link rel="alternate" href="/a-1.html"/>
    <updated>2024-01-01T00:00:00Z</updated></entry></feed>"""
    assert [e.url for e in feed_entries(body, BASE)] == ["https://portal.gov.vn/a-1.html"]


def test_sitemap_index_and_urlset():
    index = b"""<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
    <sitemap><loc>https://portal.gov.vn/sitemap-vi.news.xml</loc></sitemap></sitemapindex>"""
    urlset = b"""<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url>
    <loc>https://portal.gov.vn/news/a/x-1.html</loc><lastmod>2025-06-30T21:05:00+07:00</lastmod></url></urlset>"""
    assert [(e.url, e.is_sitemap) for e in sitemap_entries(index, BASE)] == [
        ("https://portal.gov.vn/sitemap-vi.news.xml", True)
    ]
    (entry,) = sitemap_entries(urlset, BASE)
    assert entry.lastmod == "2025-06-30T21:05:00+07:00"


def test_xxe_is_not_resolved():
    body = b"""<?xml version="1.0"?><!DOCTYPE foo [<!ELEMENT foo ANY><!ENTITY xxe SYSTEM "file:///etc/passwd">]>
    <urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>https://portal.gov.vn/&xxe;</loc></url></urlset>"""
    urls = [e.url for e in sitemap_entries(body, BASE)]
    assert all("root:" not in u for u in urls)


def test_billion_laughs_stays_small_and_fast():
    lol = b"""<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">"""
    for level in range(1, 10):
        previous = b"&lol;" if level == 1 else b"&lol%d;" % (level - 1)
        lol += b'<!ENTITY lol%d "%s">' % (level, previous * 10)
    lol += b"""]><rss><channel><item><title>&lol9;</title><link>https://portal.gov.vn/a-1.html</link></item></channel></rss>"""
    start = time.perf_counter()
    entries = list(feed_entries(lol, BASE))
    assert time.perf_counter() - start < 1.0
    assert [e.url for e in entries] == ["https://portal.gov.vn/a-1.html"]


def test_garbage_is_no_links():
    assert list(feed_entries(b"\x00\x01 not xml", BASE)) == []
    assert list(sitemap_entries(b"<html><body>404</body></html>", BASE)) == []
