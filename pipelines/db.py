"""Database connection: SQLite by default (WAL, busy timeout), any SQLAlchemy URL otherwise."""

from __future__ import annotations

import os
import weakref
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

DEFAULT_DB_NAME = "govnews.sqlite3"
# The head revision of pipelines/migrations; a test keeps the two equal. Used where the
# migration scripts are not files on disk (a zipped scrapyd egg).
SCHEMA_REVISION = "0009"
MIGRATION_LOCK = 0x676F766E65777300  # pg_advisory_xact_lock key: "govnews\0"
SQLITE_BUSY_TIMEOUT_MS = 30_000  # a second writer waits this long instead of failing at once


def database_url(explicit: str | None = None) -> str:
    """``--db`` / GOVNEWS_DB setting, else ``$GOVNEWS_DB``, else ``data/govnews.sqlite3``."""
    from crawler.datafiles import writable_data_dir

    return explicit or os.environ.get("GOVNEWS_DB") or f"sqlite:///{writable_data_dir() / DEFAULT_DB_NAME}"


_ENGINES: dict[str, Engine] = {}
_CURRENT: weakref.WeakSet[Engine] = weakref.WeakSet()  # engines whose schema init_db has checked


def make_engine(url: str | None = None) -> Engine:
    """The process's engine for ``url``: the spider, the store and the run recorder share one pool."""
    url = database_url(url)
    if url not in _ENGINES:
        _ENGINES[url] = _create(url)
    return _ENGINES[url]


def _create(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            _make_default_data_dir(Path(parsed.database))
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(connection, _record) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the crawl's writer
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL survives kill -9
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def _make_default_data_dir(database: Path) -> None:
    """Create govnews's own data/ directory for the default database, and no other directory:
    a mistyped ``--db`` path must fail (crawler.preflight says so), not grow a directory tree."""
    from crawler.datafiles import writable_data_dir

    parent = Path(os.path.abspath(database)).parent
    if not parent.exists() and parent == Path(os.path.abspath(writable_data_dir())):
        parent.mkdir(exist_ok=True)


MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(engine: Engine):
    _quiet_alembic()
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return config


def _quiet_alembic() -> None:
    """Alembic logs every plugin it sets up and every context at INFO; a crawl logs at INFO, so those
    lines would open every crawl's output. Warnings and errors still show (``-s LOG_LEVEL`` aside)."""
    import logging

    alembic_logger = logging.getLogger("alembic")
    if alembic_logger.level == logging.NOTSET:
        alembic_logger.setLevel(logging.WARNING)


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to the current schema (``govnews db upgrade``); a no-op when it is current."""
    _quiet_alembic()
    from alembic import command

    config = alembic_config(engine)
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # several crawl processes (fleet jobs) may meet a fresh or older database at once: one
            # migrates, the others wait for it and find the schema current (held to the commit)
            from sqlalchemy import text

            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def current_revision(engine: Engine) -> str | None:
    _quiet_alembic()  # before the import: alembic logs its plugins as it loads them
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    _quiet_alembic()
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


def init_db(engine: Engine) -> None:
    """Make sure the schema is current: migrations, never a bare ``create_all``, so every database has a
    revision. In a zipped deployment (no migration files on disk) an empty database is created at
    ``SCHEMA_REVISION`` and stamped; an older one must be upgraded with ``govnews db upgrade`` first.
    Checked once per engine and process."""
    if engine in _CURRENT:
        return
    _ensure_schema(engine)
    _CURRENT.add(engine)


def _stored_revision(engine: Engine) -> str | None:
    """``alembic_version`` read with plain SQL (no Alembic import); ``None`` when there is none yet."""
    from sqlalchemy import inspect, text

    with engine.connect() as connection:
        if "alembic_version" not in inspect(connection).get_table_names():
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _ensure_schema(engine: Engine) -> None:
    if _stored_revision(engine) == SCHEMA_REVISION:  # current (SCHEMA_REVISION is the migrations' head, tested)
        return
    if MIGRATIONS.is_dir():
        if current_revision(engine) != head_revision():
            upgrade(engine)
        return
    revision = current_revision(engine)
    if revision == SCHEMA_REVISION:
        return
    from sqlalchemy import inspect, text

    if revision is None and not inspect(engine).get_table_names():
        from pipelines import search
        from pipelines.models import Base

        with engine.begin() as connection:
            Base.metadata.create_all(connection)
            search.create_index(connection, backfill=False)  # not a model: see pipelines.search
            connection.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)"))
            connection.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": SCHEMA_REVISION})
        return
    raise RuntimeError(
        f"database schema {revision} is not this deployment's {SCHEMA_REVISION}: run `govnews db upgrade` on it"
    )
