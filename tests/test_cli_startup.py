"""What the read commands import: `govnews extract`, `export` and `runs` start without Scrapy, Twisted,
Alembic or trafilatura (bench/startup.py measures the time; these tests check the behaviour behind it).
And a crawl into a fresh database does not print Alembic's INFO lines."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WARC = ROOT / "tests" / "fixtures" / "warc" / "nukeviet-khxhnvnghean" / "site.warc.gz"
PAGE = sorted((ROOT / "tests" / "fixtures" / "pages" / "nukeviet").rglob("page.html.gz"))[0]
HEAVY = ("scrapy", "twisted", "alembic", "trafilatura")


@pytest.fixture(scope="module")
def crawled(tmp_path_factory) -> tuple[str, subprocess.CompletedProcess]:
    """A fresh database crawled from the recorded NukeViet portal: (its URL, the crawl's output)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('startup') / 'g.sqlite3'}"
    result = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "crawl", "khxhnvnghean.gov.vn", "--archive", str(WARC), "--db", url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return url, result


def _imported(argv: list[str]) -> tuple[int, str, set[str]]:
    """(exit code, standard output, top-level packages imported) of one command in a fresh interpreter."""
    script = (
        "import contextlib, io, json, sys\n"
        "from crawler.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        f"    code = main({argv!r})\n"
        "print(json.dumps([code, out.getvalue(), sorted({m.split('.')[0] for m in sys.modules})]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    code, output, modules = json.loads(result.stdout.strip().splitlines()[-1])
    return code, output, set(modules)


def test_extract_imports_no_crawler_machinery():
    code, output, modules = _imported(["extract", str(PAGE)])
    assert code == 0
    assert json.loads(output)["title"]
    assert modules.isdisjoint(HEAVY), modules & set(HEAVY)


def test_export_imports_no_crawler_machinery(crawled):
    url, _ = crawled
    code, output, modules = _imported(["export", "--db", url])
    assert code == 0
    assert len(output.splitlines()) == 33
    assert modules.isdisjoint(HEAVY), modules & set(HEAVY)


def test_runs_imports_neither_the_crawler_nor_the_orm(crawled):
    url, _ = crawled
    code, output, modules = _imported(["runs", "--db", url, "--json"])
    assert code == 0
    (run,) = [json.loads(line) for line in output.splitlines()]
    assert run["site"] == "khxhnvnghean.gov.vn"
    assert run["outcome"] == "finished"
    assert run["started_at"].endswith("+07:00")
    assert run["articles"]["new"] == 33
    assert modules.isdisjoint(HEAVY), modules & set(HEAVY)
    assert "sqlalchemy" in modules  # reading the database needs it; the ORM and the models do not load
    for name in ("sqlalchemy.orm", "pipelines.models", "crawler.schedule"):
        assert not _module_loaded(["runs", "--db", url], name)


def _module_loaded(argv: list[str], name: str) -> bool:
    script = (
        "import contextlib, io, sys\n"
        "from crawler.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    main({argv!r})\n"
        f"print({name!r} in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.strip().splitlines()[-1] == "True"


def test_a_run_without_an_outcome_still_shows_its_state(crawled, tmp_path):
    """A run recorded without an outcome (still running, or killed) is shown as running/interrupted."""
    import shutil
    import sqlite3

    url, _ = crawled
    copy = tmp_path / "copy.sqlite3"
    shutil.copy(url.removeprefix("sqlite:///"), copy)
    with sqlite3.connect(copy) as connection:
        connection.execute(
            "UPDATE crawl_runs SET outcome = NULL, finished_at = NULL, finish_reason = NULL, pid = 999999999"
        )
    code, output, _ = _imported(["runs", "--db", f"sqlite:///{copy}", "--json"])
    assert code == 0
    (run,) = [json.loads(line) for line in output.splitlines()]
    assert run["outcome"] == "interrupted"
    assert run["finished_at"] is None


def test_a_crawl_into_a_fresh_database_prints_no_alembic_lines(crawled):
    _, result = crawled
    assert "INFO" in result.stderr  # the crawl logs at INFO ...
    assert "alembic" not in result.stderr.lower()  # ... but the schema set-up says nothing


def test_db_upgrade_of_a_fresh_database_prints_one_line(tmp_path):
    url = f"sqlite:///{tmp_path / 'new.sqlite3'}"
    result = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "db", "upgrade", "--db", url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith("schema revision: ")
    assert "alembic" not in result.stderr.lower()


def test_a_current_schema_is_checked_without_alembic(crawled):
    """Every crawl checks the schema (init_db); on a database that is current, plain SQL says so."""
    url, _ = crawled
    script = (
        "import sys\n"
        "from pipelines.db import init_db, make_engine\n"
        f"init_db(make_engine({url!r}))\n"
        "print('alembic' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False"
