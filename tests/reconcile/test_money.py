"""reconcile.money: one strict parser per written syntax, exact round trips, typed errors."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconcile.errors import ValueFormatError
from reconcile.money import (
    decimal_from_cell,
    format_amount,
    format_amount_en,
    format_amount_id,
    from_sen,
    parse_amount_en,
    parse_amount_id,
    parse_amount_plain,
    to_sen,
)

SEN = st.integers(min_value=-(10**15), max_value=10**15)


def test_indonesian_amount_with_thousands_dots_and_decimal_comma() -> None:
    assert parse_amount_id("1.500.000,00") == Decimal("1500000.00")
    assert parse_amount_id("26.500.000,50") == Decimal("26500000.50")
    assert parse_amount_id(",00") == Decimal("0.00")
    assert parse_amount_id("165000") == Decimal("165000.00")


def test_indonesian_syntax_refuses_english_separators() -> None:
    with pytest.raises(ValueFormatError) as info:
        parse_amount_id("1,500,000.00")
    assert str(info.value) == "cannot read '1,500,000.00'; expected an amount such as 1.500.000,00"


def test_one_point_five_hundred_means_fifteen_hundred_only_in_indonesian() -> None:
    assert parse_amount_id("1.500") == Decimal("1500.00")
    assert parse_amount_plain("1.50") == Decimal("1.50")
    with pytest.raises(ValueFormatError):
        parse_amount_plain("1.500")


def test_empty_cell_is_zero_only_when_the_layout_allows_it() -> None:
    assert parse_amount_id("", allow_empty=True) == Decimal("0.00")
    assert parse_amount_en(" ", allow_empty=True) == Decimal("0.00")
    with pytest.raises(ValueFormatError):
        parse_amount_id("")


def test_english_and_plain_amounts_with_mcm_zero() -> None:
    assert parse_amount_en("1,500,000.00") == Decimal("1500000.00")
    assert parse_amount_en(".00") == Decimal("0.00")
    assert parse_amount_plain("26500000") == Decimal("26500000.00")


def test_excel_float_cell_is_rounded_to_the_sen_through_its_repr() -> None:
    assert decimal_from_cell(1500000.0000001) == Decimal("1500000.00")
    assert decimal_from_cell(1234.56) == Decimal("1234.56")
    with pytest.raises(ValueFormatError):
        decimal_from_cell(True)


def test_sen_conversion_refuses_fractions_of_a_sen() -> None:
    assert to_sen(Decimal("1500000.17")) == 150000017
    assert from_sen(150000017) == Decimal("1500000.17")
    with pytest.raises(ValueFormatError):
        to_sen(Decimal("0.005"))


@given(SEN)
def test_indonesian_amount_round_trips(sen: int) -> None:
    amount = from_sen(sen)
    text = format_amount_id(amount)
    assert parse_amount_id(text) == amount
    assert "," in text and text.count(",") == 1


@given(SEN)
def test_english_and_plain_amounts_round_trip(sen: int) -> None:
    amount = from_sen(sen)
    assert parse_amount_en(format_amount_en(amount)) == amount
    assert parse_amount_plain(format_amount(amount)) == amount
    assert to_sen(amount) == sen


@given(st.text())
def test_garbage_raises_only_value_format_error(text: str) -> None:
    for parse in (parse_amount_id, parse_amount_en, parse_amount_plain):
        try:
            result = parse(text)
        except ValueFormatError as exc:
            assert exc.value == text
        else:
            assert result == result.quantize(Decimal("0.01"))


def test_digits_of_other_scripts_are_not_an_amount() -> None:
    # str.isdigit / \d accept Arabic-Indic and fullwidth digits; a bank export never has them
    import pytest

    from reconcile.errors import ValueFormatError
    from reconcile.money import parse_amount_en, parse_amount_id, parse_amount_plain

    for parse, text in (
        (parse_amount_plain, "١٢٣"),
        (parse_amount_en, "１,５００"),
        (parse_amount_id, "١.٢٣٤"),
    ):
        with pytest.raises(ValueFormatError):
            parse(text)
