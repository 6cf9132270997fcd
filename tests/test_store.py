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
def store(db_url):
    store = ArticleStore(make_engine(db_url))
    yield store
    store.engine.dispose()


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


def test_url_spellings_find_the_same_row(store):
    store.write([make_item(url="https://portal.gov.vn/news/tin-tuc/hội-thảo-15.html", source_key=None)])
    spellings = [
        "http://www.portal.gov.vn:80/news/tin-tuc/h%E1%BB%99i-th%E1%BA%A3o-15.html?utm_source=zalo#top",
        "https://PORTAL.gov.vn/news/tin-tuc/ho\u0323\u0302i-tha\u0309o-15.html/?fbclid=x",
    ]
    for url in spellings:
        store.write([make_item(url=url, source_key=None)])
    assert count(store, m.Article) == 1


def test_nukeviet_query_form_and_wordpress_shortlink_join_by_platform_id(store):
    store.write([make_item()])
    store.write([make_item(url="https://portal.gov.vn/index.php?language=vi&nv=news&op=tin-tuc/hoi-thao-15")])
    store.write([make_item(url="https://wp.gov.vn/2022/06/bai/", site="wp.gov.vn", source_key="p:15")])
    store.write([make_item(url="https://wp.gov.vn/?p=15", site="wp.gov.vn", source_key="p:15")])
    assert count(store, m.Article) == 2
    assert count(store, m.ArticleUrl) == 4


def _repost_of(item: Article) -> Article:
    paragraphs = LONG_BODY.split("\n\n")
    return make_item(
        url="https://tinh.gov.vn/tin-tuc/dang-lai-99.html",
        site="tinh.gov.vn",
        source_key=None,
        title="Tỉnh tổ chức hội thảo về văn hóa sông Lam",
        summary="Hội thảo khoa học về sông Lam.",
        body_text="\n\n".join(paragraphs[1:] + ["Nguồn: Sở Văn hóa"]),
        published=item.published + timedelta(days=1),
    )


LONG_BODY = "\n\n".join(
    f"Đoạn {i}: hội thảo khoa học về dòng chảy văn hóa và lịch sử sông Lam đã thu hút {i * 7} nhà nghiên cứu, "
    f"với tham luận số {i} bàn về giá trị di sản xứ Nghệ trong bối cảnh hội nhập và phát triển bền vững."
    for i in range(1, 9)
)


def test_near_duplicate_across_portals_is_linked_with_its_similarity(store):
    original = make_item(body_text=LONG_BODY)
    store.write([original])
    store.write([_repost_of(original)])
    records = {r["url"]: r for r in iter_records(store.engine)}
    assert records["https://tinh.gov.vn/tin-tuc/dang-lai-99.html"]["duplicate_of"] == original.url
    with Session(store.engine) as session:
        copy = session.scalars(select(m.Article).where(m.Article.site.has(host="tinh.gov.vn"))).one()
        assert 0.65 <= copy.duplicate_similarity < 1.0


def test_different_articles_on_the_same_event_stay_apart(store):
    store.write([make_item(body_text=LONG_BODY)])
    other = "\n\n".join(
        f"Phần {i}: đoàn công tác của tỉnh đã làm việc với các huyện miền Tây về kế hoạch khảo sát di tích, "
        f"trong đó có {i * 3} điểm di tích gắn với lịch sử sông Lam cần được trùng tu."
        for i in range(1, 9)
    )
    store.write(
        [make_item(url="https://tinh.gov.vn/khac-1.html", site="tinh.gov.vn", source_key=None, body_text=other)]
    )
    assert all(r["duplicate_of"] is None for r in iter_records(store.engine))


def test_change_cursor_rises_and_only_on_changes(store):
    store.write([make_item()])
    with Session(store.engine) as session:
        first = session.scalar(select(m.Article.change_seq))
    store.write([make_item()])  # unchanged
    with Session(store.engine) as session:
        assert session.scalar(select(m.Article.change_seq)) == first
    store.write([make_item(body_text="Nội dung mới.")])
    with Session(store.engine) as session:
        assert session.scalar(select(m.Article.change_seq)) > first
