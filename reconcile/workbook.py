"""The Excel workbook accountants review (first version: one sheet per output table)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import xlsxwriter
from sqlalchemy import Engine

if TYPE_CHECKING:
    from reconcile.pipeline import Rejection, RunOptions

MONEY_COLUMNS = {"amount", "amount_due", "amount_received"}


def _sheet(
    wb: Any,
    name: str,
    rows: Sequence[dict[str, Any]],
    columns: list[str],
    money_fmt: Any,
    header_fmt: Any,
) -> None:
    ws = wb.add_worksheet(name)
    for j, col in enumerate(columns):
        ws.write_string(0, j, col, header_fmt)
        ws.set_column(j, j, max(12, min(50, len(col) + 4)))
    for i, r in enumerate(rows, start=1):
        for j, col in enumerate(columns):
            v = r.get(col, "")
            if col in MONEY_COLUMNS and v not in ("", None):
                ws.write_number(i, j, float(Decimal(str(v))), money_fmt)  # display only
            elif isinstance(v, int):
                ws.write_number(i, j, v)
            else:
                ws.write_string(i, j, "" if v is None else str(v))
    ws.freeze_panes(1, 0)
    if rows:
        ws.autofilter(0, 0, len(rows), len(columns) - 1)


def write_workbook(
    path: Path,
    engine: Engine,
    opts: RunOptions,
    run_id: int,
    *,
    lines: Sequence[dict[str, Any]],
    invoices: Sequence[dict[str, Any]],
    confirmations: Sequence[dict[str, Any]],
    rejections: Sequence[Rejection],
) -> Path:
    from reconcile.reports import BANK_LINES_COLUMNS, CONFIRMATIONS_COLUMNS, INVOICES_COLUMNS

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.xlsx")
    wb = xlsxwriter.Workbook(str(tmp), {"strings_to_formulas": False, "strings_to_numbers": False})
    money_fmt = wb.add_format({"num_format": "#,##0.00"})
    header_fmt = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    _sheet(wb, "Mutasi", lines, BANK_LINES_COLUMNS, money_fmt, header_fmt)
    _sheet(wb, "Tagihan", invoices, INVOICES_COLUMNS, money_fmt, header_fmt)
    _sheet(wb, "Konfirmasi", confirmations, CONFIRMATIONS_COLUMNS, money_fmt, header_fmt)
    rej = [{"file": r.file, "line": r.line or "", "reason": r.reason} for r in rejections]
    _sheet(wb, "Ditolak", rej, ["file", "line", "reason"], money_fmt, header_fmt)
    wb.close()
    os.replace(tmp, path)
    return path
