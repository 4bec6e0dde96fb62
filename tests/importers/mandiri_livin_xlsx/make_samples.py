"""Build the Livin' e-Statement samples (formats.md §4.3) with openpyxl, in the bank's layout.

Run from the repository root:  /work/venv/bin/python tests/importers/mandiri_livin_xlsx/make_samples.py
The generated .xlsx files are committed; read their golden files after regenerating.
All names, amounts and other people's account numbers are invented.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, time
from pathlib import Path

from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

HERE = Path(__file__).parent
ACCOUNT = "1370010136428"
OJK = (
    "PT Bank Mandiri (Persero) Tbk. terdaftar dan diawasi oleh Otoritas Jasa Keuangan (OJK) "
    "serta merupakan peserta penjaminan LPS."
)
CALL = "Mandiri Call 14000"
FIXED_TIME = datetime(2026, 3, 16, 7, 0, 0)

Value = str | int | float | datetime | time


@dataclass(frozen=True)
class Movement:
    no: int
    date: Value
    time: Value
    remarks: str
    incoming: Value | None
    outgoing: Value | None
    balance: Value


@dataclass(frozen=True)
class Sheet:
    name: str
    period: str
    account: str
    currency: str
    opening: Value
    incoming: Value
    outgoing: Value
    closing: Value
    movements: tuple[Movement, ...]
    page_break_after: int | None = None  # repeat footer and header after this movement
    label_col: str = "A"  # the preamble moves between exports
    colon_col: str = "I"
    value_col: str = "J"


def _header(ws: Worksheet, row: int) -> None:
    top = {"B": "No", "E": "Tanggal", "H": "Keterangan", "P": "Dana Masuk (IDR)"}
    top |= {"S": "Dana Keluar (IDR)", "V": "Saldo (IDR)"}
    bottom = {"B": "No", "E": "Date", "H": "Remarks", "P": "Incoming Transactions (IDR)"}
    bottom |= {"S": "Outgoing Transactions (IDR)", "V": "Balance (IDR)"}
    for r, cells in ((row, top), (row + 1, bottom)):
        for col, text in cells.items():
            ws[f"{col}{r}"] = text
        for first, last in (("B", "D"), ("E", "G"), ("H", "O"), ("P", "R"), ("S", "U"), ("V", "X")):
            ws.merge_cells(f"{first}{r}:{last}{r}")


def _footer(ws: Worksheet, row: int) -> int:
    ws[f"A{row}"] = OJK
    ws[f"A{row + 1}"] = CALL
    return row + 3


def build(sheet: Sheet, path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "e-Statement"
    wb.properties.creator = "Livin' by Mandiri"
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME
    ws["B1"] = "e-Statement"
    lc, cc, vc = sheet.label_col, sheet.colon_col, sheet.value_col
    preamble = [
        (2, "Nama/Name", "RINA WULANDARI", "Dicetak pada/Issued on", "16 Mar 2026"),
        (3, "Periode/Period", sheet.period, "Cabang/Branch", "KCP JAKARTA SUDIRMAN"),
        (5, "Nomor Rekening/Account Number", sheet.account, "Mata Uang/Currency", sheet.currency),
        (
            6,
            "Saldo Awal/Initial Balance",
            sheet.opening,
            "Dana Masuk/Incoming Transactions",
            sheet.incoming,
        ),
        (
            7,
            "Saldo Akhir/Closing Balance",
            sheet.closing,
            "Dana Keluar/Outgoing Transactions",
            sheet.outgoing,
        ),
    ]
    for row, left, left_value, right, right_value in preamble:
        ws[f"{lc}{row}"], ws[f"{cc}{row}"], ws[f"{vc}{row}"] = left, ":", left_value
        ws[f"P{row}"], ws[f"S{row}"], ws[f"T{row}"] = right, ":", right_value
    ws[f"{lc}4"] = "Tabungan Mandiri"
    ws[f"{vc}4"] = "IDR"
    _header(ws, 9)
    row = 11
    for m in sheet.movements:
        ws[f"A{row}"] = m.no
        ws.merge_cells(f"A{row}:D{row}")
        ws[f"E{row}"] = m.date
        ws[f"H{row}"] = m.remarks
        if m.incoming is not None:
            ws[f"P{row}"] = m.incoming
        if m.outgoing is not None:
            ws[f"S{row}"] = m.outgoing
        ws[f"V{row}"] = m.balance
        ws[f"E{row + 1}"] = m.time
        row += 2
        if sheet.page_break_after == m.no:
            row = _footer(ws, row)
            _header(ws, row)
            row += 2
    _footer(ws, row + 1)
    wb.save(path)


MARCH = Sheet(
    name="march_first_half",
    period="01 Mar 2026 - 15 Mar 2026",
    account=ACCOUNT,
    currency="IDR",
    opening="25.000.000,00",
    incoming="5.715.000,00",
    outgoing="262.500,00",
    closing="30.452.500,00",
    page_break_after=3,
    movements=(
        Movement(
            1,
            "02 Mar 2026",
            "08:15:42 WIB",
            "Transfer dari BANK MANDIRI\nBUDI SANTOSO 1370098765432",
            "1.500.000,00",
            None,
            "26.500.000,00",
        ),
        Movement(
            2,
            "02 Mar 2026",
            "21:03:11 WIB",
            "Transfer BI Fast Dari BANK PERMATA\nSITI RAHAYU 4123456789 -",
            "750.000,00",
            None,
            "27.250.000,00",
        ),
        Movement(
            3,
            "03 Mar 2026",
            "07:45:00 WIB",
            "Transfer BI Fast Dari  AGUS SETIAWAN 081234567890 DANA20260303DANAIDJ1010O0211223344",
            "165.000,00",
            None,
            "27.415.000,00",
        ),
        Movement(
            5,
            "04 Mar 2026",
            "10:00:00 WIB",
            "Transfer antar Mandiri DARI HENDRA WIJAYA\n1370012345678",
            "3.300.000,00",
            None,
            "30.715.000,00",
        ),
        Movement(
            6,
            "05 Mar 2026",
            "12:30:00 WIB",
            "Transfer ke BANK BCA\nDEWI ANGGRAINI 0123456789",
            None,
            "250.000,00",
            "30.465.000,00",
        ),
        Movement(
            7,
            "15 Mar 2026",
            "23:59:59 WIB",
            "Biaya Administrasi",
            None,
            "12.500,00",
            "30.452.500,00",
        ),
    ),
)

AUGUST_RESAVED = Sheet(
    name="august_resaved_numeric_cells",
    period="01 Agu 2025 - 31 Agu 2025",
    account=ACCOUNT,
    currency="IDR",
    opening=1250000.5,
    incoming=2531234.56,
    outgoing=246.91,
    closing=3780988.15,
    label_col="B",
    colon_col="H",
    value_col="I",
    movements=(
        Movement(
            1,
            datetime(2025, 8, 4),
            time(9, 0, 0),
            "Transfer dari Bank lain BANK BCA DANA-RINA MARLINA 8812345678",
            330000,
            None,
            1580000.5,
        ),
        Movement(
            2,
            datetime(2025, 8, 17),
            time(6, 5, 9),
            "Transfer BI Fast Dari BANK NEGARA INDONESIA\nMUHAMMAD RIZKY PRATAMA 0495123456 -",
            2200000,
            None,
            3780000.5,
        ),
        Movement(3, datetime(2025, 8, 31), time(23, 0, 0), "Bunga", 1234.56, None, 3781235.06),
        Movement(4, datetime(2025, 8, 31), time(23, 0, 0), "Pajak Bunga", None, 246.91, 3780988.15),
    ),
)


def _edit(sheet: Sheet, index: int, **changes: Value | None) -> Sheet:
    rows = list(sheet.movements)
    rows[index] = replace(rows[index], **changes)  # type: ignore[arg-type]
    return replace(sheet, movements=tuple(rows))


BAD = {
    "broken_running_balance": _edit(MARCH, 1, balance="27.205.000,00"),
    "unparseable_amount": _edit(MARCH, 0, incoming="1,500,000.00"),
    "wrong_currency": replace(MARCH, currency="USD"),
    "foreign_account": replace(MARCH, account="1370098765432"),
    "closing_balance_wrong": replace(MARCH, closing="30.425.500,00"),
    "rows_missing": replace(MARCH, movements=MARCH.movements[:-1]),
}


def main() -> None:
    for sheet in (MARCH, AUGUST_RESAVED):
        build(sheet, HERE / "samples" / f"{sheet.name}.xlsx")
    for name, sheet in BAD.items():
        build(sheet, HERE / "bad" / f"{name}.xlsx")


if __name__ == "__main__":
    main()
