"""Checks the CLI runs before any request is sent: the database, targets, settings, paths, dates.

A user mistake found here is a :class:`~crawler.errors.UsageError` with a one-line message
(``main()`` prints it and exits 2), instead of a traceback halfway through a crawl or a
database file created where the user mistyped a path.
SQLAlchemy is imported inside the functions: ``govnews --help`` stays fast.
"""

from __future__ import annotations

import json
import math
import os
import re
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from crawler.errors import UsageError

SUPPORTED_DATABASES = ("sqlite", "postgresql")
CONNECT_TIMEOUT_S = 3  # a PostgreSQL server that does not answer in this time is down, for a CLI user
SQLITE_HEADER = b"SQLite format 3\x00"


@dataclass(slots=True)
class _Database:
    where: str  # what messages call it: a path, or host:port/name (never the password)
    exists: bool = True
    tables: set[str] = field(default_factory=set)
    revision: str | None = None


def check_database(url: str, *, create: bool, allow_old: bool = False) -> None:
    """Refuse a database govnews cannot use before anything touches it.

    ``create``: a write command (crawl, schedule run, db upgrade), which may create an SQLite
    file and upgrades an older schema. Read commands pass ``create=False`` and never create a
    file; an older schema is an error for them unless ``allow_old`` (``db status`` shows it).
    """
    state = _inspect(url, create=create)
    if not state.exists:
        return
    _check_schema(state, create=create, allow_old=allow_old)


def stored_revision(url: str) -> str | None:
    """The schema revision recorded in ``alembic_version`` (plain SQL, no Alembic), or ``None``."""
    return _inspect(url, create=False).revision


def _inspect(url: str, *, create: bool) -> _Database:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise UsageError(
            f"not a database URL: {_redact(url)!r} (e.g. sqlite:///data/govnews.sqlite3 or "
            "postgresql+psycopg://USER:PASSWORD@HOST/NAME)"
        ) from None
    backend = parsed.get_backend_name()
    if backend not in SUPPORTED_DATABASES:
        raise UsageError(f"unsupported database {backend!r} in --db: govnews supports sqlite and postgresql")
    try:
        dialect = parsed.get_dialect()
        (getattr(dialect, "import_dbapi", None) or dialect.dbapi)()
    except NoSuchModuleError:
        raise UsageError(f"unknown database driver {parsed.drivername!r} (use e.g. postgresql+psycopg)") from None
    except ImportError as error:
        hint = " pip install 'govnews[postgresql]'" if backend == "postgresql" else ""
        raise UsageError(
            f"the database driver for {parsed.drivername} is not installed ({error.name or error}):{hint}"
        ) from None
    if backend == "sqlite":
        return _inspect_sqlite(parsed.database, create=create)
    return _inspect_postgresql(parsed)


def _inspect_sqlite(database: str | None, *, create: bool) -> _Database:
    if not database or database == ":memory:" or database.startswith("file:"):
        return _Database(where=database or ":memory:", exists=False)  # nothing on disk to check
    path = Path(os.path.abspath(database))
    if path.is_dir():
        raise UsageError(f"{path} is a directory, not a database file")
    if not path.exists():
        if not create:
            raise UsageError(f"no database at {path} (mistyped --db? `govnews crawl` creates it)")
        _check_new_file_dir(path, allow_data_dir=True)
        return _Database(where=str(path), exists=False)
    try:
        with path.open("rb") as stream:
            header = stream.read(len(SQLITE_HEADER))
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror}") from None
    if header and header != SQLITE_HEADER:  # an empty file is an empty SQLite database
        raise UsageError(f"{path} is not a SQLite database")
    if create and not (_writable(path) and _writable(path.parent)):  # WAL needs -wal/-shm files beside it
        raise UsageError(f"{path} is not writable")
    try:
        connection = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True)
        try:
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            revision = None
            if "alembic_version" in tables:
                revision = connection.execute("SELECT version_num FROM alembic_version").fetchone()
                revision = revision[0] if revision else None
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:
        raise UsageError(f"{path} is not a usable SQLite database: {error}") from None
    return _Database(where=str(path), tables=tables - {"sqlite_sequence"}, revision=revision)


def _inspect_postgresql(parsed) -> _Database:
    from sqlalchemy import create_engine, inspect, text
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.pool import NullPool

    where = f"{parsed.host or 'localhost'}:{parsed.port or 5432}"
    engine = create_engine(parsed, poolclass=NullPool, connect_args={"connect_timeout": CONNECT_TIMEOUT_S})
    try:
        with engine.connect() as connection:
            tables = set(inspect(connection).get_table_names())
            revision = None
            if "alembic_version" in tables:
                revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except DBAPIError as error:
        reason = str(error.orig or error).strip().splitlines()[0] if str(error.orig or error).strip() else "failed"
        if parsed.password:
            reason = reason.replace(str(parsed.password), "***")
        raise UsageError(f"cannot connect to PostgreSQL at {where}: {reason}") from None
    finally:
        engine.dispose()
    return _Database(where=f"PostgreSQL database {parsed.database} at {where}", tables=tables, revision=revision)


def _check_schema(state: _Database, *, create: bool, allow_old: bool) -> None:
    from pipelines.db import SCHEMA_REVISION

    if state.revision is None:
        if state.tables:
            shown = ", ".join(sorted(state.tables)[:4]) + (", …" if len(state.tables) > 4 else "")
            raise UsageError(f"{state.where} is not a govnews database (it has tables {shown} but no govnews schema)")
        if not create and not allow_old:
            raise UsageError(f"{state.where} has no govnews schema yet: run `govnews db upgrade`")
        return
    if state.revision == SCHEMA_REVISION:
        return
    if not (state.revision.isdigit() and SCHEMA_REVISION.isdigit()):
        raise UsageError(f"{state.where} has schema revision {state.revision!r}, which is not a govnews revision")
    if int(state.revision) > int(SCHEMA_REVISION):
        raise UsageError(
            f"{state.where} has schema {state.revision}, newer than this govnews ({SCHEMA_REVISION}): upgrade govnews"
        )
    if not create and not allow_old:
        raise UsageError(
            f"{state.where} has schema {state.revision}, older than this govnews ({SCHEMA_REVISION}):"
            " run `govnews db upgrade`"
        )


def _writable(path: Path) -> bool:
    return os.access(path, os.W_OK)


def _check_new_file_dir(path: Path, *, allow_data_dir: bool = False) -> None:
    """The directory a new file goes into must exist: govnews creates no directory trees (a typo
    in a path would otherwise become one), except its own default data directory."""
    parent = path.parent
    if not parent.exists():
        if allow_data_dir:
            from crawler.datafiles import writable_data_dir

            if parent == Path(os.path.abspath(writable_data_dir())) and parent.parent.is_dir():
                return  # pipelines.db creates the default data/ directory
        raise UsageError(f"directory {parent} does not exist")
    if not parent.is_dir():
        raise UsageError(f"{parent} is not a directory")
    if not _writable(parent):
        raise UsageError(f"directory {parent} is not writable")


def check_output_file(name: str) -> None:
    """A file govnews will write (``--record``, ``export -o``): its directory exists, it is no directory."""
    path = Path(os.path.abspath(name))
    if path.is_dir():
        raise UsageError(f"{path} is a directory, not a file")
    if path.exists():
        if not _writable(path):
            raise UsageError(f"{path} is not writable")
        return
    _check_new_file_dir(path)


def check_input_file(name: str, what: str) -> None:
    path = Path(name)
    if not path.exists():
        raise UsageError(f"{what} not found: {name}")
    if not path.is_file():
        raise UsageError(f"{what} {name} is not a file")
    if not os.access(path, os.R_OK):
        raise UsageError(f"{what} {name} is not readable")


_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):(?!\d+(?:[/?#]|$))")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def is_host_name(name: str) -> bool:
    """A lower-case ASCII host name (IDNs in their xn-- form): what a target or a registry host may be."""
    return len(name) <= 253 and all(_LABEL.match(label) for label in name.split("."))


def site_option(value: str) -> str:
    """A ``--site`` as the store keys portals: ``Sở.Gov.VN.``, ``www.x.gov.vn`` and
    ``https://x.gov.vn/tin/`` all name ``x.gov.vn``'s row (lower case, IDN in its xn-- form, no
    trailing dot, no ``www.``), so a filter never quietly matches nothing because of how it was typed."""
    import argparse

    text_ = value.strip()
    if "://" in text_:
        try:
            text_ = urlsplit(text_).hostname or ""
        except ValueError:
            text_ = ""
    text_ = text_.rstrip(".").lower()
    try:
        host = text_.encode("idna").decode("ascii") if not text_.isascii() else text_
    except UnicodeError:
        host = ""
    host = host.removeprefix("www.")
    if not host or not is_host_name(host):
        raise argparse.ArgumentTypeError(f"not a portal host: {value!r} (give a host such as sonoivu.gov.vn)")
    return host


def check_target(target: str) -> None:
    """A crawl/detect target is a registry host or an http(s) URL of a portal; refuse anything
    else (``javascript:``, ``ftp://``, a host with spaces, a broken IPv6 literal) up front."""
    import ipaddress

    text_ = target.strip()
    if not text_:
        raise UsageError("empty target: give a registry host or an http(s) URL")
    scheme = _SCHEME.match(text_)
    if "://" in text_ or scheme:
        name = text_.split("://", 1)[0] if "://" in text_ else scheme.group(1)
        if name.lower() not in ("http", "https"):
            raise UsageError(f"not an http(s) URL: {target!r}")
    candidate = text_ if "://" in text_ else f"https://{text_}"
    try:
        parts = urlsplit(candidate)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as error:
        raise UsageError(f"not a valid URL: {target!r} ({error})") from None
    if not host:
        raise UsageError(f"no host in {target!r}")
    try:
        ipaddress.ip_address(host)
        return
    except ValueError:
        pass
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise UsageError(f"not a valid host name in {target!r}: {host!r}") from None
    if not is_host_name(ascii_host.rstrip(".")):
        raise UsageError(f"not a valid host name in {target!r}: {host!r}")


def check_family(name: str | None, *, allow_auto: bool = True) -> None:
    from crawler.families import family_names

    if name is None or (allow_auto and name == "auto"):
        return
    known = family_names()
    if name not in known:
        raise UsageError(f"unknown CMS family {name!r} (known: {', '.join(known)}{', auto' if allow_auto else ''})")


def typed_setting(pair: str, default: Any) -> tuple[str, Any]:
    """``-s NAME=VALUE`` typed like the setting's default (settings.py, else Scrapy's), so a typo
    stops here and not as a ValueError inside the crawl. Unknown settings stay strings."""
    from collections.abc import Mapping

    name, sep, value = pair.partition("=")
    name = name.strip()
    if not sep or not name:
        raise UsageError(f"-s {pair!r}: expected NAME=VALUE")
    if isinstance(default, bool):
        lowered = value.strip().lower()
        if lowered in ("true", "1"):
            return name, True
        if lowered in ("false", "0"):
            return name, False
        raise UsageError(f"{name} expects true or false (or 1/0), got {value!r}")
    if isinstance(default, int | float):
        try:
            return name, int(value)
        except ValueError:
            pass
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            raise UsageError(f"{name} expects a number, got {value!r}")
        return name, number
    if isinstance(default, Mapping):
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            raise UsageError(f"{name} expects a JSON object, e.g. {name}='{{\"key\": 1}}', got {value!r}")
        return name, parsed
    return name, value


_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_day(value: str | None, option: str) -> datetime | None:
    """A strict YYYY-MM-DD, as the start of that day in the portals' zone (Asia/Ho_Chi_Minh)."""
    from crawler.text.vn_dates import VN_TZ

    if value is None:
        return None
    try:
        if not _DAY.match(value):
            raise ValueError
        day = date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{option}: not a date: {value!r} (use YYYY-MM-DD)") from None
    if day == date.min:  # its start in Vietnam is 17:00 UTC the day before year 1: before anything stored
        return datetime.min.replace(tzinfo=UTC)
    return datetime.combine(day, time(), tzinfo=VN_TZ)


def last_change(engine) -> int:
    """The highest export cursor handed out so far (the ``change_seq`` counter, else the articles')."""
    from sqlalchemy import text

    with engine.connect() as connection:
        counter = connection.execute(text("SELECT value FROM counters WHERE name = 'change_seq'")).scalar()
        highest = connection.execute(text("SELECT MAX(change_seq) FROM articles")).scalar()
    return max(counter or 0, highest or 0)


def _redact(url: str) -> str:
    return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", url)
