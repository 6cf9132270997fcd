"""The incremental sequence on every corpus with a later recording, crawled as an unregistered URL.

First recording; the same again (nothing fetched twice); the later recording incrementally
(exactly the new articles added, nothing unchanged fetched); the later recording as a full
pass (the edit becomes a new version, the removed article is marked, never deleted). The
export then meets the later truth's bounds, and the second crawl started from the stored
site profile without re-learning a different shape.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
from conftest import FIXTURES, WARCS, read_jsonl, run_govnews
from scoring import score, url_key

CORPORA = sorted(p for p in WARCS.iterdir() if (p / "later.warc.gz").exists())
EMPTY_REGISTRY = str(FIXTURES / "registries" / "empty.toml")


def start(corpus) -> str:
    parts = urlsplit(read_jsonl(corpus / "truth.jsonl")[0]["url"])
    return f"{parts.scheme}://{parts.netloc}/"


@pytest.fixture(scope="module", params=CORPORA, ids=lambda c: c.name)
def history(request, tmp_path_factory):
    corpus = request.param
    db = f"sqlite:///{tmp_path_factory.mktemp('history') / 'govnews.db'}"
    logs = []
    for warc, extra in (
        ("site.warc.gz", ()),
        ("site.warc.gz", ()),
        ("later.warc.gz", ()),
        ("later.warc.gz", ("--full",)),
    ):
        result = run_govnews(
            "crawl",
            start(corpus),
            "--archive",
            str(corpus / warc),
            "--db",
            db,
            "--registry",
            EMPTY_REGISTRY,
            "-q",
            *extra,
        )
        assert result.returncode == 0, result.stderr[-2000:]
        logs.append(result.stderr)
    runs = run_govnews("runs", "--db", db, "--json")
    return corpus, db, [json.loads(line) for line in runs.stdout.splitlines()], logs


def _truths(corpus):
    first, later = read_jsonl(corpus / "truth.jsonl"), read_jsonl(corpus / "later-truth.jsonl")
    first_keys, later_keys = {url_key(t["url"]) for t in first}, {url_key(t["url"]) for t in later}
    new = [t for t in later if url_key(t["url"]) not in first_keys]
    removed = [t for t in first if url_key(t["url"]) not in later_keys]
    edited = [t for t in later if url_key(t["url"]) in first_keys and t not in first]
    return first, later, new, removed, edited


def test_first_crawl_stores_every_article(history):
    corpus, _, (first, *_), _ = history
    assert first["articles"]["new"] == len(read_jsonl(corpus / "truth.jsonl"))


def test_recrawl_of_the_same_recording_fetches_no_article(history):
    corpus, _, (first, second, *_), logs = history
    assert second["articles"]["new"] == second["articles"]["updated"] == second["articles"]["unchanged"] == 0
    assert second["requests"] < first["requests"]
    assert "changed shape" not in logs[1], "the same site keeps its profile"


def test_later_recording_adds_exactly_the_new_articles(history):
    corpus, _, (_, _, later, _), _ = history
    _, _, new, _, _ = _truths(corpus)
    assert later["articles"]["new"] == len(new)
    assert later["articles"]["unchanged"] == 0, "no stored, unchanged article is fetched again"


def test_full_pass_records_the_edits_and_the_removals(history):
    corpus, _, (*_, full), _ = history
    _, _, _, removed, edited = _truths(corpus)
    assert full["mode"] == "full"
    assert full["articles"]["removed"] == len(removed)
    assert full["articles"]["updated"] == len(edited)
    assert full["articles"]["new"] == 0


def test_export_meets_the_later_truth(history, tmp_path):
    corpus, db, _, _ = history
    out = tmp_path / "out.jsonl"
    assert run_govnews("export", "--db", db, "-o", str(out)).returncode == 0
    figures, misses = score(read_jsonl(corpus / "later-truth.jsonl"), read_jsonl(out))
    for field in ("coverage", "precision", "title", "published", "updated", "author", "source"):
        assert figures[field] == 1.0, (field, misses.get(field))
    for field in ("body_text", "summary", "captions", "categories", "tags", "attachments"):
        assert figures[field] >= 0.98, (field, misses.get(field))


def test_removed_articles_are_kept_and_marked(history, tmp_path):
    corpus, db, _, _ = history
    _, _, _, removed, _ = _truths(corpus)
    out = tmp_path / "all.jsonl"
    assert run_govnews("export", "--db", db, "--include-removed", "-o", str(out)).returncode == 0
    records = {url_key(r["url"]): r for r in read_jsonl(out)}
    for article in removed:
        record = records[url_key(article["url"])]
        assert record["removed_at"] is not None
        assert record["title"] == article["title"]
