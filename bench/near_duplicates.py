"""Choose the near-duplicate threshold from measured pairs (run by hand).

    python bench/near_duplicates.py [--corpus ../shared/corpus]

Positive pairs: every article of the corpora against a syndicated copy built the
way provincial portals repost department news — a new title, the lead trimmed
to its first sentence, the first or last body paragraph dropped (long bodies),
an added "Nguồn: …" line. Negative pairs: every two *different* articles of the
same corpus (same portal, often the same event or topic; the known exact
reposts of the corpora are excluded). Prints precision and recall of "Jaccard of
3-syllable shingles >= t" for a range of t, and the LSH candidate recall.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipelines import dedupe  # noqa: E402


def repost(article: dict) -> str:
    paragraphs = article["body_text"].split("\n\n")
    if len(paragraphs) > 4:
        paragraphs = paragraphs[1:] if len(paragraphs) % 2 else paragraphs[:-1]
    lead = (article.get("summary") or "").split(". ")[0]
    return "\n\n".join(([lead] if lead else []) + paragraphs + ["Nguồn: Sở Thông tin và Truyền thông"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpus"))
    args = parser.parse_args()
    corpora = []
    for truth in sorted(Path(args.corpus).glob("*/truth.jsonl")):
        corpora.append([json.loads(line) for line in truth.read_text(encoding="utf-8").splitlines() if line.strip()])
    positives, negatives, lsh_hits = [], [], 0
    for articles in corpora:
        shingled = {a["url"]: dedupe.shingles(a["body_text"]) for a in articles}
        for article in articles:
            copy = dedupe.shingles(repost(article))
            positives.append(dedupe.jaccard(shingled[article["url"]], copy))
            bands = set(dedupe.band_hashes(shingled[article["url"]]))
            lsh_hits += bool(bands & set(dedupe.band_hashes(copy)))
        for one, other in itertools.combinations(articles, 2):
            if one.get("duplicate_of") == other["url"] or other.get("duplicate_of") == one["url"]:
                continue
            negatives.append(dedupe.jaccard(shingled[one["url"]], shingled[other["url"]]))
    print(f"{len(positives)} repost pairs, {len(negatives)} different-article pairs")
    print(f"repost Jaccard: min {min(positives):.3f}, median {sorted(positives)[len(positives) // 2]:.3f}")
    print(
        f"different-article Jaccard: max {max(negatives):.3f}, "
        f"99th pct {sorted(negatives)[int(len(negatives) * 0.99)]:.3f}"
    )
    print(f"LSH ({dedupe.BANDS} bands x {dedupe.ROWS} rows) finds {lsh_hits}/{len(positives)} reposts as candidates")
    print(f"{'threshold':>9} {'precision':>9} {'recall':>7}")
    for threshold in (0.3, 0.4, 0.5, 0.6, 0.65, 0.7, 0.8, 0.9):
        tp = sum(p >= threshold for p in positives)
        fp = sum(n >= threshold for n in negatives)
        precision = tp / (tp + fp) if tp + fp else 1.0
        print(f"{threshold:9.2f} {precision:9.3f} {tp / len(positives):7.3f}")


if __name__ == "__main__":
    main()
