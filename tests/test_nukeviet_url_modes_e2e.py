"""NukeViet URL modes end to end: recorded portals re-printed in the modes nv_url_rewrite() has.

``urlmodes.transform`` turns a corpus recorded with the module name in the path into the query form
(friendly URLs off: ``index.php?language=vi&nv=<module>&op=<cat>/<alias>-<id>.html``, no sub-sitemaps,
no robots.txt) and into the language-prefixed form of multi-language sites (``/vi/<module>/…``).
Crawled as unregistered URLs, the stored articles must meet the same bounds as the originals.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from conftest import FIXTURES, WARCS, read_jsonl, run_govnews
from scoring import score
from urlmodes import transform

CASES = [("nukeviet-khxhnvnghean", "news"), ("nukeviet-sotnmt.hatinh.gov.vn", "tin-tuc")]


@pytest.mark.parametrize("mode", ["query", "lang"])
@pytest.mark.parametrize(("corpus", "module"), CASES, ids=[c for c, _ in CASES])
def test_crawl_in_url_mode(tmp_path, corpus, module, mode):
    warc, truth = transform(WARCS / corpus, tmp_path / mode, mode, module)
    first = read_jsonl(truth)[0]["url"]
    parts = urlsplit(first)
    assert ("index.php?language=vi" in first) if mode == "query" else (f"/vi/{module}/" in first)
    db = f"sqlite:///{tmp_path / 'm.db'}"
    result = run_govnews(
        "crawl",
        f"{parts.scheme}://{parts.netloc}/",
        "--archive",
        str(warc),
        "--db",
        db,
        "--registry",
        str(FIXTURES / "registries" / "empty.toml"),
        "-q",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    out = tmp_path / "out.jsonl"
    assert run_govnews("export", "--db", db, "-o", str(out)).returncode == 0
    figures, misses = score(read_jsonl(truth), read_jsonl(out))
    for field in ("coverage", "precision", "title", "published", "updated", "author", "source", "source_url"):
        assert figures.get(field, 1.0) == 1.0, (field, misses.get(field))
    for field in ("body_text", "summary", "captions", "image_urls", "categories", "tags", "attachments"):
        assert figures[field] >= 0.98, (field, misses.get(field))
