"""Dates as the exports write them: day first, sometimes without a year (formats.md §3, §11.2).

Pure functions; the as-of date is always passed in, never read from the clock.
"""

from __future__ import annotations

import calendar
import functools
import re
from datetime import date, datetime, timedelta

from reconcile.errors import ValueFormatError

EXCEL_EPOCH = date(1899, 12, 30)
EXCEL_EPOCH_1904 = date(1904, 1, 1)

_DMY = re.compile(r"([0-9]{1,2})[/.\-]([0-9]{1,2})[/.\-]([0-9]{4}|[0-9]{2})")
_DM = re.compile(r"([0-9]{1,2})[/.\-]([0-9]{1,2})")


def _make(y: int, m: int, d: int, text: str, expected: str) -> date:
    try:
        return date(y, m, d)
    except ValueError as exc:
        raise ValueFormatError(text, expected) from exc


def parse_dmy(text: str) -> date:
    """'02/03/2026' | '2/3/2026' | '02-03-26' | '02.03.2026' -> date; two-digit years are 20yy."""
    s = text.strip().lstrip("'`")
    m = _DMY.fullmatch(s)
    if not m:
        raise ValueFormatError(text, "a date dd/mm/yyyy")
    d, mo, y = int(m[1]), int(m[2]), int(m[3])
    if len(m[3]) == 2:
        y += 2000
    return _make(y, mo, d, text, "a real calendar date dd/mm/yyyy")


def parse_iso(text: str) -> date:
    """'2026-03-02' (optionally followed by a time) -> date."""
    s = text.strip()
    try:
        return datetime.strptime(s[:10], "%Y-%m-%d").date()  # noqa: DTZ007 - a date only
    except ValueError as exc:
        raise ValueFormatError(text, "a date yyyy-mm-dd") from exc


def year_for_day_month(day: int, month: int, as_of: date, text: str = "") -> date:
    """A year-less day/month seen on or before ``as_of`` (BCA Individual, formats.md §3.1).

    Take the as-of year; if that falls after as_of, the year before. 29/02 takes the latest
    leap year not after as_of. An impossible date such as 31/02 raises.
    """
    label = text or f"{day:02d}/{month:02d}"
    if not (1 <= month <= 12) or not (1 <= day <= 31):
        raise ValueFormatError(label, "a real day/month dd/mm")
    if month == 2 and day == 29:
        y = as_of.year
        while True:
            if calendar.isleap(y) and date(y, 2, 29) <= as_of:
                return date(y, 2, 29)
            y -= 1
    candidate = _make(as_of.year, month, day, label, "a real day/month dd/mm")
    if candidate > as_of:
        candidate = _make(as_of.year - 1, month, day, label, "a real day/month dd/mm")
    return candidate


def year_in_period(day: int, month: int, start: date, end: date, text: str = "") -> date:
    """A year-less day/month inside a statement period (may span a year end, formats.md §3.3)."""
    label = text or f"{day:02d}/{month:02d}"
    if start.year == end.year:
        year = start.year
    else:
        year = start.year if month >= start.month else end.year
    return _make(year, month, day, label, "a real day/month inside the statement period")


def parse_day_month(text: str) -> tuple[int, int]:
    """'02/03' -> (2, 3) without checking the calendar (the year is not known yet)."""
    s = text.strip().lstrip("'`")
    m = _DM.fullmatch(s)
    if not m:
        raise ValueFormatError(text, "a date dd/mm")
    return int(m[1]), int(m[2])


def excel_serial_to_date(serial: float | int, *, date1904: bool = False) -> date:
    """Excel serial day number -> date (day 0 = 1899-12-30, or 1904-01-01 with the 1904 flag)."""
    base = EXCEL_EPOCH_1904 if date1904 else EXCEL_EPOCH
    whole = int(serial)
    if whole <= 0 or whole > 2958465:
        raise ValueFormatError(str(serial), "an Excel date serial number")
    return base + timedelta(days=whole)


@functools.lru_cache(maxsize=8192)  # pure; a statement repeats the same few (DDMM, day) pairs
def initiation_date(ddmm: str, posted_on: date) -> date | None:
    """'0203' in a row posted 2026-03-03 -> 2026-03-02; a DDMM after the posting date is last year.

    Returns None when the four digits are not a real day/month (a reference, not a date).
    """
    if len(ddmm) != 4 or not ddmm.isdigit():
        return None
    day, month = int(ddmm[:2]), int(ddmm[2:])
    for year in (posted_on.year, posted_on.year - 1):
        try:
            d = date(year, month, day)
        except ValueError:
            continue
        if d <= posted_on:
            return d
    return None
