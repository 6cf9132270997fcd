"""Several jobs storing into one database at once: syndicated copies still linked, the cursor monotonic.

Each writer is its own engine and connection pool (as each fleet job is its own process); on
PostgreSQL their transactions really overlap, on SQLite they queue at the write lock.
"""

from __future__ import annotations

import random
import threading
from datetime import timedelta

from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session
from test_store import make_item

from pipelines import models as m
from pipelines.store import ArticleStore

PAIRS = 12


WORDS = (
    "hội",
    "nghị",
    "tổng",
    "kết",
    "công",
    "tác",
    "năm",
    "xã",
    "phường",
    "tỉnh",
    "huyện",
    "đảng",
    "bộ",
    "nhân",
    "dân",
    "kinh",
    "tế",
    "văn",
    "hóa",
    "giáo",
    "dục",
    "y",
    "tế",
    "nông",
    "nghiệp",
    "giao",
    "thông",
    "đầu",
    "tư",
    "dự",
    "án",
    "an",
    "ninh",
    "quốc",
    "phòng",
    "môi",
    "trường",
    "du",
    "lịch",
    "khoa",
    "học",
    "công",
    "nghệ",
)


def _original(index: int):
    rng = random.Random(index)
    body = "\n\n".join(" ".join(rng.choice(WORDS) for _ in range(40)) for _ in range(8))  # one story per index
    return make_item(
        url=f"https://a.gov.vn/news/tin-{index}.html", site="a.gov.vn", source_key=f"news:{index}", body_text=body
    )


def _copy(original):
    paragraphs = original.body_text.split("\n\n")
    return make_item(
        url=original.url.replace("a.gov.vn/news", "b.gov.vn/tin-tuc"),
        site="b.gov.vn",
        source_key=None,
        title=f"{original.title} (đăng lại)",
        body_text="\n\n".join(paragraphs[1:] + ["Nguồn: a.gov.vn"]),
        published=original.published + timedelta(hours=2),
    )


def _writer(url: str, items, start: threading.Barrier, errors: list) -> None:
    engine = create_engine(url)
    try:
        store = ArticleStore(engine)
        start.wait(timeout=30)
        for item in items:
            store.write([item])  # one transaction per article: the most interleaving
    except Exception as error:  # noqa: BLE001 - reported by the test
        errors.append(error)
    finally:
        engine.dispose()


def test_copies_stored_at_once_by_two_jobs_are_linked_and_the_cursor_never_goes_back(db_url):
    ArticleStore(create_engine(db_url)).engine.dispose()  # schema first, not raced by the writers
    originals = [_original(i) for i in range(PAIRS)]
    copies = [_copy(original) for original in originals]
    start, errors = threading.Barrier(3), []
    writers = [threading.Thread(target=_writer, args=(db_url, batch, start, errors)) for batch in (originals, copies)]
    for writer in writers:
        writer.start()
    reader = create_engine(db_url)
    snapshots = []  # (cursor, ids at or below it) as a consumer saw them, while the writers wrote
    start.wait(timeout=30)
    while any(writer.is_alive() for writer in writers):
        with reader.connect() as connection:
            rows = connection.execute(text("SELECT id, change_seq FROM articles")).all()
        if rows:
            cursor = max(seq for _, seq in rows)
            snapshots.append((cursor, {i for i, seq in rows if seq <= cursor}))
    for writer in writers:
        writer.join(timeout=120)
    assert errors == []
    with Session(reader) as session:
        articles = {a.url: a for a in session.scalars(select(m.Article))}
        batches = session.scalar(select(m.Counter.value).where(m.Counter.name == "change_seq"))
    by_id = {a.id: a.url for a in articles.values()}
    assert len(articles) == 2 * PAIRS
    for original, copy in zip(originals, copies, strict=True):
        stored = articles[copy.url]
        assert stored.duplicate_of_id == articles[original.url].id, f"{copy.url} not linked to {original.url}"
        assert articles[original.url].duplicate_of_id is None
    assert batches >= 2 * PAIRS, "every write took a cursor value of its own"
    assert snapshots, "the consumer read while the writers wrote"
    final = {a.id: a.change_seq for a in articles.values()}
    for cursor, seen in snapshots:
        late = {by_id[i] for i, seq in final.items() if seq <= cursor and i not in seen}
        assert not late, f"committed after a consumer had read up to cursor {cursor}: {late}"
    reader.dispose()
