"""Crawling again changes nothing; an edited article makes exactly one version; a dead database loses nothing."""

from __future__ import annotations

from conftest import WARCS, run_govnews
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from pipelines import models as m

NUKEVIET = ("https://khxhnvnghean.gov.vn/", WARCS / "nukeviet-khxhnvnghean" / "site.warc.gz")
WORDPRESS = (
    "https://xaphuchoa.tanyen.bacgiang.gov.vn/",
    WARCS / "wordpress-xaphuchoa.tanyen.bacgiang.gov.vn" / "site.warc.gz",
)
EDITED_URL = "https://khxhnvnghean.gov.vn/news/tin-tuc-su-kien/thong-bao-tuyen-dung-vien-chuc-nam-2023-9.html"


def _counts(db: str) -> dict[str, int]:
    engine = create_engine(db)
    with Session(engine) as session:
        counts = {
            model.__tablename__: session.scalar(select(func.count()).select_from(model))
            for model in (m.Article, m.ArticleUrl, m.Image, m.Attachment, m.ArticleVersion, m.Site)
        }
    engine.dispose()
    return counts


def _crawl(db: str, *portals: tuple[str, object], full: bool = False) -> None:
    for url, warc in portals:
        result = run_govnews("crawl", url, "--archive", str(warc), "--db", db, "-q", *(["--full"] if full else []))
        assert result.returncode == 0, result.stderr[-2000:]


def test_both_corpora_twice_change_nothing(db_url):
    _crawl(db_url, NUKEVIET, WORDPRESS)
    first = _counts(db_url)
    assert first["articles"] == 33 + 26
    assert first["article_versions"] == 0
    _crawl(db_url, NUKEVIET, WORDPRESS)  # incremental: nothing refetched
    assert _counts(db_url) == first
    _crawl(db_url, NUKEVIET, WORDPRESS, full=True)  # full: everything refetched, nothing changed
    assert _counts(db_url) == first


def _edited_copy(tmp_path):
    from warcio.archiveiterator import ArchiveIterator
    from warcio.warcwriter import WARCWriter

    target = tmp_path / "edited.warc.gz"
    with NUKEVIET[1].open("rb") as source, target.open("wb") as out:
        writer = WARCWriter(out, gzip=True)
        for record in ArchiveIterator(source):
            if record.rec_type == "response" and record.rec_headers.get_header("WARC-Target-URI") == EDITED_URL:
                body = (
                    record.content_stream()
                    .read()
                    .replace("Số lượng cần tuyển: 03 chỉ tiêu".encode(), "Số lượng cần tuyển: 05 chỉ tiêu".encode())
                )
                from io import BytesIO

                record = writer.create_warc_record(
                    EDITED_URL, "response", payload=BytesIO(body), http_headers=record.http_headers
                )
            writer.write_record(record)
    return target


def test_one_edited_body_gives_exactly_one_version(sqlite_url, tmp_path):
    _crawl(sqlite_url, NUKEVIET)
    _crawl(sqlite_url, (NUKEVIET[0], _edited_copy(tmp_path)), full=True)
    counts = _counts(sqlite_url)
    assert counts["articles"] == 33
    assert counts["article_versions"] == 1
    engine = create_engine(sqlite_url)
    with Session(engine) as session:
        version = session.scalars(select(m.ArticleVersion)).one()
        article = session.get(m.Article, version.article_id)
        assert article.url == EDITED_URL
        assert article.version == 2
        assert "05 chỉ tiêu" in article.body_text
        assert "03 chỉ tiêu" in version.body_text


def test_database_down_at_start_is_refused_before_any_request(tmp_path):
    """Preflight: nothing is crawled into a dead-letter file when the database is down from the start
    (a database lost mid-crawl: tests/test_resume.py::test_database_stopped_mid_crawl_then_restarted_loses_nothing)."""
    dead = tmp_path / "dead"
    result = run_govnews(
        "crawl",
        NUKEVIET[0],
        "--archive",
        str(NUKEVIET[1]),
        "--db",
        "postgresql+psycopg://govnews:secret@127.0.0.1:1/none",
        "-s",
        f"GOVNEWS_DEADLETTER_DIR={dead}",
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("govnews: ")
    assert "127.0.0.1:1" in lines[0]
    assert "secret" not in result.stderr
    assert not dead.exists(), "nothing crawled, nothing dead-lettered"
