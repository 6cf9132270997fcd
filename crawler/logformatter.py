"""Log lines that name an item, never print it.

Scrapy's default formatter writes the whole item (every field, the full body
HTML) into the log when an item is scraped, dropped or fails in a pipeline: one
failing portal then floods the log with kilobytes per article. Here an item is
its URL (and the site), a drop is one line with the reason.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy import logformatter

_MAX_REASON = 300  # characters of an exception message kept in the line


def describe(item: Any) -> str:
    """An item as a short reference: ``<site> <url>``."""
    url = getattr(item, "url", None) or (item.get("url") if isinstance(item, dict) else None)
    site = getattr(item, "site", None) or (item.get("site") if isinstance(item, dict) else None)
    kind = type(item).__name__
    return f"{kind} {url or '?'}" + (f" ({site})" if site else "")


def _reason(exception: BaseException) -> str:
    text = " ".join(str(exception).split())
    return text if len(text) <= _MAX_REASON else text[: _MAX_REASON - 3] + "..."


class GovnewsLogFormatter(logformatter.LogFormatter):
    def scraped(self, item, response, spider):
        return {"level": logging.DEBUG, "msg": "Scraped %(item)s", "args": {"item": describe(item)}}

    def dropped(self, item, exception, response, spider):
        level = getattr(exception, "log_level", None) or spider.crawler.settings.get(
            "DEFAULT_DROPITEM_LOG_LEVEL", logging.WARNING
        )
        if isinstance(level, str):
            level = getattr(logging, level.upper(), logging.WARNING)
        return {
            "level": level,
            "msg": "Dropped %(item)s: %(reason)s",
            "args": {"item": describe(item), "reason": _reason(exception)},
        }

    def item_error(self, item, exception, response, spider):
        return {
            "level": logging.ERROR,
            "msg": "Error processing %(item)s: %(reason)s",
            "args": {"item": describe(item), "reason": f"{type(exception).__name__}: {_reason(exception)}"},
        }
