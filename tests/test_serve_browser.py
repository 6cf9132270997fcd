"""``govnews serve`` in a real browser: Debian's chromium + chromium-driver, headless, through Selenium.

The server is the CLI in its own process on a fixture store (tests/serve_support.py). The browser
resolves no host but 127.0.0.1 (the portals' images fail at once; nothing reaches the network).
Screenshots go to ``test-artifacts/screenshots`` (``$GOVNEWS_TEST_ARTIFACTS`` overrides), the
README's come from here. Chromium is the system's: Selenium Manager's downloads cannot be fetched
offline, so the driver and the browser are given by path. As root, Chromium needs ``--no-sandbox``.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT
from serve_support import HOSTILE_CHECK, HOSTILE_RUN_SITE, HOSTILE_URL, Server
from sqlalchemy.engine import make_url

from pipelines.search import fold

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
ARTIFACTS = Path(os.environ.get("GOVNEWS_TEST_ARTIFACTS", ROOT / "test-artifacts" / "screenshots"))
DB = "govnews"

if not (CHROMIUM and CHROMEDRIVER):
    if os.environ.get("CI"):
        pytest.fail("chromium and chromium-driver are not installed: CI must run the browser tests", pytrace=False)
    pytest.skip("chromium / chromium-driver not installed (apt-get install chromium chromium-driver)",
                allow_module_level=True)


@pytest.fixture(scope="module")
def server(serve_store, tmp_path_factory) -> Iterator[Server]:
    running = Server(serve_store, tmp_path_factory.mktemp("serve-log") / "serve.log")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator:
    os.environ.setdefault("SE_OFFLINE", "true")  # never let Selenium Manager try a download
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in [
        "--headless=new",
        "--no-sandbox",  # root in a container
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1280,1500",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        "--lang=vi",
    ]:
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()


def server_policy(url: str) -> str:
    import urllib.request

    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - the test's own 127.0.0.1 server
        return response.headers.get("content-security-policy", "")


def _shot(browser, name: str) -> None:
    browser.save_screenshot(str(ARTIFACTS / f"{name}.png"))


def _wait(browser, condition, timeout: float = 20):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, timeout).until(condition)


def _one(store: str, sql: str, *params):
    with sqlite3.connect(make_url(store).database) as connection:
        return connection.execute(sql, params).fetchone()


def test_the_home_page_loads(server, browser):
    from selenium.webdriver.common.by import By

    browser.get(server.base + "/")
    assert browser.title.startswith("govnews")
    assert browser.find_element(By.LINK_TEXT, DB).get_attribute("href").endswith(f"/{DB}")
    assert "Đảng bộ" in browser.find_element(By.TAG_NAME, "body").text  # the description, with its example
    _shot(browser, "home")


def test_a_search_without_tone_marks_finds_the_article_and_its_captions(server, browser, serve_store):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    article_id, title = _one(
        serve_store,
        "SELECT a.id, a.title FROM articles AS a JOIN images AS i ON i.article_id = a.id "
        "WHERE a.removed_at IS NULL GROUP BY a.id HAVING count(*) >= 2 ORDER BY a.id LIMIT 1",
    )
    typed = " ".join(fold(title).split()[:6])
    assert typed.isascii() or "đ" not in typed
    browser.get(server.base + f"/{DB}/articles")
    box = browser.find_element(By.ID, "_search")
    box.send_keys(typed)
    box.send_keys(Keys.ENTER)
    _wait(browser, lambda b: "search matches" in b.title)
    assert box is not None
    link = browser.find_element(By.CSS_SELECTOR, f'td.col-id a[href$="/{DB}/articles/{article_id}"]')
    cells = browser.find_element(By.CSS_SELECTOR, "table.rows-and-columns tbody").text
    assert title in cells
    _shot(browser, "search-table")

    # the ranked search (a canned query): typed without tone marks, the article is the first hit
    browser.get(server.base + f"/{DB}/search")
    field = browser.find_element(By.ID, "qp1") if browser.find_elements(By.ID, "qp1") else browser.find_element(
        By.NAME, "q"
    )
    field.send_keys(typed)
    field.send_keys(Keys.ENTER)
    _wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "table.rows-and-columns tbody tr"))
    first = browser.find_element(By.CSS_SELECTOR, "table.rows-and-columns tbody tr")
    assert title in first.text
    _shot(browser, "search")

    browser.get(server.base + f"/{DB}/articles?_search={typed}")
    link = browser.find_element(By.CSS_SELECTOR, f'td.col-id a[href$="/{DB}/articles/{article_id}"]')
    link.click()
    _wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "article.govnews-article"))
    assert browser.find_element(By.CSS_SELECTOR, "article.govnews-article h1").text == title
    with sqlite3.connect(make_url(serve_store).database) as connection:
        stored = connection.execute(
            "SELECT image_url, caption FROM images WHERE article_id = ? ORDER BY position", (article_id,)
        ).fetchall()
    figures = browser.find_elements(By.CSS_SELECTOR, "figure.govnews-image")
    assert len(figures) == len(stored)
    for figure, (image_url, caption) in zip(figures, stored, strict=True):
        image = figure.find_element(By.TAG_NAME, "img")
        text = figure.find_element(By.TAG_NAME, "figcaption")
        assert image.get_attribute("src") == image_url
        assert text.text == caption
        assert text.location["x"] >= image.location["x"] + image.size["width"], "the caption is beside its image"
        assert abs(text.location["y"] - image.location["y"]) < 5
    browser.execute_script("arguments[0].scrollIntoView()", figures[0])
    _shot(browser, "article")


def test_a_stored_script_never_runs(server, browser, serve_store):
    from selenium.webdriver.common.by import By

    (article_id,) = _one(serve_store, "SELECT id FROM articles WHERE url = ?", HOSTILE_URL)
    pages = {
        "hostile-article": f"/{DB}/articles/{article_id}",
        "hostile-table": f"/{DB}/articles?_search=bai+viet+thu+nghiem",
        "hostile-search": f"/{DB}/search?q=bai+viet+thu+nghiem",
        "hostile-images": f"/{DB}/images?article_id={article_id}",
        "hostile-attachments": f"/{DB}/attachments?article_id={article_id}",
        "hostile-site": f"/{DB}/articles?_facet=site_id&site_id__exact="
        + str(_one(serve_store, "SELECT site_id FROM articles WHERE id = ?", article_id)[0]),
    }
    for name, path in pages.items():
        browser.get(server.base + path)
        _wait(browser, lambda b: b.execute_script("return document.readyState") == "complete")
        for link in browser.find_elements(By.CSS_SELECTOR, "a[href^='javascript:' i]"):
            pytest.fail(f"{name}: a javascript: link {link.get_attribute('href')}")
        assert browser.execute_script("return typeof window.pwned") == "undefined", name
        _shot(browser, name)
    browser.get(server.base + pages["hostile-article"])
    body = browser.find_element(By.CSS_SELECTOR, "article.govnews-article .body").text
    assert "Đoạn văn mở đầu" in body
    assert "Đoạn văn thứ hai." in body
    # hovering and clicking what the page shows runs nothing either
    for element in browser.find_elements(By.CSS_SELECTOR, "article.govnews-article p, article.govnews-article a"):
        if element.is_displayed() and element.get_attribute("href") is None:
            element.click()
    assert browser.execute_script("return typeof window.pwned") == "undefined"


def test_the_dashboard_draws_its_chart_offline(server, browser):
    from selenium.webdriver.common.by import By

    browser.get(server.base + "/-/dashboards/govnews")
    _wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "#card-per-day svg, #card-per-day canvas"), 30)
    tables = browser.find_elements(By.CSS_SELECTOR, "table")
    assert any("khxhnvnghean.gov.vn" in table.text for table in tables), "per-portal health lists the portals"
    # a crawl run whose portal and failed check hold markup (serve_support): shown as text, never run
    shown = " ".join(table.text for table in tables)
    assert HOSTILE_RUN_SITE in shown
    assert HOSTILE_CHECK in shown
    assert not browser.find_elements(By.CSS_SELECTOR, "#card-health img, #card-attention img, td script, td b")
    for cell in browser.find_elements(By.CSS_SELECTOR, "td"):
        if HOSTILE_RUN_SITE in cell.text and cell.is_displayed():
            cell.click()
    assert browser.execute_script("return typeof window.pwned") == "undefined"
    assert "object-src 'none'" in server_policy(server.base + "/-/dashboards/govnews")
    _shot(browser, "dashboard")
