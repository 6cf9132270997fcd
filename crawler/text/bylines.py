"""The "Nguồn: …" line Vietnamese editors end a body with, and byline prefixes.

Editors type the source as the body's last paragraph in many shapes:
``<p><em>Nguồn: X</em></p>``, ``<p><strong>Nguồn: <a href=URL>X</a></strong></p>``,
``<p>(Nguồn: X)</p>``, ``Nguồn tin: X``. The line names where the text comes
from; it is not part of the body.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin

from lxml import etree

from crawler.text.blocks import BLOCK_TAGS, element_text, tag_of

_SOURCE = re.compile(r"^\(?\s*(?:Nguồn(?:\s+tin)?|Theo)\s*[:：]\s*(?P<name>.+?)\s*\)?\s*\.?$", re.IGNORECASE)
SOURCE_LINE = re.compile(r"^\(?\s*Nguồn(?:\s+tin)?\s*[:：]\s*(?P<name>.+?)\s*\)?\s*\.?$", re.IGNORECASE)
"""A paragraph that is only a "Nguồn: …" / "(Nguồn tin: …)" line."""
_BY_PREFIX = re.compile(r"^\s*(?:By|Bởi|Tác giả|Người viết|Viết bởi|Posted by)\s*[:：]?\s+", re.IGNORECASE)
_MAX_SOURCE_LINE = 300  # characters; longer is a paragraph that happens to start with "Theo"


@dataclass(frozen=True, slots=True)
class SourceLine:
    name: str
    url: str | None
    element: etree._Element


def trailing_source(body: etree._Element, base_url: str, skip: frozenset = frozenset()) -> SourceLine | None:
    """The body's last text block when it is a "Nguồn: …" line."""
    blocks = [e for e in body.iter() if tag_of(e) in ("p", "div", "h6", "h5", "em", "strong") and element_text(e)]
    for block in reversed(blocks):
        if block in skip or any(a in skip for a in block.iterancestors()):
            continue
        parent = block.getparent()
        inline = tag_of(block) in ("em", "strong") and parent is not None and parent is not body
        if inline and element_text(parent) != element_text(block):
            continue  # a bold label inside the line ("<p><strong>Nguồn:</strong> X</p>"): read the line
        if any(tag_of(child) in BLOCK_TAGS for child in block.iter() if child is not block):
            continue
        text = element_text(block)
        if len(text) > _MAX_SOURCE_LINE:
            return None
        match = _SOURCE.match(text)
        if not match or (text.lower().startswith("theo") and not block.xpath(".//em|.//i|.//strong|.//b")):
            return None
        while (
            block.getparent() is not None and block.getparent() is not body and element_text(block.getparent()) == text
        ):
            block = block.getparent()
        links = [a.get("href") for a in block.iter("a") if a.get("href")]
        url = urljoin(base_url, links[0]) if links and links[0].startswith(("http", "/")) else None
        return SourceLine(match.group("name").strip(" ()"), url, block)
    return None


def strip_by(text: str) -> str:
    """ "By Lê Minh Tuấn" -> "Lê Minh Tuấn"."""
    return _BY_PREFIX.sub("", text).strip()
