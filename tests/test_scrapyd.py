"""Deploy to a real scrapyd on 127.0.0.1, schedule the portal spider on a replay, find the articles stored."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from conftest import ROOT, WARCS
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from pipelines import models as m


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - local test server
        return json.load(response)


def _post(url: str, fields: list[tuple[str, str]], files: dict[str, bytes] | None = None) -> dict:
    boundary = "govnews-test-boundary"
    body = b""
    for name, value in fields:
        body += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
    for name, content in (files or {}).items():
        body += (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{name}.egg"\r\n'
                "Content-Type: application/octet-stream\r\n\r\n"
            ).encode()
            + content
            + b"\r\n"
        )
    body += f"--{boundary}--\r\n".encode()
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - local test server
        return json.load(response)


@pytest.fixture
def scrapyd(tmp_path):
    port = _free_port()
    (tmp_path / "scrapyd.conf").write_text(
        f"[scrapyd]\nbind_address = 127.0.0.1\nhttp_port = {port}\neggs_dir = eggs\nlogs_dir = logs\n"
        "dbs_dir = dbs\nitems_dir =\nmax_proc = 1\npoll_interval = 0.5\n",
        encoding="utf-8",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "scrapyd"], cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            _get(f"{base}/daemonstatus.json")
            break
        except OSError:
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail("scrapyd did not start")
    yield base, tmp_path
    process.terminate()
    process.wait(timeout=30)


def test_deploy_schedule_and_store(scrapyd, tmp_path):
    base, workdir = scrapyd
    egg = tmp_path / "govnews.egg"
    build = subprocess.run(
        [str(Path(sys.executable).parent / "scrapyd-deploy"), "--build-egg", str(egg)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert build.returncode == 0, build.stderr
    added = _post(f"{base}/addversion.json", [("project", "govnews"), ("version", "1")], {"egg": egg.read_bytes()})
    assert added["status"] == "ok", added
    assert added["spiders"] == 1, "the egg holds one spider"
    assert _get(f"{base}/listspiders.json?project=govnews")["spiders"] == ["portal"]
    db = f"sqlite:///{tmp_path / 'scrapyd.db'}"
    job = _post(
        f"{base}/schedule.json",
        [
            ("project", "govnews"),
            ("spider", "portal"),
            ("site", "khxhnvnghean.gov.vn"),
            ("setting", f"GOVNEWS_DB={db}"),
            ("setting", f"GOVNEWS_ARCHIVES={WARCS / 'nukeviet-khxhnvnghean' / 'site.warc.gz'}"),
        ],
    )
    assert job["status"] == "ok", job
    for _ in range(600):
        jobs = _get(f"{base}/listjobs.json?project=govnews")
        if any(j["id"] == job["jobid"] for j in jobs["finished"]):
            break
        time.sleep(0.5)
    else:
        pytest.fail("the scrapyd job did not finish")
    log = next((workdir / "logs" / "govnews" / "portal").glob("*.log")).read_text(encoding="utf-8")
    assert "'finish_reason': 'finished'" in log, log[-3000:]
    with Session(create_engine(db)) as session:
        assert session.scalar(select(func.count()).select_from(m.Article)) == 33
        assert session.scalar(select(m.CrawlRun.finish_reason)) == "finished"
