"""Normalise every text field of an article: NFC, entities decoded, spaces folded."""

from __future__ import annotations

from crawler.items import Article
from crawler.text.normalise import clean_multiline, clean_or_none, clean_text
from crawler.text.vn_dates import VN_TZ


def normalise(item: Article) -> Article:
    item.title = clean_or_none(item.title)
    item.summary = clean_or_none(item.summary)
    item.body_text = clean_multiline(item.body_text) or None
    item.source = clean_or_none(item.source)
    item.author = clean_or_none(item.author)
    item.source_url = (item.source_url or "").strip() or None
    item.categories = list(dict.fromkeys(c for c in (clean_text(c) for c in item.categories) if c))
    item.tags = list(dict.fromkeys(t for t in (clean_text(t) for t in item.tags) if t))
    item.attachments = list(dict.fromkeys(a.strip() for a in item.attachments if a and a.strip()))
    item.captions = [
        {"image_url": c["image_url"].strip(), "caption": clean_text(c["caption"])}
        for c in item.captions
        if c.get("image_url") and clean_text(c.get("caption"))
    ]
    for name in ("published", "updated", "fetched_at"):
        moment = getattr(item, name)
        if moment is not None and moment.tzinfo is None:  # portals print local time
            setattr(item, name, moment.replace(tzinfo=VN_TZ))
    return item


class NormalisePipeline:
    def process_item(self, item, spider=None):
        return normalise(item) if isinstance(item, Article) else item
