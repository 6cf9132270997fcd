"""govnews schedule run/status: due portals crawled once, state in the database, one run at a time."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import ROOT, WARCS, run_govnews
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from crawler.errors import UsageError
from crawler.registry import RegistryError, load_registry, parse_duration
from crawler.schedule import LockHeld, backoff, pid_alive, run_state, schedule_lock
from pipelines import models as m

HOST = socket.gethostname()

ARCHIVE = str(WARCS / "nukeviet-khxhnvnghean" / "site.warc.gz")
REGISTRY = """
[defaults]
schedule = { every = "1d", full_every = "7d" }

[[portal]]
host = "khxhnvnghean.gov.vn"
name = "Trung tâm KHXH&NV Nghệ An"
family = "nukeviet"
schedule = { every = "6h" }

[[portal]]
host = "mat-ket-noi.gov.vn"
name = "A portal the archive does not hold"
family = "nukeviet"
"""


@pytest.fixture
def setup(tmp_path):
    registry = tmp_path / "portals.toml"
    registry.write_text(REGISTRY, encoding="utf-8")
    return {"registry": str(registry), "db": f"sqlite:///{tmp_path / 'g.db'}", "lock": str(tmp_path / "g.lock")}


def schedule(setup, *extra: str, popen: bool = False):
    args = [
        "schedule",
        "run",
        "--registry",
        setup["registry"],
        "--db",
        setup["db"],
        "--lock",
        setup["lock"],
        "--archive",
        ARCHIVE,
        "-q",
        *extra,
    ]
    if popen:
        return subprocess.Popen(
            [sys.executable, "-m", "crawler.cli", *args], cwd=ROOT, stderr=subprocess.PIPE, text=True
        )
    return run_govnews(*args)


def states(setup) -> dict[str, m.PortalSchedule]:
    engine = create_engine(setup["db"])
    with Session(engine) as session:
        return {s.site: s for s in session.scalars(select(m.PortalSchedule))}


def run_count(setup) -> int:
    engine = create_engine(setup["db"])
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(m.CrawlRun))


def test_run_twice_does_nothing_the_second_time(setup):
    first = schedule(setup)
    assert first.returncode == 1, "one portal failed, so the run says so"
    assert run_count(setup) == 2
    ok = states(setup)["khxhnvnghean.gov.vn"]
    assert ok.failures == 0
    assert ok.next_due - ok.last_start == timedelta(hours=6)
    assert ok.next_full - ok.last_start == timedelta(days=7)
    second = schedule(setup)
    assert second.returncode == 0
    assert "nothing is due" in second.stderr
    assert run_count(setup) == 2


def test_failed_portal_retried_with_backoff(setup):
    schedule(setup)
    failed = states(setup)["mat-ket-noi.gov.vn"]
    assert failed.failures == 1
    assert "unreachable" in failed.last_error
    assert timedelta(minutes=14) < failed.next_due.replace(tzinfo=UTC) - datetime.now(UTC) <= timedelta(minutes=15)
    assert backoff(3, timedelta(days=1)) == timedelta(hours=1)
    assert backoff(20, timedelta(hours=6)) == timedelta(hours=6)


def test_two_runs_at_once_one_exits_with_the_lock_message(setup):
    slow = schedule(setup, "--site", "khxhnvnghean.gov.vn", "-s", "DOWNLOAD_DELAY=0.1", popen=True)
    lock = Path(setup["lock"])
    deadline = time.monotonic() + 60
    # the lock holder writes its pid only once it holds the lock: wait for that, not for a guessed time
    while not (lock.exists() and lock.read_text().strip() == str(slow.pid)):
        assert slow.poll() is None, f"the first run ended before taking the lock: {slow.stderr.read()[-2000:]}"
        assert time.monotonic() < deadline, "the first run did not take the lock within 60 s"
        time.sleep(0.05)
    second = schedule(setup)
    assert second.returncode == 75
    assert "another scheduled run holds" in second.stderr
    assert slow.wait(timeout=120) == 0, slow.stderr.read()[-2000:]


def test_lock_is_exclusive_in_process(tmp_path):
    with schedule_lock(tmp_path / "x.lock"), pytest.raises(LockHeld), schedule_lock(tmp_path / "x.lock"):
        pass


def test_status_prints_every_portal(setup):
    schedule(setup)
    result = run_govnews("schedule", "status", "--registry", setup["registry"], "--db", setup["db"])
    assert result.returncode == 0
    assert "khxhnvnghean.gov.vn" in result.stdout
    assert "mat-ket-noi.gov.vn" in result.stdout


def test_full_pass_due_after_its_interval(setup):
    schedule(setup, "--site", "khxhnvnghean.gov.vn")
    engine = create_engine(setup["db"])
    with Session(engine) as session, session.begin():
        state = session.get(m.PortalSchedule, "khxhnvnghean.gov.vn")
        state.next_due = state.next_full = datetime.now(UTC) - timedelta(minutes=1)
    schedule(setup, "--site", "khxhnvnghean.gov.vn")
    with Session(engine) as session:
        last = session.scalars(select(m.CrawlRun).order_by(m.CrawlRun.id.desc())).first()
        assert last.mode == "full"


@pytest.mark.parametrize(("text", "minutes"), [("30m", 30), ("6h", 360), ("1d", 1440), ("1w", 10080)])
def test_durations(text, minutes):
    assert parse_duration(text) == timedelta(minutes=minutes)


def test_too_frequent_schedule_refused(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text(
        '[[portal]]\nhost = "a.gov.vn"\nname = "A"\nfamily = "nukeviet"\nschedule = { every = "1m" }\n',
        encoding="utf-8",
    )
    with pytest.raises(RegistryError, match="too often"):
        load_registry(path)


@pytest.fixture
def scheduler(setup):
    from crawler.schedule import Scheduler

    return Scheduler.open(setup["db"], load_registry(setup["registry"]))


def _status(scheduler, only: str | None = None) -> str:
    out = io.StringIO()
    scheduler.print_status(only=only, out=out)
    return out.getvalue()


def test_status_of_one_portal(scheduler):
    text = _status(scheduler, only="www.khxhnvnghean.gov.vn")
    assert "khxhnvnghean.gov.vn" in text
    assert "mat-ket-noi.gov.vn" not in text
    assert "mat-ket-noi.gov.vn" in _status(scheduler)


def test_unknown_portal_is_a_usage_error(scheduler):
    with pytest.raises(UsageError, match=r"^no portal nope\.gov\.vn in the registry$"):
        scheduler.print_status(only="nope.gov.vn")
    with pytest.raises(UsageError, match=r"^no portal nope\.gov\.vn in the registry$"):
        scheduler.due(only="nope.gov.vn")


def test_known_portal_not_due_is_no_error(scheduler):
    now = datetime.now(UTC)
    with Session(scheduler.engine) as session, session.begin():
        session.add(m.PortalSchedule(site="khxhnvnghean.gov.vn", failures=0, next_due=now + timedelta(hours=1)))
    assert scheduler.due(now=now, only="khxhnvnghean.gov.vn") == []
    assert [p.host for p, _ in scheduler.due(now=now)] == ["mat-ket-noi.gov.vn"]


def test_status_times_carry_their_zone(scheduler):
    with Session(scheduler.engine) as session, session.begin():
        session.add(
            m.PortalSchedule(
                site="khxhnvnghean.gov.vn",
                failures=0,
                last_start=datetime(2026, 1, 31, 7, 5, 9, 123456, tzinfo=UTC),
                next_due=datetime(2026, 1, 31, 13, 5, tzinfo=UTC),
            )
        )
    text = _status(scheduler, only="khxhnvnghean.gov.vn")
    assert "2026-01-31T14:05:09+07:00" in text
    assert "2026-01-31T20:05:00+07:00" in text


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _run(**values) -> SimpleNamespace:
    fields = {"finished_at": None, "finish_reason": None, "started_at": datetime.now(UTC), "hostname": HOST}
    return SimpleNamespace(**{**fields, **values})


def test_run_state_tells_a_dead_crawl_from_a_running_one():
    assert run_state(None) == "-"
    assert run_state(_run(finished_at=datetime.now(UTC), finish_reason="shutdown", pid=1)) == "shutdown"
    assert run_state(_run(pid=os.getpid(), started_at=datetime.now(UTC))) == "running"
    assert run_state(_run(pid=_dead_pid())) == "interrupted"
    assert run_state(_run(pid=os.getpid(), started_at=datetime(2000, 1, 1, tzinfo=UTC))) == "interrupted", (
        "a pid that started after the run is another process that reused it"
    )
    assert run_state(_run(pid=_dead_pid(), hostname="another-host")) == "running"  # cannot check from here
    assert run_state(_run(pid=None, hostname=None)) == "running"  # recorded before pids were


def test_zombie_is_not_alive():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    stat = Path(f"/proc/{child.pid}/stat")
    deadline = time.monotonic() + 10
    while stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z" and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        assert not pid_alive(child.pid)
    finally:
        child.wait()


def test_status_shows_a_crashed_run_as_interrupted(scheduler):
    with Session(scheduler.engine) as session, session.begin():
        for host, pid in (("khxhnvnghean.gov.vn", _dead_pid()), ("mat-ket-noi.gov.vn", os.getpid())):
            session.add(m.CrawlRun(site=host, started_at=datetime.now(UTC), stats={}, pid=pid, hostname=HOST))
    lines = {line.split()[0]: line for line in _status(scheduler).splitlines()[1:]}
    assert " interrupted " in lines["khxhnvnghean.gov.vn"]
    assert " running " in lines["mat-ket-noi.gov.vn"]
