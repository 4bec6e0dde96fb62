"""Write the BNIDirect XLS samples (legacy BIFF .xls) used by the golden tests (formats.md §5.2).

Run from the repository root after changing a sample here (xlwt is needed only for this):

    /work/venv/bin/python tests/importers/bni_bnidirect_xls/make_samples.py

The layout imitates the export: title rows, an ``Account No.`` row, a header spread over merged
cells, an opening-balance row holding one value, transaction rows whose values do not always
sit under their header's column, page headers repeated every 25 rows, and ``Total … :`` footers.
Dates are Excel serial numbers with the time as a fraction. All names and amounts are invented.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import xlwt

HERE = Path(__file__).parent
HOLDER = "RINA WULANDARI"
HEADER = (
    (0, 1, "Posting Date"),
    (2, 2, "Effective Date"),
    (3, 3, "Branch"),
    (4, 4, "Journal"),
    (5, 7, "Transaction Description"),
    (8, 8, "Amount"),
    (9, 9, "DB/CR"),
    (10, 10, "Balance"),
)
PAGE_ROWS = 25


@dataclass(frozen=True)
class Row:
    when: datetime | float  # a datetime, or a raw serial number as the bank printed it
    branch: str
    journal: int
    description: str
    amount: Decimal | str  # Decimal -> numeric cell; str -> English-format text cell
    dbcr: str
    balance: Decimal | str


def serial(when: datetime | float, date1904: bool) -> float:
    if isinstance(when, float):
        return when
    base = date(1904, 1, 1) if date1904 else date(1899, 12, 30)
    days = (when.date() - base).days
    seconds = when.hour * 3600 + when.minute * 60 + when.second
    return days + seconds / 86400


def money_cell(value: Decimal | str) -> float | str:
    # numeric cells hold what Excel holds: a binary float, read back through Decimal(repr())
    return float(value) if isinstance(value, Decimal) else value


def write(
    name: str,
    rows: list[Row],
    opening: str,
    *,
    account: str = "0495227030",
    date1904: bool = False,
    totals: tuple[tuple[str, int, str], ...] = (),
) -> None:
    book = xlwt.Workbook()
    book.dates_1904 = date1904
    sheet = book.add_sheet("Sheet1")
    r = 0

    def page_header(first: bool) -> None:
        nonlocal r
        if first:
            sheet.write_merge(r, r, 0, 4, "Account Information")
            r += 1
        sheet.write_merge(r, r, 0, 10, "ACCOUNT STATEMENT")
        r += 1
        sheet.write_merge(r, r, 0, 1, HOLDER)
        sheet.write_merge(r, r, 2, 3, "Account No.")
        sheet.write_merge(r, r, 4, 7, f"{account} / {HOLDER}")
        r += 1
        for c1, c2, label in HEADER:
            sheet.write_merge(r, r, c1, c2, label)
        r += 1

    page_header(first=True)
    sheet.write(r, 10, opening)
    r += 1
    for i, row in enumerate(rows):
        if i and i % PAGE_ROWS == 0:
            page_header(first=False)
        when = serial(row.when, date1904)
        sheet.write(r, 0, when)
        sheet.write(r, 2, when)
        sheet.write(r, 3, row.branch)
        sheet.write(r, 4, row.journal)
        # the description cell sits one column right of its header (merged-cell scatter)
        sheet.write_merge(r, r, 6, 7, row.description)
        sheet.write(r, 8, money_cell(row.amount))
        sheet.write(r, 9, row.dbcr)
        sheet.write(r, 10, money_cell(row.balance))
        r += 1
    for label, count, amount in totals:
        sheet.write_merge(r, r, 0, 1, label)
        sheet.write(r, 2, count)
        sheet.write(r, 8, amount)
        r += 1
    book.save(str(HERE / name))


def formats_example() -> None:
    """formats.md §5.2, as printed there (serials 46083.3442 and 46083.8195)."""
    write(
        "samples/account_statement_0203.xls",
        [
            Row(
                46083.3442,
                "UNIT E-CHANNEL",
                418273,
                "TRANSFER DARI | PEMINDAHAN DARI 0281234567 Bpk BUDI  SANTOSO",
                "1,500,000.00",
                "K",
                "9,700,000.00",
            ),
            Row(
                46083.8195,
                "BNI DIRECT",
                418990,
                "TRF/PAY/TOP-UP ECHANNEL | PEMINDAHAN DARI 0339876543 | 5264221234567890 "
                "| SITI RAHAYU",
                "750,000.00",
                "K",
                "10,450,000.00",
            ),
        ],
        "8,200,000.00",
        totals=(("Total Credit :", 2, "2,250,000.00"),),
    )


def month_rows(start: datetime, opening: Decimal) -> tuple[list[Row], Decimal, Decimal, int, int]:
    """30 rows over a few days: credits from customers, fees; numeric money cells."""
    names = ["SITI RAHAYU", "AGUS PRASETYO", "DEWI ANGGRAINI", "HENDRA WIJAYA", "MAYA SARI"]
    rows: list[Row] = []
    balance = opening
    credit_total = debit_total = Decimal("0.00")
    n_cr = n_db = 0
    for i in range(30):
        when = start.replace(day=start.day + i // 8, hour=8 + i % 8, minute=(7 * i) % 60)
        if i % 6 == 5:
            amount, dbcr = Decimal("2500.00"), "D"
            desc = "BY TRX BIFAST"
            balance -= amount
            debit_total += amount
            n_db += 1
        else:
            amount = Decimal(250000 + 125000 * (i % 5)) + Decimal(i % 3 * 17)
            dbcr = "K"
            name = names[i % len(names)]
            desc = (
                f"TRANSFER DARI | PEMINDAHAN DARI 02{81234560 + i:08d} Sdr {name} | INV{20400 + i}"
            )
            balance += amount
            credit_total += amount
            n_cr += 1
        rows.append(Row(when, "UNIT E-CHANNEL", 500100 + i, desc, amount, dbcr, balance))
    return rows, credit_total, debit_total, n_cr, n_db


def long_statement(name: str, *, date1904: bool, opening: Decimal, start: datetime) -> None:
    rows, cr, db, n_cr, n_db = month_rows(start, opening)
    write(
        name,
        rows,
        f"{opening:,.2f}",
        date1904=date1904,
        totals=(("Total Credit :", n_cr, f"{cr:,.2f}"), ("Total Debit :", n_db, f"{db:,.2f}")),
    )


def bad_files() -> None:
    good = Row(
        datetime(2026, 3, 2, 8, 15, 42),
        "UNIT E-CHANNEL",
        418273,
        "TRANSFER DARI | PEMINDAHAN DARI 0281234567 Bpk BUDI  SANTOSO",
        "1,500,000.00",
        "K",
        "9,700,000.00",
    )
    second = Row(
        datetime(2026, 3, 2, 19, 40, 5),
        "BNI DIRECT",
        418990,
        "TRF/PAY/TOP-UP ECHANNEL | PEMINDAHAN DARI 0339876543 | 5264221234567890 | SITI RAHAYU",
        "750,000.00",
        "K",
        "10,500,000.00",  # re-typed: 9,700,000 + 750,000 is 10,450,000
    )
    write("bad/broken_balance.xls", [good, second], "8,200,000.00")
    write("bad/foreign_account.xls", [good], "8,200,000.00", account="0495227099")
    unreadable = Row(
        good.when, good.branch, good.journal, good.description, "1.500.000", "K", "9,700,000.00"
    )
    write("bad/bad_amount.xls", [unreadable], "8,200,000.00")
    no_sign = Row(
        good.when, good.branch, good.journal, good.description, "1,500,000.00", "X", "9,700,000.00"
    )
    write("bad/bad_dbcr.xls", [no_sign], "8,200,000.00")


if __name__ == "__main__":
    formats_example()
    long_statement(
        "samples/account_statement_feb_paged.xls",
        date1904=False,
        opening=Decimal("-50000.00"),
        start=datetime(2026, 2, 23, 8, 0, 0),
    )
    long_statement(
        "samples/account_statement_1904.xls",
        date1904=True,
        opening=Decimal("1250000.00"),
        start=datetime(2026, 3, 3, 8, 0, 0),
    )
    bad_files()
