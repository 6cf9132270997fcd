"""Shared test helpers: fixture paths, saved-page cases, running the CLI in a subprocess."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures"
PAGES = FIXTURES / "pages"
WARCS = FIXTURES / "warc"
ROOT = FIXTURES.parent.parent


@dataclass(frozen=True)
class PageCase:
    """A saved article page with its expected output (web-poet / Fundus style)."""

    path: Path

    @property
    def id(self) -> str:
        return f"{self.path.parent.name}/{self.path.name}"

    @property
    def html(self) -> bytes:
        return gzip.decompress((self.path / "page.html.gz").read_bytes())

    @property
    def meta(self) -> dict:
        return json.loads((self.path / "meta.json").read_text(encoding="utf-8"))

    @property
    def expected(self) -> dict:
        return json.loads((self.path / "expected.json").read_text(encoding="utf-8"))


def page_cases(family: str) -> list[PageCase]:
    return [PageCase(p) for p in sorted((PAGES / family).glob("*/*")) if (p / "expected.json").exists()]


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def run_govnews(*args: str, timeout: float = 300, env: dict | None = None) -> subprocess.CompletedProcess:
    """The CLI in its own process: one Twisted reactor per crawl, as users run it."""
    return subprocess.run(
        [sys.executable, "-m", "crawler.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'govnews.db'}"
