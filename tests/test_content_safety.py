"""Content safety: SQL-looking text stored verbatim, NUL bytes cleaned by rule, no XSS leaves in body_html."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect
from test_store import make_item

from pipelines.db import make_engine
from pipelines.export import iter_records, sanitise_html
from pipelines.normalise import normalise
from pipelines.store import ArticleStore

XSS = [
    "<script>alert(1)</script>",
    '<img src="x.jpg" onerror="alert(1)">',
    '<a href="javascript:alert(1)">a</a>',
    '<a href="jav&#x61;script:alert(1)">b</a>',
    '<a href="JaVaScRiPt:alert(1)">c</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD4=">d</a>',
    "<svg><script>alert(1)</script></svg>",
    '<iframe src="https://evil.example/"></iframe>',
    '<object data="x.swf"></object>',
    "<style>body{background:url(javascript:alert(1))}</style>",
    '<p style="background:expression(alert(1))">e</p>',
    '<meta http-equiv="refresh" content="0;url=https://evil.example/">',
    '<base href="https://evil.example/">',
    "<!-- --!><script>alert(1)</script> -->",
    '<form action="https://evil.example/"><input name="x"></form>',
]


@pytest.mark.parametrize("vector", XSS)
def test_no_xss_vector_survives(vector):
    clean = sanitise_html(f"<p>Tin</p>{vector}<p>Hết</p>") or ""
    lowered = clean.lower()
    for bad in (
        "<script",
        "onerror",
        "javascript:",
        "data:text",
        "<iframe",
        "<object",
        "<style",
        "style=",
        "<meta",
        "<base",
        "<svg",
        "<form",
        "expression(",
    ):
        assert bad not in lowered, (vector, clean)
    assert "Tin" in clean


def test_safe_markup_kept():
    clean = sanitise_html(
        '<p>Đoạn <strong>đậm</strong> <a href="https://a.gov.vn/x">liên kết</a></p>'
        '<img src="https://a.gov.vn/a.jpg" alt="ảnh"><table><tr><td>1</td></tr></table>'
    )
    assert '<a href="https://a.gov.vn/x" rel="noopener noreferrer nofollow">liên kết</a>' in clean
    assert '<img src="https://a.gov.vn/a.jpg" alt="ảnh">' in clean
    assert "<td>1</td>" in clean


def test_sql_text_verbatim_and_nul_removed_by_rule(db_url):
    store = ArticleStore(make_engine(db_url))
    title = "'); DROP TABLE articles;-- %s %(x)s :name ?"
    item = normalise(make_item(title=title, body_text="Nội dung\x00 có NUL\x00 và \x07chuông."))
    store.write([item])
    (record,) = list(iter_records(store.engine))
    assert record["title"] == title
    assert record["body_text"] == "Nội dung có NUL và chuông."  # rule: control characters are removed
    assert {"articles", "article_urls", "sites"} <= set(inspect(store.engine).get_table_names())
    store.engine.dispose()
