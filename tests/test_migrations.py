"""The schema built by Alembic migrations is the schema the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from conftest import run_govnews
from sqlalchemy import inspect

from pipelines.db import current_revision, head_revision, make_engine, upgrade
from pipelines.models import Base
from pipelines.search import include_name, include_object

# The search index (pipelines.search) is built by migration 0006, not declared in the models: an FTS5
# table and its shadow tables on SQLite, a column and a GIN index on PostgreSQL. Only those are skipped.
SEARCH_FILTER = {"include_name": include_name, "include_object": include_object}


def test_migrations_build_the_models_schema(db_url):
    engine = make_engine(db_url)
    upgrade(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, **SEARCH_FILTER})
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == [], "models changed without a migration: run alembic revision --autogenerate"


def test_the_filter_leaves_out_the_search_index_and_nothing_else(db_url):
    """Without the filter, the comparison sees exactly the search index: the filter hides nothing more."""
    engine = make_engine(db_url)
    upgrade(engine)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    seen = set()
    for difference in differences:
        kind = difference[0]
        if kind == "remove_table":
            seen.add(("table", difference[1].name))
        elif kind == "remove_column":
            seen.add(("column", f"{difference[2]}.{difference[3].name}"))
        elif kind == "remove_index":
            seen.add(("index", difference[1].name))
        else:
            seen.add((kind, repr(difference)))
    if engine.dialect.name == "postgresql":
        assert seen == {("column", "articles.search_vector"), ("index", "ix_articles_search_vector")}
    else:
        tables = {name for kind, name in seen if kind == "table"}
        assert {kind for kind, _ in seen} == {"table"}
        assert tables == {
            "articles_fts",
            *(f"articles_fts_{shadow}" for shadow in ("data", "idx", "content", "docsize", "config")),
        }


def test_upgrade_is_idempotent_and_recorded(db_url):
    engine = make_engine(db_url)
    upgrade(engine)
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    assert {"articles", "article_urls", "images", "attachments", "article_versions", "crawl_runs", "sites"} <= set(
        inspect(engine).get_table_names()
    )
    engine.dispose()


def test_cli_db_upgrade(sqlite_url):
    result = run_govnews("db", "upgrade", "--db", sqlite_url)
    assert result.returncode == 0, result.stderr
    assert head_revision() in result.stdout


def test_schema_revision_constant_is_the_head():
    from pipelines.db import SCHEMA_REVISION

    assert head_revision() == SCHEMA_REVISION, "update pipelines.db.SCHEMA_REVISION with a new migration"


def test_zipped_deployment_creates_and_stamps_the_current_schema(sqlite_url, monkeypatch, tmp_path):
    """A scrapyd egg has no migration files on disk: an empty database is created at the head revision."""
    import pipelines.db as db

    monkeypatch.setattr(db, "MIGRATIONS", tmp_path / "not-there")
    engine = make_engine(sqlite_url)
    db.init_db(engine)
    assert current_revision(engine) == db.SCHEMA_REVISION
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection, opts=SEARCH_FILTER), Base.metadata) == []
    from crawler.items import Article
    from pipelines.search import search
    from pipelines.store import ArticleStore

    ArticleStore(engine).write(
        [Article(url="https://a.gov.vn/1.html", site="a.gov.vn", title="Đảng bộ", body_text="x")]
    )
    assert [hit.url for hit in search(engine, "dang bo")] == ["https://a.gov.vn/1.html"], "the index is created too"
    engine.dispose()


def test_upgrade_from_0002_keeps_the_data_and_adds_site_profiles(db_url):
    """A database made by the previous version (revision 0002), with articles, runs and schedules in it."""
    from datetime import UTC, datetime

    from sqlalchemy import func, insert, select
    from sqlalchemy.orm import Session

    from crawler.profile import SiteProfile
    from pipelines import models as m
    from pipelines.profiles import ProfileStore

    engine = make_engine(db_url)
    upgrade(engine, "0002")
    assert "site_profiles" not in inspect(engine).get_table_names()
    now = datetime(2026, 11, 30, tzinfo=UTC)
    with engine.begin() as connection:
        connection.execute(
            insert(m.Site), [{"id": 1, "host": "a.gov.vn", "name": "A", "family": "nukeviet", "first_seen": now}]
        )
        connection.execute(
            insert(m.Article),
            [
                {
                    "id": 1,
                    "site_id": 1,
                    "url": "https://a.gov.vn/news/c/t-1.html",
                    "source_key": "news:1",
                    "family": "nukeviet",
                    "title": "Tiêu đề",
                    "body_text": "Thân bài.",
                    "categories": ["C"],
                    "tags": [],
                    "body_hash": "0" * 64,
                    "content_hash": "1" * 64,
                    "version": 1,
                    "first_seen": now,
                    "last_seen": now,
                    "changed_at": now,
                    "change_seq": 1,
                }
            ],
        )
        connection.execute(insert(m.CrawlRun), [{"site": "a.gov.vn", "started_at": now, "mode": "full", "stats": {}}])
        connection.execute(insert(m.PortalSchedule), [{"site": "a.gov.vn", "failures": 0, "last_start": now}])
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    with Session(engine) as session:
        assert session.scalar(select(m.Article.title)) == "Tiêu đề"
        assert session.scalar(select(m.Article.categories)) == ["C"]
        assert session.scalar(select(func.count()).select_from(m.CrawlRun)) == 1
        assert session.scalar(select(m.PortalSchedule.site)) == "a.gov.vn"
    profiles = ProfileStore(engine)
    assert profiles.save(SiteProfile(host="a.gov.vn", family="nukeviet", base_url="https://a.gov.vn/")) == []
    assert profiles.load("a.gov.vn").family == "nukeviet"
    engine.dispose()


def test_upgrade_from_0003_keeps_runs_and_profiles_and_adds_the_frontier(db_url):
    """A database made by the previous version (revision 0003): runs keep their rows, gain outcome/host/pid."""
    from datetime import UTC, datetime

    from sqlalchemy import insert, select, text
    from sqlalchemy.orm import Session

    from pipelines import models as m
    from pipelines.frontier import Frontier

    engine = make_engine(db_url)
    upgrade(engine, "0003")
    assert "crawl_frontier" not in inspect(engine).get_table_names()
    now = datetime(2026, 12, 1, tzinfo=UTC)
    with engine.begin() as connection:  # the 0003 columns only: the models now have more
        connection.execute(
            text(
                "INSERT INTO crawl_runs (site, started_at, finished_at, finish_reason, mode, stats)"
                " VALUES ('a.gov.vn', :t, :t, 'finished', 'full', '{}')"
            ),
            {"t": now.replace(tzinfo=None)},
        )
        connection.execute(
            insert(m.SiteProfileRow),
            [
                {
                    "site": "a.gov.vn",
                    "family": "nukeviet",
                    "fingerprint": "f" * 32,
                    "profile": {"facts": {}},
                    "learned_at": now,
                    "changed_at": now,
                }
            ],
        )
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    with Session(engine) as session:
        run = session.scalars(select(m.CrawlRun)).one()
        assert (run.site, run.finish_reason, run.outcome, run.pid) == ("a.gov.vn", "finished", None, None)
        assert session.scalar(select(m.SiteProfileRow.fingerprint)) == "f" * 32
    frontier = Frontier(engine, "a.gov.vn")
    frontier.checkpoint(done=[], pages=[("https://a.gov.vn/news/page-2", "listing")], articles=[])
    assert [(e.url, e.kind) for e in frontier.load()] == [("https://a.gov.vn/news/page-2", "listing")]
    engine.dispose()


def test_upgrade_from_0004_keeps_articles_and_adds_kept_pages(db_url):
    """A database made by the previous version (0004): its articles stay, and can point at kept pages."""
    from datetime import UTC, datetime

    from sqlalchemy import insert, select, text

    from pipelines import models as m

    engine = make_engine(db_url)
    upgrade(engine, "0004")
    assert "article_pages" not in inspect(engine).get_table_names()
    now = datetime(2026, 12, 1, tzinfo=UTC).replace(tzinfo=None)
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO sites (host, family, first_seen) VALUES ('a.gov.vn', 'nukeviet', :t)"), {"t": now}
        )
        connection.execute(
            text(
                "INSERT INTO articles (site_id, url, title, body_text, categories, tags, body_hash, content_hash,"
                " version, first_seen, last_seen, changed_at, change_seq)"
                " VALUES (1, 'https://a.gov.vn/news/a-1.html', 'Tin', 'Thân bài', '[]', '[]', 'b', 'c',"
                " 1, :t, :t, :t, 1)"
            ),
            {"t": now},
        )
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    with engine.begin() as connection:
        article = connection.execute(select(m.Article.id, m.Article.title)).one()
        assert article.title == "Tin"
        connection.execute(
            insert(m.ArticlePage),
            [
                {
                    "article_id": article.id,
                    "file": "a.gov.vn/x.warc.gz",
                    "offset": 0,
                    "fetched_at": now.replace(tzinfo=UTC),
                    "hints": {},
                }
            ],
        )
        assert connection.scalar(select(m.ArticlePage.file)) == "a.gov.vn/x.warc.gz"
    engine.dispose()


def test_upgrade_from_0005_backfills_the_search_index(db_url):
    """A database made by the previous version (0005) with articles in it: after the upgrade they are
    found by search, without diacritics; the downgrade removes the index and a new upgrade rebuilds it."""
    from alembic import command
    from sqlalchemy import text

    from pipelines.db import alembic_config
    from pipelines.search import search

    engine = make_engine(db_url)
    upgrade(engine, "0005")
    now = datetime_utc_naive()
    articles = [
        ("https://a.gov.vn/news/1.html", "Công bố quyết định bổ nhiệm Phó Giám đốc Sở", "Lễ công bố.", "Sáng nay..."),
        ("https://a.gov.vn/news/2.html", "Đảng bộ xã tổng kết năm", None, "Đảng bộ xã Phúc Hòa họp."),
        ("https://a.gov.vn/news/3.html", "Tin thời tiết", None, "Trời nắng, Đảng viên đi làm."),
    ]
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO sites (host, family, first_seen) VALUES ('a.gov.vn', 'nukeviet', :t)"), {"t": now}
        )
        for i, (url, title, summary, body) in enumerate(articles, start=1):
            connection.execute(
                text(
                    "INSERT INTO articles (site_id, url, title, summary, body_text, categories, tags, body_hash,"
                    " content_hash, version, first_seen, last_seen, changed_at, change_seq)"
                    " VALUES (1, :url, :title, :summary, :body, '[]', '[]', :h, :h, 1, :t, :t, :t, :seq)"
                ),
                {"url": url, "title": title, "summary": summary, "body": body, "h": str(i), "t": now, "seq": i},
            )
    upgrade(engine)
    assert current_revision(engine) == head_revision()

    def found(query: str) -> list[str]:
        return [hit.url for hit in search(engine, query)]

    assert found("quyet dinh bo nhiem") == ["https://a.gov.vn/news/1.html"]
    assert found("dang bo") == ["https://a.gov.vn/news/2.html"], "đ folded to d; 'bo' is in article 2 only"
    assert set(found("dang")) == {"https://a.gov.vn/news/2.html", "https://a.gov.vn/news/3.html"}
    assert found("dang")[0] == "https://a.gov.vn/news/2.html", "a title hit ranks first"
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0005")
    assert current_revision(engine) == "0005"
    assert not {"articles_fts", "search_vector"} & {
        *inspect(engine).get_table_names(),
        *(column["name"] for column in inspect(engine).get_columns("articles")),
    }
    upgrade(engine)
    assert found("quyet dinh bo nhiem") == ["https://a.gov.vn/news/1.html"]
    engine.dispose()


def test_upgrade_from_0006_keeps_runs_and_articles_and_adds_leases(db_url):
    """A database made by the previous version (0006) with a run and an article: both stay, the runs
    gain node and job (empty for the old run), and portal leases can be written; the downgrade undoes it."""
    from datetime import UTC

    from alembic import command
    from sqlalchemy import insert, select, text

    from pipelines import models as m
    from pipelines.db import alembic_config

    engine = make_engine(db_url)
    upgrade(engine, "0006")
    assert "portal_leases" not in inspect(engine).get_table_names()
    now = datetime_utc_naive()
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO sites (host, family, first_seen) VALUES ('a.gov.vn', 'nukeviet', :t)"), {"t": now}
        )
        connection.execute(
            text(
                "INSERT INTO articles (site_id, url, title, body_text, categories, tags, body_hash, content_hash,"
                " version, first_seen, last_seen, changed_at, change_seq)"
                " VALUES (1, 'https://a.gov.vn/news/a-1.html', 'Đảng bộ xã', 'Thân bài', '[]', '[]', 'b', 'c',"
                " 1, :t, :t, :t, 1)"
            ),
            {"t": now},
        )
        connection.execute(
            text(
                "INSERT INTO crawl_runs (site, started_at, finished_at, finish_reason, mode, stats, hostname, pid)"
                " VALUES ('a.gov.vn', :t, :t, 'finished', 'incremental', '{}', 'old-host', 42)"
            ),
            {"t": now},
        )
    upgrade(engine, "0007")
    assert current_revision(engine) == "0007"
    with engine.begin() as connection:
        run = connection.execute(select(m.CrawlRun.hostname, m.CrawlRun.node, m.CrawlRun.job)).one()
        assert tuple(run) == ("old-host", None, None)
        assert connection.scalar(select(m.Article.title)) == "Đảng bộ xã"
        connection.execute(
            insert(m.PortalLease),
            [
                {
                    "site": "a.gov.vn",
                    "politeness_group": "a.gov.vn",
                    "node": "n1:6800",
                    "job": "j1",
                    "dispatched_at": now.replace(tzinfo=UTC),
                }
            ],
        )
        assert connection.execute(select(m.PortalLease.node, m.PortalLease.job)).one() == ("n1:6800", "j1")
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0006")
    assert "portal_leases" not in inspect(engine).get_table_names()
    assert "node" not in {column["name"] for column in inspect(engine).get_columns("crawl_runs")}
    engine.dispose()


def datetime_utc_naive():
    """Now in UTC without its zone: how a row written with plain SQL stores a time (models.UTCDateTime)."""
    from datetime import UTC, datetime

    return datetime(2026, 12, 3, tzinfo=UTC).replace(tzinfo=None)


def test_processes_migrating_one_postgresql_database_at_once_all_succeed():
    """Fleet jobs starting together on a fresh database: one migrates, the others wait for it."""
    import os
    import subprocess
    import sys

    import pytest
    from conftest import PG_URL, ROOT, _drop_postgres_database, _fresh_postgres_database

    if not PG_URL:
        if os.environ.get("CI"):
            pytest.fail("GOVNEWS_TEST_PG_URL is not set: CI must run the PostgreSQL tests")
        pytest.skip("no PostgreSQL server ($GOVNEWS_TEST_PG_URL)")
    name = f"govnews_migrate_race_{os.getpid()}"
    url = _fresh_postgres_database(name)
    try:
        script = "import sys; from pipelines.db import make_engine, upgrade; upgrade(make_engine(sys.argv[1]))"
        processes = [
            subprocess.Popen([sys.executable, "-c", script, url], cwd=ROOT, stderr=subprocess.PIPE, text=True)
            for _ in range(4)
        ]
        errors = [process.communicate(timeout=120)[1] for process in processes]
        assert [process.returncode for process in processes] == [0, 0, 0, 0], errors
        engine = make_engine(url)
        assert current_revision(engine) == head_revision()
        engine.dispose()
    finally:
        _drop_postgres_database(name)
