"""CMS families by name. One module per family; the registry names them in ``family = "..."``."""

from __future__ import annotations

from crawler.families.base import Family, PageKind, ParseError
from crawler.families.nukeviet import NukeViet
from crawler.families.wordpress import WordPress

FAMILIES: dict[str, type[Family]] = {family.name: family for family in (NukeViet, WordPress)}


def get_family(name: str, options: dict | None = None) -> Family:
    try:
        return FAMILIES[name](options)
    except KeyError:
        raise KeyError(f"unknown CMS family {name!r} (known: {sorted(FAMILIES)})") from None


__all__ = ["FAMILIES", "Family", "PageKind", "ParseError", "get_family"]
