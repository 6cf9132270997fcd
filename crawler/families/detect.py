"""Name the CMS family of a portal from one of its pages, with the evidence used.

Signals, strongest first: the generator meta the platform writes, markup and
asset paths only that platform serves, the URL shapes of its links. Coded
families list their signals here; declarative presets bring theirs from
``data/presets.toml`` (``[<preset>.detect]``). The best score wins; with no
signal at all the generic extractor is the answer.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

from lxml import etree
from parsel import Selector

from crawler.families.base import parse_page

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


@lru_cache(maxsize=4)
def _preset_signals_for(
    presets_id: int,
) -> tuple[tuple[tuple[str, int, str, str], ...], tuple[tuple[str, str, str], ...]]:
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
    return tuple(markup), tuple(urls)


def _preset_signals() -> tuple[tuple[tuple[str, int, str, str], ...], tuple[tuple[str, str, str], ...]]:
    """The presets' detection signals (computed once per loaded preset set)."""
    from crawler.families.preset import load_presets

    return _preset_signals_for(id(load_presets()))


# -- checking a signal on the tree ---------------------------------------------------------------
# A signal is an XPath; the usual shapes (``//TAG[pred or pred]`` and their unions, where a pred is
# ``@a='v'``, ``contains(@a, 'v')``, ``starts-with(@a, 'v')`` or ``contains(text(), 'v')``) are checked
# on a small index of the page built in one go: the ``id`` and ``class`` values of every element
# (two attribute selections) and the few elements of the tags the signals name. Anything else is
# evaluated as the (compiled) XPath it is.
_STEP = re.compile(r"^//(\*|[a-z][a-z0-9]*)((?:\[[^\[\]]+\])+)$")
_TERM = re.compile(
    r"^(?:(?P<fn>contains|starts-with)\((?P<arg>@[\w-]+|text\(\)),\s*'(?P<v1>[^']+)'\)|(?P<attr>@[\w-]+)\s*=\s*'(?P<v2>[^']*)')$"
)
Term = tuple[str, str, str]  # (function: "=", "contains", "starts-with"; "@attr" or "text()"; value)
Step = tuple[str, tuple[tuple[Term, ...], ...]]  # (tag or "*", predicates: each an "or" of terms)


def _split_top(expression: str, separator: str) -> list[str] | None:
    """``expression`` split at ``separator`` outside brackets, parentheses and quotes."""
    parts, depth, quoted, current = [], 0, False, ""
    index = 0
    while index < len(expression):
        char = expression[index]
        if char == "'":
            quoted = not quoted
        elif not quoted and char in "[(":
            depth += 1
        elif not quoted and char in ")]":
            depth -= 1
        if not quoted and depth == 0 and expression.startswith(separator, index):
            parts.append(current)
            current = ""
            index += len(separator)
            continue
        current += char
        index += 1
    if quoted or depth:
        return None
    return [*parts, current]


@lru_cache(maxsize=256)
def _compile_signal(xpath: str) -> tuple[Step, ...] | etree.XPath:
    steps: list[Step] = []
    for branch in _split_top(xpath.strip(), "|") or []:
        match = _STEP.match(branch.strip())
        if not match:
            return etree.XPath(f"boolean({xpath})")
        predicates = []
        for predicate in re.findall(r"\[([^\[\]]+)\]", match.group(2)):
            terms = []
            for term in _split_top(predicate.strip(), " or ") or [None]:
                found = _TERM.match((term or "").strip())
                if not found:
                    return etree.XPath(f"boolean({xpath})")
                if found.group("fn"):
                    terms.append((found.group("fn"), found.group("arg"), found.group("v1")))
                else:
                    terms.append(("=", found.group("attr"), found.group("v2")))
            predicates.append(tuple(terms))
        tag = match.group(1)
        arguments = {arg for terms in predicates for _, arg, _ in terms}
        if tag == "*" and (len(predicates) != 1 or not arguments <= {"@id", "@class"}):
            return etree.XPath(f"boolean({xpath})")  # index answers one predicate over ids and classes
        if "text()" in arguments and tag not in ("script", "style"):
            return etree.XPath(f"boolean({xpath})")  # .text is the first text node only in raw-text elements
        steps.append((tag, tuple(predicates)))
    if not steps:
        return etree.XPath(f"boolean({xpath})")
    return tuple(steps)


_ALL_IDS = etree.XPath("//@id", smart_strings=False)
_ALL_CLASSES = etree.XPath("//@class", smart_strings=False)
_HREFS = etree.XPath("//a/@href", smart_strings=False)
_SEPARATOR = "\x00"  # in no attribute value: libxml2 strings end at NUL


class _Index:
    """What the signals look at, gathered from the tree once."""

    def __init__(self, root: etree._Element, tags: frozenset[str]) -> None:
        self.root = root
        ids = _ALL_IDS(root)
        self.ids = frozenset(ids)
        self.joined = {
            "@id": _SEPARATOR + _SEPARATOR.join(ids),
            "@class": _SEPARATOR + _SEPARATOR.join(_ALL_CLASSES(root)),
        }
        self.elements: dict[str, list[etree._Element]] = {tag: [] for tag in tags}
        if tags:
            for element in root.iter(*tags):
                self.elements[element.tag].append(element)

    def any_element(self, terms: tuple[Term, ...]) -> bool:
        """``//*[a or b]`` over ids and classes: some value of the attribute equals / contains / starts with."""
        for function, arg, value in terms:
            if function == "=":
                found = (
                    value in self.ids
                    if arg == "@id"
                    else f"{_SEPARATOR}{value}{_SEPARATOR}" in f"{self.joined[arg]}{_SEPARATOR}"
                )
            elif function == "contains":
                found = value in self.joined[arg]
            else:
                found = _SEPARATOR + value in self.joined[arg]
            if found:
                return True
        return False


def _term_hit(element: etree._Element, function: str, arg: str, value: str) -> bool:
    if arg == "text()":
        text = element.text  # a script's text: its one text node
        if text is None:
            return False
    else:
        text = element.get(arg[1:])
        if text is None:
            return False
    if function == "=":
        return text == value
    if function == "contains":
        return value in text
    return text.startswith(value)


def _signal_found(signal: tuple[Step, ...] | etree.XPath, index: _Index) -> bool:
    if isinstance(signal, etree.XPath):
        return bool(signal(index.root))
    for tag, predicates in signal:
        if tag == "*":
            if index.any_element(predicates[0]):
                return True
            continue
        for element in index.elements[tag]:
            if all(any(_term_hit(element, *term) for term in terms) for terms in predicates):
                return True
    return False


@lru_cache(maxsize=16)
def _signal_tags(xpaths: tuple[str, ...]) -> frozenset[str]:
    tags = set()
    for xpath in xpaths:
        compiled = _compile_signal(xpath)
        if not isinstance(compiled, etree.XPath):
            tags.update(tag for tag, _ in compiled if tag != "*")
    return frozenset(tags)


_HOST = re.compile(r"^https?://[^/]+")


@lru_cache(maxsize=64)
def _url_regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def detect_family(html: str | Selector, url: str, fallback: str = "generic") -> Detection:
    """The best-scoring family for the page; ``fallback`` when no signal fires. ``html``: the page's
    text, or the page already parsed (:func:`crawler.families.base.parse_page`): it is not parsed again."""
    page = parse_page(html if isinstance(html, Selector) else (html or "<html></html>"))
    preset_markup, preset_urls = _preset_signals()
    signals = (*_SIGNALS, *preset_markup)
    index = _Index(page.root, _signal_tags(tuple(xpath for *_, xpath in signals)))
    scores: dict[str, int] = {}
    evidence: dict[str, list[str]] = {}

    def hit(family: str, weight: int, description: str) -> None:
        scores[family] = scores.get(family, 0) + weight
        evidence.setdefault(family, []).append(description)

    for family, weight, description, xpath in signals:
        if _signal_found(_compile_signal(xpath), index):
            hit(family, weight, description)
    paths = Counter(_HOST.sub("", href.strip()) for href in _HREFS(page.root)[:2000])
    own = _HOST.sub("", url)
    paths[own] += 1
    for family, description, pattern in (*_URL_SIGNALS, *preset_urls):
        regex = _url_regex(pattern)
        hits = sum(count for path, count in paths.items() if regex.search(path))
        if hits >= _MIN_URL_HITS or (hits and regex.search(own)):
            hit(family, URL_WEIGHT, f"{description} ({hits})")
    if not scores:
        return Detection(fallback, 0, ["no platform signal found; generic extraction"])
    best = max(scores, key=lambda name: (scores[name], -len(name)))
    return Detection(best, scores[best], evidence[best])
