"""What one scrapyd slot carries: N synthetic portals crawled as fleet jobs, politeness on (scaled).

    python bench/fleet.py --db postgresql+psycopg://USER:PW@127.0.0.1:5432/postgres
                          [--portals 6] [--articles 40] [--delay 0.2] [--slots 2] [--batch 1]

Serves N synthetic portals (bench/synthetic_portal.py's pages) on 127.0.0.2, 127.0.0.3, …
(distinct hosts, one politeness group each), starts one real scrapyd with ``--slots``
processes, deploys the egg, and dispatches them all with ``govnews schedule run --nodes``
into a fresh PostgreSQL database made beside ``--db`` (dropped at the end). Politeness is
on: ``DOWNLOAD_DELAY`` is ``--delay`` instead of the real 2 s, so the run is ``2 / delay``
times faster than the real thing. ``--batch`` portals per job (1: one process per portal).

Measured: CPU seconds and peak RSS of each job process (sampled from /proc), requests and
wall time of each portal crawl, portals per hour per slot. Then, stated as an extrapolation
(a model, not a measurement): the time of a real portal crawl at the default 2 s delay, how
many slots a node carries (CPU and memory), and how many nodes the country's ~3,800 portals
need for an hourly incremental pass (``--incremental-requests``) and a weekly full pass
(``--full-requests``; an assumption, not measured here).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
PYTHON = sys.executable
REAL_DELAY = 2.0  # crawler/settings.py DOWNLOAD_DELAY
COUNTRY = 3800


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve(portals: int, articles: int) -> list[str]:
    """One synthetic portal per loopback address, each in a thread of this process; their base URLs."""
    from synthetic_portal import make_handler, template

    template()
    urls = []
    for index in range(portals):
        server = ThreadingHTTPServer((f"127.0.0.{index + 2}", 0), make_handler(articles))
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        urls.append(f"http://127.0.0.{index + 2}:{server.server_address[1]}/")
    return urls


def _registry(urls: list[str], path: Path) -> None:
    entries = [
        f'[[portal]]\nhost = "{url.split("//")[1].split(":")[0]}"\nname = "Synthetic {i}"\nfamily = "nukeviet"\n'
        f'base_url = "{url}"\n'
        for i, url in enumerate(urls)
    ]
    path.write_text("\n".join(entries), encoding="utf-8")


def _database(admin_url: str, name: str) -> str:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def _drop(admin_url: str, name: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _scrapyd(work: Path, slots: int, db: str) -> tuple[subprocess.Popen, int]:
    port = _free_port()
    (work / "scrapyd.conf").write_text(
        f"[scrapyd]\nbind_address = 127.0.0.1\nhttp_port = {port}\nmax_proc = {slots}\neggs_dir = eggs\n"
        "logs_dir = logs\ndbs_dir = dbs\nitems_dir =\npoll_interval = 0.2\n",
        encoding="utf-8",
    )
    env = {**os.environ, "GOVNEWS_DB": db, "GOVNEWS_PAGES_DIR": str(work / "pages")}
    log = (work / "daemon.log").open("ab")
    daemon = subprocess.Popen([PYTHON, "-m", "scrapyd"], cwd=work, stdout=log, stderr=subprocess.STDOUT, env=env)
    for _ in range(300):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/daemonstatus.json", timeout=2):  # noqa: S310
                break
        except OSError:
            time.sleep(0.2)
    else:
        raise SystemExit("scrapyd did not start")
    egg = work / "govnews.egg"
    deploy = str(Path(PYTHON).parent / "scrapyd-deploy")
    subprocess.run([deploy, "--build-egg", str(egg)], cwd=ROOT, check=True, capture_output=True)
    subprocess.run(
        ["curl", "-sf", f"http://127.0.0.1:{port}/addversion.json", "-F", "project=govnews", "-F", "version=1",
         "-F", f"egg=@{egg}"],
        check=True, capture_output=True,
    )  # fmt: skip
    return daemon, port


def _jobs_idle(port: int) -> bool:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/listjobs.json?project=govnews", timeout=5) as r:  # noqa: S310
        jobs = json.load(r)
    return not jobs["pending"] and not jobs["running"]


def _sample(daemon: subprocess.Popen, port: int, seen: dict[int, dict]) -> None:
    """Until the node is idle: each job process's CPU seconds and peak RSS (its last reading, its high-water mark)."""
    import psutil

    parent = psutil.Process(daemon.pid)
    while True:
        for child in parent.children(recursive=True):
            try:
                with child.oneshot():
                    cpu = child.cpu_times()
                    status = Path(f"/proc/{child.pid}/status").read_text()
                hwm = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")))
            except (psutil.Error, OSError, StopIteration):
                continue
            entry = seen.setdefault(child.pid, {"cpu": 0.0, "rss_mb": 0.0})
            entry["cpu"] = max(entry["cpu"], cpu.user + cpu.system)
            entry["rss_mb"] = max(entry["rss_mb"], hwm / 1024)
        if _jobs_idle(port):
            return
        time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=os.environ.get("GOVNEWS_TEST_PG_URL"), help="PostgreSQL URL (admin)")
    parser.add_argument("--portals", type=int, default=6)
    parser.add_argument("--articles", type=int, default=40, help="articles per synthetic portal")
    parser.add_argument("--delay", type=float, default=0.2, help="DOWNLOAD_DELAY (the real one is 2 s)")
    parser.add_argument("--slots", type=int, default=2, help="scrapyd max_proc")
    parser.add_argument("--batch", type=int, default=1, help="portals per job (GOVNEWS_FLEET_BATCH)")
    parser.add_argument("--node-cores", type=int, default=4, help="extrapolation: a node's cores")
    parser.add_argument("--node-ram-gb", type=float, default=8, help="extrapolation: a node's memory")
    parser.add_argument("--incremental-requests", type=int, default=20, help="extrapolation: per incremental pass")
    parser.add_argument("--full-requests", type=int, default=1000, help="extrapolation: per full pass (assumed)")
    args = parser.parse_args()
    if not args.db:
        raise SystemExit("--db: a PostgreSQL URL whose user may create databases (or $GOVNEWS_TEST_PG_URL)")
    from sqlalchemy import create_engine, text

    name = f"govnews_bench_fleet_{os.getpid()}"
    db = _database(args.db, name)
    work = Path(tempfile.mkdtemp(prefix="govnews-fleet-"))
    daemon = None
    try:
        subprocess.run([PYTHON, "-m", "crawler.cli", "db", "upgrade", "--db", db], cwd=ROOT, check=True,
                       capture_output=True)  # fmt: skip
        urls = _serve(args.portals, args.articles)
        hosts = [url.split("//")[1].split(":")[0] for url in urls]
        _registry(urls, work / "portals.toml")
        daemon, port = _scrapyd(work, args.slots, db)
        seen: dict[int, dict] = {}
        start = time.perf_counter()
        dispatch = subprocess.run(
            [PYTHON, "-m", "crawler.cli", "schedule", "run", "--nodes", f"http://127.0.0.1:{port}?slots={args.slots}",
             "--db", db, "--registry", str(work / "portals.toml"), "-q",
             "-s", f"DOWNLOAD_DELAY={args.delay}", "-s", "RANDOMIZE_DOWNLOAD_DELAY=False",
             "-s", f"AUTOTHROTTLE_START_DELAY={args.delay}", "-s", f"AUTOTHROTTLE_MAX_DELAY={args.delay * 30}",
             "-s", f"GOVNEWS_ALLOW_PRIVATE_HOSTS={','.join(hosts)}", "-s", f"GOVNEWS_FLEET_BATCH={args.batch}",
             "-s", "GOVNEWS_KEEP_PAGES=False"],
            cwd=ROOT, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if dispatch.returncode:
            raise SystemExit(f"dispatch failed: {dispatch.stderr}")
        time.sleep(0.5)  # scrapyd lists a sent job at once; the sampler stops when none is pending or running
        _sample(daemon, port, seen)
        wall = time.perf_counter() - start
        engine = create_engine(db)
        with engine.connect() as connection:
            runs = connection.execute(
                text("SELECT site, started_at, finished_at, outcome, stats FROM crawl_runs ORDER BY id")
            ).all()
            articles = connection.scalar(text("SELECT count(*) FROM articles"))
        engine.dispose()
    finally:
        if daemon is not None:
            daemon.terminate()
            daemon.wait(timeout=30)
        _drop(args.db, name)

    jobs = [entry for entry in seen.values() if entry["cpu"] > 0.5]  # the crawl processes, not short helpers
    requests = [((r.stats or {}).get("summary") or {}).get("requests", 0) for r in runs]
    durations = [(r.finished_at - r.started_at).total_seconds() for r in runs if r.finished_at]
    ok = sum(r.outcome == "finished" for r in runs)
    cpu_total = sum(job["cpu"] for job in jobs)
    per_portal_cpu = cpu_total / max(len(runs), 1)
    mean_requests = sum(requests) / max(len(requests), 1)
    mean_crawl = sum(durations) / max(len(durations), 1)
    peak_rss = max((job["rss_mb"] for job in jobs), default=0.0)
    per_slot_hour = len(runs) / (wall / 3600) / args.slots
    print(f"fleet bench: {args.portals} portals x {args.articles} articles, delay {args.delay} s, "
          f"{args.slots} slots, {args.batch} portal(s) per job")  # fmt: skip
    print(f"  portal crawls: {len(runs)} ({ok} finished), {articles} articles stored, wall {wall:.1f} s")
    print(f"  per portal crawl: {mean_requests:.0f} requests, {mean_crawl:.1f} s crawling, "
          f"{per_portal_cpu:.2f} CPU s (job processes, start-up included)")  # fmt: skip
    print(f"  job processes: {len(jobs)}, peak RSS max {peak_rss:.0f} MB, "
          f"mean {sum(j['rss_mb'] for j in jobs) / max(len(jobs), 1):.0f} MB")  # fmt: skip
    print(f"  measured: {per_slot_hour:.0f} portals per hour per slot at {args.delay} s delay")

    # --- extrapolation: a model built on the figures above, not a measurement --------------------
    # A slot is one job process crawling ``batch`` portals side by side; its start-up is shared by them.
    overhead = max(mean_crawl - mean_requests * args.delay, 0.0)
    overhead += max(wall * args.slots * args.batch / max(len(runs), 1) - mean_crawl, 0.0)
    cpu_per_request = per_portal_cpu / max(mean_requests, 1)  # start-up included: an upper bound per request

    def real_crawl(requests_per_pass: int) -> float:
        return requests_per_pass * REAL_DELAY + overhead

    slots_ram = int(args.node_ram_gb * 1024 * 0.8 / max(peak_rss, 1))
    incr_s, full_s = real_crawl(args.incremental_requests), real_crawl(args.full_requests)
    incr_cpu = max(cpu_per_request * args.incremental_requests, per_portal_cpu if args.batch == 1 else 0)
    slot_cores = args.batch * incr_cpu / incr_s
    slots_cpu = int(args.node_cores * 0.8 / max(slot_cores, 1e-9))
    slots = max(min(slots_ram, slots_cpu), 1)
    crawls = slots * args.batch  # portal crawls a node runs at once
    hourly_nodes = COUNTRY * incr_s / 3600 / crawls
    weekly_nodes = COUNTRY * full_s / (7 * 24 * 3600) / crawls
    print("extrapolation (a model from the figures above, at the default 2 s delay):")
    print(f"  a real portal crawl: incremental ({args.incremental_requests} requests) ~{incr_s:.0f} s,"
          f" full ({args.full_requests} requests, assumed) ~{full_s / 3600:.1f} h;"
          f" overhead per crawl (start, discovery, store) ~{overhead:.1f} s")  # fmt: skip
    print(f"  a node of {args.node_cores} cores / {args.node_ram_gb:.0f} GB: ~{slots_ram} slots by memory (80% at "
          f"{peak_rss:.0f} MB a job), ~{slots_cpu} by CPU (80% at {slot_cores:.3f} cores a job) -> {slots},"
          f" i.e. {crawls} portal crawls at once")
    print(f"  {COUNTRY} portals: hourly incremental pass needs ~{hourly_nodes:.1f} node(s), weekly full pass"
          f" ~{weekly_nodes:.1f} node(s), both together ~{hourly_nodes + weekly_nodes:.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
