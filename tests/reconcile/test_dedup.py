"""Idempotency keys: repeats share a key, genuine twins get distinct occurrences."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from reconcile.dedup import dedup_key, keys_with_occurrence
from reconcile.model import Direction, Transaction

BASE = Transaction(
    bank="bri",
    layout="bri_estatement_csv",
    account_no="002901124296507",
    posted_on=date(2026, 3, 2),
    direction=Direction.CR,
    amount=Decimal("500000.00"),
    description="NBMB BUDI SANTOSO TO RINA WULANDARI",
    source_line=2,
)


def test_whitespace_and_case_of_the_description_do_not_change_the_key() -> None:
    other = replace(BASE, description="nbmb  budi santoso to rina   wulandari", source_line=9)
    assert dedup_key(BASE) == dedup_key(other)


def test_identical_twin_transfers_in_one_file_get_occurrences_1_and_2() -> None:
    keys = keys_with_occurrence([BASE, replace(BASE, source_line=3)])
    assert keys[0][0] == keys[1][0]
    assert [occ for _, occ in keys] == [1, 2]


def test_pending_row_and_its_posted_twin_share_the_key_when_a_balance_is_printed() -> None:
    pend = replace(BASE, posted_on=None, pending=True, balance=Decimal("900000.00"))
    posted = replace(BASE, posted_on=date(2026, 3, 3), balance=Decimal("900000.00"))
    assert dedup_key(pend) == dedup_key(posted)


def test_same_amount_on_another_day_without_balance_is_another_transaction() -> None:
    assert dedup_key(BASE) != dedup_key(replace(BASE, posted_on=date(2026, 3, 3)))


def test_direction_and_amount_are_part_of_the_key() -> None:
    assert dedup_key(BASE) != dedup_key(replace(BASE, direction=Direction.DB))
    assert dedup_key(BASE) != dedup_key(replace(BASE, amount=Decimal("500000.01")))
