"""Kopra CSV: any well-formed export reads back to exactly the amounts and balances written."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as st

from importers import ParseContext
from importers.mandiri_kopra_csv import HEADER, IMPORTER
from reconcile.model import Direction
from reconcile.money import format_amount, from_sen
from reconcile.validate import prove

MOVES = st.lists(st.tuples(st.booleans(), st.integers(1, 10**11)), min_size=1, max_size=30)


@settings(max_examples=100, deadline=None)
@given(MOVES, st.integers(0, 10**12), st.booleans())
@example([(True, 50000000), (False, 50000000)], 0, True)  # both chains hold: times decide
def test_generated_kopra_file_reads_back_exactly(
    moves: list[tuple[bool, int]], opening_sen: int, newest_first: bool
) -> None:
    balance = opening_sen
    lines = []
    for i, (is_credit, sen) in enumerate(moves):
        balance += sen if is_credit else -sen
        credit, debit = (sen, 0) if is_credit else (0, sen)
        lines.append(
            f"1370010136428;IDR;02 March 2026 08:{i // 60:02d}:{i % 60:02d};"
            f"MCM InhouseTrf DARI BUDI SANTOSO 90417;x;{format_amount(from_sen(credit))};"
            f"{format_amount(from_sen(debit))};{format_amount(from_sen(balance))}"
        )
    body = lines[::-1] if newest_first and len(lines) > 1 else lines
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "kopra.csv"
        path.write_text("\r\n".join([HEADER, *body]) + "\r\n", encoding="utf-8")
        [st_] = IMPORTER.parse(path, ParseContext(as_of=date(2026, 3, 31)))
    prove(path.name, st_)
    got = [(t.direction is Direction.CR, int(t.amount * 100)) for t in st_.transactions]
    assert got == moves
    assert st_.closing_balance == from_sen(balance)
