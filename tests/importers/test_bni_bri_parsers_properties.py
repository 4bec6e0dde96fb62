"""Property tests for the value parsers the BNI, BRI and MT940 importers use."""

from __future__ import annotations

import contextlib
from datetime import date, datetime, time
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from importers.bni_bnidirect_csv import parse_bni_datetime
from importers.bni_bnidirect_xls import serial_to_datetime
from importers.bri_estatement_csv import parse_bri_datetime, parse_jam_tran
from importers.mt940 import SWIFT_LINE, account_from_tag25, bank_of_account, join_details
from reconcile.errors import ValueFormatError
from reconcile.money import format_amount, format_amount_en, parse_amount_en, parse_amount_plain

MOMENTS = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31))
SEN = st.integers(min_value=0, max_value=10**15)


@given(SEN)
def test_english_amount_round_trips(sen: int):
    amount = Decimal(sen) / 100
    assert parse_amount_en(format_amount_en(amount)) == amount


@given(SEN)
def test_plain_amount_round_trips(sen: int):
    amount = Decimal(sen) / 100
    assert parse_amount_plain(format_amount(amount)) == amount


@given(st.text())
def test_amount_garbage_raises_only_value_format_error(text: str):
    for parse in (parse_amount_en, parse_amount_plain):
        with contextlib.suppress(ValueFormatError):
            parse(text)


@given(MOMENTS)
def test_bni_datetime_round_trips_with_two_digit_year(moment: datetime):
    text = moment.strftime("%d/%m/%y %H.%M.%S")
    assert parse_bni_datetime(text) == moment.replace(microsecond=0)


@given(st.text())
def test_bni_datetime_garbage_raises_only_value_format_error(text: str):
    with contextlib.suppress(ValueFormatError):
        parse_bni_datetime(text)


@given(MOMENTS)
def test_bri_datetime_round_trips(moment: datetime):
    assert parse_bri_datetime(moment.strftime("%Y-%m-%d %H:%M:%S")) == moment.replace(microsecond=0)


@given(st.times())
def test_jam_tran_without_leading_zeros_round_trips(t: time):
    text = str(int(t.strftime("%H%M%S")))
    assert parse_jam_tran(text) == t.replace(microsecond=0)


@given(st.text())
def test_bri_date_and_time_garbage_raise_only_value_format_error(text: str):
    for parse in (parse_bri_datetime, parse_jam_tran):
        with contextlib.suppress(ValueFormatError):
            parse(text)


@given(MOMENTS, st.booleans())
def test_excel_serial_round_trips_to_the_second(moment: datetime, date1904: bool):
    base = date(1904, 1, 1) if date1904 else date(1899, 12, 30)
    seconds = moment.hour * 3600 + moment.minute * 60 + moment.second
    serial = (moment.date() - base).days + seconds / 86400
    assert serial_to_datetime(serial, date1904=date1904) == moment.replace(microsecond=0)


@given(st.text())
def test_excel_serial_text_garbage_raises_only_value_format_error(text: str):
    with contextlib.suppress(ValueFormatError):
        serial_to_datetime(text, date1904=False)


def test_formats_example_serial_is_the_morning_of_2_march_2026():
    assert serial_to_datetime(46083.3442, date1904=False) == datetime(2026, 3, 2, 8, 15, 39)


def test_jam_tran_examples_from_the_format():
    assert (parse_jam_tran("81542"), parse_jam_tran("426")) == (time(8, 15, 42), time(0, 4, 26))


def test_impossible_jam_tran_is_rejected():
    with pytest.raises(ValueFormatError) as info:
        parse_jam_tran("256000")
    assert str(info.value) == "cannot read '256000'; expected a real time HHMMSS, such as 81542"


@given(st.lists(st.text(alphabet="ABC 0123|", min_size=1, max_size=70), min_size=1, max_size=5))
def test_mt940_details_hard_wrap_rejoins_without_a_space(chunks: list[str]):
    text = "".join(c.strip() or "X" for c in chunks)
    lines = [text[i : i + SWIFT_LINE] for i in range(0, len(text), SWIFT_LINE)]
    if all(not line.endswith(" ") for line in lines[:-1]):
        assert join_details("\n".join(lines)) == text


def test_mt940_account_and_bank():
    assert account_from_tag25("CENAIDJA/0372543386") == "0372543386"
    ours = {"1370010136428": "mandiri", "0495227030": "bni", "002901124296507": "bri"}
    assert bank_of_account("0495227030", ours) == "bni"
    assert bank_of_account("2901124296507", ours) == "bri"  # leading zeros lost in Excel
    assert bank_of_account("1234567890", ours) == ""
