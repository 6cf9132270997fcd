"""Where govnews's data files are read from: the checkout's ``data/``, or the installed package.

An editable install or a checkout reads ``data/`` directly; an installed wheel or a
scrapyd egg (a zip) reads the copy shipped as the package ``govnews_data``.
"""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

CHECKOUT_DATA = Path(__file__).resolve().parent.parent / "data"


def data_file(name: str) -> Traversable:
    if (CHECKOUT_DATA / name).is_file():
        return CHECKOUT_DATA / name
    return files("govnews_data") / name


def writable_data_dir() -> Path:
    """Where the default database, locks and dead-letter files go: the checkout's data/, else ./data."""
    if CHECKOUT_DATA.is_dir():
        return CHECKOUT_DATA
    return Path.cwd() / "data"
