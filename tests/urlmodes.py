"""A recorded NukeViet portal as it would print itself in another URL mode of ``nv_url_rewrite()``.

NukeViet builds every link as ``index.php?language=<lang>&nv=<module>&op=<op>`` and only then
rewrites it (includes/functions.php). So the same site with friendly URLs off prints the query
form, and with several languages on prints a ``/<lang>/`` prefix: this module turns the links,
canonical URLs, feed and sitemap locations and ``WARC-Target-URI`` of a corpus recorded in mode
"module in the path" into those modes, the way the core would have printed them. Used to test
the crawl (learning, classification, keys) end to end in modes no shared corpus was recorded in.
"""

from __future__ import annotations

import json
import re
from io import BytesIO
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter


def _rewriter(host: str, module: str, mode: str, lang: str = "vi"):
    prefix = re.compile(
        r"(?P<host>https?://"
        + re.escape(host)
        + r")?/"
        + re.escape(module)
        + r"/(?P<op>[^\"'<>\s?#]*)(?P<query>\?[^\"'<>\s#]*)?"
    )

    def convert(match: re.Match, amp: str) -> str:
        origin = match.group("host") or ""
        op = match.group("op").rstrip("/")
        query = (match.group("query") or "")[1:]
        if mode == "query":
            url = f"{origin}/index.php?language={lang}{amp}nv={module}"
            if op:
                url += f"{amp}op={op}"
            if query:
                url += amp + query.replace("&amp;", "&").replace("&", amp)
            return url
        # mode "lang": the language in front of the module
        return f"{origin}/{lang}/{module}/{match.group('op')}" + (match.group("query") or "")

    def rewrite(text: str, amp: str = "&amp;") -> str:
        # only where a URL starts: after a quote, ">" (feed and sitemap <link>/<loc>) or a host
        return re.sub(r"(?<=[\"'>])" + prefix.pattern, lambda m: convert(m, amp), text)

    def rewrite_url(url: str) -> str:
        return prefix.sub(lambda m: convert(m, "&"), url, count=1) if prefix.match(url) else url

    return rewrite, rewrite_url


def transform(corpus: Path, out: Path, mode: str, module: str = "news") -> tuple[Path, Path]:
    """(WARC, truth) of ``corpus`` re-printed in ``mode`` ("query" or "lang") under ``out``."""
    truth_lines = [json.loads(line) for line in (corpus / "truth.jsonl").read_text(encoding="utf-8").splitlines()]
    host = re.match(r"https?://([^/]+)/", truth_lines[0]["url"]).group(1)
    rewrite, rewrite_url = _rewriter(host, module, mode)
    out.mkdir(parents=True, exist_ok=True)
    warc = out / "site.warc.gz"
    with (corpus / "site.warc.gz").open("rb") as source, warc.open("wb") as target:
        writer = WARCWriter(target, gzip=True)
        for record in ArchiveIterator(source):
            if record.rec_type != "response":
                continue
            uri = record.rec_headers.get_header("WARC-Target-URI")
            path = uri.split(host, 1)[-1]
            if mode == "query" and path.startswith(("/sitemap", "/robots.txt")):
                continue  # sub-sitemaps answer only through the rewrite rules: a site without them has none
            body = record.content_stream().read()
            kind = record.http_headers.get_header("Content-Type") or ""
            if any(t in kind for t in ("html", "xml", "rss")):
                body = rewrite(body.decode("utf-8"), "&amp;").encode("utf-8")
            headers = [
                (k, v) for k, v in record.http_headers.headers if k.lower() not in ("content-length", "location")
            ]
            location = record.http_headers.get_header("Location")
            if location:
                headers.append(("Location", rewrite_url(location)))
            headers.append(("Content-Length", str(len(body))))
            http = StatusAndHeaders(record.http_headers.statusline, headers, protocol=record.http_headers.protocol)
            writer.write_record(
                writer.create_warc_record(rewrite_url(uri), "response", payload=BytesIO(body), http_headers=http)
            )
    truth = out / "truth.jsonl"
    with truth.open("w", encoding="utf-8") as handle:
        for article in truth_lines:
            article = dict(article)
            article["url"] = rewrite_url(article["url"])
            article["other_urls"] = [rewrite_url(u) for u in article.get("other_urls") or []]
            article["attachments"] = [rewrite_url(u) for u in article.get("attachments") or []]
            if article.get("duplicate_of"):
                article["duplicate_of"] = rewrite_url(article["duplicate_of"])
            handle.write(json.dumps(article, ensure_ascii=False) + "\n")
    return warc, truth
