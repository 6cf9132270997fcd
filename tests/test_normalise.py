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
