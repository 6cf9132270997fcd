"""The generic reader's one-walk lookups (issue 12) give exactly what its former parsel XPaths gave.

Each former whole-document query is run with parsel beside the new lookup, on every saved page of
the fixtures and on crafted pages with the edge cases (nested matches, odd white space in class
attributes, several titles, attributes on elements without text)."""

from __future__ import annotations

import gzip

import pytest
from conftest import PAGES
from parsel import Selector

from crawler.families import generic
from crawler.families.base import parse_page

PAGE_FILES = sorted(PAGES.rglob("page.html.gz"))
CRAFTED = [
    "<html><head><title>A <b>b</b></title></head><body><h1>x <i>y</i></h1><article><h1>z</h1></article></body></html>",
    "<html><body><div itemprop='datePublished' content='2024-01-02'>02/01/2024 <span itemprop='datePublished'"
    " content='2023-05-06'>06/05/2023</span> tail</div><time datetime=''>t</time><time>u</time>"
    "<time datetime='2024-03-04T05:06'>v</time><p itemprop='dateModified' content='2024-09-09'>m</p>"
    "<p itemprop='dateModified'>no content</p></body></html>",
    "<html><body><div class='\tentry-content\n other'>" + "<p>" + "chữ " * 80 + "</p></div>"
    "<div class='entry-contents'><p>no</p></div><div class='x\xa0entry-content'><p>nbsp</p></div></body></html>",
    "<html><body><div class='entry-content'><p>short</p></div><div class='entry-content'>"
    + "<p>"
    + "chữ " * 80
    + "</p></div><div id='news-bodyhtml'><p>"
    + "một " * 70
    + "</p></div></body></html>",
    "<html><body><div class='journal-content-article ms-rtestate-field'><p>" + "hai " * 70 + "</p></div>"
    "<div itemprop='articleBody'><p>" + "ba " * 70 + "</p></div><div itemprop='articleBody'></div></body></html>",
    "<html><body><div class=' ms-rtestate-field '><p>" + "bốn " * 70 + "</p></div><h1></h1><h1>second</h1>"
    "<!-- <h1>comment</h1> --></body></html>",
    "<html><body><p>Ngày 12/03/2024 10:15</p></body></html>",
    "<html><head></head><body></body></html>",
]


def _cases() -> list[tuple[str, str]]:
    cases = [
        (str(path.relative_to(PAGES)), gzip.decompress(path.read_bytes()).decode("utf-8", "replace"))
        for path in PAGE_FILES
    ]
    return cases + [(f"crafted-{i}", html) for i, html in enumerate(CRAFTED)]


def _former_strong(page: Selector):
    for xpath in generic.STRONG_CONTAINERS:
        found = page.xpath(xpath)
        if len(found) == 1 and sum(len(generic.element_text(p)) for p in found[0].root.iter("p")) >= 200:
            return found[0].root
    return None


def _former_title_texts(page: Selector) -> list[str]:
    return [
        " ".join(page.xpath("(//article//h1 | //h1)[1]//text()").getall()),
        " ".join(page.xpath("//title//text()").getall()),
    ]


@pytest.mark.parametrize(("name", "html"), _cases(), ids=[name for name, _ in _cases()])
def test_walk_equals_former_xpaths(name, html):
    former = Selector(text=html)
    page = parse_page(html)
    tree, former_tree = page.root.getroottree(), former.root.getroottree()
    for xpath, found in zip(generic.STRONG_CONTAINERS, generic._landmarks(page).strong(), strict=True):
        assert [tree.getpath(e) for e in found] == [former_tree.getpath(s.root) for s in former.xpath(xpath)]
    strong, old = generic._strong_container(page), _former_strong(former)
    assert (strong is None) == (old is None)
    if strong is not None:
        assert page.root.getroottree().getpath(strong) == former.root.getroottree().getpath(old)
    # the title: its fallbacks after JSON-LD and og:title (none given here)
    expected_title = next((t for t in map(generic.clean_text, _former_title_texts(former)) if t), None)
    if not generic.meta_content(page, "og:title"):
        assert generic.Generic._title(page, {}) == expected_title
    # the dates: same candidate values, so the same first date
    published_marks = generic._landmarks(page).itemprops.get("datePublished", [])
    new_published = (
        ([m.get("content")] if m.get("content") is not None else []) + generic._DESCENDANT_TEXTS(m)
        for m in published_marks
    )
    if len(published_marks) <= 1:
        assert [v for part in new_published for v in part] == former.xpath(
            "//*[@itemprop='datePublished']/@content | //*[@itemprop='datePublished']//text()"
        ).getall()
    assert [v for t in generic.elements(page, "time") if (v := t.get("datetime")) is not None] == former.xpath(
        "//time[@datetime]/@datetime"
    ).getall()
    assert [
        v for m in generic._landmarks(page).itemprops.get("dateModified", []) if (v := m.get("content")) is not None
    ] == former.xpath("//*[@itemprop='dateModified']/@content").getall()
    assert generic.Generic._dates(page, {}) == _former_dates(former)


def _former_dates(page: Selector):
    published = generic.first_date(
        generic.meta_content(page, "article:published_time", "datePublished", "pubdate", "publishdate", "date")
        + page.xpath("//*[@itemprop='datePublished']/@content | //*[@itemprop='datePublished']//text()").getall()
        + page.xpath("//time[@datetime]/@datetime").getall()
    )
    if published is None:
        published = generic._visible_date(page)
    updated = generic.first_date(
        generic.meta_content(page, "article:modified_time", "dateModified")
        + page.xpath("//*[@itemprop='dateModified']/@content").getall()
    )
    if updated is not None and published is not None and updated <= published:
        updated = None
    return published, updated


def test_main_candidates_precompiled_equal_parsel():
    for _, html in _cases():
        former, page = Selector(text=html), parse_page(html)
        tree, former_tree = page.root.getroottree(), former.root.getroottree()
        for xpath, compiled in zip(generic.MAIN_CANDIDATES, generic._MAIN_CANDIDATES, strict=True):
            assert [tree.getpath(e) for e in compiled(page.root)] == [
                former_tree.getpath(s.root) for s in former.xpath(xpath)
            ]


META_NAMES = [
    "og:title",
    "description",
    "og:description",
    "author",
    "article:author",
    "article:section",
    "article:tag",
    "article:published_time",
    "datePublished",
    "date",
    "article:modified_time",
    "keywords",
]


@pytest.mark.parametrize(("name", "html"), _cases(), ids=[name for name, _ in _cases()])
def test_cached_metas_equal_a_pass_per_call(name, html):
    page, plain = parse_page(html), Selector(text=html)  # a Page caches; a plain Selector reads the metas each time
    for start in range(len(META_NAMES)):
        for group in (META_NAMES[start : start + 3], META_NAMES[start : start + 1]):
            assert generic.meta_content(page, *group) == generic.meta_content(plain, *group)
