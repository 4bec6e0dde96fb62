"""The value parsers the BCA importers use: round trips of generated values, and garbage only
ever raises the project's own ValueFormatError (or RowError / FileRejected at file level)."""

from __future__ import annotations

import calendar
import contextlib
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from importers.base import ParseContext
from importers.bca_api_json import parse_api_amount
from importers.bca_common import (
    RowDate,
    account_number,
    parse_amount_and_direction,
    parse_count,
    parse_period,
    parse_row_date,
    resolve_date,
)
from importers.bca_klikbca_bisnis_html import table_rows
from importers.bca_klikbca_individual import IMPORTER as INDIVIDUAL
from importers.remarks.bca import parse_bca_remarks
from reconcile.errors import FileRejected, ValueFormatError
from reconcile.model import Direction
from reconcile.money import format_amount, format_amount_en

SEN = st.integers(min_value=0, max_value=10**15)
DATES = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))


@given(SEN, st.sampled_from(["CR", "DB"]))
def test_bisnis_amount_with_direction_round_trips(sen: int, suffix: str) -> None:
    amount = Decimal(sen) / 100
    assert parse_amount_and_direction(f"{format_amount_en(amount)} {suffix}") == (
        amount,
        Direction(suffix),
    )


@given(SEN)
def test_api_amount_string_round_trips(sen: int) -> None:
    amount = Decimal(sen) / 100
    assert parse_api_amount(format_amount(amount)) == amount


@given(DATES, st.sampled_from(["'", "`", ""]))
def test_full_row_date_round_trips_with_any_guard(d: date, guard: str) -> None:
    text = f"{guard}{d:%d/%m/%Y}"
    rd = parse_row_date(text)
    assert resolve_date(rd, text) == d


@given(DATES, st.integers(min_value=0, max_value=364))
def test_year_less_date_takes_the_latest_year_not_after_as_of(d: date, ahead: int) -> None:
    as_of = d + timedelta(days=ahead)
    if d.month == 2 and d.day == 29 and ahead > 0:
        return  # 29/02 has its own rule (latest leap year), tested below
    text = f"'{d:%d/%m}"
    assert resolve_date(parse_row_date(text), text, as_of=as_of) == d


def test_leap_day_without_year_takes_the_latest_leap_year() -> None:
    assert resolve_date(parse_row_date("'29/02"), "'29/02", as_of=date(2027, 1, 5)) == date(
        2024, 2, 29
    )


@given(DATES, st.integers(min_value=0, max_value=40))
def test_year_less_date_inside_a_period_over_new_year(start: date, length: int) -> None:
    end = start + timedelta(days=length)
    day = start + timedelta(days=length // 2)
    if day.month == 2 and day.day == 29:
        return
    text = f"{day:%d/%m}"
    assert resolve_date(parse_row_date(text), text, period=(start, end)) == day


def test_pend_is_pending_with_or_without_guard() -> None:
    assert parse_row_date("'PEND") == RowDate(pending=True)
    assert parse_row_date("PEND") == RowDate(pending=True)


def test_impossible_date_is_refused_not_shifted() -> None:
    with pytest.raises(ValueFormatError) as info:
        resolve_date(parse_row_date("'31/02"), "'31/02", as_of=date(2026, 3, 31))
    assert str(info.value) == "cannot read '31/02'; expected a real day/month dd/mm"


@given(DATES, DATES)
def test_period_round_trips_or_refuses_a_reversed_one(a: date, b: date) -> None:
    text = f"{a:%d/%m/%Y} - {b:%d/%m/%Y}"
    if b < a:
        with pytest.raises(ValueFormatError):
            parse_period(text)
    else:
        assert parse_period(text) == (a, b)


@given(st.integers(min_value=0, max_value=10**6))
def test_footer_count_with_nbsp_reads_as_the_number(n: int) -> None:
    assert parse_count(f"\u00a0{n}") == n


@given(st.text())
def test_garbage_values_raise_only_value_format_error(text: str) -> None:
    for parse in (parse_row_date, parse_amount_and_direction, parse_count, parse_period):
        with contextlib.suppress(ValueFormatError):
            parse(text)


@given(st.one_of(st.text(), st.from_regex(r"'?\d{1,2}/\d{1,2}(/\d{4})?", fullmatch=True)))
def test_garbage_row_date_never_resolves_to_a_wrong_date(text: str) -> None:
    """Whatever the cell holds, a date comes out only as the day and month it shows, its own
    year when it shows one, else the latest such day on or before the run date."""
    as_of = date(2026, 3, 31)
    try:
        rd = parse_row_date(text)
        if rd.pending:
            return
        got = resolve_date(rd, text, as_of=as_of)
    except ValueFormatError:
        return
    assert (got.day, got.month) == (rd.day, rd.month)
    if rd.year is not None:
        assert got.year == rd.year
    else:  # the latest such day on or before the run date
        assert got <= as_of
        for year in range(got.year + 1, as_of.year + 1):
            if rd.month != 2 or rd.day != 29 or calendar.isleap(year):
                assert date(year, rd.month, rd.day) > as_of


@given(st.text())
def test_remarks_parser_never_raises(text: str) -> None:
    r = parse_bca_remarks(text)
    assert r.sender_name is None or r.sender_name == r.sender_name.strip()


def test_account_number_drops_guard_and_keeps_mangled_values_for_the_check() -> None:
    assert account_number("'0372543386") == "0372543386"
    assert account_number("`037-254-3386") == "0372543386"
    assert account_number("3.72543E+09") == "3.72543E+09"


def test_html_rows_are_numbered_over_the_whole_document_and_unclosed_cells_close() -> None:
    html = (
        "<TABLE><TR><TD><B>Nama</B><TD><FONT><B> RINA&nbsp;WULANDARI </B></FONT></TABLE>"
        "<TABLE><TR><TD>a &amp; b<TD>  two  spaces  <TR><TD>x</TD></TR></TABLE>"
    )
    assert table_rows(html) == [
        (1, ["Nama", " RINA WULANDARI "]),
        (2, ["a & b", "  two  spaces  "]),
        (3, ["x"]),
    ]


@given(st.binary(max_size=400))
def test_individual_importer_on_garbage_raises_only_file_rejected(
    tmp_path_factory: pytest.TempPathFactory, data: bytes
) -> None:
    path = tmp_path_factory.mktemp("g") / "garbage.csv"
    path.write_bytes(b"Account No.,=,'0372543386\r\n" + data)
    with contextlib.suppress(FileRejected):
        INDIVIDUAL.parse(path, ParseContext(as_of=date(2026, 3, 31)))


def test_individual_row_with_too_few_fields_names_line_and_layout(tmp_path: Path) -> None:
    path = tmp_path / "cut.csv"
    path.write_text(
        "Account No.,=,'0372543386\nName,=,RINA WULANDARI\nCurrency,=,IDR\n\n"
        "Date,Description,Branch,Amount,,Balance\n'02/03/2026,BIAYA ADM,'0998\n\n"
        "Starting Balance,=,10000.00\nCredit,=,\nDebet,=,10000.00\nEnding Balance,=,.00\n"
    )
    with pytest.raises(FileRejected) as info:
        INDIVIDUAL.parse(path, ParseContext(as_of=date(2026, 3, 31)))
    assert str(info.value) == (
        "cut.csv: line 6, column 'Date': cannot read \"'02/03/2026,BIAYA ADM,'0998\"; "
        "expected 6 fields: Date, description, Branch, Amount, CR/DB, Balance"
    )


@given(st.integers(min_value=1, max_value=10**15), st.sampled_from(["CR", "DB"]))
def test_bisnis_signed_amount_is_refused_not_stored_negative(sen: int, direction: str) -> None:
    text = f"-{format_amount_en(Decimal(sen) / 100)} {direction}"
    with pytest.raises(ValueFormatError) as info:
        parse_amount_and_direction(text)
    assert info.value.expected == "a positive amount followed by CR or DB"
    assert parse_amount_and_direction(text[1:]) == (Decimal(sen) / 100, Direction[direction])
