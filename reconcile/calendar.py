"""Indonesian banking days (formats.md §11.3): no Saturdays, Sundays or national holidays.

National holidays come from the ``holidays`` package; *cuti bersama* and other decreed days off
come from ``rules.matching.extra_holidays``. Distances are vectorised with
``numpy.busday_count`` over a holiday array.

    >>> cal = BankingCalendar([date(2026, 3, 20)])
    >>> cal.distance(date(2026, 3, 18), date(2026, 3, 24))   # 19 Nyepi, 20 cuti, 21-22 weekend
    2
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import date

import holidays
import numpy as np
import numpy.typing as npt
import pandas as pd

FIRST_YEAR = 2015
LAST_YEAR = 2040


class BankingCalendar:
    """Banking days of Indonesia between FIRST_YEAR and LAST_YEAR, plus configured days off."""

    def __init__(self, extra_holidays: Iterable[date] = ()) -> None:
        days = sorted(set(_national_holidays()) | set(extra_holidays))
        self.holidays: npt.NDArray[np.datetime64] = np.array(days, dtype="datetime64[D]")
        self._busdays = np.busdaycalendar(weekmask="1111100", holidays=self.holidays)

    def is_banking_day(self, day: date) -> bool:
        return bool(np.is_busday(np.datetime64(day, "D"), busdaycal=self._busdays))

    def distance(self, start: date, end: date) -> int:
        """Banking days from ``start`` to ``end`` (negative when end is earlier)."""
        return int(self.distances(pd.Series([start]), pd.Series([end]))[0])

    def distances(self, start: pd.Series, end: pd.Series) -> npt.NDArray[np.int64]:
        """Vectorised banking-day distance ``end - start`` (days in [start, end) that are open).

        Same day: 0. Friday to Monday: 1. A Saturday credit counts from the next banking day.
        """
        a = _as_days(start)
        b = _as_days(end)
        return np.busday_count(a, b, busdaycal=self._busdays).astype(np.int64)

    def add(self, days: pd.Series, n: int | npt.NDArray[np.int64]) -> npt.NDArray[np.datetime64]:
        """Shift each date by ``n`` banking days (a closed day first rolls forward)."""
        return np.busday_offset(_as_days(days), n, roll="forward", busdaycal=self._busdays)

    def add_one(self, day: date, n: int) -> date:
        value = self.add(pd.Series([day]), n)[0]
        result: date = pd.Timestamp(value).date()
        return result


@functools.cache
def _national_holidays() -> tuple[date, ...]:
    return tuple(holidays.country_holidays("ID", years=range(FIRST_YEAR, LAST_YEAR + 1)))


def _as_days(values: pd.Series) -> npt.NDArray[np.datetime64]:
    days: npt.NDArray[np.datetime64] = pd.to_datetime(values).to_numpy(dtype="datetime64[D]")
    return days
