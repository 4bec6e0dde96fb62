"""Run outputs: the machine-readable CSVs (a stable interface, README "Output files") and the
Excel workbook accountants work in (reconcile/workbook.py).

CSV conventions: UTF-8, header row, amounts as plain decimals with two places (``1500000.00``),
multi-valued fields joined with ``;``, dates ``YYYY-MM-DD``. Files are written to a temporary
name and renamed into place, so a reader never sees half a file.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import Connection, Engine, and_, select

from reconcile import db
from reconcile.money import format_amount

if TYPE_CHECKING:
    from reconcile.pipeline import Rejection, RunOptions, SeenLine

BANK_LINES_COLUMNS = [
    "line_id", "source_file", "source_line", "bank", "account_no", "posted_on", "direction",
    "amount", "counterparty", "status", "invoice_nos", "confirmation_ids", "codes", "score",
    "reason",
]  # fmt: skip
INVOICES_COLUMNS = [
    "invoice_no", "status", "amount_due", "amount_received", "codes", "line_ids",
    "confirmation_ids", "reason",
]  # fmt: skip
CONFIRMATIONS_COLUMNS = ["ticket_id", "invoice_no", "status", "codes", "line_ids", "reason"]
CHUNK = 1000


def _chunks(ids: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


def _fmt_date(v: Any) -> str:
    return "" if v is None or v is pd.NaT else v.isoformat()


def line_rows(
    conn: Connection, seen: Sequence[SeenLine], considered: Sequence[int]
) -> list[dict[str, Any]]:
    """One row per bank line this run saw (new or repeated) or reconsidered."""
    ids = sorted({s.line_id for s in seen} | set(considered))
    lines: dict[int, Any] = {}
    decisions: dict[int, Any] = {}
    c, d = db.bank_lines.c, db.decisions.c
    for chunk in _chunks(ids):
        for row in conn.execute(select(db.bank_lines).where(c.id.in_(chunk))):
            lines[row.id] = row
        for row in conn.execute(
            select(db.decisions)
            .where(and_(d.bank_line_id.in_(chunk), d.active.is_(True)))
            .order_by(d.id)
        ):
            decisions[row.bank_line_id] = row
    out: list[dict[str, Any]] = []

    def row_for(
        line_id: int, source_file: str, source_line: int, duplicate: bool
    ) -> dict[str, Any]:
        ln = lines[line_id]
        dec = decisions.get(line_id)
        base = {
            "line_id": line_id,
            "source_file": source_file,
            "source_line": source_line,
            "bank": ln.bank,
            "account_no": ln.account_no,
            "posted_on": _fmt_date(ln.posted_on),
            "direction": ln.direction,
            "amount": format_amount(ln.amount),
            "counterparty": ln.counterparty or "",
        }
        if duplicate:
            return base | {
                "status": "DUPLICATE",
                "invoice_nos": "",
                "confirmation_ids": "",
                "codes": "",
                "score": "",
                "reason": f"repeats line {line_id} ({ln.source_file} line {ln.source_line})",
            }
        if ln.status == "IGNORED":
            why = (
                "bank fee or internal movement"
                if ln.is_fee
                else "debit: money out never pays an invoice"
            )
            return base | {
                "status": "IGNORED",
                "invoice_nos": "",
                "confirmation_ids": "",
                "codes": "",
                "score": "",
                "reason": why,
            }
        return base | {
            "status": ln.status,
            "invoice_nos": dec.invoice_nos if dec else "",
            "confirmation_ids": dec.confirmation_ids if dec else "",
            "codes": dec.codes if dec else "",
            "score": dec.score if dec else "",
            "reason": dec.reason if dec else "",
        }

    listed: set[int] = set()
    for s in seen:
        out.append(row_for(s.line_id, s.source_file, s.source_line, s.duplicate))
        if not s.duplicate:
            listed.add(s.line_id)
    for line_id in sorted(set(considered) - listed):
        ln = lines[line_id]
        out.append(row_for(line_id, ln.source_file, ln.source_line, False))
    return out


def invoice_rows(conn: Connection, invoice_nos: Sequence[str]) -> list[dict[str, Any]]:
    c, a = db.invoices.c, db.allocations.c
    rows: dict[str, Any] = {}
    alloc: dict[str, list[str]] = {}
    confs: dict[str, list[str]] = {}
    nos = list(dict.fromkeys(invoice_nos))
    for chunk in _chunks(nos):
        for row in conn.execute(select(db.invoices).where(c.invoice_no.in_(chunk))):
            rows[row.invoice_no] = row
        for row in conn.execute(
            select(a.invoice_no, a.bank_line_id)
            .where(and_(a.invoice_no.in_(chunk), a.active.is_(True)))
            .order_by(a.id)
        ):
            alloc.setdefault(row.invoice_no, []).append(str(row.bank_line_id))
    for row in conn.execute(select(db.confirmations.c.ticket_id, db.confirmations.c.invoice_nos)):
        for no in (row.invoice_nos or "").split(";"):
            if no in rows:
                confs.setdefault(no, []).append(row.ticket_id)
    return [
        {
            "invoice_no": no,
            "status": rows[no].status,
            "amount_due": format_amount(rows[no].amount),
            "amount_received": format_amount(rows[no].amount_received),
            "codes": rows[no].codes,
            "line_ids": ";".join(alloc.get(no, [])),
            "confirmation_ids": ";".join(confs.get(no, [])),
            "reason": rows[no].reason,
        }
        for no in nos
        if no in rows
    ]


def confirmation_rows(conn: Connection, ticket_ids: Sequence[str]) -> list[dict[str, Any]]:
    c = db.confirmations.c
    rows: dict[str, Any] = {}
    ids = list(dict.fromkeys(ticket_ids))
    for chunk in _chunks(ids):
        for row in conn.execute(select(db.confirmations).where(c.ticket_id.in_(chunk))):
            rows[row.ticket_id] = row
    return [
        {
            "ticket_id": t,
            "invoice_no": rows[t].invoice_nos,
            "status": rows[t].status,
            "codes": rows[t].codes,
            "line_ids": rows[t].line_ids,
            "reason": rows[t].reason or rows[t].intake_reason,
        }
        for t in ids
        if t in rows
    ]


def write_csv(path: Path, columns: list[str], rows: Iterable[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, extrasaction="raise", lineterminator="\n")
        writer.writeheader()
        for r in rows:
            writer.writerow(r)
    os.replace(tmp, path)
    return path


def write_run_reports(
    engine: Engine,
    opts: RunOptions,
    run_id: int,
    *,
    seen: Sequence[SeenLine],
    considered: Sequence[int],
    invoice_nos: Sequence[str],
    ticket_ids: Sequence[str],
    rejections: Sequence[Rejection],
) -> list[Path]:
    from reconcile import workbook

    out = opts.out
    with engine.connect() as conn:
        lines = line_rows(conn, seen, considered)
        invs = invoice_rows(conn, invoice_nos)
        confs = confirmation_rows(conn, ticket_ids)
    paths = [
        write_csv(out / "bank_lines.csv", BANK_LINES_COLUMNS, lines),
        write_csv(out / "invoices.csv", INVOICES_COLUMNS, invs),
        write_csv(out / "confirmations.csv", CONFIRMATIONS_COLUMNS, confs),
        write_csv(
            out / "rejections.csv",
            ["file", "line", "reason"],
            ({"file": r.file, "line": r.line or "", "reason": r.reason} for r in rejections),
        ),
    ]
    book = out / f"reconcile_{opts.as_of.isoformat()}_run{run_id}.xlsx"
    paths.append(
        workbook.write_workbook(
            book,
            engine,
            opts,
            run_id,
            lines=lines,
            invoices=invs,
            confirmations=confs,
            rejections=rejections,
        )
    )
    return paths


def write_state_reports(opts: RunOptions) -> list[Path]:
    """`reconcile report`: outputs for the current state (every open line, every invoice and
    confirmation), without importing or matching."""
    from reconcile import workbook
    from reconcile.store import make_engine

    engine = make_engine(opts.db_url)
    try:
        with engine.connect() as conn:
            c = db.bank_lines.c
            open_ids = [
                int(r[0])
                for r in conn.execute(
                    select(c.id).where(c.status.in_(("REVIEW", "UNMATCHED", "MATCHED")))
                )
            ]
            run_id = int(
                conn.execute(
                    select(db.runs.c.id).order_by(db.runs.c.id.desc()).limit(1)
                ).scalar_one()
            )
            lines = line_rows(conn, [], open_ids)
            invs = invoice_rows(
                conn, [r[0] for r in conn.execute(select(db.invoices.c.invoice_no))]
            )
            confs = confirmation_rows(
                conn, [r[0] for r in conn.execute(select(db.confirmations.c.ticket_id))]
            )
        out = opts.out
        paths = [
            write_csv(out / "bank_lines.csv", BANK_LINES_COLUMNS, lines),
            write_csv(out / "invoices.csv", INVOICES_COLUMNS, invs),
            write_csv(out / "confirmations.csv", CONFIRMATIONS_COLUMNS, confs),
        ]
        book = out / f"reconcile_{opts.as_of.isoformat()}_run{run_id}.xlsx"
        paths.append(
            workbook.write_workbook(
                book,
                engine,
                opts,
                run_id,
                lines=lines,
                invoices=invs,
                confirmations=confs,
                rejections=[],
            )
        )
        return paths
    finally:
        engine.dispose()
