"""End-to-end crawl speed and scale: govnews crawling into SQLite, measured from outside.

    python bench/crawl_speed.py replay [--corpus ../shared/corpus] [--synthetic 3000] [--profile] [--json]
                                       [--synthetic-warc FILE] [--only NAME]
    python bench/crawl_speed.py scale [--articles 100000] [--interval 15]

``replay``: replays each corpus WARC (and a WARC recorded from the synthetic portal,
``--synthetic N`` articles) into a fresh SQLite file; prints pages/s and articles/s
(inside the crawl, from Scrapy's elapsed time, and wall clock with start-up), peak
RSS, and with ``--profile`` the top costs of a cProfile of the largest replay. Under each
replay, Scrapy's floor for the same WARC (``bench/scrapy_floor.py``: the replay handler and a
no-op spider) and the share of the replay's time that is govnews's own work.
``--json``: one JSON object per replay instead of the table (name, pages, articles,
pages_per_s, articles_per_s, peak_rss_mb, crawl_s, wall_s). ``--synthetic-warc FILE``:
record the synthetic portal into FILE once and replay that file on later runs (the
recording is a live crawl and takes longer than the replay). ``--only NAME``: replay only
the targets whose name contains NAME (e.g. ``--only synthetic``).
``scale``: crawls the synthetic portal (bench/synthetic_portal.py) end to end,
live over 127.0.0.1, sampling stored articles and RSS every ``--interval`` seconds:
throughput over time, peak RSS, database size per article, and the query plans of
the URL and near-duplicate lookups (index-backed or not).
Politeness is off for these runs only (``GOVNEWS_BENCH_NO_POLITENESS``): the servers are local.
"""

from __future__ import annotations

import argparse
import json
import os
import pstats
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BENCH_SETTINGS = ["-s", "GOVNEWS_BENCH_NO_POLITENESS=True", "-s", "GOVNEWS_MAX_REQUESTS=1000000", "-q"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _rss_mb(pid: int, field: str = "VmRSS") -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _run(args: list[str], profile: Path | None = None) -> tuple[float, float, subprocess.CompletedProcess]:
    """(wall seconds, peak RSS MB, result) of one govnews command in its own process."""
    command = [PYTHON, "-m", "crawler.cli", *args]
    if profile is not None:
        command = [PYTHON, "-m", "cProfile", "-o", str(profile), "-m", "crawler.cli", *args]
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0.0
    while process.poll() is None:
        peak = max(peak, _rss_mb(process.pid, "VmHWM"))
        time.sleep(0.05)
    out, err = process.communicate()
    return time.perf_counter() - start, peak, subprocess.CompletedProcess(command, process.returncode, out, err)


def _last_run(db: Path) -> dict:
    with sqlite3.connect(db) as connection:
        stats = json.loads(connection.execute("SELECT stats FROM crawl_runs ORDER BY id DESC LIMIT 1").fetchone()[0])
    return stats


def _serve(articles: int) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    server = subprocess.Popen(
        [PYTHON, str(ROOT / "bench" / "synthetic_portal.py"), "--articles", str(articles), "--port", str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    server.stdout.readline()
    return server, f"http://127.0.0.1:{port}/"


def replay(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="govnews-bench-"))
    targets: list[tuple[str, str, Path]] = []
    for directory in sorted(Path(args.corpus).glob("*")):
        truth = directory / "truth.jsonl"
        if (directory / "site.warc.gz").exists() and truth.exists():
            url = json.loads(truth.read_text().splitlines()[0])["url"]
            targets.append(
                (directory.name, url.split("/", 3)[0] + "//" + url.split("/", 3)[2] + "/", directory / "site.warc.gz")
            )
    if args.synthetic:
        recorded = Path(args.synthetic_warc).resolve() if args.synthetic_warc else work / "synthetic.warc.gz"
        base_file = recorded.with_name(recorded.name + ".base")
        if recorded.exists() and base_file.exists():  # recorded by an earlier run: replay it again
            targets.append((f"synthetic-{args.synthetic}", base_file.read_text().strip(), recorded))
    if args.synthetic and not (recorded.exists() and base_file.exists()):
        recorded.unlink(missing_ok=True)  # the recorder appends: never onto a half recording
        server, base = _serve(args.synthetic)
        try:
            _, _, result = _run(
                [
                    "crawl",
                    base,
                    "--family",
                    "nukeviet",
                    "--record",
                    str(recorded),
                    "--db",
                    f"sqlite:///{work / 'record.db'}",
                    *BENCH_SETTINGS,
                ]
            )
            assert result.returncode == 0, result.stderr[-2000:]
        finally:
            server.terminate()
        base_file.write_text(base)
        targets.append((f"synthetic-{args.synthetic}", base, recorded))
    if args.only:
        targets = [target for target in targets if args.only in target[0]]
    if not args.json:
        print(
            f"{'replay':34} {'pages':>6} {'articles':>8} {'crawl s':>7} {'pages/s':>8} {'articles/s':>10} "
            f"{'wall s':>6} {'wall pages/s':>12} {'peak RSS MB':>11}"
        )
    for name, url, warc in targets:
        db = work / f"{name}.db"
        profile = work / f"{name}.prof" if args.profile and warc == targets[-1][2] else None
        wall, peak, result = _run(["crawl", url, "--archive", str(warc), "--db", f"sqlite:///{db}", "-q"], profile)
        assert result.returncode == 0, result.stderr[-2000:]
        stats = _last_run(db)
        scrapy = stats["scrapy"]
        pages, articles = scrapy.get("response_received_count", 0), stats["summary"]["articles"]["new"]
        elapsed = float(scrapy.get("elapsed_time_seconds", wall))
        if args.json:
            row = {
                "name": name,
                "pages": pages,
                "articles": articles,
                "pages_per_s": round(pages / elapsed, 1),
                "articles_per_s": round(articles / elapsed, 1),
                "peak_rss_mb": round(peak, 1),
                "crawl_s": round(elapsed, 2),
                "wall_s": round(wall, 2),
            }
            print(json.dumps(row), flush=True)
        else:
            print(
                f"{name:34} {pages:6d} {articles:8d} {elapsed:7.2f} {pages / elapsed:8.1f} {articles / elapsed:10.1f} "
                f"{wall:6.2f} {pages / wall:12.1f} {peak:11.1f}"
            )
        floor = _scrapy_floor(warc)
        if args.json:
            print(
                json.dumps({**floor, "name": f"{name}: scrapy floor", "govnews_share": _share(floor, pages, elapsed)})
            )
        else:
            print(
                f"{'  scrapy floor (no-op spider)':34} {floor['pages']:6d} {'':8} {floor['crawl_s']:7.2f}"
                f" {floor['pages_per_s']:8.1f}   govnews's own work: {_share(floor, pages, elapsed):.0%} of the replay"
            )
        if profile is not None:
            out = sys.stderr if args.json else sys.stdout
            print(f"\nTop costs of the {name} replay (cProfile, whole process; profile in {profile}):", file=out)
            table = pstats.Stats(str(profile), stream=out)
            table.sort_stats("tottime").print_stats(15)
            table.sort_stats("cumulative").print_stats(30)


def _scrapy_floor(warc: Path) -> dict:
    """The same WARC through Scrapy and the replay handler with a no-op spider (bench/scrapy_floor.py)."""
    result = subprocess.run(
        [PYTHON, str(ROOT / "bench" / "scrapy_floor.py"), str(warc), "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def _share(floor: dict, pages: int, elapsed: float) -> float:
    """Share of the replay's time per page that is govnews's own (not Scrapy's floor)."""
    per_page, floor_per_page = elapsed / max(pages, 1), floor["crawl_s"] / max(floor["pages"], 1)
    return max(0.0, 1 - floor_per_page / per_page) if per_page else 0.0


def scale(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="govnews-scale-"))
    db = work / "scale.db"
    server, base = _serve(args.articles)
    command = [
        PYTHON,
        "-m",
        "crawler.cli",
        "crawl",
        base,
        "--family",
        "nukeviet",
        "--db",
        f"sqlite:///{db}",
        *BENCH_SETTINGS,
    ]
    start = time.perf_counter()
    crawl = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    print(f"{'elapsed s':>9} {'stored':>8} {'articles/s (interval)':>21} {'RSS MB':>7}")
    previous, previous_time, peak = 0, start, 0.0
    try:
        while crawl.poll() is None:
            time.sleep(args.interval)
            now = time.perf_counter()
            stored = 0
            if db.exists():
                try:
                    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as connection:
                        stored = connection.execute("SELECT count(*) FROM articles").fetchone()[0]
                except sqlite3.Error:
                    stored = previous
            rss = _rss_mb(crawl.pid)
            peak = max(peak, _rss_mb(crawl.pid, "VmHWM"))
            print(
                f"{now - start:9.0f} {stored:8d} {(stored - previous) / (now - previous_time):21.1f} {rss:7.1f}",
                flush=True,
            )
            previous, previous_time = stored, now
        _, err = crawl.communicate()
    finally:
        server.terminate()
    wall = time.perf_counter() - start
    with sqlite3.connect(db) as connection:
        stored = connection.execute("SELECT count(*) FROM articles").fetchone()[0]
        url_plan = connection.execute(
            "EXPLAIN QUERY PLAN SELECT article_id FROM article_urls WHERE url_key IN ('x', 'y')"
        ).fetchall()
        band_plan = connection.execute(
            "EXPLAIN QUERY PLAN SELECT DISTINCT article_id FROM minhash_bands WHERE band IN "
            "(SELECT band FROM minhash_bands WHERE article_id = 1) AND article_id != 1"
        ).fetchall()
    size = sum(p.stat().st_size for p in work.glob("scale.db*"))
    print(f"\n{stored} articles in {wall:.0f} s ({stored / wall:.1f} articles/s overall), exit {crawl.returncode}")
    print(f"peak RSS {peak:.1f} MB; database {size / 1e6:.1f} MB = {size / max(stored, 1) / 1024:.1f} KiB per article")
    print("URL lookup plan:", "; ".join(row[-1] for row in url_plan))
    print("near-duplicate candidate plan:", "; ".join(row[-1] for row in band_plan))
    if crawl.returncode:
        print(err[-3000:], file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    one = sub.add_parser("replay")
    one.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpus"))
    one.add_argument("--synthetic", type=int, default=3000, help="also record and replay N synthetic articles")
    one.add_argument("--profile", action="store_true")
    one.add_argument("--json", action="store_true", help="one JSON object per replay")
    one.add_argument("--synthetic-warc", metavar="FILE", help="record the synthetic portal here once, then reuse it")
    one.add_argument("--only", metavar="NAME", help="replay only targets whose name contains NAME")
    two = sub.add_parser("scale")
    two.add_argument("--articles", type=int, default=100_000)
    two.add_argument("--interval", type=float, default=15.0)
    args = parser.parse_args()
    os.environ.setdefault("PYTHONHASHSEED", "0")
    (replay if args.mode == "replay" else scale)(args)


if __name__ == "__main__":
    main()
