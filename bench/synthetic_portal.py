"""A synthetic NukeViet portal on 127.0.0.1, built from a page of the corpus, of any size.

    python bench/synthetic_portal.py --articles 100000 --port 8765

Serves a home page, category listings with ``page-N`` pagination (20 articles a page,
newest first), robots.txt and article pages rendered from the corpus's seed article
(the NukeViet default theme, as served) with a title, date and body of their own.
Bodies are drawn, per article id, from the corpus's own Vietnamese vocabulary, so no
two articles are near-duplicates (dedupe sees realistic candidates, not one cluster).
For benchmarks only: never point it anywhere but 127.0.0.1.
"""

from __future__ import annotations

import argparse
import gzip
import html
import json
import random
import re
from datetime import datetime, timedelta
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "pages" / "nukeviet" / "khxhnvnghean"
CATEGORIES = 10
PER_PAGE = 20
_ARTICLE = re.compile(r"^/news/cat-(\d+)/bai-viet-so-(\d+)-(\d+)\.html$")
_LISTING = re.compile(r"^/news/cat-(\d+)/(?:page-(\d+)/)?$")


def _template() -> tuple[str, list[str]]:
    seed = next(FIXTURES.glob("*-1"))
    page = gzip.decompress((seed / "page.html.gz").read_bytes()).decode("utf-8")
    expected = json.loads((seed / "expected.json").read_text(encoding="utf-8"))
    words = sorted(
        {
            w
            for c in FIXTURES.glob("*")
            for w in re.findall(r"\w+", json.loads((c / "expected.json").read_text(encoding="utf-8"))["body_text"])
            if not w.isdigit()
        }
    )
    page = page.replace(expected["url"], "{{URL}}").replace(html.escape(expected["title"]), "{{TITLE}}")
    page = page.replace(expected["title"], "{{TITLE}}")
    page = re.sub(r'(<meta property="article:(?:published|modified)_time" content=")[^"]+', r"\1{{META_TIME}}", page)
    page = re.sub(r'(<span class="h5">)[^<]+', r"\1{{SHOWN_TIME}}", page)
    start = page.index('<div id="news-bodyhtml"')
    start = page.index(">", start) + 1
    end = page.index("</div>\n", page.index("Kết luận tại Hội nghị", start))
    page = page[:start] + "{{BODY}}" + page[end:]
    page = re.sub(r'<ul class="detail-related.*?</ul>', "", page, flags=re.S)  # related lists: not needed
    return page, words


@lru_cache(maxsize=1)
def template() -> tuple[str, list[str]]:
    return _template()


def published(article_id: int) -> datetime:
    return datetime(2020, 1, 1, 7, 0) + timedelta(minutes=37 * article_id)  # noqa: DTZ001 - local portal time


def article_url(article_id: int) -> str:
    return f"/news/cat-{article_id % CATEGORIES}/bai-viet-so-{article_id}-{article_id}.html"


def render_article(article_id: int, host: str) -> str:
    page, words = template()
    rng = random.Random(article_id)
    paragraphs = "".join(
        '<p style="text-align:justify">' + " ".join(rng.choice(words) for _ in range(45)).capitalize() + ".</p>\n"
        for _ in range(8)
    )
    moment = published(article_id)
    weekdays = ["Thứ hai", "Thứ ba", "Thứ tư", "Thứ năm", "Thứ sáu", "Thứ bảy", "Chủ nhật"]
    return (
        page.replace("{{URL}}", f"http://{host}{article_url(article_id)}")
        .replace("{{TITLE}}", f"Bài viết số {article_id}: {' '.join(rng.choice(words) for _ in range(8))}")
        .replace("{{META_TIME}}", moment.strftime("%Y-%m-%d+07%H:%M:%S"))
        .replace("{{SHOWN_TIME}}", f"{weekdays[moment.weekday()]} - {moment:%d/%m/%Y %H:%M}")
        .replace("{{BODY}}", paragraphs)
    )


def render_listing(category: int, page_number: int, total: int) -> str | None:
    ids = list(range(total - 1 - ((total - 1 - category) % CATEGORIES), -1, -CATEGORIES))
    chunk = ids[(page_number - 1) * PER_PAGE : page_number * PER_PAGE]
    if not chunk:
        return None
    links = "".join(f'<h3><a href="{article_url(i)}">Bài viết số {i}</a></h3>\n' for i in chunk)
    menu = "".join(
        f'<li><a href="/news/cat-{c}/" title="Chuyên mục {c}">Chuyên mục {c}</a></li>' for c in range(CATEGORIES)
    )
    more = page_number * PER_PAGE < len(ids)
    nav = f'<a rel="next" href="/news/cat-{category}/page-{page_number + 1}/">Trang sau</a>' if more else ""
    return (
        f"<html><head><title>Chuyên mục {category}</title></head><body><ul>{menu}</ul>"
        f"<div class='listing'>{links}</div>{nav}</body></html>"
    )


def make_handler(total: int):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 - http.server API
            path = self.path.split("?", 1)[0]
            body: str | None
            if path == "/robots.txt":
                body, kind = "User-agent: *\nDisallow: /admin/\n", "text/plain"
            elif path in ("/", "/news/"):
                menu = "".join(f'<a href="/news/cat-{c}/">Chuyên mục {c}</a>' for c in range(CATEGORIES))
                body, kind = f"<html><head><title>Cổng thử nghiệm</title></head><body>{menu}</body></html>", "text/html"
            elif match := _ARTICLE.match(path):
                article_id = int(match.group(2))
                ok = article_id < total and int(match.group(1)) == article_id % CATEGORIES
                body, kind = (render_article(article_id, self.headers.get("Host", "")) if ok else None), "text/html"
            elif match := _LISTING.match(path):
                body, kind = render_listing(int(match.group(1)), int(match.group(2) or 1), total), "text/html"
            else:
                body, kind = None, "text/html"
            data = (body or "<html><body>404</body></html>").encode("utf-8")
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", f"{kind}; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args) -> None:
            pass

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    template()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(args.articles))  # port 0: any free one
    server.daemon_threads = True
    port = server.server_address[1]
    print(f"synthetic portal: {args.articles} articles on http://127.0.0.1:{port}/", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
