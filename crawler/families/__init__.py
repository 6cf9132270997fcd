"""CMS families by name. One module per family; the registry names them in ``family = "..."``."""

from __future__ import annotations

from crawler.families.base import Family, NotAnArticle, PageKind, ParseError
from crawler.families.generic import Generic
from crawler.families.nukeviet import NukeViet
from crawler.families.wordpress import WordPress

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


__all__ = ["FAMILIES", "Family", "NotAnArticle", "PageKind", "ParseError", "family_names", "get_family"]
