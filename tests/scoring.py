"""Per-field agreement of exported records with a corpus's truth (the corpora's own scoring rules).

Articles match by URL (or one of the truth's ``other_urls``) after dropping the scheme,
``www.`` and a trailing slash. Text is compared after NFC and whitespace folding; exact
fields case-folded; instants to the minute; body and summary by bag-of-words F1; captions,
image URLs, categories, tags and attachments by set F1; ``duplicate_of`` over the truth's
duplicates. Used by the end-to-end tests, which run without the shared tools.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from datetime import datetime
from urllib.parse import urlsplit

TOKEN = re.compile(r"\w+")
EXACT = ("title", "source", "source_url", "author")
INSTANTS = ("published", "updated")
TOKEN_F1 = ("body_text", "summary")
SETS = ("captions", "image_urls", "categories", "tags", "attachments")


def norm(value) -> str:
    return "" if value is None else " ".join(unicodedata.normalize("NFC", str(value)).split())


def url_key(url) -> str:
    if not url:
        return ""
    parts = urlsplit(unicodedata.normalize("NFC", str(url).strip()))
    host = parts.netloc.lower().removeprefix("www.")
    return f"{host}{parts.path.rstrip('/') or '/'}" + (f"?{parts.query}" if parts.query else "")


def instant(value):
    if not value:
        return None
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return None if moment.tzinfo is None else moment.timestamp() // 60


def token_f1(truth: str, got: str) -> float:
    a, b = Counter(TOKEN.findall(norm(truth))), Counter(TOKEN.findall(norm(got)))
    if not a and not b:
        return 1.0
    common = sum((a & b).values())
    if not common:
        return 0.0
    precision, recall = common / sum(b.values()), common / sum(a.values())
    return 2 * precision * recall / (precision + recall)


def as_set(record: dict, field: str) -> set[str]:
    if field == "captions":
        items = [c.get("caption") for c in record.get("captions") or []]
    elif field == "image_urls":
        items = [url_key(c.get("image_url")) for c in record.get("captions") or []]
    elif field == "attachments":
        items = [url_key(u) for u in record.get(field) or []]
    else:
        items = record.get(field) or []
    return {norm(i).casefold() for i in items if norm(i)}


def set_f1(truth: set[str], got: set[str]) -> float:
    if not truth and not got:
        return 1.0
    common = len(truth & got)
    if not common:
        return 0.0
    precision, recall = common / len(got), common / len(truth)
    return 2 * precision * recall / (precision + recall)


def score(truth: list[dict], output: list[dict]) -> tuple[dict[str, float], dict[str, list[str]]]:
    """(figures per field, the truth URLs that scored below 1 per field) -- the second for messages."""
    alias: dict[str, int] = {}
    for index, article in enumerate(truth):
        for url in [article["url"], *(article.get("other_urls") or [])]:
            alias[url_key(url)] = index
    found: dict[int, dict] = {}
    matched = 0
    for record in output:
        index = alias.get(url_key(record.get("url")))
        if index is not None:
            matched += 1
            found.setdefault(index, record)
    sums: dict[str, list[float]] = {}
    misses: dict[str, list[str]] = {}
    body: list[float] = []

    def add(field: str, value: float, url: str) -> None:
        sums.setdefault(field, []).append(value)
        if value < 1:
            misses.setdefault(field, []).append(url)

    for index, article in enumerate(truth):
        got, url = found.get(index, {}), article["url"]
        for field in EXACT:
            if article.get(field):
                add(field, float(norm(article[field]).casefold() == norm(got.get(field)).casefold()), url)
        for field in INSTANTS:
            if article.get(field):
                add(field, float(instant(article[field]) == instant(got.get(field))), url)
        for field in TOKEN_F1:
            if article.get(field):
                value = token_f1(article[field], got.get(field) or "") if got else 0.0
                add(field, value, url)
                if field == "body_text":
                    body.append(value)
        for field in SETS:
            add(field, set_f1(as_set(article, field), as_set(got, field)) if got else 0.0, url)
        if article.get("duplicate_of"):
            want, linked = url_key(article["duplicate_of"]), url_key(got.get("duplicate_of"))
            same = want == linked or (alias.get(want) is not None and alias.get(want) == alias.get(linked))
            add("duplicate_of", float(bool(got) and bool(linked) and same), url)
    figures = {field: sum(values) / len(values) for field, values in sums.items()}
    figures["coverage"] = len(found) / len(truth) if truth else 0.0
    figures["precision"] = matched / len(output) if output else 0.0
    figures["min_body_f1"] = min(body) if body else 0.0
    return figures, misses
