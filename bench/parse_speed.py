"""Parse speed and body quality: govnews's detection and family parsers against the lxml floor and peers.

    python bench/parse_speed.py [--corpus ../shared/corpus] [--rounds 5] [--profile STAGE]

Every article page of the corpora (their truth.jsonl says which) goes through each stage
below, ``--rounds`` times, all in this one process; a stage's figure for a corpus is the
median over the rounds of its mean ms/page (other processes may share the cores: the
median of a few rounds keeps one disturbed round out).

- ``lxml floor``: ``lxml.html.fromstring`` alone -- the cost of reading the page at all;
- ``detect``: :func:`crawler.families.detect.detect_family` on the page's text (one parse
  and the fingerprints);
- ``detect+parse``: what ``govnews extract --family auto`` does for one page: detect the
  family, then that family's ``parse_article`` -- one parse shared by both
  (:func:`crawler.families.extract_auto`);
- ``detect+parse (2 calls)``: the same through the two string-taking calls
  ``detect_family(html, url)`` then ``get_family(name).parse_article(html, url)``;
- ``family parse``: the corpus's own family's ``parse_article`` alone (no detection);
- ``trafilatura.extract``; ``newspaper4k`` when installed (``pip install -e '.[bench]'``).

Prints, per corpus and overall, ms/page, the ratio to the floor and how many times faster
than trafilatura each stage is, and each extractor's body token F1 against the truth (the
scorer's bag-of-words F1 over ``\\w+`` tokens). ``--profile STAGE`` then prints the
cProfile of that stage over every page (e.g. ``--profile detect+parse``).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import re
import statistics
import sys
import time
import unicodedata
from collections import Counter, defaultdict
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


def load_pages(corpus: Path) -> list[tuple[str, str, str, str, str]]:
    """(corpus, family, url, html, truth body) for every truth article of the corpora: site.warc.gz with
    truth.jsonl, and later.warc.gz with later-truth.jsonl (as "<corpus> later": the pages that differ)."""
    from warcio.archiveiterator import ArchiveIterator

    pages, seen = [], set()
    for directory in sorted(corpus.iterdir()):
        family = directory.name.split("-", 1)[0]
        for name, truth_file, warc in (
            (directory.name, directory / "truth.jsonl", directory / "site.warc.gz"),
            (f"{directory.name} later", directory / "later-truth.jsonl", directory / "later.warc.gz"),
        ):
            if not (truth_file.exists() and warc.exists()):
                continue
            lines = [json.loads(line) for line in truth_file.read_text().splitlines() if line]
            truth = {record["url"]: record for record in lines}
            with warc.open("rb") as stream:
                for record in ArchiveIterator(stream):
                    url = record.rec_headers.get_header("WARC-Target-URI")
                    if record.rec_type == "response" and url in truth:
                        html = record.content_stream().read().decode("utf-8", "replace")
                        if (url, html) not in seen:
                            seen.add((url, html))
                            pages.append((name, family, url, html, truth[url]["body_text"]))
    return pages


Stage = Callable[[str, str, str], str | None]
"""(family, html, url) -> body text (None: the stage gives no text, e.g. the floor or detection)."""


def stages() -> dict[str, Stage]:
    import lxml.html

    from crawler.families import get_family
    from crawler.families.detect import detect_family

    try:
        from crawler.families import extract_auto
    except ImportError:  # a govnews before extract_auto: the CLI's two calls

        def extract_auto(html: str, url: str) -> tuple[str, object]:
            name = detect_family(html, url).family
            return name, get_family(name).parse_article(html, url)

    families: dict[str, object] = {}

    def floor(family: str, html: str, url: str) -> None:
        lxml.html.fromstring(html)

    def detect(family: str, html: str, url: str) -> None:
        detect_family(html, url)

    def detect_parse(family: str, html: str, url: str) -> str:
        _, article = extract_auto(html, url)
        return article.body_text or ""

    def detect_parse_two_calls(family: str, html: str, url: str) -> str:
        name = detect_family(html, url).family
        return get_family(name).parse_article(html, url).body_text or ""

    def family_parse(family: str, html: str, url: str) -> str:
        parser = families.setdefault(family, get_family(family))
        return parser.parse_article(html, url).body_text or ""  # type: ignore[attr-defined]

    def trafilatura_extract(family: str, html: str, url: str) -> str:
        import trafilatura

        return trafilatura.extract(html, url=url) or ""

    found: dict[str, Stage] = {
        "lxml floor": floor,
        "detect": detect,
        "detect+parse": detect_parse,
        "detect+parse (2 calls)": detect_parse_two_calls,
        "family parse": family_parse,
        "trafilatura.extract": trafilatura_extract,
    }
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
        print("newspaper4k not installed: skipped (pip install -e '.[bench]')", file=sys.stderr)
    return found


def measure(pages: list, found: dict[str, Stage], rounds: int) -> tuple[dict, dict]:
    """ms/page per (stage, corpus) -- the median over rounds of each round's mean -- and body F1s."""
    per_round: dict[tuple[str, str], list[float]] = defaultdict(list)
    f1s: dict[tuple[str, str], list[float]] = defaultdict(list)
    corpora = sorted({p[0] for p in pages})
    for stage in found.values():  # warm-up: imports, caches
        for _, family, url, html, _ in pages[:3]:
            stage(family, html, url)
    for round_index in range(rounds):
        for name, stage in found.items():
            spent: dict[str, float] = defaultdict(float)
            for corpus, family, url, html, truth in pages:
                start = time.perf_counter()
                text = stage(family, html, url)
                spent[corpus] += time.perf_counter() - start
                if round_index == 0 and text is not None:
                    f1s[name, corpus].append(token_f1(truth, text))
            counts = Counter(p[0] for p in pages)
            for corpus in corpora:
                per_round[name, corpus].append(spent[corpus] * 1000 / counts[corpus])
            per_round[name, "overall"].append(sum(spent.values()) * 1000 / len(pages))
    ms = {key: statistics.median(values) for key, values in per_round.items()}
    for name in found:
        every = [f for corpus in corpora for f in f1s.get((name, corpus), [])]
        if every:
            f1s[name, "overall"] = every
    return ms, f1s


def report(pages: list, found: dict[str, Stage], ms: dict, f1s: dict, rounds: int) -> None:
    corpora = [*sorted({p[0] for p in pages}), "overall"]
    counts = Counter(p[0] for p in pages)
    counts["overall"] = len(pages)
    print(f"{len(pages)} article pages x {rounds} rounds; ms/page = median over rounds of the round's mean")
    header = f"{'stage':24} {'ms/page':>8} {'x floor':>8} {'traf/x':>7} {'body F1':>7} {'min F1':>6}"
    for corpus in corpora:
        floor, traf = ms["lxml floor", corpus], ms["trafilatura.extract", corpus]
        print(f"\n{corpus} ({counts[corpus]} pages)")
        print(header)
        for name in found:
            value = ms[name, corpus]
            scores = f1s.get((name, corpus))
            quality = f"{statistics.mean(scores):7.3f} {min(scores):6.3f}" if scores else f"{'-':>7} {'-':>6}"
            print(f"{name:24} {value:8.2f} {value / floor:8.2f} {traf / value:7.1f} {quality}")
    names = [n for n in found if n != "lxml floor"]
    print("\nsummary: ms/page (x the floor, how many times faster than trafilatura.extract)")
    print(f"{'corpus':44} {'floor':>6} " + " ".join(f"{n[:22]:>22}" for n in names))
    for corpus in corpora:
        floor, traf = ms["lxml floor", corpus], ms["trafilatura.extract", corpus]
        cells = (f"{ms[n, corpus]:.2f} ({ms[n, corpus] / floor:.1f}x, {traf / ms[n, corpus]:.1f}/)" for n in names)
        print(f"{corpus:44} {floor:6.2f} " + " ".join(f"{cell:>22}" for cell in cells))


def profile(pages: list, stage: Stage, limit: int = 35) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    for _, family, url, html, _ in pages:
        stage(family, html, url)
    profiler.disable()
    stats = pstats.Stats(profiler)
    stats.sort_stats("tottime").print_stats(limit)
    stats.sort_stats("cumulative").print_stats(limit)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpus"))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", help="comma-separated stage names to run (the floor and trafilatura always run)")
    parser.add_argument("--profile", metavar="STAGE", help="print the cProfile of one stage over every page")
    args = parser.parse_args()
    pages = load_pages(Path(args.corpus))
    found = stages()
    if args.only:
        keep = {"lxml floor", "trafilatura.extract", *args.only.split(",")}
        found = {name: stage for name, stage in found.items() if name in keep}
    if args.rounds > 0:
        ms, f1s = measure(pages, found, args.rounds)
        report(pages, found, ms, f1s, args.rounds)
    if args.profile:
        profile(pages, stages()[args.profile])


if __name__ == "__main__":
    main()
