"""WordPress beyond the three dev corpora: every permalink mode, classic and third-party themes, SEO plugins, REST.

URL rules follow wp-includes/class-wp-rewrite.php and rewrite.php (plain ``?p=``, PATHINFO ``/index.php/``,
custom category/tag bases, feeds of posts being comment feeds). The theme pages below are the single-post
markup of each theme as its templates print it (Twenty Twenty's ``post-meta``, Astra's text-only dates,
GeneratePress's modified-before-published ``<time>``s, Newspaper's ``updated`` publish date), and Yoast's
JSON-LD ``@graph`` as its schema generators print it. The REST answers are the recorded ones of a real
WordPress install (tests/fixtures/warc/wordpress-stp.kontum.gov.vn).
"""

from __future__ import annotations

import pytest
from conftest import PAGES, WARCS
from parsel import Selector
from warcio.archiveiterator import ArchiveIterator

from crawler.discovery import Entry
from crawler.families.base import PageKind
from crawler.families.wordpress import WordPress, excerpt_hint, rest

H = "https://xa.gov.vn"


def learned(**bases) -> WordPress:
    family = WordPress()
    family.apply_facts(bases)
    return family


@pytest.mark.parametrize(
    ("family", "path", "kind"),
    [
        (WordPress(), "/?p=42", PageKind.ARTICLE),
        (WordPress(), "/?page_id=2", PageKind.OTHER),
        (WordPress(), "/?cat=3", PageKind.LISTING),
        (WordPress(), "/?cat=3&paged=2", PageKind.LISTING),
        (WordPress(), "/?paged=3", PageKind.LISTING),
        (WordPress(), "/?feed=rss2", PageKind.FEED),
        (WordPress(), "/?cat=3&feed=rss2", PageKind.FEED),
        (WordPress(), "/?feed=comments-rss2", PageKind.OTHER),
        (WordPress(), "/?tag=kinh-te", PageKind.OTHER),
        (WordPress(), "/?m=202405", PageKind.OTHER),
        (WordPress(), "/?author=2", PageKind.OTHER),
        (WordPress(), "/?s=abc", PageKind.OTHER),
        (WordPress(), "/?attachment_id=12", PageKind.OTHER),
        (WordPress(), "/?rest_route=/wp/v2/posts", PageKind.OTHER),
        (WordPress(), "/wp-json/wp/v2/posts", PageKind.OTHER),
        (WordPress(), "/index.php/category/tin-tuc/", PageKind.LISTING),  # PATHINFO permalinks
        (WordPress(), "/feed/", PageKind.FEED),
        (WordPress(), "/feed/atom/", PageKind.FEED),
        (WordPress(), "/category/tin-tuc/feed/", PageKind.FEED),
        (WordPress(), "/mot-bai-viet/feed/", PageKind.OTHER),  # a post's comments feed
        (WordPress(), "/comments/feed/", PageKind.OTHER),
        (WordPress(), "/2024/05/", PageKind.OTHER),  # date archives repeat the category listings
        (WordPress(), "/2024/05/page/2/", PageKind.OTHER),
        (WordPress(), "/sitemap_index.xml", PageKind.SITEMAP),  # Yoast, Rank Math
        (WordPress(), "/post-sitemap2.xml", PageKind.SITEMAP),
        (WordPress(), "/wp-login.php", PageKind.OTHER),
        (WordPress(), "/2024/05/13/42.html", PageKind.UNKNOWN),  # a post once the site's post shapes are learned
        (learned(category_base="danh-muc", tag_base="tu-khoa"), "/danh-muc/thong-bao", PageKind.LISTING),
        (learned(category_base="danh-muc", tag_base="tu-khoa"), "/danh-muc/thong-bao/page/2", PageKind.LISTING),
        (learned(category_base="danh-muc", tag_base="tu-khoa"), "/danh-muc/thong-bao/feed", PageKind.FEED),
        (learned(category_base="danh-muc", tag_base="tu-khoa"), "/tu-khoa/an-ninh", PageKind.OTHER),
    ],
)
def test_classify(family, path, kind):
    assert family.classify(H + path) is kind


def test_bases_learned_from_taxonomy_sitemaps_and_static_pages_from_the_page_sitemap():
    family = WordPress()
    family.learn_sitemap(f"{H}/wp-sitemap-taxonomies-category-1.xml", [Entry(f"{H}/chuyen-muc/tin-hoat-dong/")])
    family.learn_sitemap(f"{H}/wp-sitemap-taxonomies-post_tag-1.xml", [Entry(f"{H}/the/kinh-te/")])
    family.learn_sitemap(f"{H}/wp-sitemap-posts-page-1.xml", [Entry(f"{H}/gioi-thieu/")])
    assert family.classify(f"{H}/chuyen-muc/tin-hoat-dong/page/2/") is PageKind.LISTING
    assert family.classify(f"{H}/the/kinh-te/") is PageKind.OTHER
    assert family.classify(f"{H}/gioi-thieu/") is PageKind.OTHER
    assert family.sitemap_kind(f"{H}/post-sitemap.xml", f"{H}/gioi-thieu/") is PageKind.ARTICLE  # Yoast's post sitemap
    assert family.facts()["category_base"] == "chuyen-muc"


@pytest.mark.parametrize(
    ("head", "body_class", "kind"),
    [
        ('<link rel="alternate" type="application/json" href="/wp-json/wp/v2/posts/42">', "", PageKind.ARTICLE),
        ('<link rel="alternate" type="application/json" href="/?rest_route=/wp/v2/pages/2">', "", PageKind.OTHER),
        ('<link rel="alternate" type="application/json" href="/wp-json/wp/v2/categories/3">', "", PageKind.LISTING),
        ("", "post-template-default single single-post postid-42", PageKind.ARTICLE),
        ("", "page-template-default page page-id-2", PageKind.OTHER),
        ("", "archive category category-tin-tuc category-3", PageKind.LISTING),
        ("", "archive tag tag-kinh-te", PageKind.OTHER),
        ("", "single single-van-ban postid-9", PageKind.OTHER),  # a custom post type, not news
    ],
)
def test_a_page_says_what_it_is(head, body_class, kind):
    page = Selector(text=f"<html><head>{head}</head><body class='{body_class}'></body></html>")
    assert WordPress().page_kind(page, H + "/x/") is kind


THEMES_DIR = PAGES / "wordpress-themes"
# Single-post pages as each theme's templates print them (host https://xa.gov.vn, one body paragraph):
# twentytwenty (no <time>, the date in li.post-date, screen-reader labels), astra (text-only itemprop dates),
# generatepress (time.updated before time.published), newspaper (the publish date classed "updated", UTC).
THEMES = {p.stem: p.read_text(encoding="utf-8") for p in THEMES_DIR.glob("*.html") if p.stem != "yoast-custom-theme"}
# A custom theme with none of core's classes, on a site running Yoast SEO (metas and its JSON-LD @graph).
YOAST = (THEMES_DIR / "yoast-custom-theme.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("theme", sorted(THEMES))
def test_theme_fields(theme):
    article = WordPress().parse_article(THEMES[theme], f"{H}/so-ket/")
    assert article.title == "Sơ kết công tác 6 tháng đầu năm"
    assert article.published.date().isoformat() == "2023-07-20"
    assert article.published.tzinfo is not None
    assert article.author == "Nguyễn Thị Lan"
    assert article.categories == ["Tin tức"]
    assert article.tags == ["sơ kết"]
    assert article.body_text.startswith("Sáng 20/7, UBND xã")
    assert "Post date" not in article.body_text


def test_generatepress_modified_time_is_the_update():
    article = WordPress().parse_article(THEMES["generatepress"], f"{H}/so-ket/")
    assert article.published.isoformat() == "2023-07-20T09:15:00+07:00"
    assert article.updated.isoformat() == "2023-07-24T14:00:00+07:00"


def test_a_theme_without_core_markup_reads_the_seo_plugins_data():
    """A custom theme printing none of core's classes: Yoast's metas and graph carry the fields."""
    article = WordPress().parse_article(YOAST, f"{H}/so-ket/")
    assert article.title == "Sơ kết công tác 6 tháng"  # the JSON-LD headline, not the SEO title with the site name
    assert article.published.isoformat() == "2023-07-20T02:15:00+00:00"
    assert article.updated.isoformat() == "2023-07-24T07:00:00+00:00"
    assert article.author == "Nguyễn Thị Lan"
    assert article.categories == ["Tin tức"]
    assert article.tags == ["sơ kết"]
    assert article.degraded, "the body came from the generic reader"
    assert article.body_text.startswith("Sáng 20/7")


def _recorded(url: str) -> tuple[bytes, dict]:
    with (WARCS / "wordpress-stp.kontum.gov.vn" / "site.warc.gz").open("rb") as stream:
        for record in ArchiveIterator(stream):
            if record.rec_type == "response" and record.rec_headers.get_header("WARC-Target-URI") == url:
                headers = {k.encode(): v.encode() for k, v in record.http_headers.headers}
                return record.content_stream().read(), headers
    raise LookupError(url)


def test_rest_posts_give_dates_terms_and_excerpts():
    url = "https://stp.kontum.gov.vn/wp-json/wp/v2/posts?per_page=100&_embed"
    body, headers = _recorded(url)
    result, term_links = rest.read_posts(url, body, headers, excerpt_hint)
    by_link = dict(result.articles)
    assert len(by_link) == 18
    edited = by_link["https://stp.kontum.gov.vn/2025/06/03/38.html"]
    assert edited["published"].isoformat() == "2025-06-03T02:05:00+00:00"
    assert edited["updated"] > edited["published"]
    assert all(hints.get("categories") and hints.get("author") for hints in by_link.values())
    assert {taxonomy for _, taxonomy in term_links} == {"category", "post_tag"}
    family = WordPress()
    family.read_api(url, body, headers)
    assert family.facts()["category_base"] == "danh-muc", "term links teach the category base"


def test_rest_urls_for_both_root_forms():
    assert rest.posts_url("https://a.vn/wp-json/") == "https://a.vn/wp-json/wp/v2/posts?per_page=100&_embed="
    assert rest.posts_url("https://a.vn/index.php?rest_route=/") == (
        "https://a.vn/?rest_route=/wp/v2/posts&per_page=100&_embed="
    )
    assert rest.posts_url("https://a.vn/wp-json/", 3).endswith("&page=3")


def test_a_single_template_without_its_own_date_takes_the_feeds():
    """Twenty Twenty-Five prints no date for the post itself; the only <time> is in its "More posts" loop."""
    from crawler.discovery import Entry

    page = f"""<html><body class="single single-post postid-5"><main class="wp-block-group">
    <h1 class="wp-block-post-title">Tiêu đề</h1>
    <div class="entry-content wp-block-post-content">{"<p>Nội dung.</p>" * 3}</div>
    <div class="wp-block-query"><ul class="wp-block-post-template"><li class="wp-block-post post-4 type-post">
    <div class="wp-block-post-date"><time datetime="2020-01-01T08:00:00+07:00">1/1/2020</time></div></li></ul></div>
    </main></body></html>"""
    family = WordPress()
    hints = family.feed_hints(Entry(f"{H}/tieu-de/", "Tue, 08 Apr 2025 08:40:00 +0000"))
    article = family.parse_article(page, f"{H}/tieu-de/", hints=hints)
    assert article.published.isoformat() == "2025-04-08T08:40:00+00:00"
    assert WordPress().parse_article(page, f"{H}/tieu-de/").published is None, "never the loop's date"
