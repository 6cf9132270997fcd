"""The schema built by Alembic migrations is the schema the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from conftest import run_govnews
from sqlalchemy import inspect

from pipelines.db import current_revision, head_revision, make_engine, upgrade
from pipelines.models import Base


def test_migrations_build_the_models_schema(db_url):
    engine = make_engine(db_url)
    upgrade(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == [], "models changed without a migration: run alembic revision --autogenerate"


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
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
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
