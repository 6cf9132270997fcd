"""Migration 0008 (article indexes) on a database made by the previous version, with data in it."""

from __future__ import annotations

from sqlalchemy import inspect, text

from pipelines.db import current_revision, head_revision, make_engine, upgrade


def _indexes(engine) -> set[str]:
    return {index["name"] for index in inspect(engine).get_indexes("articles")}


def test_upgrade_from_0007_keeps_articles_and_adds_the_indexes(db_url):
    from datetime import UTC, datetime

    from alembic import command

    from pipelines.db import alembic_config

    engine = make_engine(db_url)
    upgrade(engine, "0007")
    assert "ix_articles_published" not in _indexes(engine)
    now = datetime(2026, 12, 3, tzinfo=UTC).replace(tzinfo=None)
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO sites (host, family, first_seen) VALUES ('a.gov.vn', 'nukeviet', :t)"), {"t": now}
        )
        for number, original in [(1, None), (2, 1)]:
            connection.execute(
                text(
                    "INSERT INTO articles (site_id, url, title, body_text, categories, tags, body_hash, content_hash,"
                    " version, first_seen, last_seen, changed_at, change_seq, published, duplicate_of_id)"
                    " VALUES (1, :url, 'Đảng bộ xã', 'Thân bài', '[]', '[]', 'b', 'c', 1, :t, :t, :t, :n, :t, :o)"
                ),
                {"url": f"https://a.gov.vn/news/a-{number}.html", "t": now, "n": number, "o": original},
            )
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    assert {"ix_articles_published", "ix_articles_duplicate_of_id"} <= _indexes(engine)
    with engine.begin() as connection:
        rows = connection.execute(text("SELECT url, duplicate_of_id FROM articles ORDER BY id")).all()
        assert [tuple(row) for row in rows] == [
            ("https://a.gov.vn/news/a-1.html", None),
            ("https://a.gov.vn/news/a-2.html", 1),
        ]
        if engine.dialect.name == "sqlite":
            newest_first = text("EXPLAIN QUERY PLAN SELECT id FROM articles ORDER BY published DESC")
            plan = " ".join(str(row[-1]) for row in connection.execute(newest_first))
            assert "ix_articles_published" in plan, plan
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0007")
    assert "ix_articles_published" not in _indexes(engine)
    assert "ix_articles_duplicate_of_id" not in _indexes(engine)
    engine.dispose()
