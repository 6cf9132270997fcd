"""Text normalisation shared by every parser and pipeline.

Vietnamese text reaches us in NFD, in NFC and with "old-style" tone-mark
placement mixed together; comparing, deduplicating and searching all need one
form, so everything stored goes through :func:`clean_text`.
"""

from __future__ import annotations

import html
import re
import unicodedata

# Zero-width and invisible formatting characters editors paste from Word/Zalo.
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e]")
# Control characters other than tab/newline, NUL included; the C1 controls (U+0080-U+009F: U+009B
# opens a terminal escape sequence); the bidirectional embeddings, overrides and isolates and the
# direction marks (U+202E shows "gpj.exe" as "exe.jpg"): Vietnamese text needs none of them.
# U+0085 (NEL) is left to the space folding, which takes it for a line break.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]")
_DROPPED = re.compile(f"{_INVISIBLE.pattern[:-1]}{_CONTROL.pattern[1:]}")  # both sets, removed in one pass
_BLANK_LINES = re.compile(r"\n\s*\n+")


# + the line and paragraph separators U+2028/U+2029, which break a line for terminals and splitlines()
_UNPRINTABLE = re.compile(f"[\t\n\r\x85\u2028\u2029{_CONTROL.pattern[1:-1]}]")
_JSON_UNSAFE = re.compile(f"[\x85\u2028\u2029{_CONTROL.pattern[1:-1]}]")


def printable(value: str | None) -> str:
    """A stored value as one terminal-safe line: every control (tab and newline included, which
    would break a tab-separated line) and bidi override a space. For text that reached the store
    before :func:`clean_text` dropped them, or that was written by other tools."""
    return _UNPRINTABLE.sub(" ", value) if value else ""


def terminal_safe_json(line: str) -> str:
    """A JSON text with the C1 controls and bidi overrides escaped (``json.dumps(ensure_ascii=False)``
    escapes only U+0000-U+001F): the same JSON, safe to print to a terminal."""
    return _JSON_UNSAFE.sub(lambda match: f"\\u{ord(match.group()):04x}", line)


def nfc(value: str) -> str:
    """Compose to NFC: text typed with combining marks (NFD, VNI-style input methods)
    and precomposed text then compare equal. Tone placement (hòa/hoà) is kept as
    written: both spellings are in official use and the page is the record."""
    return unicodedata.normalize("NFC", value)


def clean_text(value: str | None) -> str:
    """One paragraph: entities decoded, NFC, invisible characters dropped, spaces folded."""
    if not value:
        return ""
    if "&" in value:
        value = html.unescape(value)
    value = _DROPPED.sub("", value)
    value = nfc(value)
    # spaces folded: every run of whitespace (newlines included) one space, none at the ends
    return " ".join(value.split())


def clean_multiline(value: str | None) -> str:
    """Text made of paragraphs: each paragraph cleaned, paragraphs joined by a blank line."""
    if not value:
        return ""
    paragraphs = (clean_text(part) for part in _BLANK_LINES.split(value))
    return "\n\n".join(p for p in paragraphs if p)


def clean_or_none(value: str | None) -> str | None:
    cleaned = clean_text(value)
    return cleaned or None
