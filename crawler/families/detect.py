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

from crawler.families.base import elements, parse_page

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
_BY_ID = etree.XPath("id($value)")
_SEPARATOR = "\x00"  # in no attribute value: libxml2 strings end at NUL


class _Index:
    """What the signals look at: the page's elements of the tags they name (one pass over the tree,
    shared with the parsers: :func:`crawler.families.base.elements`), the values of an attribute of
    those, the ``id`` and ``class`` values of every element (one selection each, when first asked)."""

    def __init__(self, page: Selector) -> None:
        self.page = page
        self.root = page.root
        self._values: dict[tuple[str, str], tuple[str, frozenset[str]]] = {}
        self._matching: dict[tuple[str, tuple[Term, ...]], list[etree._Element]] = {}

    def elements(self, tag: str) -> list[etree._Element]:
        return elements(self.page, tag)

    def hrefs(self) -> list[str]:
        """``//a/@href``: the anchors' hrefs in document order."""
        return [href for a in self.elements("a") if (href := a.get("href")) is not None]

    def values(self, tag: str, arg: str) -> tuple[str, frozenset[str]]:
        """The values of ``arg`` (``@name`` or ``text()``) on the elements of ``tag`` (``*``: every
        element, for ``@id`` and ``@class``): joined behind separators, and as a set."""
        key = (tag, arg)
        if key not in self._values:
            if tag == "*":
                found = (_ALL_IDS if arg == "@id" else _ALL_CLASSES)(self.root)
            elif arg == "text()":
                found = [e.text for e in self.elements(tag) if e.text is not None]
            else:
                found = [v for e in self.elements(tag) if (v := e.get(arg[1:])) is not None]
            self._values[key] = (_SEPARATOR + _SEPARATOR.join(found), frozenset(found))
        return self._values[key]

    def matching(self, tag: str, terms: tuple[Term, ...]) -> list[etree._Element]:
        """The elements of ``tag`` for which one of ``terms`` holds (``//meta[@name='generator']``: once)."""
        key = (tag, terms)
        if key not in self._matching:
            self._matching[key] = [e for e in self.elements(tag) if any(_term_hit(e, *term) for term in terms)]
        return self._matching[key]

    def has_id(self, value: str) -> bool:
        """``//*[@id=value]``: the document's ID table first (an element it names has that id)."""
        if ("*", "@id") not in self._values and any(e.get("id") == value for e in _BY_ID(self.root, value=value)):
            return True  # (HTML's ID table also holds <a name>: the element found must carry the id)
        return value in self.values("*", "@id")[1]

    def term(self, tag: str, function: str, arg: str, value: str) -> bool:
        """Some element of ``tag`` whose ``arg`` equals / contains / starts with ``value``."""
        if function == "=" and tag == "*" and arg == "@id":
            return self.has_id(value)
        joined, every = self.values(tag, arg)
        if function == "=":
            return value in every
        if function == "contains":
            return value in joined
        return _SEPARATOR + value in joined


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
        if len(predicates) == 1:  # some element with (a or b) = some element with a, or some with b
            if any(index.term(tag, *term) for term in predicates[0]):
                return True
            continue
        for element in index.matching(tag, predicates[0]):
            if all(any(_term_hit(element, *term) for term in terms) for terms in predicates[1:]):
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


def _cost(signal: tuple[Step, ...] | etree.XPath) -> int:
    """0: answered from the tag pass; 1: needs the ids or classes; 2: an XPath of its own."""
    if isinstance(signal, etree.XPath):
        return 2
    return 1 if any(tag == "*" for tag, _ in signal) else 0


@lru_cache(maxsize=4)
def _plan(presets_id: int) -> tuple[tuple[tuple[int, int, str, int, str, object], ...], dict[str, int]]:
    """Every signal as (cost, order, family, weight, description, check), cheapest first; each
    family's total weight."""
    preset_markup, preset_urls = _preset_signals()
    signals = (*_SIGNALS, *preset_markup)
    pending: list[tuple[int, int, str, int, str, object]] = []
    for order, (family, weight, description, xpath) in enumerate(signals):
        compiled = _compile_signal(xpath)
        pending.append((_cost(compiled), order, family, weight, description, compiled))
    for order, (family, description, pattern) in enumerate((*_URL_SIGNALS, *preset_urls), start=len(signals)):
        pending.append((3, order, family, URL_WEIGHT, description, _url_regex(pattern)))
    totals: dict[str, int] = {}
    for _, _, family, weight, _, _ in pending:
        totals[family] = totals.get(family, 0) + weight
    return tuple(sorted(pending, key=lambda item: item[:2])), totals


def detect_family(html: str | Selector, url: str, fallback: str = "generic") -> Detection:
    """The best-scoring family for the page; ``fallback`` when no signal fires. ``html``: the page's
    text, or the page already parsed (:func:`crawler.families.base.parse_page`): it is not parsed again.

    Every family's score is the sum of its signals' weights; cheap signals are checked first, and a
    family that can no longer win (its score plus every weight still unchecked stays below another
    family's score) has its other signals skipped: the winner, its score and its evidence are what
    checking every signal gives."""
    page = parse_page(html if isinstance(html, Selector) else (html or "<html></html>"))
    from crawler.families.preset import load_presets

    plan, totals = _plan(id(load_presets()))
    index = _Index(page)
    potential = dict(totals)
    scores: dict[str, int] = {}
    found: dict[str, list[tuple[int, str]]] = {}
    paths: Counter[str] | None = None
    own = _HOST.sub("", url)

    def may_win(family: str) -> bool:
        best = max(scores.values(), default=0)
        return potential[family] >= best or not best

    for cost, order, family, weight, description, check in plan:
        if not may_win(family):
            continue
        potential[family] -= weight
        if cost < 3:
            if not _signal_found(check, index):  # type: ignore[arg-type]
                continue
        else:
            if paths is None:
                paths = Counter(_HOST.sub("", href.strip()) for href in index.hrefs()[:2000])
                paths[own] += 1
            hits = sum(count for path, count in paths.items() if check.search(path))  # type: ignore[attr-defined]
            if not (hits >= _MIN_URL_HITS or (hits and check.search(own))):  # type: ignore[attr-defined]
                continue
            description = f"{description} ({hits})"
        scores[family] = scores.get(family, 0) + weight
        potential[family] += weight
        found.setdefault(family, []).append((order, description))
    if not scores:
        return Detection(fallback, 0, ["no platform signal found; generic extraction"])
    first_hit = {family: min(order for order, _ in hits) for family, hits in found.items()}
    # the order of first hits in a check of every signal, in the order listed (max keeps the first of equals)
    ranked = sorted(scores, key=lambda name: first_hit[name])
    best = max(ranked, key=lambda name: (scores[name], -len(name)))
    return Detection(best, scores[best], [description for _, description in sorted(found[best])])
