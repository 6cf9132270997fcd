"""One parse per page: detection and the family parsers on a shared tree give what they give on the text."""

from __future__ import annotations

import dataclasses
import json

import pytest
from conftest import PAGES, page_cases
from lxml import etree
from parsel import Selector

from crawler.families import extract_auto, get_family
from crawler.families.base import Page, elements, meta_content, parse_page
from crawler.families.detect import _SIGNALS, _compile_signal, _Index, _preset_signals, detect_family

CASES = [
    *((family, case) for family in ("nukeviet", "wordpress") for case in page_cases(family)[:6]),
    *(("generic", case) for case in (*page_cases("nukeviet")[:2], *page_cases("wordpress")[:2])),
]


def _fields(article) -> dict:
    return {k: v for k, v in dataclasses.asdict(article).items() if k != "fetched_at"}


@pytest.mark.parametrize(("family", "case"), CASES, ids=lambda c: c if isinstance(c, str) else c.id)
def test_a_parsed_page_reads_as_its_text(family, case):
    url = case.meta["url"]
    text = case.html.decode("utf-8", "replace")
    expected = _fields(get_family(family).parse_article(case.html, url))
    assert _fields(get_family(family).parse_article(parse_page(case.html), url)) == expected
    assert _fields(get_family(family).parse_article(Selector(text=text), url)) == expected, "a plain Selector too"
    page = parse_page(text)
    assert detect_family(page, url) == detect_family(text, url)
    name, article = extract_auto(page, url)
    assert name == detect_family(text, url).family
    assert _fields(article) == _fields(get_family(name).parse_article(text, url))


@pytest.mark.parametrize("path", sorted((PAGES / "presets").glob("*.json")), ids=lambda p: p.stem)
def test_presets_on_a_parsed_page(path):
    spec = json.loads(path.read_text(encoding="utf-8"))
    html = path.with_suffix(".html").read_text(encoding="utf-8")
    family = get_family(spec["family"], spec.get("options"))
    assert _fields(family.parse_article(parse_page(html), spec["url"])) == _fields(
        family.parse_article(html, spec["url"])
    )
    assert detect_family(parse_page(html), spec["url"]) == detect_family(html, spec["url"])


def test_parse_page_is_what_parsel_parses():
    for text in ("<html><body><p>x\x00y</p></body></html>", "  <p>a</p>  ", "", "[1, 2]", '<?xml version="1.0"?><a/>'):
        page, reference = parse_page(text), Selector(text=text)
        assert page.type == reference.type
        if page.type != "json":
            assert etree.tostring(page.root) == etree.tostring(reference.root)
    assert isinstance(parse_page("<p>x</p>"), Page)
    selector = Selector(text="<p>x</p>")
    assert parse_page(selector) is selector, "an already parsed page passes through"


def test_the_tag_pass_and_meta_cache_answer_as_the_tree():
    page = parse_page(
        "<html><head><meta name='a' content='1'><meta property='a' content=' 2 '><meta name='b' content='$x'>"
        "<link rel='canonical' href='/c'></head><body><a href='/x'>x</a><div><a>y</a></div></body></html>"
    )
    assert meta_content(page, "a", "b", "a") == ["1", "2", "1", "2"]
    assert meta_content(page, "b") == []
    assert [a.text for a in elements(page, "a")] == ["x", "y"]
    assert elements(page, "div") == list(page.root.iter("div"))


SIGNAL_PAGES = [
    "<html><body><div id='news-bodyhtml'>x</div></body></html>",
    "<html><body><a name='news-bodyhtml'>x</a></body></html>",  # HTML's ID table holds <a name> too
    "<html><body><div id='news-bodyhtml'>x</div><div id='news-bodyhtml'>y</div></body></html>",
    "<html><body><div class='a portlet-boundary b'></div><span id='p_p_id_56_'></span></body></html>",
    "<html><body><div class='xjournal-content-articlex'></div><i id='dnn_ctr'></i><i id='ctl00_x'></i></body></html>",
    "<html><head><meta name='generator' content='WordPress 6.4'><meta name='generator' content='NukeViet v4'>"
    "<script src='/assets/js/global.js'></script><script>var nv_base_siteurl='/';</script>"
    "<script>Liferay.Portlet; _spPageContextInfo</script><link rel='alternate' href='/news/rss/'>"
    "<link rel='https://api.w.org/' href='/wp-json/'><link href='/Portals/0/x.css'></head>"
    "<body class='single postid-5'><article class='post type-post'></article>"
    "<form><input name='__VIEWSTATE'></form><div class='tandan-x ms-rtestate-field'></div>"
    "<div id='ctl00_SPWebPartManager1'></div><script src='/DesktopModules/x.js'></script></body></html>",
    "<html><body><script> </script><link rel='alternate'><div class='' id=''></div></body></html>",
]


@pytest.mark.parametrize("html", SIGNAL_PAGES)
def test_every_signal_answers_as_its_xpath(html):
    page = parse_page(html)
    index = _Index(page)
    markup, _ = _preset_signals()
    from crawler.families.detect import _signal_found

    for _, _, _, xpath in (*_SIGNALS, *markup):
        assert _signal_found(_compile_signal(xpath), index) == bool(page.root.xpath(xpath)), xpath
