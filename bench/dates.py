"""Vietnamese date parsing: govnews's strict parser against dateparser, same strings, same run.

    python bench/dates.py [--rounds 2000]

Prints µs per string for each parser and which strings each one could not read.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

STRINGS = [
    "Thứ năm - 14/12/2023 04:21",
    "Ngày 25-06-2020",
    "Cập nhật lúc 10:30, 12/05/2024",
    "10:30 | 12/05/2024",
    "Đăng ngày: 02/01/2024 07:45",
    "ngày 5 tháng 3 năm 2024",
    "Thứ Ba, 29.11.2022 - 07:56:45",
    "2023-12-14T04:21:00+07:00",
    "16/05/2025 05:30:00",
    "Cập nhật: Thứ Ba, ngày 14/01/2020",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2000)
    args = parser.parse_args()
    from dateparser.date import DateDataParser

    from crawler.text.vn_dates import parse_vn_date

    dp = DateDataParser(
        languages=["vi"],
        settings={"DATE_ORDER": "DMY", "RETURN_AS_TIMEZONE_AWARE": True, "TIMEZONE": "Asia/Ho_Chi_Minh"},
    )
    parsers = {
        "govnews parse_vn_date": lambda text: parse_vn_date(text, fallback=False),
        "dateparser (vi, DMY)": lambda text: dp.get_date_data(text).date_obj,
    }
    rows = []
    for name, parse in parsers.items():
        missed = [text for text in STRINGS if parse(text) is None]
        rounds = args.rounds if name.startswith("govnews") else max(args.rounds // 20, 5)
        start = time.perf_counter()
        for _ in range(rounds):
            for text in STRINGS:
                parse(text)
        per = (time.perf_counter() - start) / (rounds * len(STRINGS)) * 1e6
        rows.append((name, per, missed))
    base = rows[1][1]
    print(f"{len(STRINGS)} date strings")
    print(f"{'parser':24} {'µs/string':>10} {'speed-up':>8}  unreadable")
    for name, per, missed in rows:
        print(f"{name:24} {per:10.1f} {base / per:8.1f}  {len(missed)}: {'; '.join(missed) or '-'}")


if __name__ == "__main__":
    main()
