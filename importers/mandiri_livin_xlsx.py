"""Livin' by Mandiri e-Statement XLSX (formats.md §4.3, §12.9-12.11, §12.20).

A bilingual sheet: labels followed by a ``:`` cell and a value cell, a two-row header, then two
worksheet rows per movement (the data row, then the time alone in the date column); non-empty
cells only::

    r6  A:"Nomor Rekening/Account Number"  I:":"  J:"1370010136428"
    r9  B:"No"  E:"Tanggal"  H:"Keterangan"  P:"Dana Masuk (IDR)"  S:"Dana Keluar (IDR)"  V:"Saldo (IDR)"
    r10 B:"No"  E:"Date"  H:"Remarks"  P:"Incoming Transactions (IDR)"  ...
    r11 A:"1"  E:"02 Mar 2026"  H:"Transfer dari BANK MANDIRI\\nBUDI SANTOSO 1370098765432"
        P:"1.500.000,00"  V:"26.500.000,00"
    r12 E:"08:15:42 WIB"

- Everything is located by label text; a data cell may sit one column left of its header
  (merged cells).
- Amounts are Indonesian text (``1.500.000,00``) or, after a re-save, numeric cells.
- Rows with neither a date nor an amount (the OJK notice, ``Mandiri Call 14000``, blank or
  repeated header rows) are skipped; the source line is the row where a movement starts.
- Control values: Saldo Awal, Dana Masuk, Dana Keluar, Saldo Akhir, the period and currency.
- A password-protected file is an OLE2 container and is refused before it gets here.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

from importers.base import FileSniff, ParseContext, row_context
from importers.mandiri_common import (
    BANK,
    RawRow,
    build_transaction,
    direction_and_amount,
    parse_month_name_date,
    parse_wib_time,
)
from reconcile.errors import FileRejected, RowError, ValueFormatError
from reconcile.model import Statement, Transaction
from reconcile.money import ZERO, decimal_from_cell, parse_amount_id

ACCOUNT_LABEL = "Nomor Rekening/Account Number"
PERIOD_LABEL = "Periode/Period"
NAME_LABEL = "Nama/Name"
CURRENCY_LABEL = "Mata Uang/Currency"
OPENING_LABEL = "Saldo Awal/Initial Balance"
CREDITS_LABEL = "Dana Masuk/Incoming Transactions"
DEBITS_LABEL = "Dana Keluar/Outgoing Transactions"
CLOSING_LABEL = "Saldo Akhir/Closing Balance"

NO, DATE, REMARKS, IN, OUT, BALANCE = (
    "No",
    "Tanggal",
    "Keterangan",
    "Dana Masuk (IDR)",
    "Dana Keluar (IDR)",
    "Saldo (IDR)",
)
HEADER_NAMES = (NO, DATE, REMARKS, IN, OUT, BALANCE)
_SIGNATURE = (b"e-Statement", ACCOUNT_LABEL.encode(), PERIOD_LABEL.encode())
_PERIOD = re.compile(r"(?P<start>.+?)\s+-\s+(?P<end>.+)")
_AMOUNT_EXPECTED = "an amount such as 1.500.000,00"

Cell = object  # a worksheet value: str, int, float, datetime, time or None


def _text(value: Cell) -> str:
    return "" if value is None else " ".join(str(value).split())


@dataclass(slots=True)
class _Pending:
    """A movement whose time row has not been read yet."""

    row: int
    posted_on: date
    cells: dict[str, Cell]
    time: time | None = None
    extra_remarks: list[str] = field(default_factory=list)


class MandiriLivinXlsx:
    name = "mandiri_livin_xlsx"
    bank = BANK
    title = "Livin' by Mandiri e-Statement XLSX"

    def identify(self, sniff: FileSniff) -> bool:
        """A ZIP whose sheet text holds 'e-Statement' and the account and period labels."""
        if sniff.kind != "zip":
            return False
        try:
            with zipfile.ZipFile(sniff.path) as z:
                names = [n for n in z.namelist() if n.startswith("xl/") and n.endswith(".xml")]
                text = b"".join(
                    z.read(n)
                    for n in names
                    if n == "xl/sharedStrings.xml" or n.startswith("xl/worksheets/")
                )
        except (zipfile.BadZipFile, OSError, KeyError):
            return False
        return all(sig in text for sig in _SIGNATURE)

    def parse(self, path: Path, ctx: ParseContext) -> list[Statement]:
        file = path.name
        rows = self._read(path)
        labels = _Labels(file, rows)
        account_no = labels.text(ACCOUNT_LABEL)
        start, end = labels.period()
        st = Statement(
            bank=BANK,
            layout=self.name,
            account_no="".join(ch for ch in account_no if ch.isdigit()) or account_no,
            transactions=[],
            currency=labels.text(CURRENCY_LABEL),
            period_start=start,
            period_end=end,
            opening_balance=labels.amount(OPENING_LABEL),
            closing_balance=labels.amount(CLOSING_LABEL),
            total_credit=labels.amount(CREDITS_LABEL),
            total_debit=labels.amount(DEBITS_LABEL),
            holder_name=labels.optional_text(NAME_LABEL),
        )
        header_row, columns = self._header(file, rows)
        pending: _Pending | None = None
        for number in sorted(r for r in rows if r > header_row + 1):
            cells = self._pair(rows[number], columns)
            date_cell = cells.get(DATE)
            if _text(date_cell) in ("Tanggal", "Date"):
                continue  # the header repeated on a new page
            if not any(_text(cells.get(c)) for c in (IN, OUT, BALANCE)):
                self._no_amount_row(file, number, cells, pending)
                continue
            posted_on = self._date(file, number, date_cell)
            if posted_on is None:
                raise RowError(file, number, DATE, "", "a date such as 02 Mar 2026")
            if pending is not None:
                st.transactions.append(self._transaction(file, st.account_no, pending))
            pending = _Pending(row=number, posted_on=posted_on, cells=cells)
        if pending is not None:
            st.transactions.append(self._transaction(file, st.account_no, pending))
        return [st]

    @staticmethod
    def _read(path: Path) -> dict[int, dict[int, Cell]]:
        """Non-empty cells of the first worksheet: {row: {column: value}}, both 1-based."""
        import openpyxl
        from openpyxl.utils.exceptions import InvalidFileException

        try:
            # the bytes, not the path: openpyxl refuses a name not ending .xlsx/.xlsm, and the
            # layout is told by content (formats.md §12.1: a .csv or .xls may be this workbook)
            wb = openpyxl.load_workbook(
                io.BytesIO(path.read_bytes()), read_only=True, data_only=True
            )
        except (zipfile.BadZipFile, OSError, KeyError, ValueError, InvalidFileException) as exc:
            raise FileRejected(
                path.name, f"cannot open the workbook ({exc}); the file looks damaged or truncated"
            ) from exc
        try:
            ws = wb.worksheets[0]
            ws.reset_dimensions()  # some exports declare a wrong sheet size
            rows: dict[int, dict[int, Cell]] = {}
            for row in ws.iter_rows():
                for c in row:
                    value = getattr(c, "value", None)
                    if value is None or (isinstance(value, str) and not value.strip()):
                        continue
                    rows.setdefault(c.row, {})[c.column] = value
        finally:
            wb.close()
        return rows

    @staticmethod
    def _header(file: str, rows: dict[int, dict[int, Cell]]) -> tuple[int, dict[int, str]]:
        """The 'Tanggal … Saldo (IDR)' row and a column -> header name map."""
        for number in sorted(rows):
            texts = {col: _text(v) for col, v in rows[number].items()}
            if all(name in texts.values() for name in HEADER_NAMES):
                return number, {col: t for col, t in texts.items() if t in HEADER_NAMES}
        raise FileRejected(
            file, "no transaction header (No, Tanggal, Keterangan, Dana Masuk (IDR), ...) found"
        )

    @staticmethod
    def _pair(cells: dict[int, Cell], columns: dict[int, str]) -> dict[str, Cell]:
        """Each cell goes to the header above it, or to the header one column to its right."""
        out: dict[str, Cell] = {}
        for col, value in cells.items():
            name = columns.get(col) or columns.get(col + 1)
            if name is not None and name not in out:
                out[name] = value
        return out

    def _no_amount_row(
        self, file: str, number: int, cells: dict[str, Cell], pending: _Pending | None
    ) -> None:
        """A movement's time row, or a row to skip (notice, footer, blank, repeated header)."""
        date_cell = cells.get(DATE)
        clock = self._time(date_cell)
        if clock is not None:
            if pending is None or pending.time is not None:
                raise RowError(
                    file, number, DATE, _text(date_cell), "a time only on the row after a date row"
                )
            pending.time = clock
            if _text(cells.get(REMARKS)):
                pending.extra_remarks.append(str(cells[REMARKS]))
            return
        if isinstance(date_cell, date):
            raise RowError(file, number, IN, "", f"an amount in {IN!r} or {OUT!r} on a dated row")
        try:
            parse_month_name_date(_text(date_cell))
        except ValueFormatError:
            return  # neither a date nor an amount: not a movement (formats.md §4.3)
        raise RowError(file, number, IN, "", f"an amount in {IN!r} or {OUT!r} on a dated row")

    @staticmethod
    def _date(file: str, number: int, value: Cell) -> date | None:
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        text = _text(value)
        if not text:
            return None
        with row_context(file, number, DATE):
            return parse_month_name_date(text)

    @staticmethod
    def _time(value: Cell) -> time | None:
        if isinstance(value, time):
            return value
        text = _text(value)
        if not text:
            return None
        try:
            return parse_wib_time(text)
        except ValueFormatError:
            return None  # not a time row: a notice or a repeated header

    @staticmethod
    def _amount(file: str, number: int, column: str, value: Cell) -> Decimal:
        with row_context(file, number, column):
            if isinstance(value, str):
                return parse_amount_id(value, allow_empty=True)
            if value is None:
                return ZERO
            return decimal_from_cell(value, what=_AMOUNT_EXPECTED)

    def _transaction(self, file: str, account_no: str, p: _Pending) -> Transaction:
        credit = self._amount(file, p.row, IN, p.cells.get(IN))
        debit = self._amount(file, p.row, OUT, p.cells.get(OUT))
        balance_cell = p.cells.get(BALANCE)
        if not _text(balance_cell):
            raise RowError(file, p.row, BALANCE, "", _AMOUNT_EXPECTED)
        balance = self._amount(file, p.row, BALANCE, balance_cell)
        with row_context(file, p.row, IN):
            direction, amount = direction_and_amount(
                credit,
                debit,
                credit_column=IN,
                debit_column=OUT,
                text=f"{IN}={_text(p.cells.get(IN))} {OUT}={_text(p.cells.get(OUT))}",
            )
        raw = p.cells.get(REMARKS)
        description = "\n".join([("" if raw is None else str(raw)), *p.extra_remarks]).strip("\n")
        return build_transaction(
            self.name,
            RawRow(
                account_no=account_no,
                posted_on=p.posted_on,
                posted_time=p.time,
                direction=direction,
                amount=amount,
                balance=balance,
                description=description,
                source_line=p.row,
                remarks=description,
            ),
        )


class _Labels:
    """Preamble values located by their bilingual label: label, ':' cell, value cell."""

    def __init__(self, file: str, rows: dict[int, dict[int, Cell]]) -> None:
        self.file = file
        self.rows = rows

    def _find(self, label: str) -> tuple[int, str, Cell] | None:
        for number in sorted(self.rows):
            cells = self.rows[number]
            cols = sorted(cells)
            for i, col in enumerate(cols):
                if _text(cells[col]).lower() != label.lower():
                    continue
                rest = [cells[c] for c in cols[i + 1 :] if _text(cells[c]) != ":"]
                if not rest:
                    raise FileRejected(self.file, f"row {number}: label {label!r} has no value")
                return number, label, rest[0]
        return None

    def optional_text(self, label: str) -> str | None:
        found = self._find(label)
        return _text(found[2]) if found else None

    def text(self, label: str) -> str:
        found = self._find(label)
        if found is None:
            raise FileRejected(self.file, f"no {label!r} in the statement header")
        return _text(found[2])

    def amount(self, label: str) -> Decimal:
        found = self._find(label)
        if found is None:
            raise FileRejected(self.file, f"no {label!r} in the statement summary")
        number, _, value = found
        with row_context(self.file, number, label):
            if isinstance(value, str):
                return parse_amount_id(value)
            return decimal_from_cell(value, what=_AMOUNT_EXPECTED)

    def period(self) -> tuple[date, date]:
        found = self._find(PERIOD_LABEL)
        if found is None:
            raise FileRejected(self.file, f"no {PERIOD_LABEL!r} in the statement header")
        number, _, value = found
        text = _text(value)
        m = _PERIOD.fullmatch(text)
        if not m:
            raise RowError(self.file, number, PERIOD_LABEL, text, "01 Mar 2026 - 15 Mar 2026")
        with row_context(self.file, number, PERIOD_LABEL):
            return parse_month_name_date(m["start"]), parse_month_name_date(m["end"])


IMPORTER = MandiriLivinXlsx()
