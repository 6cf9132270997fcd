"""The generic fallback on pages of platforms it was not written for (with/without checks)."""

from __future__ import annotations

from datetime import datetime

import pytest
from conftest import page_cases

from crawler.families import ParseError
from crawler.families.base import PageKind
from crawler.families.generic import Generic

NUKEVIET = {c.id.rsplit("-", 1)[-1]: c for c in page_cases("nukeviet") if c.id.startswith("khxhnvnghean/")}
WORDPRESS = [c for c in page_cases("wordpress") if c.id.startswith("xaphuchoa")]


def test_nukeviet_page_without_its_parser():
    case = NUKEVIET["1"]
    article = Generic().parse_article(case.html, case.meta["url"])
    expected = case.expected
    assert article.title == expected["title"]
    assert article.published == datetime.fromisoformat(expected["published"])
    assert "Về dự Hội nghị có đồng chí Chu Bá Long" in article.body_text
    for boilerplate in ("Ý kiến bạn đọc", "Những tin mới hơn", "Toàn cảnh hội nghị"):
        assert boilerplate not in article.body_text
    assert article.captions == expected["captions"]


@pytest.mark.parametrize("case", WORDPRESS[:8], ids=lambda c: c.id)
def test_wordpress_pages_without_their_parser(case):
    article = Generic().parse_article(case.html, case.meta["url"])
    assert article.title == case.expected["title"]
    assert article.published == datetime.fromisoformat(case.expected["published"])
    first = case.expected["body_text"].split("\n\n")[0]
    assert first[:60] in article.body_text
    assert "Bài viết mới" not in article.body_text  # sidebar widget
    assert article.source == case.expected["source"]


def test_json_ld_and_meta_win():
    html = (
        """<html><head><script type="application/ld+json">{"@context": "https://schema.org",
      "@type": "NewsArticle", "headline": "Tiêu đề JSON-LD", "datePublished": "2024-05-12T08:30:00+07:00",
      "author": {"@type": "Person", "name": "Nguyễn Văn A"}, "keywords": "a, b"}</script>
      <meta property="article:section" content="Thời sự"></head><body><article><h1>Khác</h1>
      """
        + "".join(f"<p>Đoạn {i}: nội dung bài viết khá dài, như một bài báo thực sự.</p>" for i in range(8))
        + """
      </article></body></html>"""
    )
    article = Generic().parse_article(html, "https://x.gov.vn/tin/bai-viet-123.html")
    assert article.title == "Tiêu đề JSON-LD"
    assert article.published.isoformat() == "2024-05-12T08:30:00+07:00"
    assert article.author == "Nguyễn Văn A"
    assert article.categories == ["Thời sự"]
    assert article.tags == ["a", "b"]


def test_listing_or_empty_page_is_not_an_article():
    with pytest.raises(ParseError):
        Generic().parse_article("<html><body><ul><li><a href='/a'>A</a></li></ul></body></html>", "https://x.gov.vn/")


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/tin-tuc/hoi-nghi-tong-ket-12345.html", PageKind.ARTICLE),
        ("/tin-tuc/", PageKind.LISTING),
        ("/tin-tuc?page=2", PageKind.LISTING),
        ("/uploads/anh.jpg", PageKind.OTHER),
        ("/lien-he", PageKind.OTHER),
        ("/sitemap.xml", PageKind.SITEMAP),
        ("/rss", PageKind.FEED),
        ("/Default.aspx?tabid=73&ItemID=5512", PageKind.ARTICLE),
        ("/chi-tiet?id=5512", PageKind.ARTICLE),
    ],
)
def test_classify(path, kind):
    assert Generic().classify("https://x.gov.vn" + path) is kind
