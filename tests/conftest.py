"""Shared test helpers: fixture paths, saved-page cases, running the CLI in a subprocess."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures"
PAGES = FIXTURES / "pages"
WARCS = FIXTURES / "warc"
ROOT = FIXTURES.parent.parent


@pytest.fixture(autouse=True, scope="session")
def _kept_pages_outside_the_checkout(tmp_path_factory) -> Iterator[None]:
    """Crawls keep their article pages (crawler.keep_pages); in tests, never in the checkout's data/."""
    previous = os.environ.get("GOVNEWS_PAGES_DIR")
    os.environ["GOVNEWS_PAGES_DIR"] = str(tmp_path_factory.mktemp("kept-pages"))
    yield
    if previous is None:
        os.environ.pop("GOVNEWS_PAGES_DIR", None)
    else:
        os.environ["GOVNEWS_PAGES_DIR"] = previous


@dataclass(frozen=True)
class PageCase:
    """A saved article page with its expected output (web-poet / Fundus style)."""

    path: Path

    @property
    def id(self) -> str:
        return f"{self.path.parent.name}/{self.path.name}"

    @property
    def html(self) -> bytes:
        return gzip.decompress((self.path / "page.html.gz").read_bytes())

    @property
    def meta(self) -> dict:
        return json.loads((self.path / "meta.json").read_text(encoding="utf-8"))

    @property
    def expected(self) -> dict:
        return json.loads((self.path / "expected.json").read_text(encoding="utf-8"))


def page_cases(family: str) -> list[PageCase]:
    return [PageCase(p) for p in sorted((PAGES / family).glob("*/*")) if (p / "expected.json").exists()]


def nfc(value):
    """Expected values as govnews stores text: NFC (a truth may keep a title typed in NFD)."""
    import unicodedata

    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, list):
        return [nfc(v) for v in value]
    if isinstance(value, dict):
        return {k: nfc(v) for k, v in value.items()}
    return value


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def run_govnews(*args: str, timeout: float = 300, env: dict | None = None) -> subprocess.CompletedProcess:
    """The CLI in its own process: one Twisted reactor per crawl, as users run it."""
    return subprocess.run(
        [sys.executable, "-m", "crawler.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'govnews.db'}"


PG_URL = os.environ.get("GOVNEWS_TEST_PG_URL")  # .ci/run starts a real PostgreSQL and sets it


def _fresh_postgres_database(name: str) -> str:
    """A new, empty database on the test PostgreSQL server; its URL."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        _drop(connection, name)  # a leftover of a killed run of the same test
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


def _drop_postgres_database(name: str) -> None:
    """Drop a test database at teardown, even while an engine of the test still holds connections."""
    from sqlalchemy import create_engine

    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            _drop(connection, name)
    finally:
        admin.dispose()


def _drop(connection, name: str) -> None:
    """End the database's sessions, then drop it (``WITH (FORCE)`` from PostgreSQL 13 on)."""
    from sqlalchemy import text

    connection.execute(
        text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name AND pid <> pg_backend_pid()"
        ),
        {"name": name},
    )
    force = " WITH (FORCE)" if connection.dialect.server_version_info >= (13,) else ""
    connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"{force}'))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path: Path) -> Iterator[str]:
    """Each store test runs on SQLite and on a real PostgreSQL server, in a database of its own
    that is dropped afterwards (so test runs do not pile databases up on the server)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'govnews.db'}"
        return
    if not PG_URL:
        if os.environ.get("CI"):
            pytest.fail("GOVNEWS_TEST_PG_URL is not set: CI must run the store tests on PostgreSQL")
        pytest.skip("no PostgreSQL server for tests (set GOVNEWS_TEST_PG_URL; .ci/run starts one)")
    name = f"govnews_t_{os.getpid()}_{abs(hash(request.node.nodeid)) % 10**8}"
    url = _fresh_postgres_database(name)
    try:
        yield url
    finally:
        _drop_postgres_database(name)


@pytest.fixture(scope="session")
def serve_store(tmp_path_factory) -> str:
    """A SQLite store of three corpora and a hostile article, for the govnews serve tests (built once)."""
    from serve_support import build_store

    return build_store(tmp_path_factory.mktemp("serve") / "govnews.sqlite3")
