"""The govnews CLI: detect, extract, sites."""

from __future__ import annotations

import gzip
import json

import pytest
from conftest import PAGES, WARCS, run_govnews


@pytest.mark.parametrize(
    ("url", "warc", "family"),
    [
        ("https://khxhnvnghean.gov.vn/", "nukeviet-khxhnvnghean", "nukeviet"),
        ("https://xaphuchoa.tanyen.bacgiang.gov.vn/", "wordpress-xaphuchoa.tanyen.bacgiang.gov.vn", "wordpress"),
        (
            "https://khxhnvnghean.gov.vn/news/tin-tuc-su-kien/lich-tiep-cong-dan-quy-ii-nam-2024-12.html",
            "nukeviet-khxhnvnghean",
            "nukeviet",
        ),
    ],
)
def test_detect_from_archive(url, warc, family):
    result = run_govnews("detect", url, "--archive", str(WARCS / warc / "site.warc.gz"), "--json")
    assert result.returncode == 0, result.stderr
    profile = json.loads(result.stdout)
    assert profile["family"] == family
    assert any("generator" in line for line in profile["evidence"])
    assert profile["article_shapes"], "the profile names the site's article URL shapes"
    assert profile["samples"]
    assert all(s["title"] and s["published"] for s in profile["samples"])
    assert profile["articles_found"] >= 20


def test_detect_missing_page_fails_clearly():
    result = run_govnews(
        "detect", "https://nowhere.gov.vn/", "--archive", str(WARCS / "nukeviet-khxhnvnghean" / "site.warc.gz")
    )
    assert result.returncode == 1
    assert "not in the web archive" in result.stderr
    assert "Traceback" not in result.stderr


def test_extract_saved_pages(tmp_path):
    case = next((PAGES / "nukeviet" / "khxhnvnghean").glob("*-1"))
    meta = json.loads((case / "meta.json").read_text(encoding="utf-8"))
    plain = tmp_path / "page.html"
    plain.write_bytes(gzip.decompress((case / "page.html.gz").read_bytes()))
    result = run_govnews("extract", str(case / "page.html.gz"), str(plain), "--url", meta["url"])
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 2
    expected = json.loads((case / "expected.json").read_text(encoding="utf-8"))
    for record in records:
        assert record["family"] == "nukeviet"
        assert record["title"] == expected["title"]
        assert record["published"] == expected["published"]
        assert record["captions"] == expected["captions"]


def test_extract_with_generic_family_and_a_broken_file(tmp_path):
    page = tmp_path / "a.html"
    page.write_text(
        "<html><body><article><h1>Tiêu đề</h1>"
        + "<p>Đoạn văn bản dài của bài viết.</p>" * 30
        + "</article></body></html>",
        encoding="utf-8",
    )
    empty = tmp_path / "b.html"
    empty.write_text("<html><body><p>x</p></body></html>", encoding="utf-8")
    result = run_govnews("extract", str(page), str(empty), "--family", "generic")
    assert result.returncode == 1  # one file was not an article
    (record,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert record["title"] == "Tiêu đề"
    assert "b.html" in result.stderr


def test_sites_lists_the_registry():
    result = run_govnews("sites")
    assert result.returncode == 0
    assert "khxhnvnghean.gov.vn" in result.stdout
