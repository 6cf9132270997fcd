# ruff: noqa: E501 -- crafted pages, one element per line
"""The WordPress post readers without XPath (crawler.families.wordpress.page: title, body, dates, author,
terms, file blocks, the post container) give what the XPath selectors they replace give: on every saved
page (fixtures, and the corpora's article pages when present) and on crafted edge cases."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from crawler.families.base import parse_page
from crawler.families.wordpress import page as wp
from crawler.text.normalise import clean_text

FIXTURES = Path(__file__).parent / "fixtures" / "pages"
CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpus"


def _saved_pages() -> list[tuple[str, bytes]]:
    found = [
        (str(p.relative_to(FIXTURES)), gzip.decompress(p.read_bytes()))
        for p in FIXTURES.glob("wordpress/*/*/page.html.gz")
    ]
    found += [(str(p.relative_to(FIXTURES)), p.read_bytes()) for p in FIXTURES.glob("wordpress-themes/*.html")]
    found += [
        (str(p.relative_to(FIXTURES)), gzip.decompress(p.read_bytes()))
        for p in FIXTURES.glob("wordpress-listings/*.gz")
    ]
    return found


def _corpus_pages() -> list[tuple[str, bytes]]:
    try:
        from warcio.archiveiterator import ArchiveIterator
    except ImportError:  # pragma: no cover
        return []
    found = []
    for directory in sorted(CORPORA.glob("wordpress-*")):
        for truth_name, warc_name in (("truth.jsonl", "site.warc.gz"), ("later-truth.jsonl", "later.warc.gz")):
            truth, warc = directory / truth_name, directory / warc_name
            if not (truth.exists() and warc.exists()):
                continue
            urls = {json.loads(line)["url"] for line in truth.read_text().splitlines() if line}
            with warc.open("rb") as stream:
                for record in ArchiveIterator(stream):
                    url = record.rec_headers.get_header("WARC-Target-URI")
                    if record.rec_type == "response" and url in urls:
                        found.append((f"{directory.name}/{warc_name}/{url}", record.content_stream().read()))
    return found


CRAFTED = {
    "query-loop-and-widgets": """<html><body class="single single-post postid-5">
<article class="post-5 type-post hentry"><header><h1 class="entry-title">Tiêu <span class="screen-reader-text">ẩn</span> đề</h1>
<div class="entry-meta byline"><span class="author vcard"><a rel="author" href="/a/x">Nguyễn A</a></span>
<time class="entry-date published" datetime="2024-05-01T08:00:00+07:00">1/5/2024</time>
<time class="updated" datetime="2024-05-03T08:00:00+07:00">3/5/2024</time></div></header>
<div class="entry-content"><p>Nội dung</p><div class="wp-block-file"><a href="/f.pdf">Tệp</a><div class="wp-block-file"><a href="/g.pdf">G</a></div></div></div>
<footer><span class="cat-links"><a rel="category tag" href="/c/a">Tin <b class="screen-reader-text">x</b>tức</a></span>
<span class="tags-links"><a rel="tag" href="/t/b">Thẻ</a></span></footer>
<aside><a rel="author" href="/a/y">Khác</a><h1 itemprop="headline">H1 in aside</h1><span itemprop="headline">span</span></aside>
<div class="wp-block-query"><time class="published" datetime="2020-01-01">x</time><a rel="tag" href="/t/q">Q</a></div>
</article></body></html>""",
    "block-theme": """<html><body class="single-post"><main><div class="wp-block-group">
<div class="wp-block-post-title">Block title</div>
<div class="wp-block-post-date"><time datetime="2024-02-01T00:00:00Z">Feb 1</time></div>
<div class="wp-block-post-date wp-block-post-date__modified-date"><time datetime="2024-02-05T00:00:00Z">Feb 5</time></div>
<div class="wp-block-post-date"><time datetime="2024-02-06T00:00:00Z">Feb 6</time></div>
<div class="taxonomy-category wp-block-post-terms"><a href="/cat/x">X</a><span class="screen-reader-text"><a href="/cat/y">Y</a></span></div>
<div class="taxonomy-post_tag"><a href="/tag/a" rel="tag">A</a></div>
<div class="taxonomy-author"><a rel="tag" href="/tag/z">Z</a></div>
<div class="wp-block-post-author__name">Tác giả B</div>
<div class="wp-block-post-content"><p>Body</p></div>
<ul class="wp-block-post-template"><li class="post-9 type-post"><div class="wp-block-post-date"><time datetime="2019-01-01">old</time></div></li></ul>
</div></main></body></html>""",
    "odd-whitespace-and-itemprops": """<html><body><div id="main"><div class="post\tentry\n">
<h2 class="post-title\xa0big">No token (nbsp)</h2><h1 itemprop="headline">H <i>one</i></h1>
<span itemprop="datePublished" content="2023-01-02T03:04:05+07:00">2/1/2023</span>
<time itemprop="dateModified" datetime="2023-01-09T03:04:05+07:00" content="2023-01-08T03:04:05+07:00">9/1</time>
<div class="post-author"><span class="meta-text">By <a href="/u">Trần C</a></span></div><span class="fn">fn name</span>
<a rel="author author-link" href="/u2">rel two</a><a rel="author" class="author-link" href="/u3">rel link</a>
<div class="td-category"><a href="/c/1">Một</a><a href="/c/2"><!-- c --> Hai</a></div>
<div class="entry-tags"><a href="/t/1">t1</a></div><div class="posted-on">Ngày 12/03/2023</div>
</div></div></body></html>""",
    "nothing": "<html><body><p>plain</p></body></html>",
    "main-article": '<html><body class="type-post"><div id="main">x</div><main><article><h1 class="entry-title">T</h1>'
    '<div class="entry-content"><p>b</p></div></article></main></body></html>',
    "post-class-div": '<html><body><div id="main"><div class="type-post\tpost"><div class="entry">e</div></div></div></body></html>',
    "id-main-first": '<html><body><span id="main"></span><main><p class="post-entry">p</p></main></body></html>',
}


def _old_post(page):
    return next((found[0] for xpath in wp.POST if (found := page.xpath(xpath))), page)


def _old_body(post):
    node = next((found[0] for xpath in wp.BODY if (found := post.xpath(xpath))), None)
    return None if node is None else node.root


def _old_title(post):
    for xpath in wp.TITLE:
        for node in post.xpath(f"{xpath}[not({wp.NOT_THE_POST})]"):
            title = clean_text(" ".join(node.xpath(".//text()").getall()))
            if title:
                return title
    return None


def _old_authors(post):
    return [
        clean_text(" ".join(node.xpath(f".//text()[not({wp.SCREEN_READER})]").getall()))
        for xpath in wp.AUTHOR
        for node in post.xpath(f"{xpath}[not({wp.NOT_THE_POST})]")
    ]


def _check(html: bytes | str) -> None:
    page = parse_page(html)
    old_post, new_post = _old_post(page), wp.post_container(page)
    assert new_post.root is old_post.root
    for post in {id(old_post): old_post, id(page): page}.values():  # the container, and the whole page
        assert wp.body(post) is _old_body(post)
        assert wp.title(post) == _old_title(post)
        assert wp.published_time(post) == wp.first_time(post, wp.PUBLISHED)
        assert wp.modified_time(post) == wp.first_time(post, wp.MODIFIED)
        assert wp.post_block_dates(post) == wp.block_dates(post)
        assert wp.post_visible_date(post) == wp.visible_date(post)
        assert list(wp.author_texts(post)) == _old_authors(post)
        assert wp.category_names(post) == wp.terms(post, wp.CATEGORY_LINKS)
        assert wp.tag_names(post) == wp.terms(post, wp.TAG_LINKS)
        body = wp.body(post)
        if body is not None:
            assert wp.file_blocks(body) == body.xpath(wp.FILE_BLOCKS)
            assert wp.file_links(body) == body.xpath(f"{wp.FILE_BLOCKS}//a/@href")


def test_saved_pages_exist():
    assert len(_saved_pages()) >= 5


@pytest.mark.parametrize("name", sorted(CRAFTED))
def test_crafted_equal_to_the_xpaths(name):
    _check(CRAFTED[name])


def test_saved_pages_equal_to_the_xpaths():
    for name, html in _saved_pages() + _corpus_pages():
        try:
            _check(html)
        except AssertionError as error:  # pragma: no cover - the page's name in the report
            raise AssertionError(f"{name}: {error}") from error


def test_texts_equal_to_the_xpath():
    page = parse_page(CRAFTED["query-loop-and-widgets"])
    for node in page.root.iter():
        if isinstance(node.tag, str):
            assert wp.texts(node) == node.xpath(".//text()")
            assert wp.texts(node, skip_screen_reader=True) == node.xpath(f".//text()[not({wp.SCREEN_READER})]")
