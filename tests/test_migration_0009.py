"""Migration 0009 (the search index rebuilt: NFKC fold, PostgreSQL's positions) on a database made
by the previous version, with data in it."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from pipelines import search
from pipelines.db import current_revision, head_revision, make_engine, upgrade

FULL_WIDTH = "https://a.gov.vn/tin/ubnd.html"
REPEATS = "https://a.gov.vn/tin/lap.html"


def _old_tokens(value: str | None) -> list[str]:
    """The 0006-0008 index: NFC fold (full-width letters kept as they are), every position kept."""
    import unicodedata

    return [w for w in search._TOKEN.findall(unicodedata.normalize("NFC", value or "").lower().translate(search._FOLD))]


def _index_as_0008(connection, rows) -> None:
    if connection.dialect.name == "postgresql":
        for row_id, title, body in rows:
            vector = " ".join(
                f"'{word}':{i}" for i, word in enumerate([*_old_tokens(title), "", *_old_tokens(body)], 1) if word
            )
            update = text("UPDATE articles SET search_vector = CAST(:v AS tsvector) WHERE id = :id")
            connection.execute(update, {"v": vector, "id": row_id})
    else:
        for row_id, title, body in rows:
            connection.execute(
                text("INSERT INTO articles_fts (rowid, title, summary, body) VALUES (:id, :t, '', :b)"),
                {"id": row_id, "t": " ".join(_old_tokens(title)), "b": " ".join(_old_tokens(body))},
            )


def test_upgrade_from_0008_reindexes_every_article(db_url):
    engine = make_engine(db_url)
    upgrade(engine, "0008")
    now = datetime(2026, 12, 4, tzinfo=UTC).replace(tzinfo=None)
    articles = [
        (1, FULL_WIDTH, "Quyết định của ＵＢＮＤ tỉnh", "Nội dung."),
        (2, REPEATS, "Bài lặp", " ".join(["xa"] * 300) + " xa phuong"),
    ]
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO sites (host, family, first_seen) VALUES ('a.gov.vn', 'nukeviet', :t)"), {"t": now}
        )
        for number, url, title, body in articles:
            connection.execute(
                text(
                    "INSERT INTO articles (id, site_id, url, title, body_text, categories, tags, body_hash,"
                    " content_hash, version, first_seen, last_seen, changed_at, change_seq, published)"
                    " VALUES (:id, 1, :url, :title, :body, '[]', '[]', 'b', 'c', 1, :t, :t, :t, :id, :t)"
                ),
                {"id": number, "url": url, "title": title, "body": body, "t": now},
            )
        _index_as_0008(connection, [(number, title, body) for number, _, title, body in articles])
    assert search.search(engine, "ubnd") == [], "the 0008 index holds the full-width word as typed"
    assert [h.url for h in search.search(engine, '"xa phuong"')] == [REPEATS] or engine.dialect.name != "sqlite"

    upgrade(engine)
    assert current_revision(engine) == head_revision()
    assert [h.url for h in search.search(engine, "quyet dinh ubnd")] == [FULL_WIDTH]
    assert search.search(engine, '"xa phuong"') == [], "past 256 repeats: no position on either backend"
    assert [h.url for h in search.search(engine, "xa phuong")] == [REPEATS]
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM articles")) == 2
        if engine.dialect.name == "sqlite":
            assert connection.scalar(text("SELECT count(*) FROM articles_fts")) == 2, "each article indexed once"
    engine.dispose()
