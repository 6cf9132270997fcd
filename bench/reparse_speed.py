"""Kept pages and reparse: what keeping pages costs a crawl, its disk use, and reparse speed.

    python bench/reparse_speed.py [--articles 3000] [--corpus ../shared/corpus] [--json]

1. Crawls the synthetic portal (``bench/synthetic_portal.py``, ``--articles`` pages) live
   over 127.0.0.1 twice into fresh SQLite files: with kept pages (the default) and with
   ``--no-keep-pages``; the ratio of their pages/s is what keeping pages costs a crawl.
2. ``govnews reparse`` over the kept pages of the first crawl (a whole process, as users run
   it), against a floor measured in the same run: reading every kept record back and
   ``lxml.html.fromstring`` on it, in this process.
3. Disk use: kept bytes per 1,000 articles, for the synthetic pages and for the article pages
   of every corpus (written through the same keeper).
Politeness is off for these runs only (``GOVNEWS_BENCH_NO_POLITENESS``): the server is local.
"""

from __future__ import annotations

import argparse
import json
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PYTHON = sys.executable


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _crawl(url: str, db: Path, pages: Path, *extra: str) -> float:
    """Pages per second of one live crawl (Scrapy's elapsed time), asserting it stored something."""
    command = [
        PYTHON, "-m", "crawler.cli", "crawl", url, "--family", "nukeviet", "--db", f"sqlite:///{db}", "-q",
        "-s", "GOVNEWS_BENCH_NO_POLITENESS=True", "-s", "GOVNEWS_ALLOW_PRIVATE_HOSTS=127.0.0.1",
        "-s", "GOVNEWS_MAX_REQUESTS=1000000", "-s", f"GOVNEWS_PAGES_DIR={pages}", *extra,
    ]  # fmt: skip
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
    with sqlite3.connect(db) as connection:
        stats = json.loads(connection.execute("SELECT stats FROM crawl_runs ORDER BY id DESC LIMIT 1").fetchone()[0])
    scrapy = stats["scrapy"]
    return scrapy.get("response_received_count", 0) / float(scrapy.get("elapsed_time_seconds") or 1)


def _floor(db: Path, pages: Path) -> tuple[int, float]:
    """(pages, seconds) of reading every kept record back and parsing it with lxml alone."""
    import lxml.html

    from crawler.keep_pages import PageReader

    with sqlite3.connect(db) as connection:
        where = connection.execute("SELECT file, offset FROM article_pages ORDER BY file, offset").fetchall()
    reader = PageReader(pages)
    started = time.perf_counter()
    for file, offset in where:
        lxml.html.fromstring(reader.read(file, offset).text())
    reader.close()
    return len(where), time.perf_counter() - started


def _corpus_bytes_per_1000(corpus: Path, work: Path) -> list[tuple[str, int, float]]:
    """Per corpus: (name, article pages, kept KB per 1,000 articles) through the keeper."""
    from crawler.archive import WarcArchive
    from crawler.keep_pages import PageKeeper

    rows = []
    for directory in sorted(corpus.glob("*")):
        truth, warc = directory / "truth.jsonl", directory / "site.warc.gz"
        if not (truth.exists() and warc.exists()):
            continue
        archive = WarcArchive([str(warc)])
        keeper = PageKeeper(work / "corpora", directory.name)
        for line in truth.read_text(encoding="utf-8").splitlines():
            url = json.loads(line)["url"]
            found = archive.get(url)
            if found is None:
                continue
            status, headers, body = found
            keeper.keep(url, status, [(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers], body)
        keeper.close()
        if keeper.count:
            rows.append((directory.name, keeper.count, keeper.path.stat().st_size / keeper.count))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=3000)
    parser.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpus"))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="govnews-reparse-"))
    port = _free_port()
    server = subprocess.Popen(
        [PYTHON, str(ROOT / "bench" / "synthetic_portal.py"), "--articles", str(args.articles), "--port", str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        server.stdout.readline()
        url = f"http://127.0.0.1:{port}/"
        kept_db, bare_db, pages = work / "kept.sqlite3", work / "bare.sqlite3", work / "pages"
        kept_rate = _crawl(url, kept_db, pages)
        bare_rate = _crawl(url, bare_db, work / "unused", "--no-keep-pages")
    finally:
        server.terminate()
    kept_bytes = sum(p.stat().st_size for p in pages.rglob("*.warc.gz"))
    started = time.perf_counter()
    result = subprocess.run(
        [PYTHON, "-m", "crawler.cli", "reparse", "--db", f"sqlite:///{kept_db}", "--pages-dir", str(pages), "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    wall = time.perf_counter() - started
    report = json.loads(result.stdout)
    floor_pages, floor_seconds = _floor(kept_db, pages)
    floor_rate = floor_pages / floor_seconds
    corpora = _corpus_bytes_per_1000(Path(args.corpus), work)
    rows = {
        "crawl_kept_pages_per_s": round(kept_rate, 1),
        "crawl_no_keep_pages_per_s": round(bare_rate, 1),
        "keep_cost_ratio": round(bare_rate / kept_rate, 3),
        "reparse_pages": report["reparsed"],
        "reparse_changed": report["changed"],
        "reparse_pages_per_s": report["pages_per_s"],
        "reparse_wall_pages_per_s": round(report["reparsed"] / wall, 1),
        "floor_read_lxml_pages_per_s": round(floor_rate, 1),
        "reparse_vs_floor": round(floor_rate / report["pages_per_s"], 2) if report["pages_per_s"] else None,
        "synthetic_kept_mb_per_1000": round(kept_bytes / max(report["reparsed"], 1) * 1000 / 1e6, 2),
        "corpora_kept_mb_per_1000": {name: round(size * 1000 / 1e6, 2) for name, _, size in corpora},
    }
    if args.json:
        print(json.dumps(rows))
        return
    print(f"synthetic portal, {args.articles} articles, live over 127.0.0.1 (politeness off)")
    print(f"  crawl with kept pages        {kept_rate:8.1f} pages/s")
    print(f"  crawl with --no-keep-pages   {bare_rate:8.1f} pages/s   (keeping costs {bare_rate / kept_rate:.2f}x)")
    print(
        f"  reparse                      {report['pages_per_s']:8.1f} pages/s   ({report['reparsed']} pages,"
        f" {report['changed']} changed; whole process {rows['reparse_wall_pages_per_s']} pages/s)"
    )
    print(f"  floor: read record + lxml    {floor_rate:8.1f} pages/s   (floor/reparse {rows['reparse_vs_floor']}x)")
    print(f"  kept: {rows['synthetic_kept_mb_per_1000']} MB per 1,000 articles")
    print("kept MB per 1,000 articles of the corpora (real CMS pages):")
    for name, count, size in corpora:
        print(f"  {name:45} {count:4d} pages  {size * 1000 / 1e6:6.2f} MB")


if __name__ == "__main__":
    main()
