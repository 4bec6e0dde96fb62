"""Indonesian banking days (formats.md §11.3)."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from reconcile.calendar import BankingCalendar

CAL = BankingCalendar()


def test_same_day_is_zero_banking_days() -> None:
    assert CAL.distance(date(2026, 3, 3), date(2026, 3, 3)) == 0


def test_friday_to_monday_is_one_banking_day() -> None:
    assert CAL.distance(date(2026, 3, 6), date(2026, 3, 9)) == 1


def test_weekend_days_are_closed() -> None:
    assert not CAL.is_banking_day(date(2026, 3, 7))  # Saturday
    assert not CAL.is_banking_day(date(2026, 3, 8))  # Sunday
    assert CAL.is_banking_day(date(2026, 3, 9))


def test_national_holidays_from_the_holidays_package_are_closed() -> None:
    assert not CAL.is_banking_day(date(2026, 3, 19))  # Nyepi
    assert not CAL.is_banking_day(date(2026, 8, 17))  # Independence Day
    assert not CAL.is_banking_day(date(2026, 12, 25))


def test_configured_cuti_bersama_is_closed() -> None:
    with_leave = BankingCalendar([date(2026, 3, 20)])
    assert CAL.is_banking_day(date(2026, 3, 20))
    assert not with_leave.is_banking_day(date(2026, 3, 20))
    assert CAL.distance(date(2026, 3, 18), date(2026, 3, 24)) == 3
    assert with_leave.distance(date(2026, 3, 18), date(2026, 3, 24)) == 2


def test_distance_backwards_is_negative() -> None:
    assert CAL.distance(date(2026, 3, 9), date(2026, 3, 6)) == -1


def test_adding_banking_days_skips_weekend_and_holiday() -> None:
    assert CAL.add_one(date(2026, 3, 18), 1) == date(2026, 3, 20)
    assert BankingCalendar([date(2026, 3, 20)]).add_one(date(2026, 3, 18), 1) == date(2026, 3, 23)


def test_distances_are_vectorised_over_series() -> None:
    start = pd.Series(pd.to_datetime(["2026-03-02", "2026-03-06", "2026-03-18"]))
    end = pd.Series(pd.to_datetime(["2026-03-06", "2026-03-09", "2026-03-24"]))
    assert CAL.distances(start, end).tolist() == [4, 1, 3]


@given(st.dates(date(2016, 1, 1), date(2039, 12, 31)), st.integers(0, 60))
def test_distance_never_exceeds_calendar_days(start: date, days: int) -> None:
    end = start + timedelta(days=days)
    assert 0 <= CAL.distance(start, end) <= days
    # backwards numpy counts (end, start]: the open days at either end swap places
    opened = int(CAL.is_banking_day(end)) - int(CAL.is_banking_day(start))
    assert -CAL.distance(end, start) == CAL.distance(start, end) + opened
