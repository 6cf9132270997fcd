"""Start-up time of the govnews CLI: each command as a whole process, beside the interpreter's floor.

    python bench/startup.py [-n 15] [--json] [--root CHECKOUT]

For each command (``--help``, ``sites``, ``extract`` of one saved page, ``export`` of a small
database, ``runs``, ``crawl --help``) the median wall time and CPU time (user + system) of N runs of
``python -m crawler.cli ...``, and their ratio to ``python -c pass`` measured in the same run
(so a loaded machine shows as a higher floor, not as a slower CLI). Commands run in turns, one
run of each per round, so a burst of load on the machine spreads over all of them. The small
database is the recorded NukeViet test portal (33 articles), crawled once into a temporary file.
``--root``: measure another checkout of govnews (e.g. ``git archive REV | tar -x -C DIR``) with this
interpreter, for before/after figures from the same machine and the same minute.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
WARC = ROOT / "tests" / "fixtures" / "warc" / "nukeviet-khxhnvnghean" / "site.warc.gz"
PAGE = next(iter(sorted((ROOT / "tests" / "fixtures" / "pages" / "nukeviet").rglob("page.html.gz"))), None)


def _timed(command: list[str], cwd: Path = ROOT) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child) of one run; its output is discarded."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    stderr = process.stderr.read().decode("utf-8", "replace") if process.stderr else ""
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode}): {stderr[-1000:]}")
    return wall, usage.ru_utime + usage.ru_stime


def _small_database(work: Path) -> str:
    url = f"sqlite:///{work / 'small.sqlite3'}"
    subprocess.run(
        [PYTHON, "-m", "crawler.cli", "crawl", "khxhnvnghean.gov.vn", "--archive", str(WARC), "--db", url, "-q"],
        cwd=ROOT,  # the database of this checkout's schema
        check=True,
        capture_output=True,
    )
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=15, help="runs per command (median)")
    parser.add_argument("--json", action="store_true", help="one JSON object per command")
    parser.add_argument("--root", type=Path, default=ROOT, help="the govnews checkout to measure (default: this one)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="govnews-startup-"))
    db = _small_database(work)
    cli = [PYTHON, "-m", "crawler.cli"]
    commands = {
        "python -c pass": [PYTHON, "-c", "pass"],
        "--help": [*cli, "--help"],
        "sites": [*cli, "sites"],
        "extract (one page)": [*cli, "extract", str(PAGE)],
        "export (33 articles)": [*cli, "export", "--db", db, "-o", str(work / "out.jsonl")],
        "runs": [*cli, "runs", "--db", db],
        "crawl --help": [*cli, "crawl", "--help"],
    }
    for command in commands.values():  # warm the page cache and the bytecode caches
        _timed(command, args.root)
    walls: dict[str, list[float]] = {name: [] for name in commands}
    cpus: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.n):
        for name, command in commands.items():
            wall, cpu = _timed(command, args.root)
            walls[name].append(wall)
            cpus[name].append(cpu)
    floor_wall = statistics.median(walls["python -c pass"])
    floor_cpu = statistics.median(cpus["python -c pass"])
    if not args.json:
        print(f"{'command':22} {'wall s':>7} {'x floor':>7} {'CPU s':>6} {'x floor':>7}   (median of {args.n})")
    for name in commands:
        wall, cpu = statistics.median(walls[name]), statistics.median(cpus[name])
        if args.json:
            row = {
                "command": name,
                "runs": args.n,
                "wall_s": round(wall, 4),
                "wall_ratio": round(wall / floor_wall, 2),
                "cpu_s": round(cpu, 4),
                "cpu_ratio": round(cpu / floor_cpu, 2) if floor_cpu else None,
            }
            print(json.dumps(row))
        else:
            ratio_cpu = f"{cpu / floor_cpu:7.1f}" if floor_cpu else f"{'-':>7}"
            print(f"{name:22} {wall:7.3f} {wall / floor_wall:7.1f} {cpu:6.3f} {ratio_cpu}")


if __name__ == "__main__":
    main()
