"""Dead letters come back: ``govnews deadletter load FILE`` stores them once and marks the file done."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

from conftest import run_govnews
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crawler.items import Article
from pipelines import deadletter
from pipelines import models as m
from pipelines.db import make_engine

VN = timezone(timedelta(hours=7))


def _article(n: int) -> Article:
    return Article(
        url=f"https://a.gov.vn/news/c/bai-{n}-{n}.html",
        site="a.gov.vn",
        title=f"Bài viết {n}",
        published=datetime(2026, 11, n, 8, 30, tzinfo=VN),
        body_text=f"Nội dung riêng của bài số {n}. " * 20,
        categories=["Tin tức"],
        family="nukeviet",
        source_key=f"news:{n}",
        fetched_at=datetime(2026, 12, 1, tzinfo=UTC),
    )


def test_a_dead_letter_file_round_trips_every_field(tmp_path):
    path = deadletter.file_for(tmp_path, "a.gov.vn")
    deadletter.write(path, [_article(1), _article(2)])
    items, bad = deadletter.read(path)
    assert bad == 0
    assert items == [_article(1), _article(2)], "times come back aware, lists as lists"


def test_load_stores_once_and_marks_the_file_done(db_url, tmp_path):
    path = deadletter.file_for(tmp_path, "a.gov.vn")
    deadletter.write(path, [_article(n) for n in range(1, 6)])
    result = deadletter.load_file(db_url, path)
    assert (result.loaded, result.already, result.failed) == (5, 0, 0)
    assert not path.exists()
    assert result.done_path == str(path) + ".done"
    engine = make_engine(db_url)
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(m.Article)) == 5
        assert session.scalar(select(m.Article.published).where(m.Article.source_key == "news:3")) == datetime(
            2026, 11, 3, 1, 30, tzinfo=UTC
        )
    again = tmp_path / "again.jsonl"
    deadletter.write(again, [_article(1)])
    assert deadletter.load_file(db_url, again).already == 1, "stored meanwhile: found, not doubled"
    engine.dispose()


def test_a_bad_line_is_reported_and_the_file_kept(db_url, tmp_path, caplog):
    path = deadletter.file_for(tmp_path, "a.gov.vn")
    deadletter.write(path, [_article(1)])
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps({"url": "https://a.gov.vn/x", "published": "not a date"}) + "\n")
    result = deadletter.load_file(db_url, path)
    assert (result.loaded, result.failed, result.done_path) == (1, 1, None)
    assert path.exists(), "kept for a look: not everything in it could be stored"
    assert "line 2 is no article" in caplog.text


def test_cli_deadletter_load(tmp_path):
    path = deadletter.file_for(tmp_path, "a.gov.vn")
    deadletter.write(path, [_article(1), _article(2)])
    db = tmp_path / "g.sqlite3"
    result = run_govnews("deadletter", "load", str(path), "--db", f"sqlite:///{db}")
    assert result.returncode == 0, result.stderr
    assert "loaded 2 article(s)" in result.stderr
    assert "Traceback" not in result.stderr
    assert (tmp_path / (path.name + ".done")).exists()


def test_dead_letters_go_to_the_data_directory_whatever_the_working_directory(tmp_path, monkeypatch):
    from scrapy.settings import Settings

    from crawler.datafiles import writable_data_dir
    from pipelines.db import database_url
    from pipelines.store import StorePipeline

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GOVNEWS_DB", raising=False)
    settings = Settings()
    settings.setmodule("crawler.settings")
    crawler = type("Crawler", (), {"settings": settings})()
    assert StorePipeline(crawler).deadletter_dir == writable_data_dir()
    assert database_url(None).endswith(str(writable_data_dir() / "govnews.sqlite3")), "beside the default database"
