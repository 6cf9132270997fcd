"""Database connection: SQLite by default (WAL, busy timeout), any SQLAlchemy URL otherwise."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

DEFAULT_DB_PATH = Path(__file__).resolve().parent.parent / "data" / "govnews.sqlite3"
SQLITE_BUSY_TIMEOUT_MS = 30_000  # a second writer waits this long instead of failing at once


def database_url(explicit: str | None = None) -> str:
    """``--db`` / GOVNEWS_DB setting, else ``$GOVNEWS_DB``, else ``data/govnews.sqlite3``."""
    return explicit or os.environ.get("GOVNEWS_DB") or f"sqlite:///{DEFAULT_DB_PATH}"


def make_engine(url: str | None = None) -> Engine:
    url = database_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
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


def init_db(engine: Engine) -> None:
    """Create missing tables (a fresh database)."""
    from pipelines.models import Base

    Base.metadata.create_all(engine)
