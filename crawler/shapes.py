"""URL shapes: what kind of page a link leads to, learned from the site itself.

A shape is a URL with its variable parts replaced by classes: ``/{slug}/{slug}-{n}.html``,
``/{yyyy}/{nn}/{slug}/``, ``/?p={n}``. Pages whose kind is known for sure (entries of a
feed or a post sitemap, pages whose own markup says "article" or "listing") teach the
book the kind of their shape; a link of a shape the family's URL rules cannot place is
then classified by the book. Each URL has two shapes: a generic one and one that keeps
the first path segment literally (a category or module base such as ``/chuyen-muc/``),
and the specific shape is asked first.

A shape is only trusted when its evidence is pure: one kind seen, at least
``MIN_EVIDENCE`` times, and never another kind. Mixed shapes stay unknown (the
crawler then asks the page itself, within a budget).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlsplit

from crawler.families.base import PageKind

MIN_EVIDENCE = 1  # one confirmed page of a shape is enough when nothing contradicts it
MAX_SHAPES = 500  # shapes remembered per site (a hostile site cannot grow the profile without bound)

_YEAR = re.compile(r"^(?:19|20)\d\d$")
_NUM = re.compile(r"^\d+$")
_SLUG_ID = re.compile(r"^.*[-_]\d+$")
_EXTENSION = re.compile(r"^(?P<stem>.*?)(?P<ext>\.(?:html?|aspx?|php|jsp|shtml|htm))$", re.IGNORECASE)


def _segment_class(segment: str) -> str:
    match = _EXTENSION.match(segment)
    stem, ext = (match.group("stem"), match.group("ext").lower()) if match else (segment, "")
    if _YEAR.match(stem):
        token = "{yyyy}"
    elif _NUM.match(stem):
        token = "{nn}" if len(stem) <= 2 else "{n}"
    elif _SLUG_ID.match(stem):
        token = "{slug}-{n}"
    else:
        token = "{slug}"
    return token + ext


def _query_shape(query: str) -> str:
    if not query:
        return ""
    pairs = sorted(parse_qsl(query, keep_blank_values=True))
    parts = []
    for key, value in pairs[:8]:
        value_class = "{n}" if _NUM.match(value) else ("" if not value else "{v}")
        parts.append(f"{key.lower()}={value_class}")
    return "?" + "&".join(parts)


def url_shapes(url: str) -> tuple[str, str]:
    """(specific, generic) shape of ``url``; the specific one keeps the first segment."""
    parts = urlsplit(url)
    segments = [unquote(s) for s in parts.path.split("/") if s]
    slash = "/" if parts.path.endswith("/") and segments else ""
    classes = [_segment_class(s) for s in segments]
    query = _query_shape(parts.query)
    generic = "/" + "/".join(classes) + slash + query
    if not segments:
        return generic, generic
    # a base is a word (a module, a category base), never a number (a year of a dated permalink)
    first = segments[0].lower() if len(segments) > 1 and classes[0] == "{slug}" else classes[0]
    specific = "/" + "/".join([first, *classes[1:]]) + slash + query
    return specific, generic


@dataclass
class ShapeBook:
    """Counts of page kinds per URL shape, for one site."""

    counts: dict[str, dict[str, int]] = field(default_factory=dict)

    def observe(self, url: str, kind: PageKind, weight: int = 1) -> None:
        for shape in url_shapes(url):
            if shape not in self.counts and len(self.counts) >= MAX_SHAPES:
                continue
            kinds = self.counts.setdefault(shape, {})
            kinds[kind.value] = kinds.get(kind.value, 0) + weight

    def kind(self, url: str) -> PageKind | None:
        """The one kind this URL's shape has been seen as, or ``None`` (unseen or mixed)."""
        for shape in dict.fromkeys(url_shapes(url)):
            kinds = self.counts.get(shape)
            if not kinds:
                continue
            if len(kinds) == 1:
                ((name, count),) = kinds.items()
                if count >= MIN_EVIDENCE:
                    return PageKind(name)
            return None  # mixed: the more specific shape is ambiguous, the generic one would be too
        return None

    def seen(self, url: str) -> bool:
        """Some page of this URL's shape was classified before (its kind may be mixed)."""
        return any(shape in self.counts for shape in url_shapes(url))

    def article_shapes(self) -> list[str]:
        return sorted(s for s, kinds in self.counts.items() if set(kinds) == {PageKind.ARTICLE.value})

    def as_dict(self) -> dict[str, dict[str, int]]:
        return {shape: dict(kinds) for shape, kinds in sorted(self.counts.items())}

    @classmethod
    def from_dict(cls, data: Mapping[str, Mapping[str, int]] | None) -> ShapeBook:
        book = cls()
        for shape, kinds in (data or {}).items():
            if not isinstance(kinds, Mapping):
                continue
            clean = {k: int(v) for k, v in kinds.items() if k in _KINDS and isinstance(v, int) and v > 0}
            if clean and len(book.counts) < MAX_SHAPES:
                book.counts[str(shape)] = clean
        return book

    def merge(self, urls: Iterable[str], kind: PageKind) -> None:
        for url in urls:
            self.observe(url, kind)


_KINDS = {kind.value for kind in PageKind}
