"""``govnews serve``: the SQLite store in Datasette, read-only, for people who would rather look than query.

Datasette (a tool analysts know) opens the live file with ``mode=ro``, not ``immutable``: crawls go
on writing and every page shows the current data, yet nothing the browser sends can write (there is
no write API in Datasette 0.x, arbitrary SQL runs on the read-only connection). It listens on
127.0.0.1 unless told otherwise. What it shows comes from :mod:`crawler.serve.metadata` (the models'
column comments, search, facets, canned queries, the datasette-dashboards dashboard) and
:mod:`crawler.serve.plugin` (search folded like ``govnews search``, the month facet, the sanitised
article page). Datasette is imported here only, so the rest of the CLI starts without it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from crawler.errors import UsageError

TEMPLATES = Path(__file__).parent / "templates"
SETTINGS: dict[str, Any] = {
    "default_page_size": 50,
    "truncate_cells_html": 300,  # a body in the table view is a preview; the row page shows it whole
    "sql_time_limit_ms": 3000,
    "facet_time_limit_ms": 500,
    "suggest_facets": False,  # the configured facets; guessing more costs a query per column per page
    "allow_download": False,
}


def sqlite_path(db_url: str) -> Path:
    """The file of a SQLite store URL; anything else is a usage error (Datasette reads SQLite)."""
    from sqlalchemy.engine import make_url

    from crawler.preflight import check_database

    try:
        parsed = make_url(db_url)
    except Exception:  # noqa: BLE001 - sqlalchemy's ArgumentError and ValueError alike: not a URL
        raise UsageError(f"--db {db_url!r}: not a database URL (sqlite:///path/to/file.sqlite3)") from None
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        raise UsageError(
            f"govnews serve reads a SQLite store (Datasette); {parsed.get_backend_name()} given: "
            "use govnews search / export, or SQL, on PostgreSQL"
        )
    path = Path(parsed.database)
    if set("?#%") & set(path.name + str(path.parent)):
        # Datasette opens file:PATH?mode=ro without escaping PATH: "?" and "#" cut it short (another,
        # empty, writable file is opened) and "%" is decoded
        raise UsageError(f"--db {path}: a path with ?, # or % cannot be opened read-only; rename or link it")
    if not path.is_file():
        raise UsageError(f"no database at {path}: crawl into it first (govnews crawl --db {db_url})")
    check_database(db_url, create=False)
    return path.resolve()


def database_name(path: Path) -> str:
    """The name Datasette gives a database file (its stem), which the metadata must use."""
    return path.stem


def build_datasette(db_url: str):
    """A configured :class:`datasette.app.Datasette` over the store (tests drive it directly)."""
    from datasette.app import Datasette
    from datasette.plugins import pm

    from crawler.serve import plugin
    from crawler.serve.metadata import build_metadata

    path = sqlite_path(db_url)
    if not pm.is_registered(plugin):
        pm.register(plugin, name="govnews")
    return Datasette(
        [str(path)],
        metadata=build_metadata(database_name(path)),
        template_dir=str(TEMPLATES),
        settings=SETTINGS,
    )


def serve(db_url: str, *, host: str = "127.0.0.1", port: int = 8001, metadata_out: str | None = None) -> int:
    """Run Datasette until interrupted; ``metadata_out``: write its metadata as JSON instead."""
    if metadata_out:
        from crawler.serve.metadata import build_metadata

        path = sqlite_path(db_url)
        text = json.dumps(build_metadata(database_name(path)), ensure_ascii=False, indent=2) + "\n"
        try:
            Path(metadata_out).write_text(text, encoding="utf-8")
        except OSError as error:
            raise UsageError(f"--metadata {metadata_out}: cannot write it ({error.strerror})") from None
        return 0
    if not 0 < port < 65536:
        raise UsageError(f"--port {port}: give 1-65535")
    import asyncio

    import uvicorn

    ds = build_datasette(db_url)
    listening = _listen(host, port)  # before the banner: a taken port is one line, not uvicorn's log
    asyncio.run(ds.invoke_startup())
    shown = f"[{host}]" if ":" in host else host
    print(f"govnews serve: http://{shown}:{port}/ (read-only; Ctrl-C stops)", flush=True)
    if _all_interfaces(host):
        print(
            f"govnews serve: listening on every interface ({host or 'all'}): anyone who can reach this machine "
            "reads the archive, with no login (README: put it behind a proxy that asks for one)",
            file=sys.stderr,
            flush=True,
        )
    config = uvicorn.Config(ds.app(), log_level="warning", lifespan="on", workers=1)
    uvicorn.Server(config).run(sockets=[listening])
    return 0


def _all_interfaces(host: str) -> bool:
    return host in ("", "0.0.0.0", "::", "[::]")  # noqa: S104 - the very values being recognised


def _listen(host: str, port: int):
    """The listening socket (``--host``, ``--port``), or a one-line usage error: the port is taken, the
    host does not resolve or is not this machine's."""
    import socket

    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        raise UsageError(f"--host {host}: cannot resolve it ({error.strerror})") from None
    family, kind, proto, _, address = infos[0]
    listening = socket.socket(family, kind, proto)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listening.bind(address)
        listening.listen(2048)
    except OSError as error:
        listening.close()
        raise UsageError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    listening.set_inheritable(True)
    return listening
