"""Idempotency keys: repeats share a key, genuine twins get distinct occurrences."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import replace
from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

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


def test_keys_are_the_ones_earlier_versions_stored() -> None:
    # a changed key would make every line of a re-imported export new again
    assert dedup_key(BASE) == "7f80024ea22a08b0f1eec5bc83665b01660a488ff6f9e2807f4217cc4d828d91"
    pend = replace(BASE, posted_on=None, balance=Decimal("900000.00"))
    assert dedup_key(pend) == "1fd9601f186e7086fe9d1a5a0f30a3c4d1fed260ee63875190df75876f6cbacb"


def _spelled_out_key(t: Transaction) -> str:
    desc = " ".join(t.description.split()).upper()
    if t.balance is not None:
        material = f"B|{t.direction.value}|{t.amount:f}|{t.balance:f}|{desc}"
    else:
        day = t.posted_on.isoformat() if t.posted_on else "PEND"
        material = f"D|{day}|{t.direction.value}|{t.amount:f}|{desc}"
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


amounts = st.decimals(min_value=0, max_value=10**12, places=2, allow_nan=False)
rows = st.builds(
    lambda account, day, direction, amount, balance, description: replace(
        BASE,
        account_no=account,
        posted_on=day,
        direction=direction,
        amount=amount,
        balance=balance,
        description=description,
    ),
    st.sampled_from(["002901124296507", "0372543386"]),
    st.one_of(st.none(), st.dates(date(2025, 12, 1), date(2026, 3, 31))),
    st.sampled_from(list(Direction)),
    st.one_of(amounts, st.sampled_from([Decimal("1E+3"), Decimal("5.0"), Decimal("0")])),
    st.one_of(st.none(), amounts),
    st.one_of(st.text(max_size=12), st.sampled_from(["TRF A", "trf  a", " TRF A\n"])),
)


@given(st.lists(rows, max_size=12))
def test_keys_and_occurrences_are_the_spelled_out_hash_counted_per_account(
    lines: list[Transaction],
) -> None:
    counted: Counter[tuple[str, str]] = Counter()
    expected = []
    for t in lines:
        key = _spelled_out_key(t)
        counted[(t.account_no, key)] += 1
        expected.append((key, counted[(t.account_no, key)]))
    assert keys_with_occurrence(lines) == expected
