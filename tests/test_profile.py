"""The site profile: learned shape, kept per portal, the next crawl starts from it, a change is reported."""

from __future__ import annotations

import json
import logging

import pytest
from conftest import FIXTURES, WARCS, run_govnews
from sqlalchemy import create_engine, select, update
from sqlalchemy.orm import Session

from crawler.families.base import PageKind
from crawler.logformatter import GovnewsLogFormatter
from crawler.profile import SiteProfile
from crawler.shapes import MAX_SHAPES, ShapeBook, url_shapes
from pipelines.models import SiteProfileRow

EMPTY = str(FIXTURES / "registries" / "empty.toml")
SOTNMT = WARCS / "nukeviet-sotnmt.hatinh.gov.vn"


@pytest.mark.parametrize(
    ("url", "shapes"),
    [
        (
            "https://h.vn/tin-tuc/dat-dai/bai-16.html",
            ("/tin-tuc/{slug}/{slug}-{n}.html", "/{slug}/{slug}/{slug}-{n}.html"),
        ),
        ("https://h.vn/2023/05/ky-hop/", ("/{yyyy}/{nn}/{slug}/", "/{yyyy}/{nn}/{slug}/")),
        ("https://h.vn/?p=42", ("/?p={n}", "/?p={n}")),
        ("https://h.vn/", ("/", "/")),
    ],
)
def test_url_shapes(url, shapes):
    assert url_shapes(url) == shapes


def test_shape_book_trusts_only_pure_evidence():
    book = ShapeBook()
    book.observe("https://h.vn/tin/a-1.html", PageKind.ARTICLE)
    assert book.kind("https://h.vn/tin/b-2.html") is PageKind.ARTICLE
    assert book.kind("https://h.vn/khac/b-2.html") is PageKind.ARTICLE  # the generic shape, nothing contradicts it
    book.observe("https://h.vn/khac/c-3.html", PageKind.OTHER)
    assert book.kind("https://h.vn/khac/d-4.html") is PageKind.OTHER  # the specific shape wins
    assert book.kind("https://h.vn/moi/d-4.html") is None  # the generic shape is now mixed: the page must say
    assert book.seen("https://h.vn/moi/d-4.html")


def test_shape_book_is_bounded_and_refuses_junk():
    book = ShapeBook()
    for i in range(MAX_SHAPES * 2):
        book.observe(f"https://h.vn/{'x/' * (i % 50)}{i}-{i}.html?k{i}=1", PageKind.ARTICLE)
    assert len(book.counts) <= MAX_SHAPES
    clean = ShapeBook.from_dict({"/a": {"article": 2, "bogus": 5}, "/b": "junk", "/c": {"listing": -1}})
    assert clean.counts == {"/a": {"article": 2}}


def test_profile_round_trip_and_fingerprint():
    profile = SiteProfile(host="h.vn", family="nukeviet", base_url="https://h.vn/", facts={"news_modules": ["b", "a"]})
    profile.shapes.observe("https://h.vn/a/b-1.html", PageKind.ARTICLE)
    again = SiteProfile.from_dict(json.loads(json.dumps(profile.as_dict())))
    assert again.fingerprint() == profile.fingerprint()
    assert again.shapes.article_shapes() == profile.shapes.article_shapes()
    profile.shapes.observe("https://h.vn/x/y/z-2.html", PageKind.ARTICLE)
    assert profile.fingerprint() == again.fingerprint(), "a new URL shape is growth, not a change of shape"
    moved = SiteProfile(host="h.vn", family="nukeviet", base_url="https://h.vn/", facts={"news_modules": ["tin-tuc"]})
    assert moved.fingerprint() != profile.fingerprint()
    assert any("news_modules" in change for change in moved.changes_from(profile))
    assert SiteProfile.from_dict({"version": 0}) is None


@pytest.fixture(scope="module")
def twice(tmp_path_factory):
    db = f"sqlite:///{tmp_path_factory.mktemp('profile') / 'p.db'}"
    url = "https://sotnmt.hatinh.gov.vn/"
    args = ("crawl", url, "--archive", str(SOTNMT / "site.warc.gz"), "--db", db, "--registry", EMPTY)
    first = run_govnews(*args)
    with Session(create_engine(db)) as session:
        row = session.scalar(select(SiteProfileRow))
        stored = (row.fingerprint, row.changed_at, dict(row.profile))
    second = run_govnews(*args)
    return db, args, first, second, stored


def test_the_learned_shape_is_stored(twice):
    _, _, first, _, (_, _, profile) = twice
    assert first.returncode == 0, first.stderr[-2000:]
    assert profile["family"] == "nukeviet"
    assert "tin-tuc" in profile["facts"]["news_modules"], "the virtual news module, learned"
    assert "about" in profile["facts"]["other_modules"]
    assert profile["feeds"]
    assert profile["sitemaps"]


def test_the_next_crawl_starts_from_it_and_keeps_it(twice):
    db, _, _, second, (fingerprint, changed_at, _) = twice
    assert second.returncode == 0, second.stderr[-2000:]
    assert "starting from the stored site profile" in second.stderr
    assert "changed shape" not in second.stderr
    with Session(create_engine(db)) as session:
        row = session.scalar(select(SiteProfileRow))
        assert row.fingerprint == fingerprint
        assert row.changed_at == changed_at
        assert row.learned_at > changed_at


def test_a_change_of_shape_is_logged_and_relearned(twice):
    db, args, *_ = twice
    engine = create_engine(db)
    with Session(engine) as session, session.begin():  # as if the site had used another module name before
        row = session.scalar(select(SiteProfileRow))
        profile = dict(row.profile)
        profile["facts"] = {**profile["facts"], "news_modules": ["tin-cu"], "other_modules": []}
        session.execute(update(SiteProfileRow).values(profile=profile, fingerprint="0" * 16))
    third = run_govnews(*args)
    assert third.returncode == 0, third.stderr[-2000:]
    assert "changed shape" in third.stderr
    runs = [json.loads(line) for line in run_govnews("runs", "--db", db, "--json").stdout.splitlines()]
    assert "news_modules" in runs[-1]["profile_changed"]
    assert runs[0]["profile_changed"] is None
    with Session(engine) as session:
        row = session.scalar(select(SiteProfileRow))
        assert row.previous["facts"]["news_modules"] == ["tin-cu"]
        assert "tin-tuc" in row.profile["facts"]["news_modules"]


def test_detect_prints_the_profile_and_stores_nothing(tmp_path):
    result = run_govnews("detect", "https://sotnmt.hatinh.gov.vn/", "--archive", str(SOTNMT / "site.warc.gz"))
    assert result.returncode == 0, result.stderr
    assert "nukeviet" in result.stdout
    assert "news_modules: ['tin-tuc']" in result.stdout
    assert "sample:" in result.stdout


class _Spider:
    class crawler:  # noqa: N801 - the attribute Scrapy's formatter reads
        settings = {"DEFAULT_DROPITEM_LOG_LEVEL": "WARNING"}


def test_a_dropped_item_is_one_line_naming_it_never_its_content():
    from scrapy.exceptions import DropItem

    from crawler.items import Article

    body = "Đoạn thân bài rất dài. " * 500
    item = Article(url="https://h.vn/news/c/bai-1.html", site="h.vn", body_text=body, body_html=f"<p>{body}</p>")
    entry = GovnewsLogFormatter().dropped(item, DropItem("missing title, published"), None, _Spider())
    line = entry["msg"] % entry["args"]
    assert entry["level"] == logging.WARNING
    assert "https://h.vn/news/c/bai-1.html" in line
    assert "missing title" in line
    assert "Đoạn thân bài" not in line
    assert "\n" not in line
    assert len(line) < 300
    scraped = GovnewsLogFormatter().scraped(item, None, _Spider())
    assert "Đoạn thân bài" not in scraped["msg"] % scraped["args"]


def test_the_crawl_uses_it():
    from scrapy.settings import Settings

    settings = Settings()
    settings.setmodule("crawler.settings")
    assert settings.get("LOG_FORMATTER") == "crawler.logformatter.GovnewsLogFormatter"


def test_a_crawl_that_finds_nothing_says_what_it_tried(tmp_path):
    corpus = WARCS / "nukeviet-skhcn.nghean.gov.vn"
    result = run_govnews(
        "crawl",
        "https://skhcn.nghean.gov.vn/",
        "--archive",
        str(corpus / "site.warc.gz"),
        "--family",
        "dotnetnuke",
        "--db",
        f"sqlite:///{tmp_path / 'd.db'}",
        "--registry",
        EMPTY,
        "-q",
    )
    assert "no article:" in result.stderr
    for what in ("family dotnetnuke", "feeds read", "sitemaps read", "links seen", "probes"):
        assert what in result.stderr, what
