"""The generic fallback on the Zyte article-extraction benchmark, beside trafilatura, same run.

    python bench/zyte_generic.py [--bench ../shared/bench/zyte-article-extraction-benchmark] [--limit N]

Metric (the benchmark's own): tokens are \\w+ runs, grouped into shingles of 4
consecutive tokens; per page, precision and recall of the predicted shingle
multiset against the truth's; precision averaged over pages with a non-empty
prediction, recall over all pages; F1 from the two averages.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

_TOKEN = re.compile(r"\w+", re.UNICODE)


def shingles(text: str, size: int = 4, multiset: bool = False) -> Counter:
    tokens = _TOKEN.findall(text or "")
    grams = (tuple(tokens[i : i + size]) for i in range(max(0, len(tokens) - size + 1)))
    return Counter(grams) if multiset else Counter(set(grams))


def page_scores(truth: str, predicted: str, multiset: bool = False) -> tuple[float | None, float]:
    want, got = shingles(truth, multiset=multiset), shingles(predicted, multiset=multiset)
    common = sum((want & got).values())
    precision = common / sum(got.values()) if got else None
    recall = common / sum(want.values()) if want else 1.0
    return precision, recall


def evaluate(name: str, extract, items: list[tuple[str, str, str, str]], multiset: bool = False) -> dict:
    precisions, recalls, times = [], [], []
    for _, url, html, truth in items:
        start = time.perf_counter()
        try:
            predicted = extract(html, url) or ""
        except Exception as error:  # one broken page must not stop the benchmark
            print(f"{name}: {url}: {error}", file=sys.stderr)
            predicted = ""
        times.append(time.perf_counter() - start)
        precision, recall = page_scores(truth, predicted, multiset)
        if precision is not None:
            precisions.append(precision)
        recalls.append(recall)
    p = sum(precisions) / len(precisions) if precisions else 0.0
    r = sum(recalls) / len(recalls)
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {"extractor": name, "f1": f1, "precision": p, "recall": r, "pages_per_s": len(items) / sum(times)}


def trafilatura_default(html: str, url: str) -> str:
    import trafilatura

    return trafilatura.extract(html, url=url) or ""


def govnews_generic(html: str, url: str) -> str:
    from crawler.families.generic import Generic

    return Generic().extract_body_text(html, url) or ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", default=str(ROOT.parent / "shared" / "bench" / "zyte-article-extraction-benchmark"))
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--multiset", action="store_true", help="count repeated shingles (upstream evaluate.py)")
    args = parser.parse_args()
    bench = Path(args.bench)
    truth = json.loads((bench / "ground-truth.json").read_text(encoding="utf-8"))
    items = []
    for key, value in sorted(truth.items()):
        html = gzip.decompress((bench / "html" / f"{key}.html.gz").read_bytes()).decode("utf-8", "replace")
        items.append((key, value["url"], html, value["articleBody"]))
    if args.limit:
        items = items[: args.limit]
    rows = [
        evaluate("govnews generic", govnews_generic, items, args.multiset),
        evaluate("trafilatura", trafilatura_default, items, args.multiset),
    ]
    print(f"{len(items)} pages, shingle {'multisets' if args.multiset else 'sets'}")
    print(f"{'extractor':18} {'F1':>6} {'prec':>6} {'recall':>6} {'pages/s':>8}")
    for row in rows:
        print(
            f"{row['extractor']:18} {row['f1']:6.3f} {row['precision']:6.3f} {row['recall']:6.3f} "
            f"{row['pages_per_s']:8.1f}"
        )
    print(f"speed ratio govnews/trafilatura: {rows[0]['pages_per_s'] / rows[1]['pages_per_s']:.2f}")


if __name__ == "__main__":
    main()
