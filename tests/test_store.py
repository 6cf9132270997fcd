"""The SQL store: one row per article, every URL kept, edits versioned, reposts linked."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from crawler.items import Article
from pipelines import models as m
from pipelines.db import make_engine
from pipelines.export import iter_records
from pipelines.store import ArticleStore

VN = timezone(timedelta(hours=7))


def make_item(**overrides) -> Article:
    values = dict(
        url="https://portal.gov.vn/news/tin-tuc/hoi-thao-15.html",
        site="portal.gov.vn",
        title="Hội thảo “Sông Lam” & lịch sử",
        published=datetime(2024, 10, 10, 13, 30, tzinfo=VN),
        summary="Lead",
        body_text="Đoạn một.\n\nĐoạn hai.",
        body_html="<p>Đoạn một.</p><p>Đoạn hai.</p>",
        captions=[{"image_url": "https://portal.gov.vn/a.jpg", "caption": "Ảnh"}],
        categories=["Tin tức - Sự kiện"],
        tags=["hội thảo"],
        attachments=["https://portal.gov.vn/a.pdf"],
        source_key="news:15",
        family="nukeviet",
        fetched_at=datetime(2026, 11, 27, tzinfo=UTC),
    )
    values.update(overrides)
    return Article(**values)


@pytest.fixture
def store(sqlite_url):
    return ArticleStore(make_engine(sqlite_url))


def count(store, model) -> int:
    with Session(store.engine) as session:
        return session.scalar(select(func.count()).select_from(model))


def test_insert_and_export_roundtrip(store):
    store.write([make_item()])
    (record,) = list(iter_records(store.engine))
    assert record["published"] == "2024-10-10T13:30:00+07:00"
    assert record["captions"] == [{"image_url": "https://portal.gov.vn/a.jpg", "caption": "Ảnh"}]
    assert record["title"] == "Hội thảo “Sông Lam” & lịch sử"
    assert record["attachments"] == ["https://portal.gov.vn/a.pdf"]


def test_times_stored_in_utc(store):
    store.write([make_item()])
    with store.engine.connect() as connection:
        raw = connection.execute(text("SELECT published FROM articles")).scalar()
    assert str(raw).startswith("2024-10-10 06:30")


def test_same_item_twice_in_one_batch_and_across_runs_is_one_row(store):
    store.write([make_item(), make_item()])
    store.write([make_item()])
    assert count(store, m.Article) == 1
    assert count(store, m.ArticleVersion) == 0


def test_article_under_two_urls_is_one_row_keeping_both(store):
    other = "https://portal.gov.vn/news/khoa-hoc/hoi-thao-15.html"
    store.write([make_item()])
    store.write([make_item(url=other, other_urls=[], categories=["Khoa học"])])
    assert count(store, m.Article) == 1
    (record,) = list(iter_records(store.engine))
    assert record["other_urls"] == [other]
    assert record["categories"] == ["Tin tức - Sự kiện", "Khoa học"]


def test_edit_creates_one_version(store):
    store.write([make_item()])
    edited = make_item(body_text="Đoạn một.\n\nĐoạn hai đã sửa.", updated=datetime(2025, 1, 1, 9, tzinfo=VN))
    store.write([edited])
    store.write([edited])
    assert count(store, m.ArticleVersion) == 1
    with Session(store.engine) as session:
        article = session.scalars(select(m.Article)).one()
        assert article.version == 2
        assert article.updated == datetime(2025, 1, 1, 2, tzinfo=UTC)
        version = session.scalars(select(m.ArticleVersion)).one()
        assert version.body_text == "Đoạn một.\n\nĐoạn hai."


def test_exact_repost_linked_to_earliest(store):
    original = make_item()
    repost = make_item(
        url="https://portal.gov.vn/news/tin-tuc/bai-dang-lai-16.html",
        title="Tiêu đề khác",
        source_key="news:16",
        published=original.published + timedelta(days=5),
    )
    store.write([repost])  # the copy arrives first
    store.write([original])
    records = {r["url"]: r for r in iter_records(store.engine)}
    assert records[repost.url]["duplicate_of"] == original.url
    assert records[original.url]["duplicate_of"] is None
    assert count(store, m.Article) == 2  # stored and linked, never dropped


def test_hostile_text_is_stored_verbatim(store):
    title = "'); DROP TABLE articles;-- %s :name"
    store.write([make_item(title=title)])
    (record,) = list(iter_records(store.engine))
    assert record["title"] == title
    assert count(store, m.Article) == 1


def test_naive_datetime_refused(store):
    from sqlalchemy.exc import StatementError

    with pytest.raises(StatementError, match="naive datetime"):
        store.write([replace(make_item(), published=datetime(2024, 1, 1))])  # noqa: DTZ001
    assert count(store, m.Article) == 0, "a failed batch leaves nothing half-written"


def test_export_sanitises_body_html(store):
    store.write([make_item(body_html='<p onclick="x()">A<script>alert(1)</script><a href="javascript:x">l</a></p>')])
    (record,) = list(iter_records(store.engine))
    assert "script" not in record["body_html"]
    assert "onclick" not in record["body_html"]
    assert "javascript" not in record["body_html"]
