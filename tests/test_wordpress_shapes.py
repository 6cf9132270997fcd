"""WordPress beyond the three dev corpora: every permalink mode, classic and third-party themes, SEO plugins, REST.

URL rules follow wp-includes/class-wp-rewrite.php and rewrite.php (plain ``?p=``, PATHINFO ``/index.php/``,
custom category/tag bases, feeds of posts being comment feeds). The theme pages below are the single-post
markup of each theme as its templates print it (Twenty Twenty's ``post-meta``, Astra's text-only dates,
GeneratePress's modified-before-published ``<time>``s, Newspaper's ``updated`` publish date), and Yoast's
JSON-LD ``@graph`` as its schema generators print it. The REST answers are the recorded ones of a real
WordPress install (tests/fixtures/warc/wordpress-stp.kontum.gov.vn).
"""

from __future__ import annotations

from datetime import datetime

import pytest
from conftest import WARCS
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


BODY = "<p>Sáng 20/7, UBND xã tổ chức hội nghị sơ kết công tác 6 tháng đầu năm với sự tham dự của các ban ngành.</p>"
THEMES = {
    # Twenty Twenty: no <time>; the date in the site's format inside li.post-date, screen-reader labels around
    "twentytwenty": f"""<body class="post-template-default single single-post postid-7 single-format-standard">
<article class="post-7 post type-post status-publish format-standard hentry category-tin-tuc" id="post-7">
<header class="entry-header has-text-align-center"><div class="entry-header-inner section-inner medium">
<div class="entry-categories"><span class="screen-reader-text">Categories</span><div class="entry-categories-inner">
<a href="{H}/category/tin-tuc/" rel="category tag">Tin tức</a></div></div>
<h1 class="entry-title">Sơ kết công tác 6 tháng đầu năm</h1>
<div class="post-meta-wrapper post-meta-single post-meta-single-top"><ul class="post-meta">
<li class="post-author meta-wrapper"><span class="meta-icon"><span class="screen-reader-text">Post author</span></span>
<span class="meta-text">By <a href="{H}/author/lan/">Nguyễn Thị Lan</a></span></li>
<li class="post-date meta-wrapper"><span class="meta-icon"><span class="screen-reader-text">Post date</span></span>
<span class="meta-text"><a href="{H}/so-ket/">Tháng Bảy 20, 2023</a></span></li></ul></div></div></header>
<div class="post-inner thin"><div class="entry-content">{BODY}</div></div>
<div class="section-inner"><div class="post-meta-wrapper post-meta-single post-meta-single-bottom"><ul class="post-meta">
<li class="post-tags meta-wrapper"><span class="meta-icon"><span class="screen-reader-text">Tags</span></span>
<span class="meta-text"><a href="{H}/tag/so-ket/" rel="tag">sơ kết</a></span></li></ul></div></div></article></body>""",
    # Astra: dates as text in itemprop spans, no <time>
    "astra": f"""<body class="post-template-default single single-post postid-7 ast-single-post">
<article class="post-7 post type-post status-publish hentry category-tin-tuc ast-article-single" itemtype="https://schema.org/CreativeWork">
<header class="entry-header"><h1 class="entry-title" itemprop="headline">Sơ kết công tác 6 tháng đầu năm</h1>
<div class="entry-meta"><span class="posted-by vcard author" itemtype="https://schema.org/Person" itemscope itemprop="author">
<a title="View all posts by Nguyễn Thị Lan" href="{H}/author/lan/" rel="author" class="url fn n" itemprop="url">
<span class="author-name" itemprop="name">Nguyễn Thị Lan</span></a></span> / <span class="posted-on">
<span class="published" itemprop="datePublished"> 20/07/2023 </span><span class="updated" itemprop="dateModified"> 24/07/2023 </span>
</span> / <span class="ast-taxonomy-container cat-links"><a href="{H}/category/tin-tuc/" rel="category tag">Tin tức</a></span></div></header>
<div class="entry-content clear" itemprop="text">{BODY}</div>
<span class="ast-taxonomy-container tags-links"><a href="{H}/tag/so-ket/" rel="tag">sơ kết</a></span></article></body>""",
    # GeneratePress: time.updated (modified) printed before time.entry-date.published
    "generatepress": f"""<body class="post-template-default single single-post postid-7">
<article id="post-7" class="post-7 post type-post status-publish format-standard hentry category-tin-tuc">
<div class="inside-article"><header class="entry-header"><h1 class="entry-title" itemprop="headline">Sơ kết công tác 6 tháng đầu năm</h1>
<div class="entry-meta"><span class="posted-on"><time class="updated" datetime="2023-07-24T14:00:00+07:00" itemprop="dateModified">24/07/2023</time>
<time class="entry-date published" datetime="2023-07-20T09:15:00+07:00" itemprop="datePublished">20/07/2023</time></span>
<span class="byline">by <span class="author vcard" itemprop="author"><a class="url fn n" href="{H}/author/lan/" rel="author"><span class="author-name" itemprop="name">Nguyễn Thị Lan</span></a></span></span></div></header>
<div class="entry-content" itemprop="text">{BODY}</div>
<footer class="entry-meta"><span class="cat-links"><a href="{H}/category/tin-tuc/" rel="category tag">Tin tức</a></span>
<span class="tags-links"><a href="{H}/tag/so-ket/" rel="tag">sơ kết</a></span></footer></div></article></body>""",
    # Newspaper (tagDiv): the publish date carries the class "updated", in UTC
    "newspaper": f"""<body class="post-template-default single single-post postid-7 td-standard-pack">
<article id="post-7" class="post-7 post type-post status-publish format-standard hentry category-tin-tuc">
<div class="td-post-header"><ul class="td-category"><li class="entry-category"><a href="{H}/category/tin-tuc/">Tin tức</a></li></ul>
<header class="td-post-title"><h1 class="entry-title">Sơ kết công tác 6 tháng đầu năm</h1><div class="td-module-meta-info">
<div class="td-post-author-name"><div class="td-author-by">By</div> <a href="{H}/author/lan/">Nguyễn Thị Lan</a><div class="td-author-line"> - </div></div>
<span class="td-post-date"><time class="entry-date updated td-module-date" datetime="2023-07-20T02:15:00+00:00">20/07/2023</time></span></div></header></div>
<div class="td-post-content tagdiv-type">{BODY}</div>
<footer><div class="td-post-source-tags"><ul class="td-tags td-post-small-box clearfix"><li><span>TAGS</span></li>
<li><a href="{H}/tag/so-ket/">sơ kết</a></li></ul></div></footer></article></body>""",
}


@pytest.mark.parametrize("theme", sorted(THEMES))
def test_theme_fields(theme):
    article = WordPress().parse_article(f"<html><head></head>{THEMES[theme]}</html>", f"{H}/so-ket/")
    assert article.title == "Sơ kết công tác 6 tháng đầu năm"
    assert article.published.date() == datetime(2023, 7, 20).date()
    assert article.published.tzinfo is not None
    assert article.author == "Nguyễn Thị Lan"
    assert article.categories == ["Tin tức"]
    assert article.tags == ["sơ kết"]
    assert article.body_text.startswith("Sáng 20/7, UBND xã")
    assert "Post date" not in article.body_text


def test_generatepress_modified_time_is_the_update():
    article = WordPress().parse_article(f"<html>{THEMES['generatepress']}</html>", f"{H}/so-ket/")
    assert article.published.isoformat() == "2023-07-20T09:15:00+07:00"
    assert article.updated.isoformat() == "2023-07-24T14:00:00+07:00"


YOAST = f"""<html><head><title>Sơ kết công tác 6 tháng - UBND xã Hòa Phong</title>
<meta property="og:title" content="Sơ kết công tác 6 tháng - UBND xã Hòa Phong">
<meta property="og:site_name" content="UBND xã Hòa Phong">
<meta property="article:published_time" content="2023-07-20T02:15:00+00:00">
<meta property="article:modified_time" content="2023-07-24T07:00:00+00:00">
<script type="application/ld+json" class="yoast-schema-graph">{{"@context":"https://schema.org","@graph":[
{{"@type":"Article","@id":"{H}/so-ket/#article","headline":"Sơ kết công tác 6 tháng",
"author":{{"name":"Nguyễn Thị Lan","@id":"{H}/#/schema/person/abc"}},"datePublished":"2023-07-20T02:15:00+00:00",
"dateModified":"2023-07-24T07:00:00+00:00","keywords":["sơ kết"],"articleSection":["Tin tức"]}},
{{"@type":"WebPage","@id":"{H}/so-ket/","name":"Sơ kết công tác 6 tháng - UBND xã Hòa Phong"}},
{{"@type":"Person","@id":"{H}/#/schema/person/abc","name":"Nguyễn Thị Lan"}}]}}</script></head>
<body class="single single-post postid-9"><div id="main"><div class="post-body-x">{BODY}{BODY}</div></div></body></html>"""


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
