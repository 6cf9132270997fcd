"""Parse speed and body quality: govnews's family parsers against peers, same pages, same run.

    python bench/parse_speed.py [--corpus ../shared/corpus] [--rounds 5]

Every article page of the corpora (their truth.jsonl says which) is parsed by each
extractor ``--rounds`` times. Prints pages/s, median and p95 ms per page, the ratio
to trafilatura (``bare_extraction``), and each extractor's body token F1 against
the truth (the scorer's bag-of-words F1 over ``\\w+`` tokens). Peers that are not
installed are skipped (``pip install -e '.[bench]'`` brings newspaper4k).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
import unicodedata
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

_TOKEN = re.compile(r"\w+", re.UNICODE)


def token_f1(truth: str, got: str) -> float:
    """The scorer's body metric (shared/tools/score.py): bag-of-words F1 over \\w+ tokens, NFC."""
    a = Counter(_TOKEN.findall(unicodedata.normalize("NFC", truth or "")))
    b = Counter(_TOKEN.findall(unicodedata.normalize("NFC", got or "")))
    if not a and not b:
        return 1.0
    common = sum((a & b).values())
    if not common:
        return 0.0
    precision, recall = common / sum(b.values()), common / sum(a.values())
    return 2 * precision * recall / (precision + recall)


def load_pages(corpus: Path) -> list[tuple[str, str, str, str]]:
    """(family, url, html, truth body) for every truth article of the corpora."""
    from warcio.archiveiterator import ArchiveIterator

    pages = []
    for directory in sorted(corpus.iterdir()):
        truth_file, warc = directory / "truth.jsonl", directory / "site.warc.gz"
        if not (truth_file.exists() and warc.exists()):
            continue
        family = directory.name.split("-", 1)[0]
        truth = {json.loads(line)["url"]: json.loads(line) for line in truth_file.read_text().splitlines() if line}
        with warc.open("rb") as stream:
            for record in ArchiveIterator(stream):
                url = record.rec_headers.get_header("WARC-Target-URI")
                if record.rec_type == "response" and url in truth:
                    html = record.content_stream().read().decode("utf-8", "replace")
                    pages.append((family, url, html, truth[url]["body_text"]))
    return pages


def extractors() -> dict[str, Callable[[str, str, str], str]]:
    from crawler.families import get_family

    families = {}

    def govnews(family: str, html: str, url: str) -> str:
        parser = families.setdefault(family, get_family(family))
        return parser.parse_article(html, url).body_text or ""

    def trafilatura_bare(family: str, html: str, url: str) -> str:
        import trafilatura

        result = trafilatura.bare_extraction(html, url=url, with_metadata=True)
        if result is None:
            return ""
        return (result.text if hasattr(result, "text") else result.get("text")) or ""

    found = {"govnews (family parser)": govnews, "trafilatura bare_extraction": trafilatura_bare}
    try:
        import newspaper  # noqa: F401

        def newspaper4k(family: str, html: str, url: str) -> str:
            from newspaper import Article

            article = Article(url)
            article.download(input_html=html)
            article.parse()
            return article.text

        found["newspaper4k"] = newspaper4k
    except ImportError:
        print("newspaper4k not installed: skipped", file=sys.stderr)
    try:
        from newsplease import NewsPlease

        def news_please(family: str, html: str, url: str) -> str:
            return NewsPlease.from_html(html, url=url).maintext or ""

        found["news-please"] = news_please
    except ImportError:
        print("news-please not installed: skipped", file=sys.stderr)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpus"))
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    pages = load_pages(Path(args.corpus))
    rows = []
    for name, extract in extractors().items():
        for family, url, html, _ in pages[:3]:  # warm-up: imports, caches
            extract(family, html, url)
        timings, f1s = [], []
        for round_index in range(args.rounds):
            for family, url, html, truth in pages:
                start = time.perf_counter()
                text = extract(family, html, url)
                timings.append(time.perf_counter() - start)
                if round_index == 0:
                    f1s.append(token_f1(truth, text))
        timings.sort()
        rows.append(
            {
                "name": name,
                "pages_per_s": len(timings) / sum(timings),
                "median_ms": statistics.median(timings) * 1000,
                "p95_ms": timings[int(len(timings) * 0.95)] * 1000,
                "f1": statistics.mean(f1s),
                "min_f1": min(f1s),
            }
        )
    base = next(r for r in rows if r["name"].startswith("trafilatura"))
    print(f"{len(pages)} article pages x {args.rounds} rounds")
    print(
        f"{'extractor':30} {'pages/s':>8} {'median ms':>9} {'p95 ms':>7} {'x trafilatura':>13} {'body F1':>7} "
        f"{'min F1':>6}"
    )
    for row in rows:
        print(
            f"{row['name']:30} {row['pages_per_s']:8.1f} {row['median_ms']:9.2f} {row['p95_ms']:7.2f} "
            f"{row['pages_per_s'] / base['pages_per_s']:13.2f} {row['f1']:7.3f} {row['min_f1']:6.3f}"
        )


if __name__ == "__main__":
    main()
