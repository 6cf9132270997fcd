"""The fleet against real parts: three scrapyd daemons on 127.0.0.1 (each with a username and password,
the egg deployed to each), the test PostgreSQL server, the corpora's WARCs answering for the portals.

Nodes take the database URL from their environment without the password (a .pgpass file holds it);
the dispatcher's own --db carries it, and it must show in no job's arguments or log.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from base64 import b64encode
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import (
    FIXTURES,
    PG_URL,
    ROOT,
    WARCS,
    _drop_postgres_database,
    _fresh_postgres_database,
    read_jsonl,
    run_govnews,
)
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from pipelines import models as m

if not PG_URL and os.environ.get("CI"):
    raise RuntimeError("GOVNEWS_TEST_PG_URL is not set: CI must run the fleet tests on PostgreSQL")
pytestmark = pytest.mark.skipif(not PG_URL, reason="no PostgreSQL server for tests (set GOVNEWS_TEST_PG_URL)")

REGISTRY = FIXTURES / "registries" / "corpora.toml"
CORPORA = sorted(p for p in WARCS.iterdir() if (p / "site.warc.gz").exists() and (p / "truth.jsonl").exists())
ARCHIVES = [str(c / "site.warc.gz") for c in CORPORA]
ARTICLES = sum(len(read_jsonl(c / "truth.jsonl")) for c in CORPORA)
HOSTS = sorted(urllib.parse.urlsplit(read_jsonl(c / "truth.jsonl")[0]["url"]).hostname for c in CORPORA)
USER, SECRET = "fleet", "s3cret-scrapyd"
NGHE_AN = "GOVNEWS_FLEET_GROUPS=khxhnvnghean.gov.vn=nghe-an,skhcn.nghean.gov.vn=nghe-an"


def wait_for(condition: Callable[[], object], timeout: float, what: str, step: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Daemon:
    port: int
    workdir: Path
    env: dict
    process: subprocess.Popen | None = None
    children: list[int] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://{USER}:{SECRET}@127.0.0.1:{self.port}?slots=2"

    @property
    def name(self) -> str:
        return f"127.0.0.1:{self.port}"

    def call(self, endpoint: str, fields: list[tuple[str, str]] | None = None, body: bytes | None = None, **headers):
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}/{endpoint}", data=body, headers=headers)
        if fields is not None:
            request.data = urllib.parse.urlencode(fields).encode()
        request.add_header("Authorization", "Basic " + b64encode(f"{USER}:{SECRET}".encode()).decode())
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - local test daemon
            return json.load(response)

    def start(self) -> None:
        log = (self.workdir / "daemon.log").open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "scrapyd"], cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT, env=self.env
        )
        wait_for(self._up, 60, f"scrapyd on port {self.port}")

    def _up(self) -> bool:
        try:
            return self.call("daemonstatus.json")["status"] == "ok"
        except OSError:
            return False

    def jobs(self) -> dict:
        return self.call("listjobs.json?project=govnews")

    def idle(self) -> bool:
        jobs = self.jobs()
        return not jobs["pending"] and not jobs["running"]

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)

    def logs(self) -> str:
        texts = [path.read_text(encoding="utf-8", errors="replace") for path in self.workdir.rglob("*.log")]
        return "\n".join(texts)


@pytest.fixture(scope="module")
def egg(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("egg") / "govnews.egg"
    build = subprocess.run(
        [str(Path(sys.executable).parent / "scrapyd-deploy"), "--build-egg", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert build.returncode == 0, build.stderr
    return path.read_bytes()


@dataclass
class Fleet:
    db: str  # the dispatcher's URL, with the password
    daemons: list[Daemon]
    tmp: Path

    @property
    def nodes(self) -> str:
        return ",".join(d.url for d in self.daemons)

    def dispatch(self, *extra: str, popen: bool = False, env: dict | None = None):
        """``schedule run --nodes`` (node URLs with their credentials), unless ``extra`` names the nodes."""
        nodes = () if any(a.startswith("GOVNEWS_FLEET_NODES=") for a in extra) else ("--nodes", self.nodes)
        args = [
            sys.executable, "-m", "crawler.cli", "schedule", "run", *nodes, "--db", self.db,
            "--registry", str(REGISTRY), *(a for path in ARCHIVES for a in ("--archive", path)), *extra,
        ]  # fmt: skip
        env = {**os.environ, **(env or {})}
        if popen:
            return subprocess.Popen(args, cwd=ROOT, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False, env=env)

    def engine(self):
        return create_engine(self.db)

    def runs(self) -> list[m.CrawlRun]:
        with Session(self.engine()) as session:
            return list(session.scalars(select(m.CrawlRun).order_by(m.CrawlRun.id)))

    def leases(self) -> dict[str, m.PortalLease]:
        with Session(self.engine()) as session:
            return {lease.site: lease for lease in session.scalars(select(m.PortalLease))}

    def settled(self) -> bool:
        """Every node idle and every lease given back (a job's last portal ends before its process does)."""
        return all(d.idle() for d in self.daemons if d.process and d.process.poll() is None) and all(
            lease.finished_at is not None for lease in self.leases().values() if lease.job
        )


@pytest.fixture
def fleet(egg, tmp_path) -> Iterator[Fleet]:
    name = f"govnews_fleet_{os.getpid()}_{int(time.time() * 1000) % 10**8}"
    db = _fresh_postgres_database(name)
    upgraded = run_govnews("db", "upgrade", "--db", db)  # as an operator does once, before the first dispatch
    assert upgraded.returncode == 0, upgraded.stderr
    url = make_url(db)
    passfile = tmp_path / "pgpass"
    passfile.write_text(f"{url.host}:{url.port or 5432}:{url.database}:{url.username}:{url.password}\n")
    passfile.chmod(0o600)
    node_db = url.set(password=None).render_as_string(hide_password=False)
    env = {**os.environ, "GOVNEWS_DB": node_db, "PGPASSFILE": str(passfile), "GOVNEWS_PAGES_DIR": str(tmp_path / "p")}
    daemons = []
    try:
        for index in range(3):
            workdir = tmp_path / f"node{index}"
            workdir.mkdir()
            port = free_port()
            (workdir / "scrapyd.conf").write_text(
                f"[scrapyd]\nbind_address = 127.0.0.1\nhttp_port = {port}\nusername = {USER}\npassword = {SECRET}\n"
                "eggs_dir = eggs\nlogs_dir = logs\ndbs_dir = dbs\nitems_dir =\nmax_proc = 2\npoll_interval = 0.2\n",
                encoding="utf-8",
            )
            daemon = Daemon(port, workdir, env)
            daemon.start()
            daemons.append(daemon)
            added = daemon.call(
                "addversion.json",
                body=_multipart([("project", "govnews"), ("version", "1")], egg),
                **{"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
            )
            assert added["status"] == "ok", added
        yield Fleet(db, daemons, tmp_path)
    finally:
        for daemon in daemons:
            daemon.stop()
        _kill_crawls(name)
        _drop_postgres_database(name)


BOUNDARY = "govnews-fleet-boundary"


def _multipart(fields: list[tuple[str, str]], egg: bytes) -> bytes:
    body = b"".join(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in fields
    )
    body += (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="egg"; filename="govnews.egg"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode() + egg
    return body + f"\r\n--{BOUNDARY}--\r\n".encode()


def _kill_crawls(database: str) -> None:
    """Crawl processes a killed daemon left behind (their pids are in the leases)."""
    engine = create_engine(make_url(PG_URL).set(database=database))
    try:
        with engine.connect() as connection:
            pids = connection.execute(text("SELECT pid FROM portal_leases WHERE pid IS NOT NULL")).scalars().all()
    except Exception:  # noqa: BLE001 - teardown: the database may not have got that far
        pids = []
    finally:
        engine.dispose()
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def article_count(fleet: Fleet) -> tuple[int, int]:
    with Session(fleet.engine()) as session:
        return (
            session.scalar(select(func.count()).select_from(m.Article)),
            session.scalar(select(func.count(func.distinct(m.Article.url)))),
        )


def test_one_dispatch_crawls_every_portal_once_over_every_node(fleet):
    result = fleet.dispatch("-s", NGHE_AN)
    assert result.returncode == 0, result.stderr
    wait_for(fleet.settled, 180, "the jobs to finish")
    runs = fleet.runs()
    assert sorted(run.site for run in runs) == HOSTS, "each portal crawled once"
    assert all(run.outcome == "finished" for run in runs), [(r.site, r.outcome) for r in runs]
    assert {run.node for run in runs} == {d.name for d in fleet.daemons}, "jobs ran on every node"
    assert article_count(fleet) == (ARTICLES, ARTICLES), "every article stored exactly once"
    one, other = sorted((r for r in runs if r.site in ("khxhnvnghean.gov.vn", "skhcn.nghean.gov.vn")), key=_start)
    assert one.finished_at <= other.started_at, "two portals of one politeness group crawled one after the other"
    assert one.job == other.job
    listed = run_govnews("runs", "--db", fleet.db, "--json")
    assert listed.returncode == 0, listed.stderr
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert {(r["site"], r["node"], r["job"]) for r in rows} == {(r.site, r.node, r.job) for r in runs}
    status = run_govnews("fleet", "status", "--nodes", fleet.nodes, "--db", fleet.db)
    assert status.returncode == 0, status.stderr
    finished = {d.name: int(re.search(rf"{d.name} +running +0 +pending +0 +finished +(\d+)", status.stdout)[1])
                for d in fleet.daemons}  # fmt: skip
    assert sum(finished.values()) == len(re.findall(r" job [0-9a-f]{32}: ", result.stderr)), status.stdout
    assert all(finished.values()), finished
    again = fleet.dispatch()
    assert again.returncode == 0, again.stderr
    assert "nothing is due" in again.stderr
    assert len(fleet.runs()) == len(HOSTS)
    # The dispatcher's --db carries the password; nodes' jobs never see it.
    password = make_url(fleet.db).password
    for daemon in fleet.daemons:
        logs = daemon.logs()
        assert "portals=" in logs, "the daemon logged the arguments of the jobs it started"
        assert f":{password}@" not in logs
        assert fleet.db not in logs
    assert f":{password}@" not in result.stderr


def _start(run):
    return run.started_at


def test_a_password_in_a_job_setting_is_refused(fleet):
    result = fleet.dispatch("-s", "GOVNEWS_PROXY=http://user:hunter2@proxy:3128")
    assert result.returncode == 2
    assert "password" in result.stderr
    assert all(d.idle() for d in fleet.daemons)
    assert "hunter2" not in "".join(d.logs() for d in fleet.daemons)


def test_two_dispatchers_at_once_send_each_portal_once(fleet):
    """One names the nodes with --nodes and their credentials, the other with the setting, the
    credentials in its environment (as a systemd EnvironmentFile gives them)."""
    setting = "GOVNEWS_FLEET_NODES=" + ",".join(f"127.0.0.1:{d.port}?slots=2" for d in fleet.daemons)
    credentials = {"GOVNEWS_SCRAPYD_USERNAME": USER, "GOVNEWS_SCRAPYD_PASSWORD": SECRET}
    first, second = fleet.dispatch(popen=True), fleet.dispatch("-s", setting, popen=True, env=credentials)
    outputs = [process.communicate(timeout=120) for process in (first, second)]
    assert first.returncode == second.returncode == 0, outputs
    wait_for(fleet.settled, 180, "the jobs to finish")
    assert sorted(run.site for run in fleet.runs()) == HOSTS, "each portal crawled once"
    assert article_count(fleet) == (ARTICLES, ARTICLES)
    assert sorted(host for _, err in outputs for host in _sent(err)) == HOSTS, outputs
    assert sum("held by a running or queued job" in err for _, err in outputs) == 1, "the second one found all held"



SLOW = ("-s", "DOWNLOAD_DELAY=0.4", "-s", "RANDOMIZE_DOWNLOAD_DELAY=False")  # crawls long enough to kill mid-way


def _crawling_on(fleet: Fleet, daemon: Daemon) -> list[m.PortalLease]:
    """The node's leases once every one of them is taken by its crawl process and its crawl has begun."""
    leases = [lease for lease in fleet.leases().values() if lease.node == daemon.name and lease.job]
    opened = {run.site for run in fleet.runs() if run.node == daemon.name}  # spiders open after the lease
    if leases and all(lease.pid and lease.finished_at is None and lease.site in opened for lease in leases):
        return leases
    return []


def _sent(output: str) -> list[str]:
    """The portals a dispatcher's output says it sent."""
    hits = re.finditer(r" job [0-9a-f]{32}: (.+)", output)
    return sorted(host for hit in hits for host in re.split(r"[,;] ", hit.group(1)))


def _pid_gone(pid: int) -> bool:
    from crawler.schedule import pid_alive

    return not pid_alive(pid)


def test_kill_9_of_a_daemon_leaves_its_crawls_running_and_their_portals_held(fleet):
    first = fleet.dispatch(*SLOW)
    assert first.returncode == 0, first.stderr
    victim = fleet.daemons[0]
    leases = wait_for(lambda: _crawling_on(fleet, victim), 120, "the node's crawls to take their leases")
    victim.process.send_signal(signal.SIGKILL)
    victim.process.wait(timeout=10)
    assert all(not _pid_gone(lease.pid) for lease in leases), "the crawls outlive their daemon"
    second = fleet.dispatch(*SLOW)
    assert second.returncode == 0, second.stderr
    assert f"node {victim.name} unreachable" in second.stderr
    assert _sent(second.stderr) == [], "nothing is sent again while its crawls hold it"
    status = run_govnews("schedule", "status", "--db", fleet.db, "--registry", str(REGISTRY))
    assert status.returncode == 0, status.stderr
    lines = {line.split()[0]: line for line in status.stdout.splitlines()[1:]}
    for lease in leases:
        assert f" running {victim.name} {lease.job[:12]} " in lines[lease.site], lines[lease.site]
    nodes = run_govnews("fleet", "status", "--nodes", fleet.nodes, "--db", fleet.db)
    assert nodes.returncode == 1, "a node is down"
    assert f"{victim.name} " in nodes.stdout
    assert "unreachable" in nodes.stdout.split(victim.name, 1)[1].splitlines()[0]
    for lease in leases:
        wait_for(lambda pid=lease.pid: _pid_gone(pid), 180, f"crawl process {lease.pid} to end")
    wait_for(fleet.settled, 180, "the other nodes' jobs to finish")
    runs = fleet.runs()
    assert sorted(run.site for run in runs) == HOSTS, "no portal started twice"
    assert all(run.outcome == "finished" for run in runs), [(r.site, r.outcome) for r in runs]
    orphans = {lease.site for lease in leases}
    assert {run.site for run in runs if run.node == victim.name} == orphans, "the orphaned crawls finished theirs"
    assert article_count(fleet) == (ARTICLES, ARTICLES)


def test_a_lost_node_s_portals_are_crawled_again_elsewhere(fleet):
    first = fleet.dispatch(*SLOW)
    assert first.returncode == 0, first.stderr
    victim = fleet.daemons[0]
    leases = wait_for(lambda: _crawling_on(fleet, victim), 120, "the node's crawls to take their leases")
    victim.process.send_signal(signal.SIGKILL)
    for pid in {lease.pid for lease in leases}:
        os.kill(pid, signal.SIGKILL)
    victim.process.wait(timeout=10)
    lost = sorted(lease.site for lease in leases)
    engine = fleet.engine()

    def released() -> bool:
        from crawler.fleet import NS_PORTAL, held_keys, lock_key

        with engine.connect() as connection:
            return not {lock_key(site) for site in lost} & held_keys(connection, NS_PORTAL)

    wait_for(released, 30, "PostgreSQL to end the killed crawls' sessions (their locks)")
    second = fleet.dispatch()
    assert second.returncode == 0, second.stderr
    assert _sent(second.stderr) == lost, "exactly the lost node's portals are sent again"
    wait_for(fleet.settled, 180, "the jobs to finish")
    runs = fleet.runs()
    finished = sorted(run.site for run in runs if run.outcome == "finished")
    assert finished == HOSTS, "every portal crawled to its end once"
    for site in lost:
        mine = [run for run in runs if run.site == site]
        assert len(mine) == 2, mine
        assert (mine[0].node, mine[0].finished_at) == (victim.name, None), "the killed crawl never ended"
        assert mine[1].node != victim.name
        assert mine[1].outcome == "finished"
    assert article_count(fleet) == (ARTICLES, ARTICLES), "nothing lost or doubled"


def test_a_group_with_a_portal_crawling_waits_for_the_next_dispatch(fleet):
    """khxhnvnghean.gov.vn and skhcn.nghean.gov.vn made one group: while the first crawls in one job,
    a dispatch of everything holds the second back; the dispatch after the first ended sends it."""
    first = fleet.dispatch("--site", "khxhnvnghean.gov.vn", "-s", NGHE_AN, *SLOW)
    assert _sent(first.stderr) == ["khxhnvnghean.gov.vn"], first.stderr
    wait_for(lambda: any(_crawling_on(fleet, d) for d in fleet.daemons), 120, "the first portal's crawl to start")
    second = fleet.dispatch("-s", NGHE_AN)
    sent = _sent(second.stderr)
    assert "skhcn.nghean.gov.vn" not in sent, second.stderr
    assert sorted(sent) == sorted(set(HOSTS) - {"khxhnvnghean.gov.vn", "skhcn.nghean.gov.vn"})
    wait_for(fleet.settled, 180, "the jobs to finish")
    third = fleet.dispatch("-s", NGHE_AN)
    assert _sent(third.stderr) == ["skhcn.nghean.gov.vn"], third.stderr
    wait_for(fleet.settled, 180, "the last job to finish")
    runs = {run.site: run for run in fleet.runs()}
    assert sorted(runs) == HOSTS
    assert len(fleet.runs()) == len(HOSTS), "each portal once"
    one, other = runs["khxhnvnghean.gov.vn"], runs["skhcn.nghean.gov.vn"]
    assert one.job != other.job
    assert one.finished_at <= other.started_at, "one portal of the group at a time across jobs"
