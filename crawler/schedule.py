"""``govnews schedule run``: crawl every portal that is due, once, then exit (cron, systemd timers).

Each portal has an interval and a full-pass interval in the registry. Its state
(last start, last success, last error, failures in a row, next due, next full
pass) lives in the ``portal_schedule`` table, so any machine pointed at the same
database sees it. A failed portal is retried on a later run with exponential
backoff (never later than its normal interval). A lock file makes a second
concurrent run exit at once.

``status`` prints times in ISO 8601 with the portals' offset (+07:00) and the state of
each portal's last crawl run; a run without an end whose process is gone from this
host is ``interrupted``, not ``running``. A portal sent to a fleet (``run --nodes``,
crawler.fleet_dispatch) shows its lease: running, queued or lost, with node and job.
"""

from __future__ import annotations

import fcntl
import os
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from crawler.errors import UsageError
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
    if path and not lock_path.parent.is_dir():  # only the default data directory is created
        raise UsageError(f"directory {lock_path.parent} does not exist (for the lock file {lock_path})")
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


def pid_alive(pid: int, started_at: datetime | None = None) -> bool:
    """Whether process ``pid`` of this host still runs (a zombie does not; nor a pid reused after ``started_at``)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by another user
    except OSError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    try:
        fields = stat.read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return True  # no /proc (not Linux): kill(0) is all we can know
    if fields[0] in ("Z", "X"):
        return False
    if started_at is not None:
        try:
            lines = Path("/proc/stat").read_text().splitlines()
            boot = next(int(line.split()[1]) for line in lines if line.startswith("btime "))
            process_start = boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError, StopIteration):
            return True
        if process_start > started_at.timestamp() + 5:  # this pid began after the run did: another process
            return False
    return True


def run_state(run: CrawlRun | None, hostname: str | None = None) -> str:
    """``finished``-style reason of an ended run, ``running``, or ``interrupted`` when its process is gone.

    Needs ``crawl_runs.pid`` and ``crawl_runs.hostname``; a run on another host, or one recorded
    without a pid, cannot be checked from here and stays ``running``.
    """
    if run is None:
        return "-"
    if run.finished_at is not None:
        return getattr(run, "outcome", None) or run.finish_reason or "finished"
    pid, host = getattr(run, "pid", None), getattr(run, "hostname", None)
    if pid is None or host is None or host != (hostname or socket.gethostname()):
        return "running"
    return "running" if pid_alive(pid, run.started_at) else "interrupted"


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

    def _only(self, only: str | None) -> str | None:
        """The registry host ``only`` names (a host, ``www.`` or an alias); unknown: a usage error."""
        if not only:
            return None
        key = only.strip().lower().split("://", 1)[-1].split("/", 1)[0].removeprefix("www.")
        if key in self.registry:
            return key
        for host, portal in self.registry.items():
            if key in portal.aliases:
                return host
        raise UsageError(f"no portal {only} in the registry")

    def due(self, now: datetime | None = None, only: str | None = None) -> list[tuple[Portal, bool]]:
        """(portal, full pass?) for every portal whose next crawl is due; ``only``: that registry portal."""
        host_only = self._only(only)
        now = now or datetime.now(UTC)
        with Session(self.engine) as session:
            states = self._states(session)
        due = []
        for host, portal in sorted(self.registry.items()):
            if host_only and host != host_only:
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

    def _fleet(self, session: Session) -> dict[str, str]:
        return {host: f"{state} {node} {job[:12]}" for host, (state, node, job) in lease_states(session).items()}

    def _last_runs(self, session: Session, hosts: list[str]) -> dict[str, CrawlRun]:
        """The latest crawl run of each host (a running one is not yet the schedule's last_run_id)."""
        latest = (
            select(CrawlRun.site, func.max(CrawlRun.id).label("id"))
            .where(CrawlRun.site.in_(hosts))
            .group_by(CrawlRun.site)
            .subquery()
        )
        runs = session.scalars(select(CrawlRun).join(latest, CrawlRun.id == latest.c.id))
        return {run.site: run for run in runs}

    def print_status(self, only: str | None = None, out: IO[str] | None = None) -> None:
        """One line per registry portal (``only``: that one); times in ISO 8601 with the +07:00 offset."""
        out = out or sys.stdout
        host_only = self._only(only)
        hosts = [host for host in sorted(self.registry) if not host_only or host == host_only]
        with Session(self.engine) as session:
            states = self._states(session)
            runs = self._last_runs(session, hosts)
            last = {host: run_state(runs.get(host)) for host in hosts}
            fleet = self._fleet(session)
        width = 25
        job_width = max([len("fleet job"), *(len(text) for text in fleet.values())])
        print(
            f"{'portal':34} {'every':>8} {'last start':{width}} {'last success':{width}} {'next due':{width}} "
            f"{'next full':{width}} {'last run':11} {'fleet job':{job_width}} {'fail':>4}  last error",
            file=out,
        )
        for host in hosts:
            portal, state = self.registry[host], states.get(host)
            times = (
                _when(state and state.last_start, "never"),
                _when(state and state.last_success, "never"),
                _when(state and state.next_due, "now"),
                _when(state and state.next_full, "after first"),
            )
            error = (state.last_error if state and state.last_error else "")[:60]
            print(
                f"{host:34} {_short(portal.every):>8} {' '.join(f'{t:{width}}' for t in times)} {last[host]:11} "
                f"{fleet.get(host, '-'):{job_width}} {(state.failures if state else 0):>4}  {error}",
                file=out,
            )


def lease_states(session: Session) -> dict[str, tuple[str, str, str]]:
    """Per portal with an open fleet lease: (state, node, job); state is ``running`` while its crawl
    holds the portal's advisory lock, ``queued`` before the crawl took it, ``lost`` once the crawl is
    gone without giving it back (the next dispatch sends the portal again)."""
    from pipelines.models import PortalLease

    leases = session.scalars(
        select(PortalLease).where(PortalLease.job.is_not(None), PortalLease.finished_at.is_(None))
    ).all()
    if not leases:
        return {}
    held: set[int] = set()
    if session.get_bind().dialect.name == "postgresql":
        from crawler import fleet

        held = fleet.held_keys(session.connection(), fleet.NS_PORTAL)
    from crawler.fleet import lock_key

    states = {}
    for lease in leases:
        state = "running" if lock_key(lease.site) in held else "queued" if lease.started_at is None else "lost"
        states[lease.site] = (state, lease.node or "?", lease.job)
    return states


def _when(value: datetime | None, default: str = "-") -> str:
    """ISO 8601 to the second with the portals' offset: 2026-01-31T14:05:00+07:00."""
    from crawler.text.vn_dates import VN_TZ

    if value is None:
        return default
    if value.tzinfo is None:  # stored times are UTC (UTCDateTime); a raw read may lose the zone
        value = value.replace(tzinfo=UTC)
    return value.astimezone(VN_TZ).isoformat(timespec="seconds")


def _short(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    for unit, size in (("w", 7 * 24 * 60), ("d", 24 * 60), ("h", 60)):
        if minutes % size == 0:
            return f"{minutes // size}{unit}"
    return f"{minutes}m"
