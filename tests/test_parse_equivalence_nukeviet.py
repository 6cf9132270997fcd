# ruff: noqa: E501 -- crafted pages, one element per line
"""The NukeViet article scope's selectors without XPath (crawler.families.nukeviet.page: scoped(),
itemprop_values(), texts()) find what the XPaths they replace find: on every saved NukeViet page (fixtures,
and the corpora's article pages when present), for the article scope and other subtrees of each page, and
on crafted edge cases."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from crawler.families.base import parse_page
from crawler.families.nukeviet import page as nvpage

FIXTURES = Path(__file__).parent / "fixtures" / "pages"
CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpus"
SELECTORS = (*nvpage.BODIES, *nvpage.HEADLINES, *nvpage.LEADS, nvpage.LABELS)


def _saved_pages() -> list[tuple[str, bytes]]:
    return [
        (str(p.relative_to(FIXTURES)), gzip.decompress(p.read_bytes()))
        for p in sorted(FIXTURES.glob("nukeviet*/*/*/page.html.gz"))
    ]


def _corpus_pages() -> list[tuple[str, bytes]]:
    try:
        from warcio.archiveiterator import ArchiveIterator
    except ImportError:  # pragma: no cover
        return []
    found = []
    for directory in sorted(CORPORA.glob("nukeviet-*")):
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
    "nested-hometext": """<html><body><div itemscope itemtype="http://schema.org/NewsArticle"><h1 class="title\tbig">T <em>x</em></h1>
<h2 class="subtitle">s</h2><div id="hometext"><span itemprop="description" class="hidden"></span><div class="h2">lead <b>b</b></div>
<h2>h2 child</h2><p>p child</p><div id="hometext"><p>inner</p><span itemprop="description">d2</span></div></div>
<div class="hometext\\n">ht</div><span itemprop="datePublished" content="2023-01-01T00:00:00+07:00">01/01/2023 <b>07:00</b></span>
<span itemprop="dateModified"><i content="x">a</i> b <span itemprop="dateModified" content="c2">c</span> tail</span>
<div class="bodytext"><p>body<!-- note --> text</p></div><div id="news-bodyhtml"></div><div itemprop="articleBody"><img src="/a.jpg"></div>
<p><strong>Tác giả:</strong> A</p><p><b>Nguồn tin: </b><a href="http://x">X</a></p><span class="label-x">L</span><em class="mylabel">E</em>
</div></body></html>""",
    "files-block": """<html><body><div itemscope itemtype="https://schema.org/Article" class="news-download-file-x">
<div class="panel news-download-file"><a href="/f1.pdf">f1</a><div class="news-download-file"><a href="/f2.pdf">f2</a></div></div>
<a download href="/x?download=1">d</a><a href="/y?download=1">no attr</a><span itemtype="http://schema.org/BreadcrumbList"></span>
<div itemtype="http://schema.org/BlogPosting" class="news-download-files"><a href="/z.doc">z</a></div></div></body></html>""",
    "no-schema": """<html><body><div class="news_column"><h1>Site</h1><div class="bodytext">b</div>
<span itemprop="dateModified" content="2024-01-02">2/1/2024</span></div></body></html>""",
}


def _subtrees(page) -> list:
    roots = list(nvpage.article_scopes(page))
    roots += [e for e in page.root.iter() if isinstance(e.tag, str) and e.get("id")][:25]
    roots += [page.root.find("body")] if page.root.find("body") is not None else []
    return roots


def _check(html: bytes | str) -> None:
    page = parse_page(html)
    assert nvpage.article_scopes(page) == [node.root for node in page.xpath(nvpage.ARTICLE_SCOPE)]
    assert nvpage.download_hrefs(page) == page.xpath(nvpage.DOWNLOADS).getall()
    for root in _subtrees(page):
        scope = type(page)(root=root, type=page.type)
        for xpath in SELECTORS:
            assert nvpage.scoped(scope, xpath) == [node.root for node in scope.xpath(xpath)], xpath
        for name in ("datePublished", "dateModified"):
            expected = scope.xpath(f".//*[@itemprop='{name}']//text() | .//*[@itemprop='{name}']/@content").getall()
            assert nvpage.itemprop_values(scope, name) == expected, name
    for name in ("datePublished", "dateModified"):  # the whole page: the XPath itself
        expected = page.xpath(f".//*[@itemprop='{name}']//text() | .//*[@itemprop='{name}']/@content").getall()
        assert nvpage.itemprop_values(page, name) == expected
    for node in page.root.iter():
        if isinstance(node.tag, str):
            assert nvpage.texts(node) == node.xpath(".//text()")


def test_saved_pages_exist():
    assert len(_saved_pages()) >= 10


@pytest.mark.parametrize("name", sorted(CRAFTED))
def test_crafted_equal_to_the_xpaths(name):
    _check(CRAFTED[name])


def test_saved_pages_equal_to_the_xpaths():
    for name, html in _saved_pages() + _corpus_pages():
        try:
            _check(html)
        except AssertionError as error:  # pragma: no cover - the page's name in the report
            raise AssertionError(f"{name}: {error}") from error
