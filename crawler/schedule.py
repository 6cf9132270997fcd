"""``govnews schedule run``: crawl every portal that is due, once, then exit (cron, systemd timers).

Each portal has an interval and a full-pass interval in the registry. Its state
(last start, last success, last error, failures in a row, next due, next full
pass) lives in the ``portal_schedule`` table, so any machine pointed at the same
database sees it. A failed portal is retried on a later run with exponential
backoff (never later than its normal interval). A lock file makes a second
concurrent run exit at once.
"""

from __future__ import annotations

import fcntl
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from crawler.registry import Portal
from pipelines.db import init_db, make_engine
from pipelines.models import CrawlRun, PortalSchedule

LOCK_FILE = "govnews-schedule.lock"
FIRST_RETRY = timedelta(minutes=15)  # after one failure; doubles with each further failure


class LockHeld(RuntimeError):
    """Another ``govnews schedule run`` is running."""


@contextmanager
def schedule_lock(path: str | Path | None = None) -> Iterator[None]:
    """An exclusive, non-blocking lock on a file; released when the process ends, even by kill -9."""
    from crawler.datafiles import writable_data_dir

    lock_path = Path(path) if path else writable_data_dir() / LOCK_FILE
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    handle = lock_path.open("a+")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise LockHeld(f"another scheduled run holds {lock_path} (pid {holder}); exiting") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield
    finally:
        handle.close()


def backoff(failures: int, interval: timedelta) -> timedelta:
    return min(FIRST_RETRY * 2 ** max(failures - 1, 0), interval)


class Scheduler:
    def __init__(self, engine: Engine, registry: dict[str, Portal]) -> None:
        self.engine = engine
        self.registry = registry

    @classmethod
    def open(cls, db_url: str | None, registry: dict[str, Portal]) -> Scheduler:
        engine = make_engine(db_url)
        init_db(engine)
        return cls(engine, registry)

    def _states(self, session: Session) -> dict[str, PortalSchedule]:
        return {state.site: state for state in session.scalars(select(PortalSchedule))}

    def due(self, now: datetime | None = None, only: str | None = None) -> list[tuple[Portal, bool]]:
        """(portal, full pass?) for every portal whose next crawl is due."""
        now = now or datetime.now(UTC)
        with Session(self.engine) as session:
            states = self._states(session)
        due = []
        for host, portal in sorted(self.registry.items()):
            if only and host != only.removeprefix("www."):
                continue
            state = states.get(host)
            if state is not None and state.next_due is not None and state.next_due > now:
                continue
            full = (
                state is not None
                and state.last_success is not None
                and (state.next_full is None or state.next_full <= now)
            )
            due.append((portal, full))
        return due

    def started(self, due: list[tuple[Portal, bool]], now: datetime | None = None) -> None:
        now = now or datetime.now(UTC)
        with Session(self.engine) as session, session.begin():
            states = self._states(session)
            for portal, _ in due:
                state = states.get(portal.host) or PortalSchedule(site=portal.host, failures=0)
                state.last_start = now
                session.add(state)

    def finished(self, outcomes: list[Any], now: datetime | None = None) -> None:
        """Record each crawl's outcome and when the portal is due next."""
        now = now or datetime.now(UTC)
        with Session(self.engine) as session, session.begin():
            states = self._states(session)
            for outcome in outcomes:
                portal = outcome.portal
                state = states.get(portal.host) or PortalSchedule(site=portal.host, failures=0)
                start = state.last_start or now
                state.last_run_id = session.scalar(
                    select(CrawlRun.id).where(CrawlRun.site == portal.host).order_by(CrawlRun.id.desc()).limit(1)
                )
                if outcome.ok:
                    state.last_success = now
                    state.failures = 0
                    state.last_error = None
                    state.next_due = start + portal.every
                    if outcome.stats.get("govnews/mode") == "full" or state.next_full is None:
                        state.next_full = start + portal.full_every
                else:
                    state.failures = (state.failures or 0) + 1
                    state.last_error = str(outcome.reason)[:1000]
                    state.next_due = now + backoff(state.failures, portal.every)
                session.add(state)

    def print_status(self, out=sys.stdout) -> None:
        from crawler.text.vn_dates import iso

        with Session(self.engine) as session:
            states = self._states(session)
        print(
            f"{'portal':34} {'every':>8} {'last start':19} {'last success':19} {'next due':19} "
            f"{'next full':19} {'fail':>4}  last error",
            file=out,
        )
        for host, portal in sorted(self.registry.items()):
            state = states.get(host)

            def when(value: datetime | None, default: str = "-") -> str:
                return (iso(value) or default)[:19].replace("T", " ")

            print(
                f"{host:34} {_short(portal.every):>8} {when(state and state.last_start, 'never'):19} "
                f"{when(state and state.last_success, 'never'):19} {when(state and state.next_due, 'now'):19} "
                f"{when(state and state.next_full, 'after first'):19} {(state.failures if state else 0):>4}  "
                f"{(state.last_error if state and state.last_error else '')[:60]}",
                file=out,
            )


def _short(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    for unit, size in (("w", 7 * 24 * 60), ("d", 24 * 60), ("h", 60)):
        if minutes % size == 0:
            return f"{minutes // size}{unit}"
    return f"{minutes}m"
