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

    parsed = make_url(db_url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        raise UsageError(
            f"govnews serve reads a SQLite store (Datasette); {parsed.get_backend_name()} given: "
            "use govnews search / export, or SQL, on PostgreSQL"
        )
    path = Path(parsed.database)
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
        Path(metadata_out).write_text(
            json.dumps(build_metadata(database_name(path)), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        return 0
    if not 0 < port < 65536:
        raise UsageError(f"--port {port}: give 1-65535")
    import asyncio

    import uvicorn

    ds = build_datasette(db_url)
    asyncio.run(ds.invoke_startup())
    print(f"govnews serve: http://{host}:{port}/ (read-only; Ctrl-C stops)", flush=True)
    uvicorn.run(ds.app(), host=host, port=port, log_level="warning", lifespan="on", workers=1)
    return 0
