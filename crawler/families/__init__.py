"""CMS families by name. One module per family; the registry names them in ``family = "..."``."""

from __future__ import annotations

from typing import Any

from parsel import Selector

from crawler.families.base import Family, NotAnArticle, Page, PageKind, ParseError, parse_page
from crawler.families.generic import Generic
from crawler.families.nukeviet import NukeViet
from crawler.families.wordpress import WordPress
from crawler.items import Article

FAMILIES: dict[str, type[Family]] = {family.name: family for family in (NukeViet, WordPress, Generic)}


def family_names() -> list[str]:
    """Coded families and the declarative presets of ``data/presets.toml``."""
    from crawler.families.preset import load_presets

    return sorted({*FAMILIES, *load_presets()})


def get_family(name: str, options: dict | None = None) -> Family:
    if name in FAMILIES:
        return FAMILIES[name](options)
    from crawler.families.preset import Preset, load_presets

    presets = load_presets()
    if name in presets:
        return Preset(options, preset=name, base=presets[name])
    raise KeyError(f"unknown CMS family {name!r} (known: {family_names()})")


def extract_auto(html: str | bytes | Selector, url: str, **parse_options: Any) -> tuple[str, Article]:
    """``govnews extract --family auto`` for one page: the detected family's name and its article.

    The page is parsed once (:func:`parse_page`); detection and the family's parser share the tree.
    ``parse_options`` go to ``parse_article`` (``other_urls``, ``site``, ``hints``, ...)."""
    from crawler.families.detect import detect_family

    page = parse_page(html)
    name = detect_family(page, url).family
    return name, get_family(name).parse_article(page, url, **parse_options)


__all__ = [
    "FAMILIES",
    "Family",
    "NotAnArticle",
    "Page",
    "PageKind",
    "ParseError",
    "extract_auto",
    "family_names",
    "get_family",
    "parse_page",
]
