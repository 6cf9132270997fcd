"""Scrapy's own floor for a replay: every response of a WARC fetched through govnews's replay
handler by a spider that does nothing with it (no parsing, no pipelines, no database).

    python bench/scrapy_floor.py WARC [--json]

What is left of a ``govnews crawl --archive`` replay's time per page once this is taken away is
govnews's own work (parse, discovery, store); ``bench/crawl_speed.py replay`` prints both.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("warc")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    import scrapy
    from scrapy.crawler import CrawlerProcess

    from crawler.archive import open_archives

    warc = str(Path(args.warc).resolve())
    urls = open_archives([warc]).urls()

    class NullSpider(scrapy.Spider):
        name = "null"

        async def start(self):
            for url in urls:
                yield scrapy.Request(url, dont_filter=True)

        def parse(self, response):
            return None

    settings = {
        "ADDONS": {"crawler.archive.ReplayAddon": 0},
        "GOVNEWS_ARCHIVES": [warc],
        "ROBOTSTXT_OBEY": False,
        "LOG_LEVEL": "WARNING",
        "TELNETCONSOLE_ENABLED": False,
        "CONCURRENT_REQUESTS": 16,
    }
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(NullSpider)
    process.crawl(crawler)
    process.start()
    stats = crawler.stats.get_stats()
    pages = stats.get("response_received_count", 0)
    elapsed = float(stats.get("elapsed_time_seconds") or 1)
    row = {
        "name": "scrapy floor",
        "pages": pages,
        "crawl_s": round(elapsed, 2),
        "pages_per_s": round(pages / elapsed, 1),
    }
    print(
        json.dumps(row)
        if args.json
        else f"scrapy floor: {pages} pages in {elapsed:.2f} s = {pages / elapsed:.1f} pages/s"
    )


if __name__ == "__main__":
    main()
