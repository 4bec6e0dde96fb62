"""The review loop: decisions filled in the workbook come back to the database.

* :func:`apply_review` reads the decision columns of a run's workbook (review queue and
  unidentified credits), validates every row and applies the valid ones in one transaction:
  a new decision (decided_by = the reviewer) replaces the proposed one, allocations are
  written, invoice status and amount received are recomputed, payer aliases are learned from
  approvals, and each change is written to the audit log. A row that fails validation changes
  nothing and is reported with its sheet, row and reason.
* :func:`undo_decision` / :func:`undo_run` reverse decisions without deleting history: the
  reversed decision and its allocations become inactive and a new decision
  (``reverses_decision_id``) restores the line's previous decision.
* :func:`list_aliases` / :func:`remove_alias` manage learned payer aliases.

A row is *stale* when its line's active decision is no longer the one the workbook showed
(hidden column ``review_key`` = decision id:run id:line id). Applying the same workbook twice
is harmless: a row whose decision is already in force is reported as unchanged.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any, TypeVar
from zipfile import BadZipFile

import numpy as np
import pandas as pd
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException
from sqlalchemy import Connection, Engine, and_, insert, or_, select, update

from reconcile import db, store
from reconcile.calendar import BankingCalendar
from reconcile.config import Matching
from reconcile.errors import FileRejected, ReconcileError, ValueFormatError
from reconcile.matching import Code
from reconcile.money import ZERO, decimal_from_cell, format_amount_id
from reconcile.names import normalise_name
from reconcile.workbook import KEY_HEADER, all_action_labels, header_labels

Clock = Callable[[], datetime]
T = TypeVar("T")

log = logging.getLogger("reconcile.review")
ACTIONS_WITH_INVOICE = ("approve", "assign")
CONFIRMATION_STATE = ("status", "codes", "line_ids", "reason")
OPEN_CONFIRMATION = ("REVIEW", "AWAITING_FUNDS", "NO_FUNDS")


@dataclass(frozen=True)
class ReviewRow:
    sheet: str
    row: int  # 1-based Excel row
    decision_id: int  # the decision the workbook showed (0: none)
    run_id: int
    line_id: int
    action: str
    invoice_nos: tuple[str, ...]
    amount: Decimal | None
    note: str
    # what the visible columns show (None: the workbook has no such column); a row sorted
    # apart from its hidden key shows another line than the key names
    shown_line_id: int | None = None
    shown_amount: Decimal | str | None = None

    @property
    def where(self) -> str:
        return f"{self.sheet!r} row {self.row} (line {self.line_id})"


@dataclass
class ReviewResult:
    run_id: int
    applied: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"review run {self.run_id}: {len(self.applied)} applied, "
            f"{len(self.unchanged)} already applied, {len(self.refused)} refused"
        )


class RowRefused(ReconcileError):
    """One reviewed row cannot be applied; nothing of it is."""


def _rp(amount: Decimal) -> str:
    return "Rp " + format_amount_id(amount)


# ---------------------------------------------------------------------------------------------
# reading the workbook


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _shown(
    cells: list[Any], line_col: int | None, amount_col: int | None
) -> tuple[int | None, Decimal | str | None]:
    """The line id and credit amount a row shows in its visible columns: None where the sheet
    has no such column (nothing to compare); a blank or unreadable cell as -1 / its text, which
    agree with no line."""
    line: int | None = None
    if line_col is not None:
        text = _text(cells[line_col])
        line = int(text) if text.isdigit() else -1
    amount: Decimal | str | None = None
    if amount_col is not None:
        try:
            amount = decimal_from_cell(cells[amount_col])
        except ValueFormatError:
            amount = _text(cells[amount_col])
    return line, amount


def read_review_rows(path: Path) -> tuple[list[ReviewRow], list[str]]:
    """Rows with a decision filled in, and the problems of rows that cannot even be read (or
    whose decision is blank while an invoice number or amount to allocate is typed)."""
    try:
        # the bytes, not the path: openpyxl refuses a name not ending .xlsx/.xlsm
        book = load_workbook(io.BytesIO(path.read_bytes()), read_only=True, data_only=True)
    except (OSError, KeyError, ValueError, BadZipFile, InvalidFileException) as exc:
        raise FileRejected(path.name, f"not a readable workbook ({exc})") from exc
    labels = all_action_labels()
    decision_heads = header_labels("col.decision")
    invoice_heads = header_labels("col.assign_invoice")
    amount_heads = header_labels("col.assign_amount")
    note_heads = header_labels("col.note")
    line_heads = header_labels("col.line_id")
    credit_heads = header_labels("col.amount")
    rows: list[ReviewRow] = []
    problems: list[str] = []
    found_sheet = False
    try:
        for ws in book.worksheets:
            it = ws.iter_rows(values_only=True)
            header = next(it, None)
            if header is None:
                continue
            names = [_text(h) for h in header]
            if KEY_HEADER not in names:
                continue
            found_sheet = True
            col = {
                "key": names.index(KEY_HEADER),
                "decision": next(i for i, n in enumerate(names) if n in decision_heads),
                "invoice": next(i for i, n in enumerate(names) if n in invoice_heads),
                "amount": next(i for i, n in enumerate(names) if n in amount_heads),
                "note": next(i for i, n in enumerate(names) if n in note_heads),
            }
            shown_cols = (  # absent from a workbook written before they were checked
                next((i for i, n in enumerate(names) if n in line_heads), None),
                next((i for i, n in enumerate(names) if n in credit_heads), None),
            )
            for excel_row, values in enumerate(it, start=2):
                cells = list(values) + [None] * (len(names) - len(values))
                choice = _text(cells[col["decision"]])
                where = f"{ws.title!r} row {excel_row}"
                key = _text(cells[col["key"]])
                parts = key.split(":")
                if not choice:
                    filled = [names[col[c]] for c in ("invoice", "amount") if _text(cells[col[c]])]
                    if filled:  # typed next to a forgotten decision: said, not dropped silently
                        line = f" (line {parts[2]})" if len(parts) == 3 else ""
                        problems.append(
                            f"{where}{line}: decision is blank but {' and '.join(filled)} "
                            f"{'is' if len(filled) == 1 else 'are'} filled; choose a decision "
                            "or clear the cell"
                        )
                    continue
                if len(parts) != 3 or not all(p.isdigit() for p in parts):
                    problems.append(f"{where}: the hidden review key {key!r} is missing or damaged")
                    continue
                action = labels.get(choice)
                if action is None:
                    problems.append(
                        f"{where}: unknown decision {choice!r}; expected one of "
                        + ", ".join(repr(x) for x in labels)
                    )
                    continue
                raw_amount = cells[col["amount"]]
                amount: Decimal | None = None
                if raw_amount not in (None, ""):
                    try:
                        amount = decimal_from_cell(raw_amount)
                    except ValueFormatError as exc:
                        problems.append(f"{where}: amount {exc}")
                        continue
                shown_line, shown_amount = _shown(cells, *shown_cols)
                invoices = tuple(
                    n.strip().lstrip("#")
                    for n in _text(cells[col["invoice"]]).replace(",", ";").split(";")
                    if n.strip()
                )
                rows.append(
                    ReviewRow(
                        sheet=ws.title,
                        row=excel_row,
                        decision_id=int(parts[0]),
                        run_id=int(parts[1]),
                        line_id=int(parts[2]),
                        action=action,
                        invoice_nos=invoices,
                        amount=amount,
                        note=_text(cells[col["note"]]),
                        shown_line_id=shown_line,
                        shown_amount=shown_amount,
                    )
                )
    except StopIteration as exc:
        raise FileRejected(path.name, "a review sheet lacks one of its decision columns") from exc
    finally:
        book.close()
    if not found_sheet:
        raise FileRejected(path.name, f"no sheet with a {KEY_HEADER!r} column: not a run workbook")
    return rows, problems


# ---------------------------------------------------------------------------------------------
# applying


def _client_key(inv: Any) -> str:
    email = (inv.email or "").strip().lower()
    return email if email else (inv.client_name or "").upper()


def _invoice_state(inv: Any) -> dict[str, str]:
    return {
        "status": inv.status,
        "amount_received": f"{inv.amount_received:f}",
        "codes": inv.codes,
        "reason": inv.reason,
    }


def _learn_alias(
    conn: Connection, sender: str, client_key: str, actor: str, now: datetime
) -> int | None:
    """Record ``sender`` as paying for ``client_key``; the alias id when this call created or
    revived it (so an undo can remove it), None when it was already known or the name is empty."""
    sender_norm = normalise_name(sender)
    if not sender_norm or not client_key:
        return None
    a = db.payer_aliases.c
    row = conn.execute(
        select(db.payer_aliases).where(
            and_(a.sender_norm == sender_norm, a.client_key == client_key)
        )
    ).first()
    if row is None:
        return int(
            conn.execute(
                insert(db.payer_aliases).returning(a.id),
                {
                    "sender_norm": sender_norm,
                    "client_key": client_key,
                    "source": "review",
                    "created_by": actor,
                    "created_at": now,
                },
            ).scalar_one()
        )
    if row.removed_at is None:
        return None
    conn.execute(update(db.payer_aliases).where(a.id == row.id).values(removed_at=None))
    return int(row.id)


def _allocations_plan(
    r: ReviewRow, line: Any, current: Any, invoices: dict[str, Any]
) -> list[tuple[str, Decimal]]:
    """(invoice, amount) the row asks for; raises RowRefused with the reason."""
    if r.action == "approve":
        targets = [n for n in (current.invoice_nos if current else "").split(";") if n]
        if r.invoice_nos and set(r.invoice_nos) != set(targets):
            raise RowRefused(
                f"{r.where}: 'approve' takes the proposed invoice(s) "
                f"{', '.join(targets) or '(none)'}; to choose another use 'assign to invoice'"
            )
        if not targets:
            candidates = current.candidates if current else ""
            raise RowRefused(
                f"{r.where}: nothing is proposed to approve"
                + (f" (candidates {candidates.replace(';', ', ')})" if candidates else "")
                + "; use 'assign to invoice' with the invoice number"
            )
    else:
        targets = list(r.invoice_nos)
        if not targets:
            raise RowRefused(f"{r.where}: 'assign to invoice' needs an invoice number")
        repeated = sorted({no for no in targets if targets.count(no) > 1})
        if repeated:  # one allocation per invoice and line: what was meant is not certain
            raise RowRefused(
                f"{r.where}: invoice {', '.join(repeated)} is named more than once in "
                f"{';'.join(targets)!r}; name each invoice once"
            )
    for no in targets:
        inv = invoices.get(no)
        if inv is None:
            raise RowRefused(f"{r.where}: invoice {no!r} is not in the invoice list")
        if inv.status == "CANCELLED":
            raise RowRefused(f"{r.where}: invoice {no} is cancelled")
        if inv.status == "PAID":
            raise RowRefused(
                f"{r.where}: invoice {no} is already paid ({_rp(inv.amount_received)} "
                f"received of {_rp(inv.amount)})"
            )
    credit: Decimal = line.amount
    if len(targets) == 1:
        amount = r.amount if r.amount is not None else credit
        if amount <= ZERO:
            raise RowRefused(f"{r.where}: amount to allocate must be positive (got {_rp(amount)})")
        if amount > credit:
            raise RowRefused(
                f"{r.where}: amount to allocate {_rp(amount)} exceeds the credit {_rp(credit)}"
            )
        return [(targets[0], amount)]
    if r.amount is not None:
        raise RowRefused(f"{r.where}: an amount applies to one invoice only (got {len(targets)})")
    # in the order named, each invoice takes at most what it still lacks; what is left of the
    # credit stays unallocated (named and coded OVERPAID by _apply_row), never piled on the last
    plan: list[tuple[str, Decimal]] = []
    left = credit
    for no in targets:
        inv = invoices[no]
        share = min(left, inv.amount - inv.amount_received)
        if share <= ZERO:
            raise RowRefused(f"{r.where}: the credit {_rp(credit)} is used up before invoice {no}")
        plan.append((no, share))
        left -= share
    return plan


def _new_invoice_state(
    inv: Any, received: Decimal, rules: Matching, actor: str, codes_from: str | None = None
) -> tuple[str, str, str]:
    """Status, codes and reason of ``inv`` once ``received``; its codes are those it has
    (or ``codes_from``) but the amount codes, which are said again from the amounts."""
    short = inv.amount - received
    given = inv.codes if codes_from is None else codes_from
    codes = [c for c in given.split(";") if c and c not in ("UNDERPAID", "OVERPAID")]
    if received <= ZERO:
        return ("OPEN", ";".join(codes), "")
    if short < 0:
        codes.append("OVERPAID")
        return ("PAID", ";".join(codes), f"paid; {_rp(-short)} over (reviewed by {actor})")
    if short == 0:
        return ("PAID", ";".join(codes), f"paid (reviewed by {actor})")
    if rules.underpaid_tolerance.allows(short, inv.amount):
        codes.append("UNDERPAID")
        return (
            "PAID",
            ";".join(codes),
            f"paid; {_rp(short)} short within tolerance (reviewed by {actor})",
        )
    return (
        "PARTIAL",
        ";".join(codes),
        f"partly paid; {_rp(short)} outstanding (reviewed by {actor})",
    )


def _confirmation_state(conf: Any) -> dict[str, str]:
    return {k: getattr(conf, k) for k in CONFIRMATION_STATE}


def _confirmations_paid(
    conn: Connection, r: ReviewRow, current: Any, plan: list[tuple[str, Decimal]]
) -> list[Any]:
    """Open confirmations the approved/assigned credit settles: those listed on the approved
    decision and those naming an invoice the credit pays."""
    listed = (
        [t for t in (current.confirmation_ids or "").split(";") if t]
        if (current is not None and r.action == "approve")
        else []
    )
    paid = {no for no, _ in plan}
    c = db.confirmations.c
    rows = conn.execute(
        select(db.confirmations)
        .where(
            and_(
                c.status.in_(OPEN_CONFIRMATION),
                or_(c.ticket_id.in_(listed), *(c.invoice_nos.contains(no) for no in paid)),
            )
        )
        .order_by(c.ticket_id)
    ).all()
    return [
        conf for conf in rows if conf.ticket_id in listed or paid & set(conf.invoice_nos.split(";"))
    ]


def _confirmation_unfunded(
    conn: Connection, conf: Any, rules: Matching, as_of: Any
) -> dict[str, str]:
    """What the matcher says of a confirmation no credit funds (matching.funds_overdue)."""
    from reconcile.matching import funds_overdue, unseen_reason
    from reconcile.store import statements_until

    wait = rules.confirmation_funds_wait_days
    if conf.transfer_date is None:
        return {"status": "REVIEW", "codes": "", "line_ids": "",
                "reason": "no transfer date to look for the money"}  # fmt: skip
    deadline = BankingCalendar(rules.extra_holidays).add_one(conf.transfer_date, wait)
    dest = conf.dest_account_no or ""
    overdue, unseen = funds_overdue(
        np.array([deadline], dtype="datetime64[D]"), np.array([dest], dtype=object),
        np.array([bool(conf.dest_not_ours)]), as_of, statements_until(conn),
    )  # fmt: skip
    if overdue[0]:
        return {"status": "NO_FUNDS", "codes": Code.CONFIRMATION_WITHOUT_FUNDS.value,
                "line_ids": "", "reason": f"no money {wait} banking days after the confirmed date"}  # fmt: skip
    waiting = (
        unseen_reason(dest, deadline.isoformat())
        if unseen[0]
        else "waiting for the money to arrive"
    )
    return {"status": "AWAITING_FUNDS", "codes": "", "line_ids": "", "reason": waiting}


def _set_confirmation(
    conn: Connection,
    ticket_id: str,
    before: dict[str, str],
    after: dict[str, str],
    *,
    action: str,
    actor: str,
    decision_id: int,
    line_id: int,
    now: datetime,
    run_id: int,
) -> None:
    conn.execute(
        update(db.confirmations).where(db.confirmations.c.ticket_id == ticket_id).values(**after)
    )
    store.audit(
        conn,
        actor=actor,
        action=action,
        entity="confirmation",
        entity_id=ticket_id,
        detail={"line_id": line_id, "decision_id": decision_id, "before": before, "after": after},
        now=now,
        run_id=run_id,
    )


def _same_as_applied(current: Any, r: ReviewRow) -> bool:
    """Is the line's active decision the one this very row produced earlier?"""
    if current is None or current.decided_by == "auto":
        return False
    review = json.loads(current.signals or "{}").get("review", {})
    return (
        review.get("supersedes") == r.decision_id
        and review.get("action") == r.action
        and tuple(review.get("requested_invoices", [])) == r.invoice_nos
        and review.get("requested_amount") == (None if r.amount is None else f"{r.amount:f}")
    )


def _check_shown_line(r: ReviewRow, line: Any) -> None:
    """Refuse a row whose visible line id or amount is not the line its hidden key names: the
    sheet was sorted or edited apart from its key column, and the decision typed next to one
    credit would otherwise be applied to another."""
    shown: list[str] = []
    if r.shown_line_id is not None and r.shown_line_id != r.line_id:
        shown.append(f"line {r.shown_line_id}" if r.shown_line_id >= 0 else "no line id")
    if r.shown_amount is not None and r.shown_amount != line.amount:
        amount = r.shown_amount
        shown.append(_rp(amount) if isinstance(amount, Decimal) else f"amount {amount!r}")
    if shown:
        raise RowRefused(
            f"{r.where}: the row shows {', '.join(shown)} but its hidden {KEY_HEADER} names "
            f"line {r.line_id} of {_rp(line.amount)} (was the sheet sorted without the "
            f"{KEY_HEADER} column?); nothing of this row was applied: type the decision in a "
            "fresh workbook, or sort whole rows"
        )


def _apply_row(
    conn: Connection,
    r: ReviewRow,
    *,
    run_id: int,
    actor: str,
    rules: Matching,
    workbook: dict[str, str],
    as_of: Any,
    now: datetime,
) -> str:
    """Apply one row; returns "applied" or "unchanged"; raises RowRefused."""
    bl = db.bank_lines.c
    line = conn.execute(select(db.bank_lines).where(bl.id == r.line_id)).first()
    if line is None:
        raise RowRefused(f"{r.where}: bank line {r.line_id} does not exist in this database")
    _check_shown_line(r, line)
    current = store.current_decisions(conn, [r.line_id]).get(r.line_id)
    current_id = int(current.id) if current is not None else 0
    if current_id != r.decision_id:
        if _same_as_applied(current, r):
            return "unchanged"
        by = f" by {current.decided_by}" if current is not None else ""
        raise RowRefused(
            f"{r.where}: stale row from run {r.run_id}: the line was decided again{by} "
            f"(decision {current_id} replaces {r.decision_id}); review it in a newer workbook"
        )
    al = db.allocations.c
    allocated = sum(
        (
            a.amount
            for a in conn.execute(
                select(al.amount).where(and_(al.bank_line_id == r.line_id, al.active.is_(True)))
            )
        ),
        ZERO,
    )
    if allocated > ZERO:
        raise RowRefused(
            f"{r.where}: {_rp(allocated)} of this credit is already allocated; undo that first"
        )
    if line.direction != "CR" or line.status not in ("REVIEW", "UNMATCHED"):
        raise RowRefused(f"{r.where}: line {r.line_id} is {line.status}, not open for review")

    plan: list[tuple[str, Decimal]] = []
    invoices: dict[str, Any] = {}
    if r.action in ACTIONS_WITH_INVOICE:
        wanted = set(r.invoice_nos) | {
            n for n in (current.invoice_nos if current else "").split(";") if n
        }
        ic = db.invoices.c
        invoices = {
            row.invoice_no: row
            for row in conn.execute(select(db.invoices).where(ic.invoice_no.in_(sorted(wanted))))
        }
        plan = _allocations_plan(r, line, current, invoices)

    review: dict[str, Any] = {
        "action": r.action,
        "supersedes": r.decision_id,
        "sheet": r.sheet,
        "row": r.row,
        "workbook": workbook["name"],
        "workbook_sha256": workbook["sha256"],
        "requested_invoices": list(r.invoice_nos),
        "requested_amount": None if r.amount is None else f"{r.amount:f}",
        "invoices_before": {no: _invoice_state(invoices[no]) for no, _ in plan},
        "alias_ids": [],
    }
    note = f": {r.note}" if r.note else ""
    line_codes: list[str] = []
    if r.action in ACTIONS_WITH_INVOICE:
        status = "MATCHED"
        nos = ";".join(no for no, _ in plan)
        verb = "approved" if r.action == "approve" else "assigned"
        # a part of the credit left unallocated is money received for nothing yet: said, and
        # coded OVERPAID, so that it appears on the mismatch sheet instead of nowhere
        left = line.amount - sum((a for _, a in plan), ZERO)
        rest = f"; {_rp(left)} of the credit {_rp(line.amount)} not allocated" if left > 0 else ""
        reason = (
            f"{verb} by {actor}: " + ", ".join(f"#{no} {_rp(a)}" for no, a in plan) + rest + note
        )
        if r.action == "approve" and current is not None:
            line_codes = [c for c in current.codes.split(";") if c and c != "AMBIGUOUS"]
        for no, amount in plan:
            inv = invoices[no]
            gap = amount - (inv.amount - inv.amount_received)
            if len(plan) == 1 and gap < 0 and "UNDERPAID" not in line_codes:
                line_codes.append("UNDERPAID")
            if len(plan) == 1 and gap > 0 and "OVERPAID" not in line_codes:
                line_codes.append("OVERPAID")
        if len(plan) > 1 and "COMBINED_PAYMENT" not in line_codes:
            line_codes.append("COMBINED_PAYMENT")
        if left > 0 and "OVERPAID" not in line_codes:
            line_codes.append("OVERPAID")
    elif r.action == "reject":
        status, nos = "UNMATCHED", ""
        proposed = (current.invoice_nos or current.candidates) if current is not None else ""
        reason = f"proposed match {proposed or '(none)'} rejected by {actor}" + note
        line_codes = ["UNIDENTIFIED_CREDIT"]
    else:
        status, nos = "IGNORED", ""
        reason = f"not a customer payment (decided by {actor})" + note

    c = db.confirmations.c
    if r.action in ACTIONS_WITH_INVOICE:
        settled = _confirmations_paid(conn, r, current, plan)
        conf_ids = ";".join(conf.ticket_id for conf in settled)
    else:
        settled = list(
            conn.execute(
                select(db.confirmations)
                .where(and_(c.line_ids == str(r.line_id), c.status.in_(("REVIEW", "MATCHED"))))
                .order_by(c.ticket_id)
            )
        )
        conf_ids = ""
    review["confirmations_before"] = {conf.ticket_id: _confirmation_state(conf) for conf in settled}

    dc = db.decisions.c
    if current is not None:
        conn.execute(update(db.decisions).where(dc.id == current.id).values(active=False))
    decision_row = {
        "run_id": run_id,
        "bank_line_id": r.line_id,
        "status": status,
        "rule": "review",
        "score": int(current.score) if (current is not None and r.action == "approve") else 0,
        "signals": "{}",
        "reason": reason,
        "codes": ";".join(dict.fromkeys(line_codes)),
        "invoice_nos": nos,
        "confirmation_ids": conf_ids,
        "candidates": current.candidates if current is not None else "",
        "decided_by": actor,
        "note": r.note or None,
        "active": True,
        "created_at": now,
    }
    decision_id = int(
        conn.execute(insert(db.decisions).returning(dc.id), decision_row).scalar_one()
    )
    ic = db.invoices.c
    for no, amount in plan:
        inv = invoices[no]
        conn.execute(
            insert(db.allocations),
            {
                "bank_line_id": r.line_id,
                "invoice_no": no,
                "amount": amount,
                "decision_id": decision_id,
                "run_id": run_id,
                "active": True,
            },
        )
        received = inv.amount_received + amount
        new_status, codes, inv_reason = _new_invoice_state(inv, received, rules, actor)
        conn.execute(
            update(db.invoices)
            .where(ic.invoice_no == no)
            .values(
                status=new_status,
                amount_received=received,
                codes=codes,
                reason=inv_reason,
                updated_run_id=run_id,
            )
        )
        alias_id = _learn_alias(conn, line.counterparty or "", _client_key(inv), actor, now)
        if alias_id is not None:
            review["alias_ids"].append(alias_id)
    for conf in settled:
        if r.action in ACTIONS_WITH_INVOICE:
            after = {
                "status": "MATCHED",
                "codes": conf.codes,
                "line_ids": str(r.line_id),
                "reason": f"matched in review by {actor}: line {r.line_id}",
            }
        else:
            after = _confirmation_unfunded(conn, conf, rules, as_of)
            verb = "rejected" if r.action == "reject" else "not a customer payment"
            after["reason"] += f" (line {r.line_id} {verb}, decided by {actor})"
        _set_confirmation(
            conn, conf.ticket_id, _confirmation_state(conf), after,
            action=f"review_{r.action}_confirmation", actor=actor, decision_id=decision_id,
            line_id=r.line_id, now=now, run_id=run_id,
        )  # fmt: skip
    conn.execute(
        update(db.decisions)
        .where(dc.id == decision_id)
        .values(signals=json.dumps({"review": review}, sort_keys=True))
    )
    conn.execute(update(db.bank_lines).where(bl.id == r.line_id).values(status=status))
    store.audit(
        conn,
        actor=actor,
        action=f"review_{r.action}",
        entity="decision",
        entity_id=str(decision_id),
        detail={
            "line_id": r.line_id,
            "replaces_decision_id": r.decision_id,
            "allocations": {no: f"{a:f}" for no, a in plan},
            "note": r.note,
            "workbook": workbook["name"],
            "sheet": r.sheet,
            "row": r.row,
            "aliases_learned": review["alias_ids"],
            "confirmations": sorted(review["confirmations_before"]),
        },
        now=now,
        run_id=run_id,
    )
    return "applied"


def _savepointed(
    conn: Connection, refused: list[str], do: Callable[[], T]
) -> tuple[bool, T | None]:
    """``do()`` in a savepoint of its own (one workbook row, one decision to undo): (True, its
    result); when it refuses (RowRefused), what it wrote is rolled back and the reason listed in
    ``refused``: (False, None). Any other error goes up: the caller rolls everything back."""
    savepoint = conn.begin_nested()
    try:
        out = do()
    except RowRefused as exc:
        savepoint.rollback()
        refused.append(str(exc))
        return False, None
    savepoint.commit()
    return True, out


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _record_failure(
    engine: Engine, run_id: int, exc: BaseException, where: str, clock: Clock
) -> None:
    """A review or undo stopped by an unexpected error: its transaction rolled back (nothing of
    it is applied), the run is recorded as FAILED with exit code 1 (README "Exit codes") and
    the error, naming the row or decision it stopped at, instead of staying RUNNING."""
    at = f" at {where}" if where else ""
    try:
        with engine.begin() as conn:
            store.finish_run(
                conn, run_id, status="FAILED", exit_code=1, now=clock(),
                message=f"nothing applied: {type(exc).__name__}{at}: {exc}",
            )  # fmt: skip
    except Exception:  # the database itself may be what failed; the original error matters more
        log.exception("could not record the end of run %s", run_id)


def apply_review(
    engine: Engine,
    path: Path,
    *,
    actor: str,
    rules: Matching,
    as_of: Any,
    clock: Clock = datetime.now,
) -> ReviewResult:
    """Apply a reviewed workbook. Valid rows commit together; refused rows change nothing."""
    rows, problems = read_review_rows(path)
    workbook = {"name": path.name, "sha256": _sha256(path)}
    with engine.begin() as conn:
        run_id = store.start_run(
            conn, as_of=as_of, command="review", snapshot={"workbook": workbook}, now=clock()
        )
    result = ReviewResult(run_id=run_id, refused=list(problems))
    where = ""
    try:
        with engine.begin() as conn:
            for r in rows:
                where = r.where
                done, outcome = _savepointed(
                    conn, result.refused,
                    partial(_apply_row, conn, r, run_id=run_id, actor=actor, rules=rules,
                            workbook=workbook, as_of=as_of, now=clock()),
                )  # fmt: skip
                if done:
                    (result.applied if outcome == "applied" else result.unchanged).append(r.where)
    except BaseException as exc:
        _record_failure(engine, run_id, exc, where, clock)
        raise
    with engine.begin() as conn:
        store.finish_run(
            conn,
            run_id,
            status="COMPLETED",
            exit_code=3 if result.refused else 0,
            now=clock(),
            counts={
                "applied": len(result.applied),
                "unchanged": len(result.unchanged),
                "refused": len(result.refused),
            },
            input_hashes={workbook["name"]: workbook["sha256"]},
            message=result.summary(),
        )
    return result


# ---------------------------------------------------------------------------------------------
# undo


@dataclass
class UndoResult:
    run_id: int
    undone: list[int] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return f"undo run {self.run_id}: {len(self.undone)} decisions reversed, {len(self.refused)} refused"


def _recompute_invoice(
    conn: Connection, no: str, before: dict[str, str] | None, rules: Matching, actor: str
) -> None:
    ic, al = db.invoices.c, db.allocations.c
    inv = conn.execute(select(db.invoices).where(ic.invoice_no == no)).first()
    if inv is None:
        return
    received = sum(
        (
            a.amount
            for a in conn.execute(
                select(al.amount).where(and_(al.invoice_no == no, al.active.is_(True)))
            )
        ),
        ZERO,
    )
    if before is not None and Decimal(before["amount_received"]) == received:
        values = {
            "status": before["status"],
            "codes": before["codes"],
            "reason": before["reason"],
        }
    else:  # codes as the matcher gives them: those of the decisions still paying it
        dc = db.decisions.c
        paying = conn.execute(
            select(dc.codes)
            .select_from(db.allocations.join(db.decisions, dc.id == al.decision_id))
            .where(and_(al.invoice_no == no, al.active.is_(True), dc.active.is_(True)))
            .order_by(dc.id)
        )
        kept = ";".join(dict.fromkeys(c for r in paying for c in r.codes.split(";") if c))
        status, codes, reason = _new_invoice_state(inv, received, rules, actor, kept)
        if inv.status == "CANCELLED":
            status = "CANCELLED"
        values = {"status": status, "codes": codes, "reason": reason}
    conn.execute(
        update(db.invoices).where(ic.invoice_no == no).values(amount_received=received, **values)
    )


def _unlink_confirmations(
    conn: Connection,
    line_id: int,
    decision_id: int,
    restored: dict[str, Any],
    *,
    run_id: int,
    actor: str,
    rules: Matching,
    as_of: Any,
    now: datetime,
) -> None:
    """The confirmations an undone automatic decision linked to its line (a review decision
    keeps their earlier state to restore instead) go back to what the matcher says without
    it: linked to the line still when the decision restored lists them (in review unless that
    one is a match), else to the other lines they name (matched when all are), else waiting
    for funds (matching.funds_overdue). Each change is audited."""
    c, bl = db.confirmations.c, db.bank_lines.c
    listed = {t for t in (restored["confirmation_ids"] or "").split(";") if t}
    linked = [
        conf
        for conf in conn.execute(
            select(db.confirmations)
            .where(and_(c.status.in_(("MATCHED", "REVIEW")), c.line_ids.contains(str(line_id))))
            .order_by(c.ticket_id)
        )
        if str(line_id) in conf.line_ids.split(";")
    ]
    for conf in linked:
        if conf.ticket_id in listed:
            status = "MATCHED" if restored["status"] == "MATCHED" else "REVIEW"
            after = {"status": status, "codes": conf.codes, "line_ids": conf.line_ids,
                     "reason": f"funds on line {conf.line_ids}"}  # fmt: skip
        elif others := [x for x in conf.line_ids.split(";") if x and x != str(line_id)]:
            statuses = {
                r.status
                for r in conn.execute(select(bl.status).where(bl.id.in_([int(x) for x in others])))
            }
            after = {"status": "MATCHED" if statuses == {"MATCHED"} else "REVIEW",
                     "codes": conf.codes, "line_ids": ";".join(others),
                     "reason": f"funds on line {';'.join(others)}"}  # fmt: skip
        else:
            after = _confirmation_unfunded(conn, conf, rules, as_of)
        after["reason"] += f" (decision {decision_id} of line {line_id} undone by {actor})"
        _set_confirmation(
            conn, conf.ticket_id, _confirmation_state(conf), after, action="undo_confirmation",
            actor=actor, decision_id=decision_id, line_id=line_id, now=now, run_id=run_id,
        )  # fmt: skip


def _undo_one(
    conn: Connection,
    decision_id: int,
    *,
    run_id: int,
    actor: str,
    rules: Matching,
    as_of: Any,
    now: datetime,
) -> None:
    dc, al = db.decisions.c, db.allocations.c
    d = conn.execute(select(db.decisions).where(dc.id == decision_id)).first()
    if d is None:
        raise RowRefused(f"decision {decision_id} does not exist")
    if d.reverses_decision_id is not None:
        raise RowRefused(
            f"decision {decision_id} is itself the undo of decision {d.reverses_decision_id}; "
            "review the line again instead"
        )
    if not d.active:
        later = conn.execute(
            select(dc.id)
            .where(and_(dc.bank_line_id == d.bank_line_id, dc.active.is_(True)))
            .order_by(dc.id.desc())
        ).first()
        hint = f" (decision {later.id} is in force; undo it first)" if later else ""
        raise RowRefused(f"decision {decision_id} is not active{hint}")
    previous = conn.execute(
        select(db.decisions)
        .where(and_(dc.bank_line_id == d.bank_line_id, dc.id < d.id))
        .order_by(dc.id.desc())
        .limit(1)
    ).first()
    touched = sorted(
        {
            a.invoice_no
            for a in conn.execute(
                select(al.invoice_no).where(and_(al.decision_id == d.id, al.active.is_(True)))
            )
        }
    )
    conn.execute(update(db.decisions).where(dc.id == d.id).values(active=False))
    conn.execute(update(db.allocations).where(al.decision_id == d.id).values(active=False))
    if previous is not None:
        restored = {
            k: getattr(previous, k)
            for k in (
                "status",
                "rule",
                "score",
                "signals",
                "reason",
                "codes",
                "invoice_nos",
                "confirmation_ids",
                "candidates",
                "decided_by",
            )
        }
    else:
        restored = {
            "status": "UNMATCHED", "rule": "none", "score": 0, "signals": "{}",
            "reason": f"decision {d.id} undone", "codes": "", "invoice_nos": "",
            "confirmation_ids": "", "candidates": "", "decided_by": "auto",
        }  # fmt: skip
    new_id = int(
        conn.execute(
            insert(db.decisions).returning(dc.id),
            {
                **restored,
                "run_id": run_id,
                "bank_line_id": d.bank_line_id,
                "note": f"undo of decision {d.id} by {actor}",
                "active": True,
                "reverses_decision_id": d.id,
                "created_at": now,
            },
        ).scalar_one()
    )
    if restored["decided_by"] == "auto":  # an open line's restored proposals, as the run's
        store.write_proposals(conn, np.array([new_id], dtype=np.int64), pd.DataFrame([restored]))
    if d.bank_line_id is not None:
        conn.execute(
            update(db.bank_lines)
            .where(db.bank_lines.c.id == d.bank_line_id)
            .values(status=restored["status"])
        )
    review = json.loads(d.signals or "{}").get("review", {})
    before = review.get("invoices_before", {}) if isinstance(review, dict) else {}
    for no in touched:
        _recompute_invoice(conn, no, before.get(no), rules, actor)
    conf_before = review.get("confirmations_before", {}) if isinstance(review, dict) else {}
    c = db.confirmations.c
    by_review = isinstance(review, dict) and "confirmations_before" in review
    if d.bank_line_id is not None and not by_review:
        _unlink_confirmations(
            conn, int(d.bank_line_id), int(d.id), restored, run_id=run_id, actor=actor,
            rules=rules, as_of=as_of, now=now,
        )  # fmt: skip
    for ticket_id, state in sorted(conf_before.items()):
        conf = conn.execute(select(db.confirmations).where(c.ticket_id == ticket_id)).first()
        if conf is None:
            continue
        _set_confirmation(
            conn, ticket_id, _confirmation_state(conf), {k: state[k] for k in CONFIRMATION_STATE},
            action="undo_confirmation", actor=actor, decision_id=int(d.id),
            line_id=int(d.bank_line_id), now=now, run_id=run_id,
        )  # fmt: skip
    alias_ids = review.get("alias_ids", []) if isinstance(review, dict) else []
    if alias_ids:
        conn.execute(
            update(db.payer_aliases)
            .where(db.payer_aliases.c.id.in_(alias_ids))
            .values(removed_at=now)
        )
    store.audit(
        conn,
        actor=actor,
        action="undo",
        entity="decision",
        entity_id=str(d.id),
        detail={
            "line_id": d.bank_line_id,
            "restoring_decision_id": new_id,
            "invoices": touched,
            "aliases_removed": alias_ids,
            "confirmations_restored": sorted(conf_before),
        },
        now=now,
        run_id=run_id,
    )


def _undo(
    engine: Engine,
    decision_ids: Sequence[int],
    refused: Sequence[str],
    *,
    actor: str,
    rules: Matching,
    as_of: Any,
    clock: Clock,
    what: str,
) -> UndoResult:
    with engine.begin() as conn:
        run_id = store.start_run(
            conn, as_of=as_of, command="undo", snapshot={"undo": what}, now=clock()
        )
    result = UndoResult(run_id=run_id, refused=list(refused))
    where = ""
    try:
        with engine.begin() as conn:
            for decision_id in decision_ids:
                where = f"decision {decision_id}"
                done, _ = _savepointed(
                    conn, result.refused,
                    partial(_undo_one, conn, decision_id, run_id=run_id, actor=actor,
                            rules=rules, as_of=as_of, now=clock()),
                )  # fmt: skip
                if done:
                    result.undone.append(decision_id)
    except BaseException as exc:
        _record_failure(engine, run_id, exc, where, clock)
        raise
    with engine.begin() as conn:
        store.finish_run(
            conn,
            run_id,
            status="COMPLETED",
            exit_code=3 if result.refused else 0,
            now=clock(),
            counts={"undone": len(result.undone), "refused": len(result.refused)},
            message=result.summary(),
        )
    return result


def undo_decision(
    engine: Engine,
    decision_id: int,
    *,
    actor: str,
    rules: Matching,
    as_of: Any,
    clock: Clock = datetime.now,
) -> UndoResult:
    return _undo(
        engine, [decision_id], [], actor=actor, rules=rules, as_of=as_of, clock=clock,
        what=f"decision {decision_id}",
    )  # fmt: skip


def undo_run(
    engine: Engine,
    run_id: int,
    *,
    actor: str,
    rules: Matching,
    as_of: Any,
    clock: Clock = datetime.now,
) -> UndoResult:
    """Reverse every decision a run made that is still in force, newest first. A line whose
    decision from that run was replaced later is refused (undo the later decision first)."""
    dc = db.decisions.c
    with engine.connect() as conn:
        if conn.execute(select(db.runs.c.id).where(db.runs.c.id == run_id)).first() is None:
            raise ReconcileError(f"run {run_id} does not exist")
        made = conn.execute(
            select(dc.id, dc.bank_line_id, dc.active, dc.reverses_decision_id)
            .where(dc.run_id == run_id)
            .order_by(dc.id.desc())
        ).all()
        undone_already = {
            int(r[0])
            for r in conn.execute(
                select(dc.reverses_decision_id).where(dc.reverses_decision_id.isnot(None))
            )
        }
    todo: list[int] = []
    refused: list[str] = []
    seen_lines: set[int] = set()
    for row in made:
        if row.bank_line_id in seen_lines:
            continue
        seen_lines.add(row.bank_line_id)
        if row.active:
            todo.append(int(row.id))
        elif int(row.id) not in undone_already:
            refused.append(
                f"line {row.bank_line_id}: decision {row.id} of run {run_id} was replaced later; "
                "undo the later decision first"
            )
    return _undo(
        engine, todo, refused, actor=actor, rules=rules, as_of=as_of, clock=clock,
        what=f"run {run_id}",
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------
# aliases


def list_aliases(engine: Engine, *, include_removed: bool = False) -> list[dict[str, Any]]:
    a = db.payer_aliases.c
    stmt = select(db.payer_aliases).order_by(a.sender_norm, a.client_key)
    if not include_removed:
        stmt = stmt.where(a.removed_at.is_(None))
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(stmt)]


def remove_alias(
    engine: Engine, alias_id: int, *, actor: str, clock: Clock = datetime.now
) -> dict[str, Any]:
    a = db.payer_aliases.c
    with engine.begin() as conn:
        row = conn.execute(select(db.payer_aliases).where(a.id == alias_id)).first()
        if row is None:
            raise ReconcileError(f"alias {alias_id} does not exist")
        if row.removed_at is not None:
            raise ReconcileError(f"alias {alias_id} was already removed on {row.removed_at}")
        now = clock()
        conn.execute(update(db.payer_aliases).where(a.id == alias_id).values(removed_at=now))
        store.audit(
            conn,
            actor=actor,
            action="alias_removed",
            entity="payer_alias",
            entity_id=str(alias_id),
            detail={"sender_norm": row.sender_norm, "client_key": row.client_key},
            now=now,
        )
        return dict(row._mapping)
