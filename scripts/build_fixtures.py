"""Copy what the tests need from ../shared/corpus into tests/fixtures (run by hand).

For every article of a corpus's truth.jsonl: ``pages/<family>/<site>/<slug>/``
with ``page.html.gz`` (the page as served), ``meta.json`` (url, other_urls) and
``expected.json`` (the ground-truth line). The WARCs are copied whole for the
end-to-end tests.
"""

from __future__ import annotations

import gzip
import json
import shutil
import sys
from pathlib import Path
from urllib.parse import urlsplit

from warcio.archiveiterator import ArchiveIterator

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
FAMILIES = ("nukeviet", "wordpress")  # a corpus folder is named <family>-<site>


def corpora(shared: Path) -> dict[str, str]:
    """Every corpus of ``shared/corpus`` with its family, from the folder name."""
    found = {}
    for folder in sorted((shared / "corpus").iterdir()):
        family = folder.name.split("-", 1)[0]
        if family in FAMILIES and (folder / "site.warc.gz").exists():
            found[folder.name] = family
    return found


def responses(warc: Path) -> dict[str, bytes]:
    pages = {}
    with warc.open("rb") as stream:
        for record in ArchiveIterator(stream):
            if record.rec_type == "response" and record.http_headers.get_statuscode() == "200":
                pages[record.rec_headers.get_header("WARC-Target-URI")] = record.content_stream().read()
    return pages


def main(shared: Path) -> None:
    for corpus, family in corpora(shared).items():
        source = shared / "corpus" / corpus
        if not source.is_dir():
            print(f"skip {corpus}: not found", file=sys.stderr)
            continue
        site = corpus.split("-", 1)[1]
        (FIXTURES / "warc" / corpus).mkdir(parents=True, exist_ok=True)
        for name in ("site.warc.gz", "truth.jsonl", "later.warc.gz", "later-truth.jsonl"):
            if (source / name).exists():
                shutil.copyfile(source / name, FIXTURES / "warc" / corpus / name)
        pages = responses(source / "site.warc.gz")
        target = FIXTURES / "pages" / family / site
        shutil.rmtree(target, ignore_errors=True)
        for line in (source / "truth.jsonl").read_text(encoding="utf-8").splitlines():
            truth = json.loads(line)
            slug = [s for s in urlsplit(truth["url"]).path.split("/") if s][-1].removesuffix(".html")[-60:]
            case = target / slug
            case.mkdir(parents=True)
            (case / "page.html.gz").write_bytes(gzip.compress(pages[truth["url"]], mtime=0))
            meta = {"url": truth["url"], "other_urls": truth.get("other_urls", [])}
            (case / "meta.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
            (case / "expected.json").write_text(
                json.dumps(truth, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8"
            )
        print(f"{corpus}: {len(list(target.iterdir()))} article fixtures")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared")
