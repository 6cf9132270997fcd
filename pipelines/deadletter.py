"""Dead letters: articles a crawl parsed but could not store (database down), kept as JSON lines.

One file per crawl and portal (``deadletter-<host>-<time>.jsonl``) in the data
directory. The next crawl of that portal stores them before it starts, and
``govnews deadletter load FILE`` does the same by hand; a loaded file is renamed
``….jsonl.done``, so nothing is stored twice by mistake and nothing is lost
silently. Loading goes through :class:`pipelines.store.ArticleStore`, which is
idempotent: an article stored meanwhile (the next crawl fetched it again) is
found by its URL and only refreshed.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path

from crawler.items import Article

logger = logging.getLogger(__name__)

_DATETIMES = {f.name for f in fields(Article) if "datetime" in str(f.type)}
_NAMES = {f.name for f in fields(Article)}
BATCH = 50


@dataclass(frozen=True, slots=True)
class LoadResult:
    loaded: int  # articles new or changed in the database
    already: int  # articles the database held unchanged
    failed: int  # lines that are no article (reported, the file is then kept)
    done_path: str | None  # where the file went once loaded; None when it was kept


def file_for(directory: Path, site: str) -> Path:
    return directory / f"deadletter-{site}-{datetime.now(UTC):%Y%m%dT%H%M%S}.jsonl"


def pending_files(directory: Path, site: str) -> list[Path]:
    """Dead-letter files of one portal still to be loaded, oldest first."""
    return sorted(directory.glob(f"deadletter-{site}-*.jsonl")) if directory.is_dir() else []


def write(path: Path, items: list[Article]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        for item in items:
            handle.write(json.dumps(asdict(item), default=_iso, ensure_ascii=False) + "\n")


def _iso(value):
    return value.isoformat() if isinstance(value, datetime) else str(value)


def read(path: Path) -> tuple[list[Article], int]:
    """The articles in a dead-letter file, and how many lines were unreadable (each logged once)."""
    items, bad = [], 0
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                values = {k: v for k, v in record.items() if k in _NAMES}
                for name in _DATETIMES & values.keys():
                    if values[name] is not None:
                        values[name] = datetime.fromisoformat(values[name])
                items.append(Article(**values))
            except (ValueError, TypeError) as error:
                bad += 1
                logger.error("%s line %d is no article: %s", path, number, str(error)[:200])
    return items, bad


def load_into(store, path: Path) -> LoadResult:
    """Store a dead-letter file through an open :class:`~pipelines.store.ArticleStore`; rename it done."""
    items, bad = read(path)
    before = dict(store.counts)
    for start in range(0, len(items), BATCH):
        store.write(items[start : start + BATCH])
    changed = sum(store.counts[k] - before[k] for k in ("new", "updated"))
    done = None
    if not bad:
        done = path.with_name(path.name + ".done")
        path.rename(done)
    return LoadResult(loaded=changed, already=len(items) - changed, failed=bad, done_path=str(done) if done else None)


def load_file(db_url: str | None, path: str | Path) -> LoadResult:
    """``govnews deadletter load FILE``: store every article of the file, then mark the file done."""
    from crawler.registry import load_registry
    from pipelines.db import init_db, make_engine
    from pipelines.store import ArticleStore

    engine = make_engine(db_url)
    init_db(engine)
    try:
        return load_into(ArticleStore(engine, load_registry(None)), Path(path))
    finally:
        engine.dispose()
