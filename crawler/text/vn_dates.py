"""Strict, day-first parsing of the dates Vietnamese portals print.

Portals print local time (Asia/Ho_Chi_Minh) in a handful of shapes
("Thứ năm - 14/12/2023 04:21", "Cập nhật lúc 10:30, 12/05/2024",
"ngày 5 tháng 3 năm 2024", "Thứ Ba, 29.11.2022 - 07:56:45", ISO 8601).
A few precompiled patterns read them in microseconds; dateparser is only the
last resort, configured day-first. Anything impossible gives ``None``: the
caller counts it; we never fall back to the crawl time.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")

# Dates before the web or far in the future are garbage, not news.
MIN_YEAR = 1990
MAX_YEAR = 2100
_MAX_INPUT = 200  # longer strings are not a date line; refuse before any regex runs

_ISO = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?"
)
# NukeViet prints PHP date('Y-m-dTH:i:s') where T is the zone *abbreviation*:
# "2023-12-14+0704:21:00", "2023-12-14ICT04:21:00".
_PHP_T = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})([+-]\d{2}(?::?\d{2})?|[A-Za-z]{1,5})(\d{2}):(\d{2})(?::(\d{2}))?\s*$")
_DMY = re.compile(r"(?<!\d)(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4})(?!\d)")
_TIME = re.compile(
    r"(?<![\d:])(\d{1,2})\s*[:hH]\s*(\d{2})(?:\s*:\s*(\d{2}))?"
    r"(?:\s*([AaPp])\.?[Mm]\.?|\s*(SA|CH|sáng|chiều|trưa|tối)\b)?(?![\d:])",
    re.IGNORECASE,
)
# Vietnamese AM/PM words (Java's vi_VN prints SA/CH; WordPress's vi locale sáng/chiều).
_MERIDIEM_WORDS = {"sa": "a", "sáng": "a", "ch": "p", "chiều": "p", "tối": "p", "trưa": "p"}
# Month names as WordPress's vi and en locales print them ("Tháng Bảy 20, 2023", "July 20, 2023").
_VI_MONTHS = {
    "mười một": 11,
    "mười hai": 12,
    "một": 1,
    "giêng": 1,
    "hai": 2,
    "ba": 3,
    "tư": 4,
    "bốn": 4,
    "năm": 5,
    "sáu": 6,
    "bảy": 7,
    "tám": 8,
    "chín": 9,
    "mười": 10,
    "chạp": 12,
}
_EN_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_MONTH_WORD = (
    r"(?P<month>tháng\s+(?:"
    + "|".join(_VI_MONTHS)
    + r"|\d{1,2})|th\s?\d{1,2}|"
    + "|".join(sorted(_EN_MONTHS, key=len, reverse=True))
    + r")\.?"
)
_MONTH_FIRST = re.compile(_MONTH_WORD + r"\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?\s*,?\s*(?P<year>\d{4})", re.IGNORECASE)
_DAY_FIRST = re.compile(
    r"(?<!\d)(?P<day>\d{1,2})\s+(?:of\s+)?" + _MONTH_WORD + r"\s*,?\s*(?:năm\s+)?(?P<year>\d{4})", re.IGNORECASE
)
_WORDS = re.compile(r"ngày\s+(\d{1,2})\s+tháng\s+(\d{1,2})\s*(?:,|năm)?\s*(\d{4})", re.IGNORECASE)
_ABBREVIATIONS = {"ICT": 7, "UTC": 0, "GMT": 0, "Z": 0}


def _zone(offset: str | None, default: tzinfo) -> tzinfo | None:
    if not offset:
        return default
    if offset in ("Z", "z"):
        return UTC
    if offset[0] in "+-":
        digits = offset[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
        if hours > 14 or minutes > 59:
            return None
        delta = timedelta(hours=hours, minutes=minutes)
        return timezone(-delta if offset[0] == "-" else delta)
    hours_abbr = _ABBREVIATIONS.get(offset.upper())
    return default if hours_abbr is None else timezone(timedelta(hours=hours_abbr))


def _build(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, tz: tzinfo | None = VN_TZ
) -> datetime | None:
    if tz is None or not (MIN_YEAR <= year <= MAX_YEAR):
        return None
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=tz)
    except ValueError:  # 31/02, 25:00 ...
        return None


def parse_iso(value: str, default_tz: tzinfo = VN_TZ) -> datetime | None:
    """ISO 8601 (also the "YYYY-MM-DD HH:MM" variant); a naive value is taken as local time."""
    match = _ISO.search(value)
    if not match:
        return None
    year, month, day, hour, minute, second, offset = match.groups()
    return _build(
        int(year),
        int(month),
        int(day),
        int(hour or 0),
        int(minute or 0),
        int(second or 0),
        _zone(offset, default_tz),
    )


def parse_php_t_format(value: str, default_tz: tzinfo = VN_TZ) -> datetime | None:
    """NukeViet's malformed ``article:*_time`` metas; also accepts correct ISO 8601."""
    if not value or len(value) > _MAX_INPUT:
        return None
    match = _PHP_T.match(value)
    if not match:
        return parse_iso(value, default_tz)
    year, month, day, zone, hour, minute, second = match.groups()
    return _build(int(year), int(month), int(day), int(hour), int(minute), int(second or 0), _zone(zone, default_tz))


def parse_vn_date(value: str | None, default_tz: tzinfo = VN_TZ, *, fallback: bool = True) -> datetime | None:
    """Parse a date as Vietnamese portals print it; timezone-aware, or ``None``."""
    if not value:
        return None
    text = " ".join(value.split())
    if not text or len(text) > _MAX_INPUT:
        return None
    if re.match(r"^\s*\d{4}-\d{1,2}-\d{1,2}", text):
        return parse_php_t_format(text, default_tz)
    found = _DMY.search(text)
    if found:
        day, month, year = (int(g) for g in found.groups())
    else:
        words = _WORDS.search(text)
        if words:
            day, month, year = (int(g) for g in words.groups())
            found = words
        else:
            named = _MONTH_FIRST.search(text) or _DAY_FIRST.search(text)
            month_number = _month_number(named.group("month")) if named else None
            if named is None or month_number is None:
                return _dateparser(text, default_tz) if fallback else None
            day, month, year = int(named.group("day")), month_number, int(named.group("year"))
            found = named
    hour = minute = second = 0
    rest = text[: found.start()] + " " + text[found.end() :] if found else text
    clock = _TIME.search(rest)
    if clock:
        hour, minute = int(clock.group(1)), int(clock.group(2))
        second = int(clock.group(3) or 0)
        meridiem = (clock.group(4) or _MERIDIEM_WORDS.get((clock.group(5) or "").lower(), "")).lower()
        if meridiem:
            if not 1 <= hour <= 12:
                return None
            hour = hour % 12 + (12 if meridiem == "p" else 0)
    return _build(year, month, day, hour, minute, second, default_tz)


def _month_number(word: str) -> int | None:
    """ "Tháng Bảy" / "tháng 7" / "Th7" / "July" / "Jul" -> 7."""
    text = " ".join(word.lower().rstrip(".").split())
    if text.startswith("tháng "):
        rest = text[6:]
        number = int(rest) if rest.isdigit() else _VI_MONTHS.get(rest)
    elif text.startswith("th") and text[2:].strip().isdigit():
        number = int(text[2:].strip())
    else:
        number = _EN_MONTHS.get(text)
    return number if number is not None and 1 <= number <= 12 else None


@lru_cache(maxsize=1)
def _dateparser_instance():  # heavy import, only when the strict patterns fail
    from dateparser.date import DateDataParser

    return DateDataParser(
        languages=["vi", "en"],
        settings={"DATE_ORDER": "DMY", "PREFER_DATES_FROM": "past", "RETURN_AS_TIMEZONE_AWARE": False},
    )


def _dateparser(text: str, default_tz: tzinfo) -> datetime | None:
    try:
        data = _dateparser_instance().get_date_data(text)
    except Exception:  # dateparser raises on some hostile input; a bad date is just no date
        return None
    moment = data.date_obj if data else None
    if moment is None or not (MIN_YEAR <= moment.year <= MAX_YEAR):
        return None
    return moment.replace(tzinfo=default_tz) if moment.tzinfo is None else moment


def parse_feed_date(value: str | None) -> datetime | None:
    """A feed item's date: RSS ``pubDate`` (RFC 822 with its zone) or Atom ``published`` (ISO 8601)."""
    if not value or len(value) > _MAX_INPUT:
        return None
    from email.utils import parsedate_to_datetime

    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        moment = parse_iso(value)
    return moment if moment is not None and moment.tzinfo is not None else None


def iso(moment: datetime | None, tz: tzinfo = VN_TZ) -> str | None:
    """ISO 8601 with offset, in the portal's zone (what readers of the portal saw); a moment the zone
    cannot show (the last hours of year 9999 are year 10000 in Vietnam) in its own offset, never an
    exception while exporting or printing what the store holds."""
    if moment is None:
        return None
    try:
        return moment.astimezone(tz).isoformat()
    except OverflowError:
        return moment.isoformat()
