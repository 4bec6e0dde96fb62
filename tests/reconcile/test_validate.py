"""Statement proof and account check, one situation per test, exact messages."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from reconcile.errors import FileRejected
from reconcile.model import Direction, Statement, Transaction
from reconcile.validate import validate

OURS = {
    "1370010136428": "mandiri",
    "0372543386": "bca",
    "0495227030": "bni",
    "002901124296507": "bri",
}


def row(line: int, direction: str, amount: str, balance: str | None, day: int = 2) -> Transaction:
    return Transaction(
        bank="bca",
        layout="bca_klikbca_individual",
        account_no="0372543386",
        posted_on=date(2026, 3, day),
        direction=Direction(direction),
        amount=Decimal(amount),
        description=f"row {line}",
        source_line=line,
        balance=Decimal(balance) if balance else None,
    )


def statement(rows: list[Transaction], **kw: object) -> Statement:
    base: dict[str, object] = {
        "bank": "bca",
        "layout": "bca_klikbca_individual",
        "account_no": "0372543386",
        "transactions": rows,
    }
    base.update(kw)
    return Statement(**base)  # type: ignore[arg-type]


GOOD = [row(6, "CR", "1500000.00", "16500000.00"), row(7, "DB", "10000.00", "16490000.00", 3)]


def test_statement_that_adds_up_passes_and_gets_its_period_from_the_rows() -> None:
    [st] = validate(
        "a.csv",
        [
            statement(
                list(GOOD),
                opening_balance=Decimal("15000000.00"),
                closing_balance=Decimal("16490000.00"),
                total_credit=Decimal("1500000.00"),
                total_debit=Decimal("10000.00"),
            )
        ],
        OURS,
    )
    assert (st.period_start, st.period_end) == (date(2026, 3, 2), date(2026, 3, 3))
    assert st.warnings == []


def test_hand_edited_amount_breaks_the_running_balance_at_its_line() -> None:
    rows = [row(6, "CR", "1500001.00", "16500000.00"), row(7, "DB", "10000.00", "16490000.00")]
    with pytest.raises(FileRejected) as info:
        validate("a.csv", [statement(rows, opening_balance=Decimal("15000000.00"))], OURS)
    assert str(info.value) == (
        "a.csv: running balance breaks at line 6: printed 16500000.00, expected 16500001.00 "
        "(previous balance + credit - debit)"
    )


def test_closing_balance_that_does_not_follow_from_the_movements_is_rejected() -> None:
    st = statement(
        [row(6, "CR", "100.00", None)],
        opening_balance=Decimal("1000.00"),
        closing_balance=Decimal("1200.00"),
    )
    with pytest.raises(FileRejected) as info:
        validate("b.csv", [st], OURS)
    assert str(info.value) == (
        "b.csv: opening balance 1000.00 + credits 100.00 - debits 0.00 = 1100.00, "
        "but the closing balance is 1200.00"
    )


def test_footer_credit_total_and_counts_are_control_values() -> None:
    with pytest.raises(FileRejected) as info:
        validate("c.csv", [statement(list(GOOD), total_credit=Decimal("1600000.00"))], OURS)
    assert (
        str(info.value) == "c.csv: credit rows add up to 1500000.00 but the footer says 1600000.00"
    )
    with pytest.raises(FileRejected) as info:
        validate("c.csv", [statement(list(GOOD), count_debit=2)], OURS)
    assert str(info.value) == "c.csv: file has 1 debit rows but the footer counts 2"


def test_newest_first_export_is_read_in_reverse_with_a_warning() -> None:
    [st] = validate(
        "d.csv", [statement(list(reversed(GOOD)), opening_balance=Decimal("15000000.00"))], OURS
    )
    assert [t.source_line for t in st.transactions] == [6, 7]
    assert st.warnings == ["rows were newest-first; read in reverse order"]


def test_foreign_account_is_rejected_naming_the_number() -> None:
    with pytest.raises(FileRejected) as info:
        validate("e.csv", [statement([], account_no="1234567890")], OURS)
    assert str(info.value) == (
        "e.csv: statement is for account 1234567890, which is not one of the company's accounts"
    )


def test_our_account_in_another_banks_layout_is_rejected() -> None:
    with pytest.raises(FileRejected) as info:
        validate("f.csv", [statement([], account_no="1370010136428")], OURS)
    assert str(info.value) == (
        "f.csv: statement is for account 1370010136428, which is the company's MANDIRI account, "
        "but the file is a BCA layout (bca_klikbca_individual)"
    )


def test_account_that_lost_its_leading_zero_in_excel_is_ours_with_a_warning() -> None:
    [st] = validate("g.csv", [statement(list(GOOD), account_no="372543386")], OURS)
    assert st.account_no == "0372543386"
    assert {t.account_no for t in st.transactions} == {"0372543386"}
    assert st.warnings == [
        "account number 372543386 lost its leading zeros (the file went through Excel); "
        "read as 0372543386"
    ]


def test_account_in_scientific_notation_cannot_be_recovered() -> None:
    with pytest.raises(FileRejected) as info:
        validate("h.csv", [statement([], account_no="3.72543E+09")], OURS)
    assert str(info.value) == (
        "h.csv: account number '3.72543E+09' is in scientific notation (the file went through "
        "Excel); it cannot be recovered: export the statement again"
    )


def test_foreign_currency_is_rejected() -> None:
    with pytest.raises(FileRejected) as info:
        validate("i.csv", [statement([], currency="USD")], OURS)
    assert str(info.value) == "i.csv: statement currency is USD; only IDR accounts are reconciled"


def test_statement_without_movements_is_valid_when_opening_equals_closing() -> None:
    [st] = validate(
        "j.csv",
        [statement([], opening_balance=Decimal("5.00"), closing_balance=Decimal("5.00"))],
        OURS,
    )
    assert st.transactions == [] and st.period_start is None


# dates: inside the period the file prints, never after the run date (a misread date would make
# statements_until believe the account is covered to a day no statement covers)


def test_rows_up_to_the_run_date_and_inside_the_printed_period_pass() -> None:
    st = statement(list(GOOD), period_start=date(2026, 3, 2), period_end=date(2026, 3, 3))
    [checked] = validate("a.csv", [st], OURS, as_of=date(2026, 3, 3))
    assert (checked.period_start, checked.period_end) == (date(2026, 3, 2), date(2026, 3, 3))


def test_a_row_dated_after_the_run_date_rejects_the_file() -> None:
    rows = [GOOD[0], row(7, "DB", "10000.00", "16490000.00", 4)]  # 4 March, run on the 3rd
    with pytest.raises(FileRejected) as info:
        validate("us.csv", [statement(rows)], OURS, as_of=date(2026, 3, 3))
    assert str(info.value) == (
        "us.csv: line 7: dated 2026-03-04, after the run date 2026-03-03; "
        "expected no row from the future (a misread date?)"
    )
    # without a run date (a reader's own check), the rows give the period
    [st] = validate("us.csv", [statement(rows)], OURS)
    assert st.period_end == date(2026, 3, 4)


def test_a_row_outside_the_printed_period_rejects_the_file() -> None:
    early = replace(GOOD[0], posted_on=date(2025, 3, 2))
    st = statement([early, GOOD[1]], period_start=date(2026, 3, 2), period_end=date(2026, 3, 3))
    with pytest.raises(FileRejected) as info:
        validate("bisnis.csv", [st], OURS, as_of=date(2026, 3, 10))
    assert str(info.value) == (
        "bisnis.csv: line 6: dated 2025-03-02, outside the period 2026-03-02 to 2026-03-03 the "
        "statement prints; expected every row inside it"
    )


def test_a_printed_period_ending_after_the_run_date_is_taken_to_end_on_it() -> None:
    """A month's period asked for mid-month: its rows are checked, and the statement is taken
    to cover the days up to the run date only (statements_until must not run into the
    future), with a warning; a row after the run date still rejects the file."""
    st = statement(list(GOOD), period_start=date(2026, 3, 1), period_end=date(2026, 3, 31))
    [checked] = validate("livin.xlsx", [st], OURS, as_of=date(2026, 3, 10))
    assert (checked.period_start, checked.period_end) == (date(2026, 3, 1), date(2026, 3, 10))
    assert checked.warnings[-1] == (
        "the statement prints a period ending 2026-03-31, after the run date 2026-03-10: "
        "taken to cover the days up to the run date"
    )
    late = [GOOD[0], row(7, "DB", "10000.00", "16490000.00", 12)]
    with pytest.raises(FileRejected) as info:
        validate("livin.xlsx", [replace(st, transactions=late)], OURS, as_of=date(2026, 3, 10))
    assert str(info.value) == (
        "livin.xlsx: line 7: dated 2026-03-12, after the run date 2026-03-10; "
        "expected no row from the future (a misread date?)"
    )


def test_pend_rows_without_a_date_are_not_checked() -> None:
    pend = replace(GOOD[1], posted_on=None)
    [st] = validate("p.csv", [statement([GOOD[0], pend])], OURS, as_of=date(2026, 3, 2))
    assert [t.posted_on for t in st.transactions] == [date(2026, 3, 2), None]
