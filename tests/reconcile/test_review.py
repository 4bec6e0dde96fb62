"""The review loop: decisions typed into the workbook come back; undo restores exactly."""

from __future__ import annotations

import json
import shutil
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine, func, select

from reconcile import db
from reconcile.cli import main
from reconcile.config import load_rules
from reconcile.lock import run_lock
from reconcile.review import (
    apply_review,
    list_aliases,
    read_review_rows,
    remove_alias,
    undo_decision,
    undo_run,
)
from reconcile.store import make_engine
from reconcile.workbook import KEY_HEADER
from tests.reconcile.test_workbook import Run, make_rules, run_march

AS_OF = date(2026, 3, 10)
LATER = datetime(2026, 3, 11, 9, 30, 0)
MATCHING = make_rules().matching


@pytest.fixture
def march(tmp_path: Path) -> Run:
    return run_march(tmp_path)


@pytest.fixture
def engine(march: Run) -> Engine:
    return make_engine(march.db_url)


def fill(book: Path, sheet: str, decisions: dict[int, tuple[Any, ...]], target: Path) -> Path:
    """Type decisions into ``sheet`` as an accountant would: {line id: (decision, invoice,
    amount, note)}; saved under ``target``."""
    wb = load_workbook(book)
    ws = wb[sheet]
    heads = [c.value for c in ws[1]]
    line_col = heads.index("ID mutasi") + 1
    for row in range(2, ws.max_row + 1):
        line_id = ws.cell(row, line_col).value
        if line_id in decisions:
            for offset, value in enumerate(decisions[line_id]):
                ws.cell(row, 1 + offset).value = value
    wb.save(target)
    return target


def _with_line_7_set_aside(book: Path, tmp_path: Path) -> Path:
    """``book`` with line 7 (unidentified) called no customer payment: a row that applies
    beside the one a test has refused."""
    return fill(
        book, "Dana Tak Dikenal", {7: ("Bukan pembayaran pelanggan", None, None, None)},
        tmp_path / "b.xlsx",
    )  # fmt: skip


def apply(engine: Engine, path: Path) -> Any:
    return apply_review(
        engine, path, actor="rina", rules=MATCHING, as_of=AS_OF, clock=lambda: LATER
    )


def state(engine: Engine) -> dict[str, Any]:
    """Everything a review can change, without ids or timestamps."""
    with engine.connect() as conn:
        inv = {
            r.invoice_no: (r.status, r.amount_received, r.codes, r.reason)
            for r in conn.execute(select(db.invoices))
        }
        lines = {r.id: r.status for r in conn.execute(select(db.bank_lines))}
        d = db.decisions.c
        decisions = {
            r.bank_line_id: (r.status, r.rule, r.score, r.codes, r.invoice_nos, r.reason,
                             r.candidates, r.decided_by, r.signals)
            for r in conn.execute(select(db.decisions).where(d.active.is_(True)))
        }  # fmt: skip
        a = db.allocations.c
        allocs = sorted(
            (r.bank_line_id, r.invoice_no, r.amount)
            for r in conn.execute(select(db.allocations).where(a.active.is_(True)))
        )
        p = db.payer_aliases.c
        aliases = sorted(
            (r.sender_norm, r.client_key)
            for r in conn.execute(select(db.payer_aliases).where(p.removed_at.is_(None)))
        )
    return {"invoices": inv, "lines": lines, "decisions": decisions, "allocations": allocs,
            "aliases": aliases}  # fmt: skip


def invoice(engine: Engine, no: str) -> Any:
    with engine.connect() as conn:
        return conn.execute(select(db.invoices).where(db.invoices.c.invoice_no == no)).one()


def _andi_pays_for_dewi(march: Run, tmp_path: Path) -> Path:
    """The march workbook with line 5 (ANDI, Rp 300.000) assigned to Dewi's invoice #20450."""
    return fill(
        march.book, "Perlu Review",
        {5: ("Alokasikan ke tagihan", "#20450", 300000, "Dewi bayar via Andi")},
        tmp_path / "reviewed.xlsx",
    )  # fmt: skip


def test_the_workbook_reads_back_typed_decisions_with_amounts_as_decimal(
    march: Run, tmp_path: Path
) -> None:
    path = _andi_pays_for_dewi(march, tmp_path)
    rows, problems = read_review_rows(path)
    assert problems == []
    [row] = rows
    assert (row.line_id, row.run_id, row.action, row.invoice_nos) == (5, 1, "assign", ("20450",))
    assert row.amount == Decimal("300000.00") and isinstance(row.amount, Decimal)
    assert (row.sheet, row.row, row.note) == ("Perlu Review", 3, "Dewi bayar via Andi")


def test_the_workbook_saved_under_another_extension_reads_back_the_same(
    march: Run, tmp_path: Path
) -> None:
    """openpyxl refuses a path not ending .xlsx; a mail client's "reviewed.xls" is the same book."""
    path = _andi_pays_for_dewi(march, tmp_path)
    renamed = path.rename(tmp_path / "reviewed.xls")
    rows, problems = read_review_rows(renamed)
    assert problems == []
    [row] = rows
    assert (row.line_id, row.action, row.invoice_nos) == (5, "assign", ("20450",))
    assert row.amount == Decimal("300000.00")


def test_approve_and_assign_pay_invoices_learn_aliases_and_are_audited(
    march: Run, engine: Engine, tmp_path: Path
) -> None:
    path = fill(
        march.book, "Perlu Review",
        {3: ("Setujui usulan", None, None, "nama alias"),
         5: ("Alokasikan ke tagihan", "20450", None, None)},
        tmp_path / "reviewed.xlsx",
    )  # fmt: skip
    result = apply(engine, path)
    assert result.refused == []
    assert result.applied == ["'Perlu Review' row 2 (line 3)", "'Perlu Review' row 3 (line 5)"]
    paid = invoice(engine, "20450")
    assert (paid.status, paid.amount_received) == ("PAID", Decimal("300000.00"))
    assert paid.reason == "paid (reviewed by rina)"
    assert invoice(engine, "20460").amount_received == Decimal("990000.00")
    now = state(engine)
    assert now["lines"][3] == now["lines"][5] == "MATCHED"
    assert now["decisions"][5][:5] == ("MATCHED", "review", 0, "", "20450")
    assert now["decisions"][5][5] == "assigned by rina: #20450 Rp 300.000,00"
    assert now["decisions"][3][4] == "20460" and now["decisions"][3][7] == "rina"
    assert ("ANDI", "dewi@example.com") in now["aliases"]
    assert [(a["sender_norm"], a["client_key"]) for a in list_aliases(engine)] == now["aliases"]
    with engine.connect() as conn:
        audit = conn.execute(
            select(db.audit_log).where(db.audit_log.c.action.like("review_%"))
        ).all()
    assert [(a.actor, a.action, a.at) for a in audit] == [
        ("rina", "review_approve", LATER),
        ("rina", "review_assign", LATER),
    ]
    assert json.loads(audit[1].detail)["allocations"] == {"20450": "300000.00"}


def test_unknown_invoice_is_refused_and_nothing_of_the_row_applied(
    march: Run, engine: Engine, tmp_path: Path
) -> None:
    before = state(engine)
    path = fill(
        march.book, "Perlu Review", {5: ("Alokasikan ke tagihan", "29999", None, None)},
        tmp_path / "reviewed.xlsx",
    )  # fmt: skip
    result = apply(engine, path)
    assert result.applied == []
    assert result.refused == [
        "'Perlu Review' row 3 (line 5): invoice '29999' is not in the invoice list"
    ]
    assert state(engine) == before


def test_invoice_already_paid_is_refused(march: Run, engine: Engine, tmp_path: Path) -> None:
    path = fill(
        march.book, "Perlu Review", {5: ("Alokasikan ke tagihan", "20431", None, None)},
        tmp_path / "reviewed.xlsx",
    )  # fmt: skip
    result = apply(engine, path)
    assert result.refused == [
        "'Perlu Review' row 3 (line 5): invoice 20431 is already paid "
        "(Rp 1.500.000,00 received of Rp 1.500.000,00)"
    ]


def test_approving_an_ambiguous_line_asks_for_an_invoice(
    march: Run, engine: Engine, tmp_path: Path
) -> None:
    path = fill(
        march.book, "Perlu Review", {5: ("Setujui usulan", None, None, None)},
        tmp_path / "reviewed.xlsx",
    )  # fmt: skip
    assert apply(engine, path).refused == [
        "'Perlu Review' row 3 (line 5): nothing is proposed to approve (candidates 20450, "
        "20451); use 'assign to invoice' with the invoice number"
    ]


def test_part_of_a_credit_left_unallocated_is_said_and_coded_overpaid(
    march: Run, engine: Engine, tmp_path: Path
) -> None:
    """Rp 250.000 of line 5's Rp 300.000 assigned to invoice 20450: the invoice is partly
    paid, and the Rp 50.000 left over is named on the line and coded, not lost from view."""
    path = fill(
        march.book, "Perlu Review", {5: ("Alokasikan ke tagihan", "20450", 250000, None)},
        tmp_path / "reviewed.xlsx",
    )  # fmt: skip
    assert apply(engine, path).refused == []
    decided = state(engine)["decisions"][5]
    assert decided[:5] == ("MATCHED", "review", 0, "UNDERPAID;OVERPAID", "20450")
    assert decided[5] == (
        "assigned by rina: #20450 Rp 250.000,00; Rp 50.000,00 of the credit Rp 300.000,00 "
        "not allocated"
    )
    part = invoice(engine, "20450")
    assert (part.status, part.amount_received) == ("PARTIAL", Decimal("250000.00"))


@pytest.mark.parametrize(
    ("row", "decision", "refusal"),
    [
        (5, ("Alokasikan ke tagihan", None, None, None),
         "'Perlu Review' row 3 (line 5): 'assign to invoice' needs an invoice number"),
        (5, ("Alokasikan ke tagihan", "20450", 0, None),
         "'Perlu Review' row 3 (line 5): amount to allocate must be positive (got Rp 0,00)"),
        (5, ("Alokasikan ke tagihan", "20450;20451", 100000, None),
         "'Perlu Review' row 3 (line 5): an amount applies to one invoice only (got 2)"),
        (5, ("Alokasikan ke tagihan", "20450;20451", None, None),
         "'Perlu Review' row 3 (line 5): the credit Rp 300.000,00 is used up before invoice 20451"),
        (5, ("Alokasikan ke tagihan", "20432", None, None),
         "'Perlu Review' row 3 (line 5): invoice 20432 is already paid (Rp 750.000,00 received "
         "of Rp 750.000,00)"),
        (3, ("Setujui usulan", "20451", None, None),
         "'Perlu Review' row 2 (line 3): 'approve' takes the proposed invoice(s) 20460; to choose "
         "another use 'assign to invoice'"),
    ],
    ids=["no-invoice", "zero-amount", "amount-for-two", "used-up", "paid-invoice",
         "approve-another"],
)  # fmt: skip
def test_a_row_asking_what_cannot_be_done_is_refused_and_nothing_of_it_applied(
    march: Run, engine: Engine, tmp_path: Path, row: int, decision: tuple[Any, ...], refusal: str
) -> None:
    before = state(engine)
    path = fill(march.book, "Perlu Review", {row: decision}, tmp_path / "reviewed.xlsx")
    result = apply(engine, path)
    assert (result.refused, result.applied) == ([refusal], [])
    after = state(engine)
    assert (after["lines"], after["decisions"]) == (before["lines"], before["decisions"])


def test_one_credit_assigned_to_two_invoices_pays_them_in_the_order_named(
    march: Run, engine: Engine, tmp_path: Path
) -> None:
    """Line 3's Rp 990.000 to 20450 (Rp 300.000 due) and 20460 (Rp 990.000 due)."""
    path = fill(
        march.book, "Perlu Review", {3: ("Alokasikan ke tagihan", "20450;20460", None, None)},
        tmp_path / "reviewed.xlsx",
    )  # fmt: skip
    assert apply(engine, path).refused == []
    assert state(engine)["decisions"][3][:6] == (
        "MATCHED", "review", 0, "COMBINED_PAYMENT", "20450;20460",
        "assigned by rina: #20450 Rp 300.000,00, #20460 Rp 690.000,00",
    )  # fmt: skip
    first, last = invoice(engine, "20450"), invoice(engine, "20460")
    assert (first.status, first.amount_received) == ("PAID", Decimal("300000.00"))
    assert (last.status, last.amount_received, last.reason) == (
        "PARTIAL", Decimal("690000.00"),
        "partly paid; Rp 300.000,00 outstanding (reviewed by rina)",
    )  # fmt: skip


def test_a_credit_split_over_invoices_gives_each_its_outstanding_and_names_the_rest_overpaid(
    march: Run, engine: Engine, tmp_path: Path
) -> None:
    """Line 3's Rp 990.000 to 20450 and 20451 (Rp 300.000 due each): Rp 390.000 used to be
    piled on 20451 (Rp 690.000 for a Rp 300.000 invoice); it stays unallocated, named and
    coded OVERPAID, as for a single invoice given less than the credit."""
    path = fill(
        march.book, "Perlu Review", {3: ("Alokasikan ke tagihan", "20450;20451", None, None)},
        tmp_path / "reviewed.xlsx",
    )  # fmt: skip
    assert apply(engine, path).refused == []
    now = state(engine)
    assert now["decisions"][3][:6] == (
        "MATCHED", "review", 0, "COMBINED_PAYMENT;OVERPAID", "20450;20451",
        "assigned by rina: #20450 Rp 300.000,00, #20451 Rp 300.000,00; Rp 390.000,00 of the "
        "credit Rp 990.000,00 not allocated",
    )  # fmt: skip
    assert [a for a in now["allocations"] if a[0] == 3] == [
        (3, "20450", Decimal("300000.00")),
        (3, "20451", Decimal("300000.00")),
    ]
    for no in ("20450", "20451"):
        inv = invoice(engine, no)
        assert (inv.status, inv.amount_received, inv.codes, inv.reason) == (
            "PAID", Decimal("300000.00"), "", "paid (reviewed by rina)",
        )  # fmt: skip


def test_an_amount_larger_than_the_credit_is_refused(
    march: Run, engine: Engine, tmp_path: Path
) -> None:
    path = fill(
        march.book, "Dana Tak Dikenal", {7: ("Alokasikan ke tagihan", "20451", 200000, None)},
        tmp_path / "reviewed.xlsx",
    )  # fmt: skip
    assert apply(engine, path).refused == [
        "'Dana Tak Dikenal' row 2 (line 7): amount to allocate Rp 200.000,00 exceeds the credit "
        "Rp 123.456,00"
    ]


def test_an_unknown_decision_text_is_refused(march: Run, engine: Engine, tmp_path: Path) -> None:
    path = fill(march.book, "Perlu Review", {3: ("ok", None, None, None)}, tmp_path / "r.xlsx")
    [problem] = apply(engine, path).refused
    assert problem.startswith("'Perlu Review' row 2: unknown decision 'ok'; expected one of ")


def test_a_stale_row_from_an_older_decision_is_refused(
    march: Run, engine: Engine, tmp_path: Path
) -> None:
    first = fill(
        march.book, "Perlu Review", {5: ("Alokasikan ke tagihan", "20450", None, None)},
        tmp_path / "first.xlsx",
    )  # fmt: skip
    second = fill(
        march.book, "Perlu Review", {5: ("Tolak usulan", None, None, None)},
        tmp_path / "second.xlsx",
    )  # fmt: skip
    apply(engine, first)
    after_first = state(engine)
    result = apply(engine, second)
    [problem] = result.refused
    assert problem.startswith(
        "'Perlu Review' row 3 (line 5): stale row from run 1: the line was decided again by rina"
    )
    assert state(engine) == after_first


def sort_visible_columns(book: Path, sheet: str, target: Path) -> Path:
    """Sort the rows of ``sheet`` by amount (ascending) as an accountant selecting the visible
    columns only would: every column but the hidden ``review_key`` moves."""
    wb = load_workbook(book)
    ws = wb[sheet]
    heads = [c.value for c in ws[1]]
    visible = heads.index(KEY_HEADER)  # the key is the last column
    amount = heads.index("Jumlah")
    rows = [[ws.cell(r, c + 1).value for c in range(visible)] for r in range(2, ws.max_row + 1)]
    rows.sort(key=lambda values: values[amount])
    for r, values in enumerate(rows, start=2):
        for c, value in enumerate(values, start=1):
            ws.cell(r, c).value = value
    wb.save(target)
    return target


def test_a_row_sorted_apart_from_its_hidden_key_is_refused_and_the_others_apply(
    march: Run, engine: Engine, tmp_path: Path
) -> None:
    """The review sheet sorted by amount without its key column: row 2 now shows line 5
    (Rp 300.000) under line 3's key, row 3 line 3 (Rp 990.000) under line 5's. The decisions
    typed next to them are refused, not applied to the other credit; line 7 still applies."""
    before = state(engine)
    sorted_book = sort_visible_columns(march.book, "Perlu Review", tmp_path / "sorted.xlsx")
    path = fill(
        sorted_book, "Perlu Review",
        {5: ("Alokasikan ke tagihan", "20450", None, None), 3: ("Setujui usulan", None, None, None)},
        tmp_path / "a.xlsx",
    )  # fmt: skip
    path = _with_line_7_set_aside(path, tmp_path)
    result = apply(engine, path)
    assert result.refused == [
        "'Perlu Review' row 2 (line 3): the row shows line 5, Rp 300.000,00 but its hidden "
        "review_key names line 3 of Rp 990.000,00 (was the sheet sorted without the review_key "
        "column?); nothing of this row was applied: type the decision in a fresh workbook, or "
        "sort whole rows",
        "'Perlu Review' row 3 (line 5): the row shows line 3, Rp 990.000,00 but its hidden "
        "review_key names line 5 of Rp 300.000,00 (was the sheet sorted without the review_key "
        "column?); nothing of this row was applied: type the decision in a fresh workbook, or "
        "sort whole rows",
    ]
    assert result.applied == ["'Dana Tak Dikenal' row 2 (line 7)"]
    after = state(engine)
    assert (after["lines"][3], after["lines"][5], after["lines"][7]) == (
        "REVIEW", "REVIEW", "IGNORED",
    )  # fmt: skip
    assert (after["decisions"][3], after["decisions"][5]) == (
        before["decisions"][3], before["decisions"][5],
    )  # fmt: skip
    assert after["allocations"] == before["allocations"]
    assert (invoice(engine, "20450").status, invoice(engine, "20460").status) == ("OPEN", "OPEN")


def test_a_row_whose_shown_amount_is_not_its_lines_is_refused(
    march: Run, engine: Engine, tmp_path: Path
) -> None:
    wb = load_workbook(march.book)
    ws = wb["Dana Tak Dikenal"]
    ws["I2"] = 1234560  # the credit's Rp 123.456 overtyped
    wb.save(tmp_path / "edited.xlsx")
    path = fill(
        tmp_path / "edited.xlsx", "Dana Tak Dikenal",
        {7: ("Bukan pembayaran pelanggan", None, None, None)}, tmp_path / "r.xlsx",
    )  # fmt: skip
    [refused] = apply(engine, path).refused
    assert refused.startswith(
        "'Dana Tak Dikenal' row 2 (line 7): the row shows Rp 1.234.560,00 but its hidden "
        "review_key names line 7 of Rp 123.456,00"
    )
    assert state(engine)["lines"][7] == "UNMATCHED"


def runs(engine: Engine) -> list[tuple[str, str, int | None, str | None]]:
    r = db.runs.c
    with engine.connect() as conn:
        rows = conn.execute(select(r.command, r.status, r.exit_code, r.message).order_by(r.id))
        return [tuple(row) for row in rows]


def test_an_invoice_named_twice_is_refused_for_its_row_and_the_other_rows_apply(
    march: Run, engine: Engine, tmp_path: Path
) -> None:
    """'20450;20450' once aborted the whole workbook on the unique allocation constraint."""
    path = fill(
        march.book, "Perlu Review", {5: ("Alokasikan ke tagihan", "20450;20450", None, None)},
        tmp_path / "a.xlsx",
    )  # fmt: skip
    path = _with_line_7_set_aside(path, tmp_path)
    result = apply(engine, path)
    assert result.refused == [
        "'Perlu Review' row 3 (line 5): invoice 20450 is named more than once in "
        "'20450;20450'; name each invoice once"
    ]
    assert result.applied == ["'Dana Tak Dikenal' row 2 (line 7)"]
    now = state(engine)
    assert (now["lines"][5], now["lines"][7]) == ("REVIEW", "IGNORED")
    assert (invoice(engine, "20450").status, invoice(engine, "20450").amount_received) == (
        "OPEN", Decimal("0.00"),
    )  # fmt: skip
    assert runs(engine)[-1] == (
        "review", "COMPLETED", 3, "review run 2: 1 applied, 0 already applied, 1 refused",
    )  # fmt: skip


def test_an_unexpected_database_error_in_a_row_applies_nothing_and_marks_the_review_failed(
    march: Run, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import IntegrityError

    from reconcile import review

    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise IntegrityError("INSERT INTO payer_aliases", {}, Exception("disk says no"))

    before = state(engine)
    path = fill(
        march.book, "Perlu Review",
        {3: ("Tolak usulan", None, None, None), 5: ("Alokasikan ke tagihan", "20450", None, None)},
        tmp_path / "r.xlsx",
    )  # fmt: skip
    monkeypatch.setattr(review, "_learn_alias", broken)
    with pytest.raises(IntegrityError):
        apply(engine, path)
    assert state(engine) == before  # line 3's rejection, before the failing row, rolled back too
    [(command, status, code, message)] = runs(engine)[1:]
    assert (command, status, code) == ("review", "FAILED", 1)
    assert message is not None and message.startswith(
        "nothing applied: IntegrityError at 'Perlu Review' row 3 (line 5): "
    )
    assert "disk says no" in message


def test_an_unexpected_database_error_in_an_undo_marks_the_undo_failed(
    march: Run, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import OperationalError

    from reconcile import review

    path = fill(
        march.book, "Perlu Review", {5: ("Alokasikan ke tagihan", "20450", None, None)},
        tmp_path / "r.xlsx",
    )  # fmt: skip
    review_run = apply(engine, path).run_id
    after_review = state(engine)

    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise OperationalError("UPDATE invoices", {}, Exception("database is locked"))

    monkeypatch.setattr(review, "_recompute_invoice", broken)
    with pytest.raises(OperationalError):
        undo_run(engine, review_run, actor="rina", rules=MATCHING, as_of=AS_OF)
    assert state(engine) == after_review
    command, status, code, message = runs(engine)[-1]
    assert (command, status, code) == ("undo", "FAILED", 1)
    assert message is not None and message.startswith(
        "nothing applied: OperationalError at decision "
    )


def test_an_invoice_or_amount_typed_without_a_decision_is_refused_not_ignored(
    march: Run, engine: Engine, tmp_path: Path
) -> None:
    before = state(engine)
    path = fill(
        march.book, "Perlu Review",
        {3: (None, None, 990000, None), 5: (None, "20450", None, "Dewi")},
        tmp_path / "a.xlsx",
    )  # fmt: skip
    path = fill(
        path, "Dana Tak Dikenal", {7: (None, "20451", 123456, None)}, tmp_path / "b.xlsx"
    )  # fmt: skip
    result = apply(engine, path)
    assert result.refused == [
        "'Perlu Review' row 2 (line 3): decision is blank but Jumlah dialokasikan is filled; "
        "choose a decision or clear the cell",
        "'Perlu Review' row 3 (line 5): decision is blank but Alokasikan ke tagihan is filled; "
        "choose a decision or clear the cell",
        "'Dana Tak Dikenal' row 2 (line 7): decision is blank but Alokasikan ke tagihan and "
        "Jumlah dialokasikan are filled; choose a decision or clear the cell",
    ]
    assert (result.applied, result.unchanged) == ([], [])
    assert state(engine) == before
    assert runs(engine)[-1][1:3] == ("COMPLETED", 3)


def test_applying_the_same_workbook_twice_changes_nothing_the_second_time(
    march: Run, engine: Engine, tmp_path: Path
) -> None:
    path = fill(
        march.book, "Perlu Review",
        {3: ("Setujui usulan", None, None, None), 5: ("Tolak usulan", None, None, "bukan")},
        tmp_path / "reviewed.xlsx",
    )  # fmt: skip
    apply(engine, path)
    after_first = state(engine)
    again = apply(engine, path)
    assert (again.applied, again.refused) == ([], [])
    assert len(again.unchanged) == 2
    assert state(engine) == after_first


def test_reject_and_not_a_payment_leave_the_money_unallocated(
    march: Run, engine: Engine, tmp_path: Path
) -> None:
    review = fill(
        march.book, "Perlu Review", {3: ("Tolak usulan", None, None, "salah orang")},
        tmp_path / "a.xlsx",
    )  # fmt: skip
    unidentified = fill(
        review, "Dana Tak Dikenal", {7: ("Bukan pembayaran pelanggan", None, None, "refund")},
        tmp_path / "b.xlsx",
    )  # fmt: skip
    result = apply(engine, unidentified)
    assert result.refused == []
    now = state(engine)
    assert (now["lines"][3], now["lines"][7]) == ("UNMATCHED", "IGNORED")
    assert now["decisions"][3][5] == "proposed match 20460 rejected by rina: salah orang"
    assert now["decisions"][3][3] == "UNIDENTIFIED_CREDIT"
    assert now["decisions"][7][5] == "not a customer payment (decided by rina): refund"
    assert invoice(engine, "20460").status == "OPEN"
    assert now["allocations"] == before_allocations(march)


def before_allocations(march: Run) -> list[tuple[int, str, Decimal]]:
    return [
        (1, "20431", Decimal("1500000.00")),
        (2, "20440", Decimal("1243500.00")),
        (4, "20432", Decimal("750000.00")),
    ]


def test_undo_of_a_review_run_restores_the_prior_state_exactly(
    march: Run, engine: Engine, tmp_path: Path
) -> None:
    before = state(engine)
    path = fill(
        march.book, "Perlu Review",
        {3: ("Setujui usulan", None, None, None),
         5: ("Alokasikan ke tagihan", "20450", None, None)},
        tmp_path / "reviewed.xlsx",
    )  # fmt: skip
    review_run = apply(engine, path).run_id
    assert state(engine) != before
    undone = undo_run(engine, review_run, actor="rina", rules=MATCHING, as_of=AS_OF)
    assert undone.refused == [] and len(undone.undone) == 2
    assert state(engine) == before
    with engine.connect() as conn:
        d = db.decisions.c
        history = conn.execute(select(d.id, d.active, d.reverses_decision_id)).all()
    assert len(history) == 6 + 2 + 2  # nothing deleted: 6 credits auto, 2 review, 2 restoring
    assert sorted(r.reverses_decision_id for r in history if r.reverses_decision_id) == sorted(
        undone.undone
    )


def test_undo_of_one_decision_keeps_the_other_review_decisions(
    march: Run, engine: Engine, tmp_path: Path
) -> None:
    path = fill(
        march.book, "Perlu Review",
        {3: ("Setujui usulan", None, None, None),
         5: ("Alokasikan ke tagihan", "20450", None, None)},
        tmp_path / "reviewed.xlsx",
    )  # fmt: skip
    apply(engine, path)
    with engine.connect() as conn:
        d = db.decisions.c
        assigned = conn.execute(
            select(d.id).where(d.bank_line_id == 5, d.active.is_(True))
        ).scalar_one()
    result = undo_decision(engine, assigned, actor="rina", rules=MATCHING, as_of=AS_OF)
    assert result.undone == [assigned]
    assert (invoice(engine, "20450").status, invoice(engine, "20450").amount_received) == (
        "OPEN",
        Decimal("0.00"),
    )
    assert invoice(engine, "20460").status == "PAID"
    assert ("ANDI", "dewi@example.com") not in state(engine)["aliases"]
    again = undo_decision(engine, assigned, actor="rina", rules=MATCHING, as_of=AS_OF)
    assert again.refused[0].startswith(f"decision {assigned} is not active")


def test_removing_an_alias_keeps_it_in_history(march: Run, engine: Engine, tmp_path: Path) -> None:
    path = fill(
        march.book, "Perlu Review", {5: ("Alokasikan ke tagihan", "20450", None, None)},
        tmp_path / "reviewed.xlsx",
    )  # fmt: skip
    apply(engine, path)
    [alias] = list_aliases(engine)
    remove_alias(engine, alias["id"], actor="rina", clock=lambda: LATER)
    assert list_aliases(engine) == []
    [kept] = list_aliases(engine, include_removed=True)
    assert (kept["sender_norm"], kept["removed_at"]) == ("ANDI", LATER)


def _cli_setup(march: Run, tmp_path: Path) -> tuple[Path, list[str]]:
    """A rules file of the march account, and the arguments review and undo take with it."""
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        'accounts:\n  - {bank: bca, account_no: "0372543386", holder: RINA WULANDARI}\n',
        encoding="utf-8",
    )
    common = ["--rules", str(rules), "--db", march.db_url, "--as-of", "2026-03-10", "--by", "rina"]
    return rules, common


def test_cli_exit_codes_for_review_and_undo(
    march: Run, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules, common = _cli_setup(march, tmp_path)
    bad = fill(
        march.book, "Perlu Review", {5: ("Alokasikan ke tagihan", "29999", None, None)},
        tmp_path / "bad.xlsx",
    )  # fmt: skip
    assert main(["review", "apply", str(bad), *common]) == 3
    good = fill(
        march.book, "Perlu Review", {5: ("Alokasikan ke tagihan", "20450", None, None)},
        tmp_path / "good.xlsx",
    )  # fmt: skip
    assert main(["review", "apply", str(good), *common]) == 0
    out = capsys.readouterr().out
    assert "1 applied, 0 already applied, 0 refused" in out
    assert main(["aliases", "list", "--rules", str(rules), "--db", march.db_url]) == 0
    assert "ANDI\t-> dewi@example.com" in capsys.readouterr().out
    assert main(["undo", *common]) == 2  # neither --decision nor --run
    assert "give exactly one of --decision ID or --run ID" in capsys.readouterr().err
    engine = make_engine(march.db_url)
    d = db.decisions.c
    with engine.connect() as conn:
        review_run = conn.execute(select(func.max(db.runs.c.id))).scalar_one()
        [(replaced, line_id)] = conn.execute(
            select(d.id, d.bank_line_id).where(d.run_id == 1, d.active.is_(False))
        ).all()  # the automatic decision the reviewer's replaced
        in_force = conn.execute(
            select(d.id).where(d.bank_line_id == line_id, d.active.is_(True))
        ).scalar_one()
    engine.dispose()
    # a decision replaced later is not undone before the later one is
    assert main(["undo", "--decision", str(replaced), *common]) == 3
    refused = capsys.readouterr()
    assert refused.out.strip().endswith("0 decisions reversed, 1 refused")
    assert refused.err == (
        f"refused: decision {replaced} is not active (decision {in_force} is in force; "
        "undo it first)\n"
    )
    assert main(["undo", "--run", str(review_run), *common]) == 0
    assert capsys.readouterr().out.strip().endswith("1 decisions reversed, 0 refused")
    not_a_book = tmp_path / "notes.xlsx"
    shutil.copy(march.out / "bank_lines.csv", not_a_book)
    assert main(["review", "apply", str(not_a_book), *common]) == 2


def test_review_apply_and_undo_take_the_run_lock_and_exit_4_while_a_run_holds_it(
    march: Run, engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A review applied while a run matches would have its decision deactivated by that
    run: it waits for the run's lock like a second run does and, busy, applies nothing."""
    rules, common = _cli_setup(march, tmp_path)
    good = fill(
        march.book, "Perlu Review", {5: ("Alokasikan ke tagihan", "20450", None, None)},
        tmp_path / "good.xlsx",
    )  # fmt: skip
    before = state(engine)
    with run_lock(load_rules(rules), march.db_url, wait_seconds=0):
        assert main(["review", "apply", str(good), *common]) == 4
        busy = capsys.readouterr().err
        assert main(["undo", "--run", "1", *common]) == 4
        busy_undo = capsys.readouterr().err
    assert "another reconcile run is in progress on sqlite:///" in busy
    assert busy.endswith(
        "(waited 0 s for it); this run did nothing. Apply good.xlsx again once it has "
        "finished; raise schedule.lock_wait_seconds in rules.yaml to wait longer.\n"
    )
    assert "Undo again once it has finished" in busy_undo
    assert state(engine) == before
    with engine.connect() as conn:
        assert conn.execute(select(db.runs.c.command)).scalars().all() == ["run"]
    assert main(["review", "apply", str(good), *common]) == 0
    assert invoice(engine, "20450").status == "PAID"


# ---------------------------------------------------------------------------------------------
# payment confirmations follow the reviewer's decision


def add_confirmation(
    engine: Engine,
    ticket_id: str,
    invoice_nos: str,
    *,
    status: str,
    line_ids: str = "",
    codes: str = "",
    reason: str = "waiting for the money to arrive",
    transfer_date: date | None = date(2026, 3, 9),
    on_decision_of_line: int | None = None,
) -> None:
    with engine.begin() as conn:
        conn.execute(
            db.confirmations.insert(),
            {"ticket_id": ticket_id, "name": "Dewi Lestari", "email": "dewi@example.com",
             "invoice_nos": invoice_nos, "amount": Decimal("300000.00"),
             "transfer_date": transfer_date, "intake_status": "VALID", "status": status,
             "codes": codes, "line_ids": line_ids, "reason": reason},
        )  # fmt: skip
        if on_decision_of_line is not None:
            d = db.decisions.c
            conn.execute(
                db.decisions.update()
                .where(d.bank_line_id == on_decision_of_line, d.active.is_(True))
                .values(confirmation_ids=ticket_id)
            )


def confirmation(engine: Engine, ticket_id: str) -> tuple[str, str, str, str]:
    c = db.confirmations.c
    with engine.connect() as conn:
        row = conn.execute(select(db.confirmations).where(c.ticket_id == ticket_id)).one()
    return (row.status, row.codes, row.line_ids, row.reason)


def confirmation_audit(engine: Engine) -> list[tuple[str, str, dict[str, Any]]]:
    a = db.audit_log.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(db.audit_log).where(a.entity == "confirmation").order_by(a.id)
        ).all()
    return [(r.action, r.entity_id, json.loads(r.detail)) for r in rows]


def active_decision(engine: Engine, line_id: int) -> Any:
    d = db.decisions.c
    with engine.connect() as conn:
        return conn.execute(
            select(db.decisions).where(d.bank_line_id == line_id, d.active.is_(True))
        ).one()


def test_approving_a_line_matches_the_confirmation_listed_on_its_decision(
    march: Run, engine: Engine, tmp_path: Path
) -> None:
    add_confirmation(
        engine, "TKT-0301", "20460", status="REVIEW", line_ids="3", codes="WRONG_ACCOUNT",
        reason="funds on line 3", on_decision_of_line=3,
    )  # fmt: skip
    path = fill(
        march.book, "Perlu Review", {3: ("Setujui usulan", None, None, None)}, tmp_path / "r.xlsx"
    )
    assert apply(engine, path).refused == []
    assert confirmation(engine, "TKT-0301") == (
        "MATCHED", "WRONG_ACCOUNT", "3", "matched in review by rina: line 3",
    )  # fmt: skip
    approved = active_decision(engine, 3)
    assert approved.confirmation_ids == "TKT-0301"
    [(action, ticket, detail)] = confirmation_audit(engine)
    assert (action, ticket) == ("review_approve_confirmation", "TKT-0301")
    assert detail == {
        "line_id": 3,
        "decision_id": approved.id,
        "before": {"status": "REVIEW", "codes": "WRONG_ACCOUNT", "line_ids": "3",
                   "reason": "funds on line 3"},
        "after": {"status": "MATCHED", "codes": "WRONG_ACCOUNT", "line_ids": "3",
                  "reason": "matched in review by rina: line 3"},
    }  # fmt: skip


def test_assigning_an_invoice_matches_the_waiting_confirmation_that_names_it_only(
    march: Run, engine: Engine, tmp_path: Path
) -> None:
    add_confirmation(engine, "TKT-0450", "20449;20450", status="AWAITING_FUNDS")
    add_confirmation(
        engine, "TKT-0451", "20451", status="NO_FUNDS", codes="CONFIRMATION_WITHOUT_FUNDS",
        reason="no money 2 banking days after the confirmed date",
    )  # fmt: skip
    path = fill(
        march.book, "Perlu Review", {5: ("Alokasikan ke tagihan", "20450", None, None)},
        tmp_path / "r.xlsx",
    )  # fmt: skip
    assert apply(engine, path).refused == []
    assert confirmation(engine, "TKT-0450") == (
        "MATCHED", "", "5", "matched in review by rina: line 5",
    )  # fmt: skip
    assert confirmation(engine, "TKT-0451") == (
        "NO_FUNDS", "CONFIRMATION_WITHOUT_FUNDS", "",
        "no money 2 banking days after the confirmed date",
    )  # fmt: skip
    assert active_decision(engine, 5).confirmation_ids == "TKT-0450"
    assert [(a, t, d["before"]["status"]) for a, t, d in confirmation_audit(engine)] == [
        ("review_assign_confirmation", "TKT-0450", "AWAITING_FUNDS")
    ]


def test_rejecting_a_line_sends_its_overdue_confirmation_back_to_no_funds(
    march: Run, engine: Engine, tmp_path: Path
) -> None:
    add_confirmation(
        engine, "TKT-0302", "20460", status="REVIEW", line_ids="3", reason="funds on line 3",
        transfer_date=date(2026, 3, 2), on_decision_of_line=3,
    )  # fmt: skip
    path = fill(
        march.book, "Perlu Review", {3: ("Tolak usulan", None, None, None)}, tmp_path / "r.xlsx"
    )
    assert apply(engine, path).refused == []
    assert confirmation(engine, "TKT-0302") == (
        "NO_FUNDS", "CONFIRMATION_WITHOUT_FUNDS", "",
        "no money 2 banking days after the confirmed date (line 3 rejected, decided by rina)",
    )  # fmt: skip
    assert active_decision(engine, 3).confirmation_ids == ""
    [(action, ticket, detail)] = confirmation_audit(engine)
    assert (action, ticket) == ("review_reject_confirmation", "TKT-0302")
    assert detail["before"] == {
        "status": "REVIEW", "codes": "", "line_ids": "3", "reason": "funds on line 3",
    }  # fmt: skip


def test_not_a_payment_sends_a_recent_confirmation_back_to_awaiting_funds(
    march: Run, engine: Engine, tmp_path: Path
) -> None:
    add_confirmation(
        engine, "TKT-0701", "20451", status="REVIEW", line_ids="7", reason="funds on line 7",
        transfer_date=date(2026, 3, 9),
    )  # fmt: skip
    add_confirmation(
        engine, "TKT-0702", "20450", status="REVIEW", line_ids="7;9", reason="funds on line 7;9"
    )
    path = fill(
        march.book, "Dana Tak Dikenal", {7: ("Bukan pembayaran pelanggan", None, None, None)},
        tmp_path / "r.xlsx",
    )  # fmt: skip
    assert apply(engine, path).refused == []
    assert confirmation(engine, "TKT-0701") == (
        "AWAITING_FUNDS", "", "",
        "waiting for the money to arrive (line 7 not a customer payment, decided by rina)",
    )  # fmt: skip
    assert confirmation(engine, "TKT-0702") == ("REVIEW", "", "7;9", "funds on line 7;9")
    assert [(a, t) for a, t, _ in confirmation_audit(engine)] == [
        ("review_not_payment_confirmation", "TKT-0701")
    ]


def test_undo_restores_the_confirmation_exactly_and_audits_it(
    march: Run, engine: Engine, tmp_path: Path
) -> None:
    add_confirmation(
        engine, "TKT-0301", "20460", status="REVIEW", line_ids="3", codes="WRONG_ACCOUNT",
        reason="funds on line 3", on_decision_of_line=3,
    )  # fmt: skip
    add_confirmation(engine, "TKT-0450", "20450", status="AWAITING_FUNDS")
    before = (confirmation(engine, "TKT-0301"), confirmation(engine, "TKT-0450"))
    path = fill(
        march.book, "Perlu Review",
        {3: ("Setujui usulan", None, None, None),
         5: ("Alokasikan ke tagihan", "20450", None, None)},
        tmp_path / "r.xlsx",
    )  # fmt: skip
    review_run = apply(engine, path).run_id
    assert confirmation(engine, "TKT-0450")[0] == "MATCHED"
    undone = undo_run(engine, review_run, actor="budi", rules=MATCHING, as_of=AS_OF)
    assert undone.refused == []
    assert (confirmation(engine, "TKT-0301"), confirmation(engine, "TKT-0450")) == before
    restored = [
        (a, t, d["after"]) for a, t, d in confirmation_audit(engine) if a.startswith("undo")
    ]
    assert restored == [
        ("undo_confirmation", "TKT-0450",
         {"status": "AWAITING_FUNDS", "codes": "", "line_ids": "",
          "reason": "waiting for the money to arrive"}),
        ("undo_confirmation", "TKT-0301",
         {"status": "REVIEW", "codes": "WRONG_ACCOUNT", "line_ids": "3",
          "reason": "funds on line 3"}),
    ]  # fmt: skip


# ---------------------------------------------------------------------------------------------
# undoing an automatic decision


@pytest.fixture
def sample(tmp_path: Path) -> tuple[Engine, Any]:
    """The README quick start's run over sample_data/ (as of 11 March 2026): its engine and
    rules."""
    root = Path(__file__).resolve().parents[2]
    shutil.copy(root / "rules.yaml", tmp_path / "rules.yaml")
    shutil.copytree(root / "sample_data", tmp_path / "sample_data")
    assert main(["run", "--rules", str(tmp_path / "rules.yaml"), "--quiet"]) == 0
    rules = load_rules(tmp_path / "rules.yaml")
    return make_engine(rules.resolved_db_url(None)), rules


def test_undoing_an_automatic_combined_match_reopens_its_invoices_and_confirmation(
    sample: tuple[Engine, Any],
) -> None:
    """Line 1 (Rp 1.500.000) paid 20440 and 20442 together (COMBINED_PAYMENT), funding
    confirmation 481522. Undone, the invoices are open without the combined code and the
    confirmation is no longer 'funds on line 1': its deadline is past, so NO_FUNDS."""
    engine, rules = sample
    undo = active_decision(engine, 1)
    assert (undo.status, undo.codes, undo.invoice_nos) == (
        "MATCHED", "COMBINED_PAYMENT", "20440;20442",
    )  # fmt: skip
    assert confirmation(engine, "481522") == ("MATCHED", "", "1", "funds on line 1")
    result = undo_decision(engine, undo.id, actor="rina", rules=rules.matching, as_of=rules.as_of)
    assert (result.undone, result.refused) == ([undo.id], [])
    assert state(engine)["lines"][1] == "UNMATCHED"
    for no in ("20440", "20442"):
        inv = invoice(engine, no)
        assert (inv.status, inv.amount_received, inv.codes, inv.reason) == (
            "OPEN", Decimal("0.00"), "", "",
        )  # fmt: skip
    assert confirmation(engine, "481522") == (
        "NO_FUNDS", "CONFIRMATION_WITHOUT_FUNDS", "",
        f"no money 2 banking days after the confirmed date (decision {undo.id} of line 1 "
        "undone by rina)",
    )  # fmt: skip
    [(action, ticket, detail)] = confirmation_audit(engine)
    assert (action, ticket, detail["before"]["status"]) == (
        "undo_confirmation",
        "481522",
        "MATCHED",
    )
    assert detail["decision_id"] == undo.id


def test_undoing_one_instalment_keeps_the_codes_of_the_decision_still_paying_the_invoice(
    sample: tuple[Engine, Any],
) -> None:
    """20470 (Rp 1.200.000) was paid by lines 15 and 17, Rp 600.000 each (SPLIT_PAYMENT):
    line 17's decision undone, line 15's instalment still pays it."""
    engine, rules = sample
    undo = active_decision(engine, 17)
    undo_decision(engine, undo.id, actor="rina", rules=rules.matching, as_of=rules.as_of)
    inv = invoice(engine, "20470")
    assert (inv.status, inv.amount_received, inv.codes) == (
        "PARTIAL", Decimal("600000.00"), "SPLIT_PAYMENT",
    )  # fmt: skip
    assert state(engine)["allocations"].count((15, "20470", Decimal("600000.00"))) == 1
    assert state(engine)["lines"][17] == "UNMATCHED"
