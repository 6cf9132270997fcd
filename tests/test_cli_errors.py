"""Every user mistake is one ``govnews: ...`` line on stderr and exit 2, found before any request is sent."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import PAGES, ROOT, WARCS

from crawler.cli import EXIT_USAGE, build_parser, main

NUKEVIET_WARC = WARCS / "nukeviet-khxhnvnghean" / "site.warc.gz"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "cli_errors"
PG_DOWN = "postgresql+psycopg://govnews:s3cret-pw@127.0.0.1:1/govnews"  # nothing listens on port 1


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def usage_line(capsys, *argv: str) -> str:
    """Run the CLI in-process; assert exit 2 and one ``govnews:`` line; return that line."""
    code, _, err = run(capsys, *argv)
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("govnews: "), err
    assert code == EXIT_USAGE, err
    return lines[0]


def govnews(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """The installed console script, as users run it."""
    return subprocess.run(
        [str(Path(sys.executable).with_name("govnews")), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def current_db(tmp_path) -> str:
    """An SQLite database at the current schema."""
    from pipelines.db import init_db, make_engine

    url = f"sqlite:///{tmp_path / 'current.db'}"
    init_db(make_engine(url))
    return url


@pytest.fixture
def truncated_warc(tmp_path) -> Path:
    data = NUKEVIET_WARC.read_bytes()
    path = tmp_path / "half.warc.gz"
    path.write_bytes(data[: len(data) // 2])
    return path


# --- 1. the database -------------------------------------------------------------------------------


def test_not_a_database_url(capsys, tmp_path):
    line = usage_line(capsys, "crawl", "khxhnvnghean.gov.vn", "--db", "notaurl")
    assert "not a database URL: 'notaurl'" in line


def test_unsupported_dialect_names_the_supported_ones(capsys):
    line = usage_line(capsys, "export", "--db", "mysql://u:pw@localhost/news")
    assert "mysql" in line
    assert "sqlite" in line
    assert "postgresql" in line


def test_missing_driver(capsys):
    try:
        import psycopg2  # noqa: F401

        pytest.skip("psycopg2 is installed here")
    except ImportError:
        pass
    line = usage_line(capsys, "runs", "--db", "postgresql+psycopg2://u:pw@localhost/news")
    assert "driver" in line
    assert "not installed" in line


@pytest.mark.parametrize(
    "argv",
    [
        ["export"],
        ["runs"],
        ["schedule", "status"],
        ["db", "status"],
        ["db", "upgrade"],
        ["crawl", "khxhnvnghean.gov.vn", "--archive", str(NUKEVIET_WARC)],
        ["schedule", "run", "--archive", str(NUKEVIET_WARC)],
    ],
    ids=lambda argv: " ".join(argv[:2]),
)
def test_postgresql_down_is_one_line_naming_host_and_port_never_the_password(capsys, argv):
    pytest.importorskip("psycopg")
    line = usage_line(capsys, *argv, "--db", PG_DOWN)
    assert "cannot connect to PostgreSQL at 127.0.0.1:1" in line
    assert "s3cret-pw" not in line


def test_postgresql_down_end_to_end():
    pytest.importorskip("psycopg")
    result = govnews("export", "--db", PG_DOWN)
    assert result.returncode == EXIT_USAGE
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith("govnews: cannot connect to PostgreSQL at 127.0.0.1:1")
    assert result.stdout == ""


def test_sqlite_path_is_a_directory(capsys, tmp_path):
    line = usage_line(capsys, "crawl", "khxhnvnghean.gov.vn", "--db", f"sqlite:///{tmp_path}")
    assert f"{tmp_path} is a directory" in line


@pytest.mark.parametrize("argv", [["export"], ["db", "upgrade"], ["crawl", "khxhnvnghean.gov.vn"]])
def test_sqlite_file_that_is_no_database(capsys, tmp_path, argv):
    junk = tmp_path / "junk.db"
    junk.write_bytes(os.urandom(4096))
    before = junk.read_bytes()
    line = usage_line(capsys, *argv, "--db", f"sqlite:///{junk}")
    assert f"{junk} is not a SQLite database" in line
    assert junk.read_bytes() == before


def test_sqlite_parent_directory_missing_is_refused_and_not_created(capsys, tmp_path):
    url = f"sqlite:///{tmp_path / 'no' / 'such' / 'g.db'}"
    line = usage_line(capsys, "crawl", "khxhnvnghean.gov.vn", "--archive", str(NUKEVIET_WARC), "--db", url)
    assert f"directory {tmp_path / 'no' / 'such'} does not exist" in line
    assert not (tmp_path / "no").exists()


def test_the_default_data_directory_may_be_created(tmp_path, monkeypatch):
    import crawler.datafiles
    from crawler.preflight import check_database
    from pipelines.db import make_engine

    data = tmp_path / "data"
    monkeypatch.setattr(crawler.datafiles, "writable_data_dir", lambda: data)
    url = f"sqlite:///{data / 'govnews.sqlite3'}"
    check_database(url, create=True)
    engine = make_engine(url)
    with engine.connect():
        pass
    engine.dispose()
    assert (data / "govnews.sqlite3").is_file()


def test_sqlite_not_writable_for_write_commands(capsys, current_db, monkeypatch):
    import crawler.preflight

    monkeypatch.setattr(crawler.preflight, "_writable", lambda path: False)
    line = usage_line(capsys, "crawl", "khxhnvnghean.gov.vn", "--db", current_db)
    assert "is not writable" in line
    code, _, _ = run(capsys, "runs", "--db", current_db)  # reading needs no write access
    assert code == 0


@pytest.mark.parametrize("argv", [["export"], ["runs"], ["schedule", "status"], ["db", "status"]])
def test_read_commands_never_create_a_database(capsys, tmp_path, argv):
    mistyped = tmp_path / "govnwes.db"
    line = usage_line(capsys, *argv, "--db", f"sqlite:///{mistyped}")
    assert f"no database at {mistyped}" in line
    assert list(tmp_path.iterdir()) == []


def _foreign_db(tmp_path) -> str:
    path = tmp_path / "other.db"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    connection.commit()
    connection.close()
    return f"sqlite:///{path}"


@pytest.mark.parametrize("argv", [["export"], ["runs"], ["db", "upgrade"], ["crawl", "khxhnvnghean.gov.vn"]])
def test_tables_but_no_govnews_schema(capsys, tmp_path, argv):
    line = usage_line(capsys, *argv, "--db", _foreign_db(tmp_path))
    assert "not a govnews database" in line
    assert "invoices" in line


def _set_revision(url: str, revision: str) -> None:
    connection = sqlite3.connect(url.removeprefix("sqlite:///"))
    connection.execute("UPDATE alembic_version SET version_num = ?", (revision,))
    connection.commit()
    connection.close()


@pytest.mark.parametrize("argv", [["export"], ["db", "status"], ["db", "upgrade"], ["crawl", "khxhnvnghean.gov.vn"]])
def test_schema_newer_than_this_code(capsys, current_db, argv):
    from pipelines.db import SCHEMA_REVISION

    _set_revision(current_db, "9999")
    line = usage_line(capsys, *argv, "--db", current_db)
    assert f"schema 9999, newer than this govnews ({SCHEMA_REVISION})" in line


def test_schema_older_read_commands_say_upgrade_and_db_upgrade_does(capsys, tmp_path):
    from pipelines.db import SCHEMA_REVISION, make_engine, upgrade

    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    upgrade(engine, "0002")
    engine.dispose()
    for argv in (["export"], ["runs"]):
        line = usage_line(capsys, *argv, "--db", url)
        assert "older than this govnews" in line
        assert "govnews db upgrade" in line
    code, out, _ = run(capsys, "db", "status", "--db", url)
    assert code == 0
    assert "schema revision: 0002" in out
    code, out, err = run(capsys, "db", "upgrade", "--db", url)
    assert code == 0, err
    assert f"schema revision: {SCHEMA_REVISION}" in out
    assert run(capsys, "runs", "--db", url)[0] == 0


def test_read_commands_import_no_alembic(current_db):
    script = (
        "import sys\n"
        "from crawler.cli import main\n"
        f"assert main(['runs', '--db', {current_db!r}]) == 0\n"
        f"assert main(['db', 'status', '--db', {current_db!r}]) == 0\n"
        "print('alembic' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False"


# --- 3. web archives ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [["crawl", "khxhnvnghean.gov.vn"], ["detect", "khxhnvnghean.gov.vn"], ["schedule", "run"]],
    ids=["crawl", "detect", "schedule run"],
)
def test_truncated_warc_names_the_file_and_the_offset(capsys, tmp_path, truncated_warc, argv):
    db = tmp_path / "g.db"
    extra = [] if argv[0] == "detect" else ["--db", f"sqlite:///{db}"]
    line = usage_line(capsys, *argv, "--archive", str(truncated_warc), *extra)
    assert str(truncated_warc) in line
    assert "truncated" in line
    assert "at byte" in line
    assert not db.exists(), "nothing was crawled or created"


def test_truncated_warc_end_to_end(tmp_path, truncated_warc):
    db = tmp_path / "g.db"
    result = govnews("crawl", "khxhnvnghean.gov.vn", "--archive", str(truncated_warc), "--db", f"sqlite:///{db}")
    assert result.returncode == EXIT_USAGE
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"govnews: web archive {truncated_warc} is truncated: reading failed at byte ")
    assert not db.exists()


def test_missing_and_non_warc_archives(capsys, tmp_path):
    line = usage_line(capsys, "crawl", "khxhnvnghean.gov.vn", "--archive", str(tmp_path / "nope.warc.gz"))
    assert f"web archive not found: {tmp_path / 'nope.warc.gz'}" in line
    junk = tmp_path / "junk.warc.gz"
    junk.write_bytes(os.urandom(3000))
    line = usage_line(capsys, "detect", "khxhnvnghean.gov.vn", "--archive", str(junk))
    assert f"{junk} is not a WARC web archive" in line
    # random bytes warcio took for an ARC record (1 in 15 of 3,000 random bytes did) or for a WARC
    # record without a type (after a leading newline): still not a WARC
    for name in ("noise-read-as-arc.bin", "noise-read-as-warc.bin"):
        noise = tmp_path / name.replace(".bin", ".warc.gz")
        noise.write_bytes((WARCS / name).read_bytes())
        line = usage_line(capsys, "detect", "khxhnvnghean.gov.vn", "--archive", str(noise))
        assert f"{noise} is not a WARC web archive" in line
    page = tmp_path / "page.warc"
    page.write_text("<html><body>no archive</body></html>", encoding="utf-8")
    line = usage_line(capsys, "detect", "khxhnvnghean.gov.vn", "--archive", str(page))
    assert f"{page} is not a WARC web archive" in line


def test_corrupt_warc_names_the_file_and_the_offset(capsys, tmp_path):
    data = bytearray(NUKEVIET_WARC.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 8] = bytes(b ^ 0xFF for b in data[middle : middle + 8])
    corrupt = tmp_path / "corrupt.warc.gz"
    corrupt.write_bytes(bytes(data))
    line = usage_line(capsys, "crawl", "khxhnvnghean.gov.vn", "--archive", str(corrupt))
    assert str(corrupt) in line
    assert "at byte" in line


def test_a_whole_archive_is_indexed():
    from crawler.archive import WarcArchive

    assert len(WarcArchive([str(NUKEVIET_WARC)])) == 165


def test_extract_warns_per_bad_file_and_goes_on(capsys, tmp_path):
    case = next((PAGES / "nukeviet" / "khxhnvnghean").glob("*-1"))
    good = case / "page.html.gz"
    cut = tmp_path / "cut.html.gz"
    cut.write_bytes(good.read_bytes()[:2000])
    notgz = tmp_path / "plain.html.gz"
    notgz.write_text("<html></html>", encoding="utf-8")
    missing = tmp_path / "missing.html"
    code, out, err = run(capsys, "extract", str(good), str(cut), str(missing), str(notgz), str(good))
    assert code == 1
    assert "Traceback" not in err
    assert len(out.splitlines()) == 2, "the files after the broken ones were parsed too"
    lines = err.strip().splitlines()
    for bad in (cut, missing, notgz):
        assert len([line for line in lines if str(bad) in line]) == 1
    assert all(line.startswith("govnews: ") for line in lines)
    assert "3 of 5 file(s)" in lines[-1]


# --- 4. registry and family -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [["crawl", "khxhnvnghean.gov.vn"], ["detect", "khxhnvnghean.gov.vn"], ["schedule", "status"], ["sites"]],
    ids=["crawl", "detect", "schedule", "sites"],
)
def test_missing_registry_file(capsys, tmp_path, argv):
    line = usage_line(capsys, *argv, "--registry", str(tmp_path / "missing.toml"))
    assert f"registry file not found: {tmp_path / 'missing.toml'}" in line


@pytest.mark.parametrize(
    "argv", [["crawl", "https://x.gov.vn/"], ["detect", "https://x.gov.vn/"], ["extract", "page.html"]]
)
def test_unknown_family_lists_the_known_ones(capsys, argv):
    line = usage_line(capsys, *argv, "--family", "nope")
    assert "unknown CMS family 'nope'" in line
    assert "nukeviet" in line
    assert "wordpress" in line
    assert "generic" in line


# --- 5. -s NAME=VALUE -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pair", "message"),
    [
        ("NOEQUALS", "-s 'NOEQUALS': expected NAME=VALUE"),
        ("=1", "expected NAME=VALUE"),
        ("DOWNLOAD_DELAY=abc", "DOWNLOAD_DELAY expects a number"),
        ("CONCURRENT_REQUESTS=many", "CONCURRENT_REQUESTS expects a number"),
        ("GOVNEWS_HEALTH_MAX_PARSE_FAILURES=nan", "expects a number"),
        ("ROBOTSTXT_OBEY=perhaps", "ROBOTSTXT_OBEY expects true or false"),
        ("DOWNLOAD_HANDLERS=notjson", "DOWNLOAD_HANDLERS expects a JSON object"),
    ],
)
def test_bad_settings(capsys, pair, message):
    line = usage_line(capsys, "crawl", "khxhnvnghean.gov.vn", "-s", pair)
    assert message in line


def test_settings_are_typed_like_their_defaults():
    from crawler.cli import _settings

    args = build_parser().parse_args(
        [
            "crawl",
            "x.gov.vn",
            *("-s", "ROBOTSTXT_OBEY=false", "-s", "COOKIES_ENABLED=1", "-s", "DOWNLOAD_DELAY=0.5"),
            *("-s", "CONCURRENT_REQUESTS=8", "-s", "MY_OWN_SETTING=12", "-s", "LOG_FILE=a=b.log"),
        ]
    )
    args.quiet = False
    settings = _settings(args)
    assert settings.get("ROBOTSTXT_OBEY") is False
    assert settings.get("COOKIES_ENABLED") is True
    assert settings.get("DOWNLOAD_DELAY") == 0.5
    assert settings.get("CONCURRENT_REQUESTS") == 8
    assert settings.get("MY_OWN_SETTING") == "12", "unknown settings stay strings"
    assert settings.get("LOG_FILE") == "a=b.log"


# --- 6. output directories --------------------------------------------------------------------------


def test_record_into_a_missing_directory(capsys, tmp_path):
    db = tmp_path / "g.db"
    target = tmp_path / "nodir" / "x.warc.gz"
    argv = ["crawl", "khxhnvnghean.gov.vn", "--record", str(target), "--db", f"sqlite:///{db}"]
    line = usage_line(capsys, *argv)
    assert f"directory {tmp_path / 'nodir'} does not exist" in line
    assert not db.exists()


def test_export_into_a_missing_directory(capsys, tmp_path, current_db):
    line = usage_line(capsys, "export", "--db", current_db, "-o", str(tmp_path / "nodir" / "x.jsonl"))
    assert f"directory {tmp_path / 'nodir'} does not exist" in line
    assert not (tmp_path / "nodir").exists()


# --- 7. targets -------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["crawl", "detect"])
@pytest.mark.parametrize(
    "target", ["http://[::1", "not a host", "javascript:alert(1)", "ftp://khxhnvnghean.gov.vn/", "", "https://"]
)
def test_bad_targets(capsys, command, target):
    line = usage_line(capsys, command, target)
    assert repr(target) in line or "empty target" in line


def test_good_targets_pass():
    from crawler.preflight import check_target

    for target in (
        "khxhnvnghean.gov.vn",
        "https://khxhnvnghean.gov.vn/news/",
        "http://127.0.0.1:8080/",
        "localhost:8080",
        "http://[::1]:8080/",
        "https://bộ.gov.vn/",
    ):
        check_target(target)


# --- 8. export --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "value"), [("--from", "garbage"), ("--to", "garbage"), ("--from", "2025-1-1"), ("--to", "2025-02-30")]
)
def test_export_bad_dates(capsys, current_db, option, value):
    line = usage_line(capsys, "export", "--db", current_db, option, value)
    assert f"{option}: not a date: {value!r} (use YYYY-MM-DD)" in line


def _seed(url: str) -> None:
    from test_store import make_item

    from pipelines.db import make_engine
    from pipelines.store import ArticleStore

    ArticleStore(make_engine(url)).write([make_item()])


def test_export_since_beyond_the_last_change(capsys, current_db):
    _seed(current_db)
    code, _, err = run(capsys, "export", "--db", current_db)
    assert code == 0
    last = int(err.rsplit("next cursor:", 1)[1])
    assert run(capsys, "export", "--db", current_db, "--since", str(last))[0] == 0
    line = usage_line(capsys, "export", "--db", current_db, "--since", str(last + 40))
    assert f"cursor {last + 40} is beyond the last change ({last})" in line


def test_export_since_not_a_number_is_one_line(capsys, current_db):
    line = usage_line(capsys, "export", "--db", current_db, "--since", "abc")
    assert "--since" in line


def test_parquet_without_pyarrow(capsys, current_db, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow -> ImportError
    line = usage_line(capsys, "export", "--db", current_db, "--format", "parquet", "-o", str(tmp_path / "x.parquet"))
    assert "parquet export needs pyarrow: pip install 'govnews[parquet]'" in line
    assert not (tmp_path / "x.parquet").exists()


# --- 10. --version, help ----------------------------------------------------------------------------


def test_version():
    from importlib.metadata import version

    result = govnews("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"govnews {version('govnews')}"


@pytest.mark.parametrize(("command", "actions"), [("db", ("upgrade", "status")), ("schedule", ("run", "status"))])
def test_subcommand_help_explains_the_actions(capsys, command, actions):
    code, out, _ = run(capsys, command, "--help")
    assert code == 0
    for action in actions:
        assert f"{action}:" in out


def test_argparse_errors_are_one_line(capsys):
    line = usage_line(capsys, "db", "bogus")
    assert "invalid choice: 'bogus'" in line


# --- 11. runs table ---------------------------------------------------------------------------------


def test_runs_columns_are_aligned(capsys, current_db):
    from sqlalchemy.orm import Session

    from pipelines.db import make_engine
    from pipelines.models import CrawlRun

    long_host = "so-khoa-hoc-cong-nghe.tinh-nghe-an.gov.vn"[:40]
    stats = {"summary": {"requests": 12345, "articles": {"new": 7, "updated": 1234}, "errors": 3}}
    with Session(make_engine(current_db)) as session, session.begin():
        for site, reason in ((long_host, "finished"), ("a.vn", "shutdown"), ("khxhnvnghean.gov.vn", None)):
            session.add(
                CrawlRun(
                    site=site,
                    started_at=datetime(2026, 12, 1, tzinfo=UTC),
                    mode="incremental",
                    stats=stats,
                    finish_reason=reason,
                )
            )
    code, out, _ = run(capsys, "runs", "--db", current_db)
    assert code == 0
    header, *rows = out.splitlines()
    assert len(rows) == 3
    names = header.split()
    starts = [0]  # every line has the header's column starts
    for name in names[1:]:
        starts.append(header.index(f" {name}", starts[-1]) + 1)
    for row in rows:
        assert all(row[a - 1] == " " and row[a] != " " for a in starts[1:]), row
        cells = [row[a:b].strip() for a, b in zip(starts, [*starts[1:], None], strict=True)]
        assert len(cells) == len(names)
    assert [row[starts[1] : starts[2]].strip() for row in rows] == [long_host, "a.vn", "khxhnvnghean.gov.vn"]
    req = names.index("req")
    assert rows[0][starts[req] : starts[req + 1]].strip() == "12345"
    assert [row[starts[-1] :] for row in rows] == ["running"] * 3, "no end, no process on record: running"


# --- 12. extract without --url ----------------------------------------------------------------------


def test_extract_takes_the_pages_canonical_url(capsys, tmp_path):
    case = next((PAGES / "nukeviet" / "khxhnvnghean").glob("*-1"))
    meta = json.loads((case / "meta.json").read_text(encoding="utf-8"))
    code, out, err = run(capsys, "extract", str(case / "page.html.gz"))
    assert code == 0, err
    without = json.loads(out)
    code, out, _ = run(capsys, "extract", str(case / "page.html.gz"), "--url", meta["url"])
    assert without == json.loads(out)
    assert without["url"] == meta["url"]
    assert all(c["image_url"].startswith("https://khxhnvnghean.gov.vn/") for c in without["captions"])


def test_extract_falls_back_to_og_url_and_resolves_relative_links(capsys):
    from crawler.cli import _page_url

    page = (FIXTURES / "og-url-only.html").read_text(encoding="utf-8")
    assert _page_url(page) == "https://portal.gov.vn/tin-tuc/bai-viet-1.html"
    assert _page_url('<link rel="canonical" href="/relative.html"><p>x</p>') is None
    code, out, err = run(capsys, "extract", str(FIXTURES / "og-url-only.html"), "--family", "generic")
    assert code == 0, err
    record = json.loads(out)
    assert record["url"] == "https://portal.gov.vn/tin-tuc/bai-viet-1.html"
    assert record["attachments"] == ["https://portal.gov.vn/uploads/van-ban.pdf"]
    assert [c["image_url"] for c in record["captions"]] == ["https://portal.gov.vn/uploads/hoi-nghi.jpg"]


# --- 14. deadletter, 15. schedule status --site ------------------------------------------------------


def test_deadletter_missing_file(capsys, tmp_path, current_db):
    line = usage_line(capsys, "deadletter", "load", str(tmp_path / "deadletter-x.jsonl"), "--db", current_db)
    assert f"dead-letter file not found: {tmp_path / 'deadletter-x.jsonl'}" in line


def test_schedule_status_only_the_site_asked(capsys, current_db, tmp_path):
    registry = tmp_path / "portals.toml"
    registry.write_text(
        '[[portal]]\nhost = "a.gov.vn"\nname = "A"\nfamily = "nukeviet"\n\n'
        '[[portal]]\nhost = "b.gov.vn"\nname = "B"\nfamily = "wordpress"\n',
        encoding="utf-8",
    )
    code, out, err = run(
        capsys, "schedule", "status", "--db", current_db, "--registry", str(registry), "--site", "b.gov.vn"
    )
    assert code == 0, err
    assert "b.gov.vn" in out
    assert "a.gov.vn" not in out
    line = usage_line(
        capsys, "schedule", "status", "--db", current_db, "--registry", str(registry), "--site", "c.gov.vn"
    )
    assert "c.gov.vn" in line
