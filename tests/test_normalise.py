"""Unicode and whitespace normalisation of Vietnamese text."""

from __future__ import annotations

import unicodedata

from crawler.text.normalise import clean_multiline, clean_text


def test_nfd_becomes_nfc():
    nfd = unicodedata.normalize("NFD", "Nghệ An – Đảng bộ")
    assert nfd != "Nghệ An – Đảng bộ"
    assert clean_text(nfd) == "Nghệ An – Đảng bộ"


def test_entities_decoded_and_zero_width_removed():
    assert clean_text("nh&acirc;n s&#7921; \u200bKH&amp;CN\ufeff") == "nhân sự KH&CN"


def test_whitespace_folded_inside_paragraph():
    assert clean_text("  Hội \n\t nghị\u00a0 tổng   kết ") == "Hội nghị tổng kết"


def test_control_characters_and_nul_dropped():
    assert clean_text("Tin\x00 tức\x07") == "Tin tức"


def test_paragraphs_kept_apart():
    assert clean_multiline("Một\n\n\n  Hai  \n \nBa") == "Một\n\nHai\n\nBa"


def test_c1_controls_and_bidi_overrides_dropped():
    """U+009B opens a terminal escape sequence; U+202E shows "gpj.exe" as "exe.jpg" (audit)."""
    assert clean_text("Tin\x9b31m đỏ\x9b0m") == "Tin31m đỏ0m"
    assert clean_text("ảnh\u202egpj.exe") == "ảnhgpj.exe"
    assert clean_text("a\u2066b\u2067c\u2068d\u2069e\u200ef\u200fg\u061ch") == "abcdefgh"
    assert clean_text("dòng\x85mới") == "dòng mới", "NEL is a line break: folded to a space, not glued"


def test_printable_and_terminal_safe_json():
    import json

    from crawler.text.normalise import printable, terminal_safe_json

    assert printable("a\tb\nc\x9bd\u202ee\x85f\u2028g\u2029h") == "a b c d e f g h"
    line = terminal_safe_json(json.dumps({"t": "x\x9by\u202ez"}, ensure_ascii=False))
    assert "\x9b" not in line
    assert "\u202e" not in line
    assert json.loads(line) == {"t": "x\x9by\u202ez"}
