"""Turn an article body (an lxml element) into reader-visible paragraphs and captions.

One paragraph per block (``p``, heading, list item, ``div`` holding text); one per
table row with its cells joined by `` | ``; images, captions, embeds and scripts
left out. Captions come out separately, each tied to the image it describes,
whatever markup the editor used: ``figure > figcaption``, WordPress
``.wp-caption-text``, an image table with the caption in the next cell or row,
or the centred / italic paragraph right after an image paragraph.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import urljoin

from lxml import etree, html

from crawler.text.normalise import clean_text

BLOCK_TAGS = frozenset(
    [
        "p",
        "div",
        "section",
        "article",
        "main",
        "header",
        "footer",
        "aside",
        "blockquote",
        "figure",
        "center",
        "ul",
        "ol",
        "li",
        "dl",
        "dt",
        "dd",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "pre",
        "table",
        "thead",
        "tbody",
        "tfoot",
        "tr",
        "address",
        "hr",
        "details",
        "summary",
        "nav",
        "form",
        "fieldset",
    ]
)
# Never reader text of the article: media, embeds, code, forms and their widgets.
SKIP_TAGS = frozenset(
    [
        "script",
        "style",
        "noscript",
        "template",
        "iframe",
        "object",
        "embed",
        "video",
        "audio",
        "source",
        "track",
        "picture",
        "img",
        "svg",
        "math",
        "figcaption",
        "canvas",
        "map",
        "button",
        "input",
        "select",
        "textarea",
        "option",
        "label",
        "head",
        "title",
        "meta",
        "link",
    ]
)
_CAPTION_MAX = 400  # characters; a longer "caption" is a paragraph of the body


@dataclass(frozen=True, slots=True)
class Caption:
    image_url: str
    caption: str

    def as_dict(self) -> dict[str, str]:
        return {"image_url": self.image_url, "caption": self.caption}


def tag_of(element: etree._Element) -> str:
    tag = element.tag
    return tag.lower() if isinstance(tag, str) else ""


def element_text(element: etree._Element) -> str:
    """Visible text of one element (scripts and media left out), folded to one line."""
    parts: list[str] = [element.text or ""]
    # an explicit stack, not recursion: hostile pages nest thousands of levels deep
    stack: list[tuple[etree._Element, bool]] = [(child, True) for child in reversed(element)]
    while stack:
        node, entering = stack.pop()
        if not entering:
            parts.append(node.tail or "")
            continue
        tag = tag_of(node)
        if not tag or tag in SKIP_TAGS:
            parts.append(node.tail or "")
            continue
        if tag == "br":
            parts.append(" ")
        parts.append(node.text or "")
        stack.append((node, False))
        stack.extend((child, True) for child in reversed(node))
    return clean_text("".join(parts))


def paragraphs(body: etree._Element, skip: Iterable[etree._Element] = ()) -> list[str]:
    """Reader paragraphs of ``body``; elements in ``skip`` (captions, bylines) are left out."""
    skipped = frozenset(skip)
    out: list[str] = []
    buffer: list[str] = [body.text or ""]
    stack: list[tuple[etree._Element, bool]] = [(child, True) for child in reversed(body)]
    while stack:  # iterative walk: no recursion limit on deeply nested markup
        node, entering = stack.pop()
        tag = tag_of(node)
        if not entering:
            if tag in BLOCK_TAGS:
                _flush(out, buffer)
            buffer.append(node.tail or "")
            continue
        if not tag or tag in SKIP_TAGS or node in skipped:
            buffer.append(node.tail or "")
            continue
        if tag == "tr":
            _flush(out, buffer)
            cells = [element_text(cell) for cell in node if tag_of(cell) in ("td", "th") and cell not in skipped]
            cells = [c for c in cells if c]
            if cells:
                out.append(" | ".join(cells))
            buffer.append(node.tail or "")
            continue
        if tag in BLOCK_TAGS:
            _flush(out, buffer)
        elif tag == "br":
            buffer.append(" ")
        buffer.append(node.text or "")
        stack.append((node, False))
        stack.extend((child, True) for child in reversed(node))
    _flush(out, buffer)
    return out


def _flush(out: list[str], buffer: list[str]) -> None:
    text = clean_text("".join(buffer))
    buffer.clear()
    if text:
        out.append(text)


def parse_fragment(markup: str) -> etree._Element:
    """A body's HTML as an element (wrapped in a ``div``), tolerant of broken markup."""
    return html.fragment_fromstring(markup or "<div></div>", create_parent="div")


def image_url(img: etree._Element, base_url: str) -> str | None:
    for attribute in ("src", "data-src", "data-original", "data-lazy-src"):
        value = (img.get(attribute) or "").strip()
        if value and not value.startswith("data:"):
            return urljoin(base_url, value)
    return None


def _images(element: etree._Element) -> list[etree._Element]:
    return [e for e in element.iter("img")]


def _italic_or_centred(element: etree._Element) -> bool:
    style = (element.get("style") or "").replace(" ", "").lower()
    if "text-align:center" in style or (element.get("align") or "").lower() == "center":
        return True
    classes = (element.get("class") or "").lower()
    if "center" in classes or "caption" in classes:
        return True
    text = element_text(element)
    emphasised = " ".join(element_text(e) for e in element.iter("em", "i"))
    return bool(text) and clean_text(emphasised) == text


_WP_CAPTION_TEXT = etree.XPath(
    ".//*[(@class and contains(concat(' ', normalize-space(@class), ' '), ' wp-caption-text '))]"
)


def find_captions(body: etree._Element, base_url: str) -> tuple[list[Caption], list[etree._Element]]:
    """Captions in page order, and the elements holding them (to keep out of the body text)."""
    found: list[tuple[etree._Element, Caption]] = []
    holders: list[etree._Element] = []
    claimed: set[etree._Element] = set()

    def add(img: etree._Element, holder: etree._Element, text: str) -> None:
        url = image_url(img, base_url)
        text = clean_text(text)
        if url and text and len(text) <= _CAPTION_MAX and img not in claimed:
            claimed.add(img)
            found.append((img, Caption(url, text)))
            holders.append(holder)

    # 1. <figure><img><figcaption> (CKEditor image2, WordPress blocks, Liferay, NukeViet)
    for figcaption in body.iter("figcaption"):
        figure = figcaption.getparent()
        if figure is not None and any(tag_of(child) == "figure" for child in figure):
            holders.append(figcaption)  # a gallery's own caption belongs to no single image
            continue
        imgs = _images(figure) if figure is not None else []
        if imgs:
            add(imgs[0], figcaption, element_text(figcaption))
    # 2. classic WordPress [caption] output without <figure>
    for holder in _WP_CAPTION_TEXT(body):
        container = holder.getparent()
        imgs = _images(container) if container is not None else []
        if imgs:
            add(imgs[0], holder, element_text(holder))
    # 3. image tables: the caption in the cell/row right after the image's
    for table in body.iter("table"):
        rows = [r for r in table.iter("tr")]
        for index, row in enumerate(rows):
            cells = [c for c in row if tag_of(c) in ("td", "th")]
            for position, cell in enumerate(cells):
                imgs = _images(cell)
                if not imgs or element_text(cell):
                    continue
                below = _cell_below(rows, index, position)
                if below is not None and element_text(below) and not _images(below):
                    add(imgs[0], below, element_text(below))
    # 4. a paragraph holding only an image, followed by a centred or italic line
    for img in list(body.iter("img")):
        if img in claimed:
            continue
        holder = _image_paragraph(img, body)
        if holder is None:
            continue
        following = holder.getnext()
        if (
            following is not None
            and tag_of(following) in ("p", "div", "em", "i", "span")
            and not _images(following)
            and _italic_or_centred(following)
        ):
            add(img, following, element_text(following))
    if len(found) > 1:
        order = {e: i for i, e in enumerate(body.iter())}
        found.sort(key=lambda pair: order.get(pair[0], 0))
    return [caption for _, caption in found], holders


def _cell_below(rows: list[etree._Element], index: int, position: int) -> etree._Element | None:
    if index + 1 >= len(rows):
        return None
    cells = [c for c in rows[index + 1] if tag_of(c) in ("td", "th")]
    return cells[position] if position < len(cells) else None


def _image_paragraph(img: etree._Element, body: etree._Element) -> etree._Element | None:
    """The block around ``img`` when the block shows nothing but the image."""
    node = img
    while node.getparent() is not None and node.getparent() is not body:
        node = node.getparent()
        if tag_of(node) in BLOCK_TAGS:
            break
    if node is img or tag_of(node) not in ("p", "div", "center", "figure"):
        return None
    if element_text(node) or len(_images(node)) != 1:
        return None
    return node


def iter_links(element: etree._Element, base_url: str) -> Iterator[tuple[str, str]]:
    """(absolute href, text) of every link under ``element``."""
    for anchor in element.iter("a"):
        href = (anchor.get("href") or "").strip()
        if href and not href.lower().startswith(("javascript:", "mailto:", "tel:", "#", "data:")):
            yield urljoin(base_url, href), element_text(anchor)
