"""BNIDirect XLS: a legacy BIFF ``.xls`` workbook (formats.md §5.2).

Layout (``¦`` separates the non-empty cells of a row; merged cells scatter them across columns)::

    Account Information
    ACCOUNT STATEMENT
    RINA WULANDARI ¦ Account No. ¦ 0495227030 / RINA WULANDARI
    Posting Date ¦ Effective Date ¦ Branch ¦ Journal ¦ Transaction Description ¦ Amount ¦ DB/CR ¦ Balance
    8,200,000.00                                                   <- opening balance (may be negative)
    46083.3442 ¦ 46083.3442 ¦ UNIT E-CHANNEL ¦ 418273 ¦ TRANSFER DARI | … ¦ 1,500,000.00 ¦ K ¦ 9,700,000.00
    Total Credit : ¦ 2 ¦ 2,250,000.00

* Each row's non-empty cells are paired with the header names in order, never by column index.
* The page header block (``ACCOUNT STATEMENT``, the account row, the column header) repeats about
  every 25 rows and is skipped wherever it appears.
* Dates are Excel serial numbers with the time as the fraction (day 0 = 1899-12-30, or 1904-01-01
  when the workbook's 1904 flag is set); the time is rounded to the second.
* Amounts are English-format text or numeric cells; ``DB/CR`` is ``D`` (debit) or ``K`` (kredit).
* ``Total Credit :`` / ``Total Debit :`` rows (count, amount) are control totals.
* The source position is the worksheet row (1-based).
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

import xlrd
import xlrd.compdoc

from importers.base import FileSniff, ParseContext, digits_only, row_context
from importers.bni_bnidirect_csv import parse_bni_datetime
from importers.remarks.bni import parse_bni_remarks
from reconcile.dates import excel_serial_to_date, initiation_date
from reconcile.errors import FileRejected, RowError, ValueFormatError
from reconcile.model import Direction, Statement, Transaction
from reconcile.money import decimal_from_cell, parse_amount_en

NAME = "bni_bnidirect_xls"
BANK = "bni"
HEADER = (
    "posting date",
    "effective date",
    "branch",
    "journal",
    "transaction description",
    "amount",
    "db/cr",
    "balance",
)
_LABELS = {h: h.title().replace("Db/Cr", "DB/CR") for h in HEADER}
_DIRECTIONS = {"D": Direction.DB, "K": Direction.CR, "C": Direction.CR}
_ACCOUNT_VALUE = re.compile(r"(?P<acct>[\d\-. ]{6,})\s*(?:/\s*(?P<holder>.*))?")
_TOTAL = re.compile(r"total\s+(?P<kind>credit|debit)\s*:?", re.I)
_SERIAL_TEXT = re.compile(r"\d+(\.\d+)?")
_DAY = Decimal(86400)
# what xlrd raises on a file that is not a readable BIFF workbook
_UNREADABLE = (
    xlrd.XLRDError,
    xlrd.compdoc.CompDocError,
    OSError,
    struct.error,
    IndexError,
    KeyError,  # a cell's format index missing from a damaged format table
    ValueError,
    AssertionError,
    UnicodeDecodeError,
)

Cell = str | float | int


@dataclass(frozen=True, slots=True)
class _Sheet:
    rows: list[tuple[int, list[Cell]]]  # (1-based row, non-empty cell values in column order)
    date1904: bool


def _cell_value(cell: xlrd.sheet.Cell) -> Cell | None:
    if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
        return None
    if cell.ctype == xlrd.XL_CELL_TEXT:
        text = str(cell.value).replace("\u00a0", " ")
        return text if text.strip() else None
    if cell.ctype in (xlrd.XL_CELL_NUMBER, xlrd.XL_CELL_DATE):
        return float(cell.value)
    if cell.ctype == xlrd.XL_CELL_BOOLEAN:
        return int(cell.value)
    return str(cell.value)


def _read_sheet(path: Path, max_rows: int | None = None) -> _Sheet:
    book = xlrd.open_workbook(str(path), on_demand=True)
    try:
        sheet = book.sheet_by_index(0)
        rows: list[tuple[int, list[Cell]]] = []
        for rowx in range(sheet.nrows if max_rows is None else min(sheet.nrows, max_rows)):
            values = [v for v in (_cell_value(c) for c in sheet.row(rowx)) if v is not None]
            if values:
                rows.append((rowx + 1, values))
        return _Sheet(rows=rows, date1904=book.datemode == 1)
    finally:
        book.release_resources()


def _lower(value: Cell) -> str:
    return " ".join(value.split()).lower() if isinstance(value, str) else ""


def _is_page_title(values: list[Cell]) -> bool:
    texts = [_lower(v) for v in values]
    return any("account statement" in t for t in texts) or texts == ["account information"]


def _account_label_at(values: list[Cell]) -> int | None:
    for i, v in enumerate(values):
        if _lower(v).rstrip(".: ") == "account no":
            return i
    return None


class BniBnidirectXlsImporter:
    name = NAME
    bank = BANK
    title = "BNIDirect XLS"

    def identify(self, sniff: FileSniff) -> bool:
        if sniff.kind != "ole2":
            return False
        try:
            sheet = _read_sheet(sniff.path, max_rows=12)
        except _UNREADABLE:
            return False
        titles = any(_is_page_title(values) for _, values in sheet.rows)
        account = any(_account_label_at(values) is not None for _, values in sheet.rows)
        header = any(tuple(_lower(v) for v in values) == HEADER for _, values in sheet.rows)
        return titles and account and header

    def parse(self, path: Path, ctx: ParseContext) -> list[Statement]:
        return parse_bni_bnidirect_xls(path)


def serial_to_datetime(value: Cell, *, date1904: bool) -> datetime:
    """46083.3442 -> 2026-03-02 08:15:39 (time rounded to the second); text dates are accepted."""
    if isinstance(value, str):
        s = value.strip()
        if not _SERIAL_TEXT.fullmatch(s):
            return parse_bni_datetime(s)
        number = Decimal(s)
    else:
        try:
            number = Decimal(repr(value))
        except InvalidOperation as exc:
            raise ValueFormatError(repr(value), "an Excel date serial number") from exc
    if not number.is_finite() or number <= 0:
        raise ValueFormatError(str(value), "an Excel date serial number")
    whole = int(number)
    seconds = int(((number - whole) * _DAY).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    day = excel_serial_to_date(whole, date1904=date1904)
    return datetime.combine(day, time()) + timedelta(seconds=seconds)


def _amount(value: Cell) -> Decimal:
    if isinstance(value, str):
        return parse_amount_en(value)
    return decimal_from_cell(value, what="an amount such as 1,500,000.00")


def _text(value: Cell) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def parse_bni_bnidirect_xls(path: Path) -> list[Statement]:
    """The one account statement of a BNIDirect XLS workbook, proved by the caller."""
    file = path.name
    try:
        sheet = _read_sheet(path)
    except _UNREADABLE as exc:
        raise FileRejected(file, f"cannot read the workbook ({exc}); expected a BIFF .xls") from exc
    account: str | None = None
    holder: str | None = None
    header_seen = False
    st = Statement(bank=BANK, layout=NAME, account_no="", transactions=[])
    for row, values in sheet.rows:
        if _is_page_title(values):
            continue
        label_at = _account_label_at(values)
        if label_at is not None:
            found, found_holder = _account_row(file, row, values, label_at)
            if account is not None and found != account:
                raise FileRejected(
                    file, f"row {row}: a second account {found} after account {account}"
                )
            account, holder = found, found_holder
            continue
        if tuple(_lower(v) for v in values) == HEADER:
            header_seen = True
            continue
        total = _TOTAL.fullmatch(_lower(values[0]))
        if total:
            _read_total(file, row, values, total["kind"], st)
            continue
        if not header_seen:
            continue
        if len(values) == 1 and not st.transactions and st.opening_balance is None:
            with row_context(file, row, "Balance"):
                st.opening_balance = _amount(values[0])
            continue
        if len(values) != len(HEADER):
            raise RowError(
                file,
                row,
                "Transaction Description",
                " ¦ ".join(_text(v) for v in values),
                f"{len(HEADER)} values ({', '.join(_LABELS[h] for h in HEADER)})",
            )
        st.transactions.append(
            _transaction(file, row, dict(zip(HEADER, values, strict=True)), sheet, account or "")
        )
    if account is None:
        raise FileRejected(file, "no 'Account No.' row; cannot tell whose statement this is")
    if not header_seen:
        raise FileRejected(file, "no column header row (Posting Date … Balance)")
    st.account_no = account
    st.holder_name = holder
    st.transactions = [_with_account(t, account) for t in st.transactions]
    return [st]


def _with_account(t: Transaction, account: str) -> Transaction:
    from dataclasses import replace

    return t if t.account_no == account else replace(t, account_no=account)


def _account_row(file: str, row: int, values: list[Cell], label_at: int) -> tuple[str, str | None]:
    if label_at + 1 >= len(values):
        raise RowError(file, row, "Account No.", "", "'<account> / <holder>'")
    raw = _text(values[label_at + 1])
    m = _ACCOUNT_VALUE.fullmatch(raw)
    if not m or not digits_only(m["acct"]):
        raise RowError(file, row, "Account No.", raw, "'<account> / <holder>'")
    return digits_only(m["acct"]), (m["holder"] or "").strip() or None


def _read_total(file: str, row: int, values: list[Cell], kind: str, st: Statement) -> None:
    label = _text(values[0])
    rest = values[1:]
    if len(rest) != 2:
        raise RowError(
            file, row, label, " ¦ ".join(_text(v) for v in rest), "a count and an amount"
        )
    count_text = _text(rest[0])
    if not count_text.isdigit():
        raise RowError(file, row, label, count_text, "a whole number of rows")
    with row_context(file, row, label):
        amount = _amount(rest[1])
    if kind.lower() == "credit":
        st.count_credit, st.total_credit = int(count_text), amount
    else:
        st.count_debit, st.total_debit = int(count_text), amount


def _transaction(
    file: str, row: int, f: dict[str, Cell], sheet: _Sheet, account: str
) -> Transaction:
    with row_context(file, row, "Posting Date"):
        posted = serial_to_datetime(f["posting date"], date1904=sheet.date1904)
    with row_context(file, row, "Effective Date"):
        effective = serial_to_datetime(f["effective date"], date1904=sheet.date1904)
    with row_context(file, row, "Amount"):
        amount = _amount(f["amount"])
    with row_context(file, row, "Balance"):
        balance = _amount(f["balance"])
    sign = _text(f["db/cr"]).upper()
    if sign not in _DIRECTIONS:
        raise RowError(file, row, "DB/CR", _text(f["db/cr"]), "D (debit) or K (kredit)")
    if amount <= 0:
        raise RowError(file, row, "Amount", _text(f["amount"]), "a positive amount")
    description = _text(f["transaction description"])
    remarks = parse_bni_remarks(description)
    posted_on = posted.date()
    return Transaction(
        bank=BANK,
        layout=NAME,
        account_no=account,
        posted_on=posted_on,
        direction=_DIRECTIONS[sign],
        amount=amount,
        description=description,
        source_line=row,
        balance=balance,
        posted_time=posted.time(),
        value_on=effective.date(),
        initiated_on=initiation_date(remarks.initiated_ddmm, posted_on)
        if remarks.initiated_ddmm
        else None,
        channel=remarks.channel,
        counterparty=remarks.sender_name,
        sender_bank=remarks.sender_bank,
        sender_account=remarks.sender_account,
        message=remarks.message,
        bank_ref=remarks.bank_ref,
        is_fee=remarks.is_fee,
    )


IMPORTER = BniBnidirectXlsImporter()
