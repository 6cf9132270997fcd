"""Refuse half-empty articles: no title, no body or no date means the parser failed.

A dropped item is counted by reason (``govnews/dropped/<reason>``) and logged
with its URL; it is never stored half-empty.
"""

from __future__ import annotations

import logging

from crawler.items import Article

logger = logging.getLogger(__name__)
REQUIRED = ("title", "body_text", "published")


def missing_fields(item: Article) -> list[str]:
    return [name for name in REQUIRED if not getattr(item, name)]


class ValidatePipeline:
    def __init__(self, stats) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler) -> ValidatePipeline:
        return cls(crawler.stats)

    def process_item(self, item, spider=None):
        if not isinstance(item, Article):
            return item
        missing = missing_fields(item)
        if missing:
            from scrapy.exceptions import DropItem  # here: `govnews extract` uses missing_fields without Scrapy

            reason = "no_" + "_".join(missing)
            self.stats.inc_value(f"govnews/dropped/{reason}")
            raise DropItem(f"{item.url}: missing {', '.join(missing)}")
        return item
