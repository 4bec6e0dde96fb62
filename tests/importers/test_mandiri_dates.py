"""Month-name dates and WIB times of the Mandiri layouts (importers/mandiri_common.py)."""

from __future__ import annotations

from datetime import date, time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from importers.mandiri_common import (
    MonthNameMoments,
    parse_month_name_date,
    parse_month_name_datetime,
    parse_wib_time,
)
from reconcile.errors import ValueFormatError

ENGLISH = ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"]  # fmt: skip
INDONESIAN = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
              "September", "Oktober", "November", "Desember"]  # fmt: skip
INDONESIAN_ABBR = ["Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov",
                   "Des"]  # fmt: skip


def test_kopra_post_date_with_english_month_and_time() -> None:
    assert parse_month_name_datetime("02 March 2026 08:15:42") == (
        date(2026, 3, 2),
        time(8, 15, 42),
    )


def test_livin_date_with_indonesian_abbreviation() -> None:
    assert parse_month_name_date("17 Agu 2025") == date(2025, 8, 17)
    assert parse_month_name_date("24 Des 2025") == date(2025, 12, 24)


def test_impossible_day_is_refused_with_the_value() -> None:
    with pytest.raises(ValueFormatError) as info:
        parse_month_name_date("31 Feb 2026")
    assert str(info.value) == (
        "cannot read '31 Feb 2026'; expected a real calendar date such as 02 Mar 2026"
    )


def test_unknown_month_word_is_refused() -> None:
    with pytest.raises(ValueFormatError) as info:
        parse_month_name_date("02 Mars 2026")
    assert info.value.expected == "a date such as 02 March 2026 or 02 Mar 2026"


def test_livin_time_row_with_wib_suffix() -> None:
    assert parse_wib_time("08:15:42 WIB") == time(8, 15, 42)
    assert parse_wib_time("23:59:59") == time(23, 59, 59)
    with pytest.raises(ValueFormatError):
        parse_wib_time("24:00:00 WIB")


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2099, 12, 31)), st.integers(0, 2))
def test_month_name_dates_round_trip(day: date, style: int) -> None:
    names = (ENGLISH, INDONESIAN, INDONESIAN_ABBR)[style]
    text = f"{day.day:02d} {names[day.month - 1]} {day.year}"
    assert parse_month_name_date(text) == day


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2099, 12, 31)), st.times())
def test_kopra_post_dates_round_trip(day: date, clock: time) -> None:
    clock = clock.replace(microsecond=0)
    text = f"{day.day:02d} {ENGLISH[day.month - 1]} {day.year} {clock:%H:%M:%S}"
    assert parse_month_name_datetime(text) == (day, clock)


@given(st.text())
def test_garbage_dates_and_times_raise_only_value_format_error(text: str) -> None:
    for parse in (parse_month_name_datetime, parse_wib_time):
        try:
            parse(text)
        except ValueFormatError as exc:
            assert exc.value == text


def _reading(read: object, text: str) -> object:
    try:
        return read(text)  # type: ignore[operator]
    except ValueFormatError as exc:
        return ("error", exc.value, exc.expected)


post_date_text = st.one_of(
    st.text(max_size=30),
    st.builds(
        lambda d, m, y, sep, clock: f"{d}{sep}{m}{sep}{y} {clock}",
        st.integers(0, 40).map(lambda n: f"{n:02d}"),
        st.sampled_from([*ENGLISH, *INDONESIAN_ABBR, "Mrt", "mar", "MAY"]),
        st.sampled_from(["2026", "1999", "26"]),
        st.sampled_from([" ", "-", "  "]),
        st.from_regex(
            r"[0-9]{1,2}[:.][0-9]{2}([:.][0-9]{2})?|[0-9]{2}:[0-9]{2}:[0-9]{2}", fullmatch=True
        ),
    ),
)


@given(st.lists(post_date_text, min_size=1, max_size=8))
def test_memoised_post_dates_read_as_the_full_reading_does(texts: list[str]) -> None:
    moments = MonthNameMoments()
    for text in [*texts, *texts]:  # the second pass reads from the memo
        assert _reading(moments, text) == _reading(parse_month_name_datetime, text)
