"""Vietnamese date strings, including impossible and hostile ones."""

from __future__ import annotations

import time

import pytest

from crawler.text.vn_dates import parse_php_t_format, parse_vn_date

LOCAL = "+07:00"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Thứ năm - 14/12/2023 04:21", "2023-12-14T04:21:00" + LOCAL),
        ("Ngày 25-06-2020", "2020-06-25T00:00:00" + LOCAL),
        ("Cập nhật lúc 10:30, 12/05/2024", "2024-05-12T10:30:00" + LOCAL),
        ("10:30 | 12/05/2024", "2024-05-12T10:30:00" + LOCAL),
        ("Đăng ngày: 02/01/2024 07:45", "2024-01-02T07:45:00" + LOCAL),
        ("ngày 5 tháng 3 năm 2024", "2024-03-05T00:00:00" + LOCAL),
        ("NGÀY 5 THÁNG 3, 2024 | 08:15", "2024-03-05T08:15:00" + LOCAL),
        ("Thứ Ba, 29.11.2022 - 07:56:45", "2022-11-29T07:56:45" + LOCAL),
        ("Cập nhật: Thứ Ba, ngày 14/01/2020", "2020-01-14T00:00:00" + LOCAL),
        ("Cập nhật, 12:53, Chủ Nhật, 13/05/2018 (GMT+7)", "2018-05-13T12:53:00" + LOCAL),
        ("16/05/2025 05:30:00", "2025-05-16T05:30:00" + LOCAL),
        ("03/11/2022 13:45", "2022-11-03T13:45:00" + LOCAL),
        ("12/05/2024 02:15 PM", "2024-05-12T14:15:00" + LOCAL),
        ("2023-12-14T04:21:00+07:00", "2023-12-14T04:21:00" + LOCAL),
        ("2023-12-13T21:21:00Z", "2023-12-13T21:21:00+00:00"),
        ("2024-08-15 11:20", "2024-08-15T11:20:00" + LOCAL),
    ],
)
def test_parses(text, expected):
    moment = parse_vn_date(text)
    assert moment is not None
    assert moment.isoformat() == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "31/02/2024 10:00",  # no 31 February
        "14/13/2023",  # month 13
        "00/10/2023",
        "14/12/2023 25:61",  # impossible clock
        "01/01/0001",  # before the web
        "01/01/9999",
        "2023-02-30",
        "Xem thêm",
        "1" * 10_000,  # hostile length
        "/" * 5000 + "12/12/2023",
        "<script>alert(1)</script>",
        "\x00\x00 14/12/2023",
    ],
)
def test_refuses_impossible_and_hostile(text):
    moment = parse_vn_date(text)
    if text.startswith("\x00"):
        assert moment is not None
        assert moment.year == 2023
    else:
        assert moment is None


def test_never_returns_naive_or_now():
    for text in ("Thứ năm - 14/12/2023 04:21", "ngày 5 tháng 3 năm 2024", "2024-08-15 11:20"):
        moment = parse_vn_date(text)
        assert moment.tzinfo is not None
        assert moment.year < 2026


@pytest.mark.parametrize(
    ("meta", "expected"),
    [
        ("2023-12-14+0704:21:00", "2023-12-14T04:21:00+07:00"),
        ("2025-08-15+0709:00:00", "2025-08-15T09:00:00+07:00"),
        ("2023-12-14ICT04:21:00", "2023-12-14T04:21:00+07:00"),
        ("2023-12-14T04:21:00+07:00", "2023-12-14T04:21:00+07:00"),
        ("2023-12-14UTC21:21:00", "2023-12-14T21:21:00+00:00"),
    ],
)
def test_nukeviet_php_t_meta(meta, expected):
    assert parse_php_t_format(meta).isoformat() == expected


def test_pathological_input_is_fast():
    start = time.perf_counter()
    for text in ("1/" * 50_000, "ngày " * 20_000, "9" * 100_000 + ":"):
        parse_vn_date(text)
    assert time.perf_counter() - start < 2.0, "date parsing must stay linear on hostile input"
