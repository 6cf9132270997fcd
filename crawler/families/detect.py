"""Name the CMS family of a portal from one of its pages, with the evidence used.

Signals, strongest first: the generator meta the platform writes, markup and
asset paths only that platform serves, the URL shapes of its links. Coded
families list their signals here; declarative presets bring theirs from
``data/presets.toml`` (``[<preset>.detect]``). The best score wins; with no
signal at all the generic extractor is the answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from parsel import Selector

GENERATOR_WEIGHT, MARKUP_WEIGHT, URL_WEIGHT = 10, 3, 2
_MIN_URL_HITS = 3

# (family, weight, description, xpath that finds something when the signal is present)
_SIGNALS: tuple[tuple[str, int, str, str], ...] = (
    ("nukeviet", 10, "generator meta names NukeViet", "//meta[@name='generator'][contains(@content, 'NukeViet')]"),
    ("nukeviet", 4, "NukeViet news body #news-bodyhtml", "//*[@id='news-bodyhtml']"),
    (
        "nukeviet",
        3,
        "NukeViet core scripts (/assets/js/global.js, nv_base_siteurl)",
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
_URL_SIGNALS: tuple[tuple[str, str, str], ...] = (
    ("nukeviet", "links shaped /<module>/<cat>/<alias>-<id>.html", r"^/(?:[a-z]{2}/)?[\w-]+/[\w-]+/[\w-]+-\d+\.html$"),
    ("wordpress", "links shaped /YYYY/MM/<slug>/", r"^/\d{4}/\d{2}/[^/]+/$"),
)


@dataclass(slots=True)
class Detection:
    family: str
    score: int
    evidence: list[str] = field(default_factory=list)


def _preset_signals() -> tuple[list[tuple[str, int, str, str]], list[tuple[str, str, str]]]:
    from crawler.families.preset import load_presets

    markup: list[tuple[str, int, str, str]] = []
    urls: list[tuple[str, str, str]] = []
    for name, preset in load_presets().items():
        spec = preset.get("detect") or {}
        if spec.get("generator"):
            markup.append(
                (
                    name,
                    GENERATOR_WEIGHT,
                    f"generator meta names {spec['generator']}",
                    f"//meta[@name='generator'][contains(@content, '{spec['generator']}')]",
                )
            )
        for xpath in spec.get("markup", []):
            markup.append((name, MARKUP_WEIGHT, f"markup {xpath}", xpath))
        if spec.get("url"):
            urls.append((name, f"links matching {spec['url']}", spec["url"]))
    return markup, urls


def detect_family(html: str, url: str, fallback: str = "generic") -> Detection:
    """The best-scoring family for the page; ``fallback`` when no signal fires."""
    page = Selector(text=html or "<html></html>", base_url=url)
    preset_markup, preset_urls = _preset_signals()
    scores: dict[str, int] = {}
    evidence: dict[str, list[str]] = {}

    def hit(family: str, weight: int, description: str) -> None:
        scores[family] = scores.get(family, 0) + weight
        evidence.setdefault(family, []).append(description)

    for family, weight, description, xpath in (*_SIGNALS, *preset_markup):
        if page.xpath(xpath):
            hit(family, weight, description)
    paths = [re.sub(r"^https?://[^/]+", "", href.strip()) for href in page.xpath("//a/@href").getall()[:2000]]
    paths.append(re.sub(r"^https?://[^/]+", "", url))
    for family, description, pattern in (*_URL_SIGNALS, *preset_urls):
        regex = re.compile(pattern, re.IGNORECASE)
        hits = sum(1 for path in paths if regex.search(path))
        if hits >= _MIN_URL_HITS or (hits and regex.search(paths[-1])):
            hit(family, URL_WEIGHT, f"{description} ({hits})")
    if not scores:
        return Detection(fallback, 0, ["no platform signal found; generic extraction"])
    best = max(scores, key=lambda name: (scores[name], -len(name)))
    return Detection(best, scores[best], evidence[best])
