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
