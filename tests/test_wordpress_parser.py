"""WordPress parser against saved posts and their ground truth; excerpts from archives and feeds."""

from __future__ import annotations

import gzip
from datetime import datetime

import pytest
from conftest import PAGES, nfc, page_cases
from parsel import Selector

from crawler.discovery import feed_entries
from crawler.families.base import PageKind
from crawler.families.wordpress import WordPress, handwritten_excerpt

CASES = page_cases("wordpress")
BASE = "https://xaphuchoa.tanyen.bacgiang.gov.vn"
FIELDS = (
    "url",
    "title",
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
        _parsed[case.id] = WordPress().parse_article(case.html, case.meta["url"])
    return _parsed[case.id]


def test_fixtures_present():
    assert len(CASES) >= 25


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_field(case, field):
    assert getattr(parse(case), field) == nfc(case.expected[field])


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_published_is_aware_local_time(case):
    published = parse(case).published
    assert published == datetime.fromisoformat(case.expected["published"])
    assert published.utcoffset().total_seconds() == 7 * 3600


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_no_modified_time_shown_means_no_updated(case):
    assert parse(case).updated is None  # the theme prints one <time> with the publish time only


def _listing(name: str) -> Selector:
    return Selector(text=gzip.decompress((PAGES / "wordpress-listings" / f"{name}.gz").read_bytes()).decode())


def test_archive_excerpts_become_hints_and_only_handwritten_ones_summaries():
    links = [link for link in WordPress().discover(_listing("home-page-6"), f"{BASE}/page/6/") if link.hints]
    by_url = {link.url: link.hints for link in links}
    cases = {c.meta["url"]: c for c in CASES}
    assert by_url, "the archive shows excerpts"
    for url, hints in by_url.items():
        case = cases[url]
        assert handwritten_excerpt(hints, case.expected["body_text"]) == case.expected["summary"], url


def test_feed_descriptions_are_automatic_excerpts_here():
    family = WordPress()
    cases = {c.meta["url"]: c for c in CASES}
    entries = list(feed_entries(gzip.decompress((PAGES / "wordpress-listings" / "feed.gz").read_bytes()), BASE))
    assert len(entries) == 10
    for entry in entries:
        hints = family.feed_hints(entry)
        expected = cases[entry.url].expected
        assert hints["author"] == expected["author"]
        summary = handwritten_excerpt(hints, expected["body_text"])
        # feeds print the excerpt untexturized ("-" where the page shows "–"); the spider prefers the page's
        assert (summary or "").replace(" - ", " – ") == (expected["summary"] or ""), entry.url


@pytest.mark.parametrize(
    ("hints", "body", "summary"),
    [
        ({"excerpt": "Một hai ba bốn", "excerpt_more": True}, "Một hai ba bốn năm sáu", None),
        ({"excerpt": "Một hai ba", "excerpt_more": False}, "Một hai ba", None),  # short post: excerpt = body
        (
            {"excerpt": "Tóm tắt do biên tập viên viết.", "excerpt_more": False},
            "Nội dung khác hẳn.",
            "Tóm tắt do biên tập viên viết.",
        ),
        ({"excerpt": "Câu đầu của bài.", "excerpt_more": False}, "Câu đầu của bài.\n\nĐoạn hai.", "Câu đầu của bài."),
        ({}, "Bất kỳ", None),
    ],
)
def test_handwritten_excerpt_rule(hints, body, summary):
    assert handwritten_excerpt(hints, body) == summary


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/2023/06/ky-hop-thu-sau/", PageKind.UNKNOWN),  # a post only once the site's post shapes are learned
        ("/?p=15", PageKind.ARTICLE),
        ("/category/tin-tuc-su-kien/", PageKind.LISTING),
        ("/category/tin-tuc-su-kien/page/2/", PageKind.LISTING),
        ("/page/3/", PageKind.LISTING),
        ("/feed/", PageKind.FEED),
        ("/category/y-te/feed/", PageKind.FEED),
        ("/comments/feed/", PageKind.OTHER),
        ("/gioi-thieu-chung/", PageKind.UNKNOWN),  # a page or a post: the page sitemap or the page itself says
        ("/tag/nong-nghiep/", PageKind.OTHER),
        ("/wp-sitemap.xml", PageKind.SITEMAP),
    ],
)
def test_classify(path, kind):
    assert WordPress().classify(BASE + path) is kind


def test_posts_sitemap_entries_are_articles_whatever_their_shape():
    family = WordPress()
    assert family.sitemap_kind(f"{BASE}/wp-sitemap-posts-post-1.xml", f"{BASE}/gioi-thieu/") is PageKind.ARTICLE
    assert family.sitemap_kind(f"{BASE}/wp-sitemap-posts-page-1.xml", f"{BASE}/2023/06/x/") is PageKind.OTHER
