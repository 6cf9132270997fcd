"""Name the CMS family of a portal from one of its pages, with the evidence used.

Signals, strongest first: the generator meta the platform writes, asset paths
only that platform serves, URL shapes of its links. Each signal found adds to a
family's score; the evidence list says which fired.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from parsel import Selector

# (family, weight, description, xpath returning something when the signal is present)
_SIGNALS: tuple[tuple[str, int, str, str], ...] = (
    ("nukeviet", 10, "generator meta names NukeViet", "//meta[@name='generator'][contains(@content, 'NukeViet')]"),
    ("nukeviet", 4, "NukeViet news body #news-bodyhtml", "//*[@id='news-bodyhtml']"),
    (
        "nukeviet",
        3,
        "NukeViet asset path /themes/*/js/ with nv_ scripts",
        "//script[contains(@src, '/assets/js/global.js') or contains(text(), 'nv_base_siteurl')]",
    ),
    ("nukeviet", 2, "NukeViet RSS link /<module>/rss/", "//link[@rel='alternate'][contains(@href, '/rss/')]"),
    (
        "wordpress",
        10,
        "generator meta names WordPress",
        "//meta[@name='generator'][starts-with(@content, 'WordPress')]",
    ),
    (
        "wordpress",
        4,
        "asset paths /wp-content/ or /wp-includes/",
        "//link[contains(@href, '/wp-content/') or contains(@href, '/wp-includes/')]"
        " | //script[contains(@src, '/wp-content/') or contains(@src, '/wp-includes/')]",
    ),
    ("wordpress", 3, "REST API link rel=https://api.w.org/", "//link[@rel='https://api.w.org/']"),
    (
        "wordpress",
        2,
        "post classes (hentry, type-post, postid-N)",
        "//article[contains(@class, 'type-post')] | //body[contains(@class, 'postid-')]",
    ),
)
_URL_SIGNALS: tuple[tuple[str, int, str, re.Pattern[str]], ...] = (
    (
        "nukeviet",
        2,
        "links shaped /<module>/<cat>/<alias>-<id>.html",
        re.compile(r"^/(?:[a-z]{2}/)?[\w-]+/[\w-]+/[\w-]+-\d+\.html$"),
    ),
)


@dataclass(slots=True)
class Detection:
    family: str
    score: int
    evidence: list[str] = field(default_factory=list)


def detect_family(html: str, url: str, fallback: str = "nukeviet") -> Detection:
    """The best-scoring family for the page; ``fallback`` when no signal fires."""
    page = Selector(text=html or "<html></html>", base_url=url)
    scores: dict[str, int] = {}
    evidence: dict[str, list[str]] = {}
    for family, weight, description, xpath in _SIGNALS:
        if page.xpath(xpath):
            scores[family] = scores.get(family, 0) + weight
            evidence.setdefault(family, []).append(description)
    paths = [href.split("?", 1)[0] for href in page.xpath("//a/@href").getall()[:2000]]
    for family, weight, description, pattern in _URL_SIGNALS:
        hits = sum(1 for path in paths if pattern.match(re.sub(r"^https?://[^/]+", "", path)))
        if hits >= 3:
            scores[family] = scores.get(family, 0) + weight
            evidence.setdefault(family, []).append(f"{description} ({hits})")
    if not scores:
        return Detection(fallback, 0, ["no platform signal found; using the default family"])
    best = max(scores, key=lambda name: scores[name])
    return Detection(best, scores[best], evidence[best])
