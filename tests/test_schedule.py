"""govnews schedule run/status: due portals crawled once, state in the database, one run at a time."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
from conftest import ROOT, WARCS, run_govnews
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from crawler.registry import RegistryError, load_registry, parse_duration
from crawler.schedule import LockHeld, backoff, schedule_lock
from pipelines import models as m

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
    time.sleep(1.5)  # the first run has started and holds the lock
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
