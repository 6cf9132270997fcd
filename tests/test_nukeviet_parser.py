"""NukeViet parser against saved pages and their ground truth: one test per case and field.

The corpora's pages cover the 4.5.05 ``default``, ``mobile_default`` and eGovernment ``egov`` themes.
The ``nukeviet-templates`` pages were rendered here from NukeViet's and eGovernment's own templates
with sample data (``meta.json`` names each template): ``mobile_egov`` (itemprops without an itemscope
container), 4.2.01 (no schema.org, the old "Tác giả bài viết" / "Từ khóa" labels, no ``article:*``
metas), 4.4.02 (the empty hidden ``itemprop=description`` before the real lead), the English sub-site
of a multi-language 4.5.05 site rendered in another zone (``site_timezone = byCountry``), and a
vendor theme that renamed every container (read degraded, to the same bounds).
"""

from __future__ import annotations

from datetime import datetime

import pytest
from conftest import nfc, page_cases

from crawler.families import ParseError
from crawler.families.base import PageKind
from crawler.families.nukeviet import NukeViet

CORPUS_CASES = page_cases("nukeviet")
TEMPLATE_CASES = page_cases("nukeviet-templates")
CASES = CORPUS_CASES + TEMPLATE_CASES
TEXT_FIELDS = (
    "url",
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
)
_parsed: dict[str, object] = {}


def parse(case):
    if case.id not in _parsed:
        meta = case.meta
        _parsed[case.id] = NukeViet().parse_article(case.html, meta["url"], other_urls=meta["other_urls"])
    return _parsed[case.id]


def test_fixtures_present():
    assert len(CORPUS_CASES) >= 30, "run scripts/build_fixtures.py to copy the corpus pages into tests/fixtures"
    assert len(TEMPLATE_CASES) >= 5, "the template-rendered pages are missing"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_degraded_only_where_the_containers_are_gone(case):
    assert parse(case).degraded is bool(case.meta.get("degraded"))


@pytest.mark.parametrize("field", TEXT_FIELDS)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_field(case, field):
    assert getattr(parse(case), field) == nfc(case.expected[field])


@pytest.mark.parametrize("field", ["published", "updated"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_time_field(case, field):
    value = getattr(parse(case), field)
    expected = case.expected[field]
    if expected is None:
        assert value is None
    else:
        assert value is not None
        assert value.tzinfo is not None, "times must be timezone-aware"
        assert value == datetime.fromisoformat(expected)
        assert value.utcoffset().total_seconds() == 7 * 3600, "NukeViet prints Asia/Ho_Chi_Minh local time"


@pytest.fixture(scope="module")
def seed():
    case = next(c for c in CASES if c.id.endswith("trien-khai-nhiem-vu-2024-1"))
    return parse(case)


def test_seed_title(seed):
    assert seed.title == (
        "Đảng bộ Sở Khoa học và Công nghệ tổ chức Hội nghị tổng kết công tác xây dựng Đảng năm 2023 "
        "và triển khai nhiệm vụ 2024"
    )


def test_seed_published_is_local_thursday(seed):
    assert seed.published.isoformat() == "2023-12-14T04:21:00+07:00"
    assert seed.published.strftime("%A") == "Thursday"
    assert seed.updated is None


def test_seed_six_captions_tied_to_images(seed):
    assert len(seed.captions) == 6
    assert seed.captions[0] == {
        "image_url": "https://khxhnvnghean.gov.vn/uploads/news/2023_12/toan-canh-hoi-nghi-1.jpg",
        "caption": "Toàn cảnh hội nghị",
    }
    assert seed.captions[4]["image_url"].endswith("/dong-chi-nguyen-quy-linh-bi-thu-dang-uy-so-trao-gi-5.png")


def test_seed_body_excludes_captions_and_source(seed):
    assert seed.body_text.startswith("Về dự Hội nghị có đồng chí Chu Bá Long")
    assert "Toàn cảnh hội nghị" not in seed.body_text
    assert "Nguồn tin" not in seed.body_text
    assert "Ý kiến bạn đọc" not in seed.body_text
    assert seed.body_text.count("\n\n") == 6  # seven paragraphs


def test_seed_source_author_lead(seed):
    assert seed.source == "khxhnvnghean.gov.vn"
    assert seed.source_url is None
    assert seed.author is None  # the hidden schema.org author "admin" is the poster, not the author
    assert seed.summary is None


def test_seed_taxonomy(seed):
    assert seed.categories == ["Xây dựng Đảng"]
    assert seed.tags == ["xây dựng Đảng", "Sở khoa học và công nghệ", "tổng kết năm 2023"]
    assert seed.attachments == []
    assert seed.source_key == "news:1"


def test_page_without_body_is_a_parse_error():
    with pytest.raises(ParseError):
        NukeViet().parse_article(
            "<html><body><h1 itemprop='headline'>x</h1></body></html>", "https://a.gov.vn/news/c/x-1.html"
        )


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("https://h.gov.vn/news/tin-tuc/bai-viet-12.html", PageKind.ARTICLE),
        ("https://h.gov.vn/vi/news/tin-tuc/bai-viet-12.html", PageKind.ARTICLE),
        ("https://h.gov.vn/index.php?language=vi&nv=news&op=tin-tuc/bai-viet-12", PageKind.ARTICLE),
        ("https://h.gov.vn/news/tin-tuc/", PageKind.LISTING),
        ("https://h.gov.vn/news/tin-tuc/page-3/", PageKind.LISTING),
        ("https://h.gov.vn/news/", PageKind.LISTING),
        ("https://h.gov.vn/news/rss/tin-tuc/", PageKind.FEED),
        ("https://h.gov.vn/news/tag/chuyển-đổi-số", PageKind.OTHER),
        ("https://h.gov.vn/news/print/tin-tuc/bai-viet-12.html", PageKind.OTHER),
        ("https://h.gov.vn/about/gioi-thieu-4-0.html", PageKind.OTHER),
        ("https://h.gov.vn/sitemap-vi.news.xml", PageKind.SITEMAP),
    ],
)
def test_classify(url, kind):
    assert NukeViet().classify(url) is kind


def test_article_key_is_the_module_id():
    family = NukeViet()
    one = family.article_key("https://h.gov.vn/news/tin-tuc-su-kien/hoi-thao-15.html")
    other = family.article_key("https://h.gov.vn/news/khoa-hoc-cong-nghe/hoi-thao-15.html")
    query_form = family.article_key("https://h.gov.vn/index.php?language=vi&nv=news&op=tin-tuc-su-kien/hoi-thao-15")
    assert one == other == query_form == "news:15"


def test_php_t_format_meta_is_repaired():
    html = """<html><head>
    <meta property="article:published_time" content="2024-03-29+0710:00:00">
    <meta property="article:modified_time" content="2024-04-02+0715:30:00"></head>
    <body><div itemscope itemtype="http://schema.org/NewsArticle"><h1 itemprop="headline">T</h1>
    <div id="news-bodyhtml"><p>Body</p></div></div></body></html>"""
    article = NukeViet().parse_article(html, "https://h.gov.vn/news/c/t-1.html")
    assert article.published.isoformat() == "2024-03-29T10:00:00+07:00"
    assert article.updated.isoformat() == "2024-04-02T15:30:00+07:00"
