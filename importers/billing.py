"""The invoice list and the payment-confirmation export, CSV or XLSX (formats.md §9.1, §10.1).

Header names are case- and space-insensitive; ``rules.sources.invoice_columns`` and
``confirmation_columns`` map other names (``{"Invoice #": "invoice_no"}``). A missing required
column rejects the file (:class:`FileRejected` naming it). Otherwise a row that cannot be read
is left out and reported as a :class:`RowError` (file, line, column, value, expected) while the
other rows load: an invoice list is not a bank statement.

A confirmation's typed fields never reject its row: what cannot be read makes the row
``INVALID`` with a reason naming the field and the value (see :mod:`reconcile.normalize`).

Sample invoice line::

    invoice_no,client_name,company_name,email,issued_on,due_on,amount,status
    20431,Budi Santoso,,budi.santoso@example.com,2026-02-25,2026-03-04,1500000.00,Unpaid
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from python_calamine import CalamineError, CalamineWorkbook, PasswordError, XmlError, ZipError

from importers.base import csv_records, read_text, sniff
from reconcile.config import Rules
from reconcile.dates import excel_serial_to_date, parse_dmy, parse_iso
from reconcile.errors import FileRejected, RowError, ValueFormatError
from reconcile.money import decimal_from_cell, parse_amount_en, parse_amount_id, to_sen
from reconcile.normalize import (
    Destination,
    TypedDate,
    Unreadable,
    find_invoice_numbers,
    find_typed_amount,
    find_typed_date,
    invoice_key,
    invoice_numbers_from_claims,
    known_invoice_index,
    number_runs,
    parse_typed_amount,
    parse_typed_date,
    resolve_destination,
    text_claims,
    typed_amounts_sen,
    typed_dates_with_year,
)

INVOICE_COLUMNS = [
    "invoice_no",
    "client_name",
    "company_name",
    "email",
    "issued_on",
    "due_on",
    "amount_sen",
    "source_status",
    "source_row",
]
CONFIRMATION_COLUMNS = [
    "ticket_id",
    "submitted_at",
    "name",
    "email",
    "subject",
    "message",
    "related_service",
    "attachment",
    "invoice_no_raw",
    "bank_destination_raw",
    "amount_raw",
    "transfer_date_raw",
    "account_name",
    "invoice_nos",
    "dest_account_no",
    "dest_not_ours",
    "amount_sen",
    "transfer_date",
    "intake_status",
    "intake_reason",
    "source_row",
]
INVOICE_REQUIRED = ("invoice_no", "client_name", "issued_on", "due_on", "amount", "status")
INVOICE_OPTIONAL = ("company_name", "email")
CONFIRMATION_REQUIRED = (
    "ticket_id",
    "submitted_at",
    "invoice_no",
    "bank_destination",
    "amount",
    "transfer_date",
    "account_name",
)
CONFIRMATION_OPTIONAL = (
    "name",
    "email",
    "subject",
    "department",
    "related_service",
    "message",
    "attachment",
)
STATUSES = {
    s.lower(): s
    for s in ("Unpaid", "Paid", "Cancelled", "Draft", "Refunded", "Collections", "Payment Pending")
}
STATUSES["canceled"] = "Cancelled"
BILLING_DEPARTMENT = "billing"

Cell = str | int | float | bool | date | datetime | time | timedelta | None


@dataclass(slots=True)
class SourceResult:
    """A loaded invoice or confirmation source: its frame and the rows left out, with why."""

    frame: pd.DataFrame
    rejected_rows: list[RowError] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SourceRow:
    """One record of a source, by our column names, with where it came from."""

    file: str
    line: int
    cells: Mapping[str, Cell]


# ---------------------------------------------------------------------------------------------
# reading CSV / XLSX into rows keyed by our column names


def _header_key(name: object) -> str:
    return " ".join(str(name).replace("\u00a0", " ").replace("\ufeff", "").split()).lower()


def _read_table(path: Path) -> Iterator[tuple[int, list[Cell]]]:
    kind = sniff(path).kind
    if kind == "text":
        for start, record in csv_records(path.name, read_text(path)):
            yield start, list(record)
    elif kind == "zip":
        try:
            # the bytes, not the path: calamine goes by the name's extension first, and an
            # invoices.xls saved as XLSX is told by its content
            with path.open("rb") as fh:
                sheet = CalamineWorkbook.from_filelike(fh).get_sheet_by_index(0)
        except (CalamineError, PasswordError, XmlError, ZipError) as exc:
            raise FileRejected(path.name, f"not a readable XLSX workbook ({exc})") from exc
        for index, values in enumerate(sheet.to_python(skip_empty_area=False), start=1):
            yield index, list(values)
    elif kind == "empty":
        raise FileRejected(path.name, "file is empty")
    else:
        raise FileRejected(path.name, f"expected a CSV or XLSX file (this one is {kind})")


def read_source_rows(
    path: Path,
    required: Iterable[str],
    optional: Iterable[str],
    mapping: Mapping[str, str],
    setting: str,
) -> list[SourceRow]:
    """Rows of a CSV/XLSX export keyed by our column names; blank rows skipped.

    Raises FileRejected when the header lacks a required column (after ``mapping``).
    """
    wanted = [*required, *optional]
    renames = {_header_key(k): v for k, v in mapping.items()}
    rows = _read_table(path)
    header: tuple[int, list[Cell]] | None = next(
        ((n, r) for n, r in rows if any(_text(c) for c in r)), None
    )
    if header is None:
        raise FileRejected(path.name, "file has no header row")
    positions: dict[str, int] = {}
    for index, name in enumerate(header[1]):
        key = _header_key(name)
        ours = renames.get(key, key)
        if ours in wanted and ours not in positions:
            positions[ours] = index
    missing = [c for c in required if c not in positions]
    if missing:
        found = ", ".join(repr(_text(c)) for c in header[1] if _text(c))
        raise FileRejected(
            path.name,
            f"missing required column {', '.join(repr(c) for c in missing)} "
            f"(header on line {header[0]}: {found}); "
            f"name other headers in rules.yaml sources.{setting}",
        )
    out: list[SourceRow] = []
    for line, record in rows:
        if not any(_text(c) for c in record):
            continue
        cells = {name: (record[i] if i < len(record) else None) for name, i in positions.items()}
        for name in optional:
            cells.setdefault(name, None)
        out.append(SourceRow(path.name, line, cells))
    return out


def _text(value: Cell) -> str:
    """A cell as text: '' for empty, whole floats without '.0', whitespace collapsed."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return " ".join(str(value).replace("\u00a0", " ").split())


# ---------------------------------------------------------------------------------------------
# the same, column by column: a whole export read at once (the bulk path)


@dataclass(frozen=True, slots=True)
class SourceTable:
    """A source's records column by column, by our column names, with each record's line.

    ``cells`` holds one object array per column (``None`` where a record is short);
    ``text_only`` says every cell is a ``str`` (a CSV file), not a typed spreadsheet cell.
    """

    file: str
    lines: np.ndarray
    cells: Mapping[str, np.ndarray]
    text_only: bool

    def __len__(self) -> int:
        return len(self.lines)

    def row(self, index: int) -> SourceRow:
        return SourceRow(
            self.file, int(self.lines[index]), {n: c[index] for n, c in self.cells.items()}
        )

    def rows(self) -> list[SourceRow]:
        return [self.row(i) for i in range(len(self))]

    @classmethod
    def from_rows(cls, file: str, rows: Sequence[SourceRow], columns: Iterable[str]) -> SourceTable:
        cells: dict[str, np.ndarray] = {}
        for name in columns:
            column = np.empty(len(rows), dtype=object)
            column[:] = [row.cells.get(name) for row in rows]
            cells[name] = column
        lines = np.array([row.line for row in rows], dtype=np.int64)
        text_only = all(type(v) is str for c in cells.values() for v in c)
        return cls(file, lines, cells, text_only)


def _object_column(values: Sequence[Cell]) -> np.ndarray:
    column = np.empty(len(values), dtype=object)
    column[:] = list(values)
    return column


def _csv_grid(file: str, text: str) -> tuple[list[np.ndarray], np.ndarray]:
    """All records of a CSV text as columns of str, and the 1-based line each record starts on.

    pandas' C reader gives the same records as :mod:`csv` (blank lines kept as empty
    records); a file whose records are longer than its first is read by :mod:`csv`.
    """
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            header=None,
            dtype=object,
            na_filter=False,
            skip_blank_lines=False,
            keep_default_na=False,
        )
    except pd.errors.ParserError:
        return _csv_module_grid(file, text)  # also: a file cut inside a quoted field
    except pd.errors.EmptyDataError:
        return [], np.zeros(0, dtype=np.int64)
    grid = [frame[c].to_numpy(dtype=object) for c in frame.columns]
    lines = np.arange(1, len(frame) + 1, dtype=np.int64)
    breaks = np.zeros(len(frame), dtype=np.int64)
    for column in grid:  # a quoted cell may hold line breaks: later records start further down
        joined = "".join(column)
        if "\n" in joined or "\r" in joined:
            breaks += [v.count("\n") + v.count("\r") - v.count("\r\n") for v in column]
    lines[1:] += np.cumsum(breaks)[:-1]
    return grid, lines


def _csv_module_grid(file: str, text: str) -> tuple[list[np.ndarray], np.ndarray]:
    records: list[list[Cell]] = []
    starts: list[int] = []
    for start, record in csv_records(file, text):
        records.append(list(record))
        starts.append(start)
    return _pad_records(records), np.array(starts, dtype=np.int64)


def _pad_records(records: Sequence[Sequence[Cell]]) -> list[np.ndarray]:
    width = max((len(r) for r in records), default=0)
    return [_object_column([r[i] if i < len(r) else None for r in records]) for i in range(width)]


def _read_grid(path: Path) -> tuple[list[np.ndarray], np.ndarray, bool]:
    if sniff(path).kind == "text":
        grid, lines = _csv_grid(path.name, read_text(path))
        return grid, lines, True
    numbered = list(_read_table(path))  # XLSX (or the file's rejection)
    lines = np.array([n for n, _ in numbered], dtype=np.int64)
    return _pad_records([r for _, r in numbered]), lines, False


def _nonblank_records(grid: list[np.ndarray], count: int, text_only: bool) -> np.ndarray:
    """Which records have a cell that is not empty or blank (checked column by column)."""
    nonblank = np.zeros(count, dtype=bool)
    for column in grid:
        todo = np.flatnonzero(~nonblank)
        if len(todo) == 0:
            break
        values = column[todo]
        if text_only:
            nonblank[todo] = [bool(v) and not v.isspace() for v in values]
        else:
            nonblank[todo] = [_text(v) != "" for v in values]
    return nonblank


def read_source_table(
    path: Path,
    required: Iterable[str],
    optional: Iterable[str],
    mapping: Mapping[str, str],
    setting: str,
) -> SourceTable:
    """The records of a CSV/XLSX export, column by column: what :func:`read_source_rows` reads.

    Raises FileRejected when the header lacks a required column (after ``mapping``).
    """
    required, optional = list(required), list(optional)
    wanted = [*required, *optional]
    renames = {_header_key(k): v for k, v in mapping.items()}
    grid, lines, text_only = _read_grid(path)
    nonblank = _nonblank_records(grid, len(lines), text_only)
    if not nonblank.any():
        raise FileRejected(path.name, "file has no header row")
    head = int(np.flatnonzero(nonblank)[0])
    header = [column[head] for column in grid]
    while header and header[-1] is None:  # a short header record
        header.pop()
    positions: dict[str, int] = {}
    for index, name in enumerate(header):
        key = _header_key(name)
        ours = renames.get(key, key)
        if ours in wanted and ours not in positions:
            positions[ours] = index
    missing = [c for c in required if c not in positions]
    if missing:
        found = ", ".join(repr(_text(c)) for c in header if _text(c))
        raise FileRejected(
            path.name,
            f"missing required column {', '.join(repr(c) for c in missing)} "
            f"(header on line {lines[head]}: {found}); "
            f"name other headers in rules.yaml sources.{setting}",
        )
    records = np.flatnonzero(nonblank)[1:]
    keep: slice | np.ndarray = records
    if len(records) == len(lines) - head - 1:  # no blank record after the header: no copies
        keep = slice(head + 1, None)
    cells = {name: grid[i][keep] for name, i in positions.items()}
    for name in optional:
        if name not in cells:
            # an absent optional column reads as empty ('' and None read alike)
            cells[name] = np.full(len(lines[keep]), "" if text_only else None, dtype=object)
    return SourceTable(path.name, lines[keep], cells, text_only)


@dataclass(frozen=True, slots=True)
class _Distinct:
    """A reader applied once per distinct cell: per-row ``codes`` into ``values``/``failed``."""

    values: list[Any]
    failed: np.ndarray
    codes: np.ndarray

    def take(self) -> np.ndarray:
        return _object_column(self.values)[self.codes]

    def failed_rows(self) -> np.ndarray:
        return self.failed[self.codes]


def _distinct_cells(cells: np.ndarray, text_only: bool) -> tuple[np.ndarray, list[Cell]]:
    """Codes and distinct cells; only texts are shared (20431, 20431.0 and True hash alike)."""
    if text_only:
        codes, uniques = pd.factorize(cells)
        return codes, list(uniques)
    is_text = np.fromiter((type(v) is str for v in cells), dtype=bool, count=len(cells))
    codes = np.empty(len(cells), dtype=np.intp)
    text_codes, uniques = pd.factorize(cells[is_text])
    codes[is_text] = text_codes
    others = np.flatnonzero(~is_text)
    codes[others] = len(uniques) + np.arange(len(others))
    return codes, [*uniques, *cells[others]]


def _read_distinct(
    cells: np.ndarray,
    text_only: bool,
    reader: Callable[[Cell], Any],
    fast: Callable[[list[Cell]], tuple[list[Any], np.ndarray]] | None = None,
) -> _Distinct:
    """``reader(cell)`` once per distinct cell; ``fast`` reads the common forms in bulk first
    (returning values and which it read), the reader reads the rest (ValueFormatError: failed)."""
    codes, uniques = _distinct_cells(cells, text_only)
    return _read_uniques(codes, uniques, reader, fast)


def _read_uniques(
    codes: np.ndarray,
    uniques: list[Cell],
    reader: Callable[[Cell], Any],
    fast: Callable[[list[Cell]], tuple[list[Any], np.ndarray]] | None,
) -> _Distinct:
    values: list[Any] = [None] * len(uniques)
    done = np.zeros(len(uniques), dtype=bool)
    if fast is not None and uniques:
        fast_values, done = fast(uniques)
        values = list(fast_values)
    failed = np.zeros(len(uniques), dtype=bool)
    for k in np.flatnonzero(~done):
        try:
            values[k] = reader(uniques[k])
        except ValueFormatError:
            failed[k] = True
    return _Distinct(values, failed, codes)


def _clean_texts(uniques: list[Cell]) -> tuple[list[Any], np.ndarray]:
    """Texts :func:`_text` leaves as they are (no whitespace but single inner spaces)."""
    read = np.array(
        [
            type(v) is str and v.isprintable() and v[:1] != " " and v[-1:] != " " and "  " not in v
            for v in uniques
        ],
        dtype=bool,
    )
    return list(uniques), read


def _lower_clean_texts(uniques: list[Cell]) -> tuple[list[Any], np.ndarray]:
    values, read = _clean_texts(uniques)
    return [v.lower() if r else None for v, r in zip(values, read, strict=True)], read


def _texts_of(uniques: list[Cell]) -> tuple[pd.Series, np.ndarray]:
    is_text = np.array([type(v) is str for v in uniques], dtype=bool)
    texts = pd.Series([v if type(v) is str else "" for v in uniques], dtype=object)
    return texts, is_text


_PLAIN_INVOICE_AMOUNT = r"(?P<rupiah>[0-9]{1,13})(?:\.(?P<sen>[0-9]{1,2}))?"


def _plain_invoice_amounts_sen(uniques: list[Cell]) -> tuple[list[Any], np.ndarray]:
    """'1500000' / '1500000.00' / '165000.5' -> integer sen by string arithmetic, in bulk."""
    texts, is_text = _texts_of(uniques)
    read = is_text & texts.str.fullmatch(_PLAIN_INVOICE_AMOUNT).to_numpy(dtype=bool)
    values: list[Any] = [None] * len(uniques)
    if read.any():
        parts = texts[read].str.extract(_PLAIN_INVOICE_AMOUNT)
        sen = (
            parts["rupiah"].astype(np.int64).to_numpy() * 100
            + parts["sen"]
            .fillna("")
            .map(lambda d: int(d.ljust(2, "0")))
            .astype(np.int64)
            .to_numpy()
        )
        for k, v in zip(np.flatnonzero(read), sen.tolist(), strict=True):
            values[k] = v
    return values, read


def _invoice_amount_sen(value: Cell) -> int:
    return to_sen(read_invoice_amount(value))


def _read_invoice_numbers(cells: np.ndarray, text_only: bool) -> _Distinct:
    """Invoice numbers are all different: plain digit strings are taken as they are, without
    hashing; the others are read one distinct cell at a time."""
    plain = np.fromiter(
        (type(v) is str and v.isdecimal() for v in cells), dtype=bool, count=len(cells)
    )
    if plain.all():
        return _Distinct(list(cells), np.zeros(len(cells), dtype=bool), np.arange(len(cells)))
    rest = np.flatnonzero(~plain)
    other = _read_distinct(cells[rest], text_only, read_invoice_no)
    codes = np.arange(len(cells))
    codes[rest] = len(cells) + other.codes
    failed = np.concatenate([np.zeros(len(cells), dtype=bool), other.failed])
    return _Distinct([*cells, *other.values], failed, codes)


def _day_stamps(values: Sequence[date | datetime | None], codes: np.ndarray) -> pd.Series:
    """Dates (or None) per distinct value -> datetime64[ns] per row (NaT for None)."""
    stamps = pd.Series(
        [pd.Timestamp(v) if v else pd.NaT for v in values], dtype="datetime64[ns]"
    ).to_numpy()
    return pd.Series(stamps[codes], dtype="datetime64[ns]")


def _unique_in_order(
    table: SourceTable,
    keys: np.ndarray,
    kept: np.ndarray,
    column: str,
    what: str,
) -> tuple[np.ndarray, dict[int, RowError]]:
    """Kept rows whose key repeats an earlier kept row's are dropped and reported."""
    kept_index = np.flatnonzero(kept)
    codes, _ = pd.factorize(keys[kept_index])
    _, first = np.unique(codes, return_index=True)
    first_of_row = first[codes]
    repeated = first_of_row != np.arange(len(codes))
    errors: dict[int, RowError] = {}
    if repeated.any():
        for position in np.flatnonzero(repeated):
            i = int(kept_index[position])
            errors[i] = RowError(
                table.file,
                int(table.lines[i]),
                column,
                keys[i],
                f"a unique {what} (already on line {table.lines[kept_index[first_of_row[position]]]})",
            )
        kept = kept.copy()
        kept[kept_index[repeated]] = False
    return kept, errors


def invoices_from_table(table: SourceTable) -> SourceResult:
    """The invoice frame of a whole table at once: what :func:`collect_invoices` gives for
    ``table.rows()``, reading each distinct cell once and the common forms in bulk."""
    cells, text_only = table.cells, table.text_only
    number = _read_invoice_numbers(cells["invoice_no"], text_only)
    client = _read_distinct(cells["client_name"], text_only, _text, _clean_texts)
    company = _read_distinct(cells["company_name"], text_only, _text, _clean_texts)
    email = _read_distinct(
        cells["email"], text_only, lambda v: _text(v).lower(), _lower_clean_texts
    )
    issued = _read_distinct(cells["issued_on"], text_only, read_cell_date)
    due = _read_distinct(cells["due_on"], text_only, read_cell_date)
    amount = _read_distinct(
        cells["amount"], text_only, _invoice_amount_sen, _plain_invoice_amounts_sen
    )
    status = _read_distinct(cells["status"], text_only, read_status)
    columns: dict[str, Any] = {
        "invoice_no": number.take(),
        "client_name": client.take(),
        "company_name": company.take(),
        "email": email.take(),
        "issued_on": _day_stamps(issued.values, issued.codes).to_numpy(),
        "due_on": _day_stamps(due.values, due.codes).to_numpy(),
        "amount_sen": np.array(amount.values, dtype=object)[amount.codes],
        "source_status": status.take(),
        "source_row": table.lines.copy(),
    }
    unread = (
        (columns["client_name"] == "")
        | number.failed_rows()
        | issued.failed_rows()
        | due.failed_rows()
        | amount.failed_rows()
        | status.failed_rows()
    )
    rejected: dict[int, RowError] = {}
    for i in np.flatnonzero(unread):  # the row-by-row reader names the first unreadable cell
        try:
            record = invoice_record(table.row(int(i)))
        except RowError as exc:
            rejected[int(i)] = exc
            continue
        for name, value in record.items():
            columns[name][i] = value
        unread[i] = False
    kept, repeats = _unique_in_order(
        table, columns["invoice_no"], ~unread, "invoice_no", "invoice number"
    )
    rejected.update(repeats)
    rows: slice | np.ndarray = slice(None) if kept.all() else kept
    frame = pd.DataFrame({name: columns[name][rows] for name in INVOICE_COLUMNS})
    for column in ("invoice_no", "client_name", "company_name", "email", "source_status"):
        frame[column] = frame[column].astype(object)
    for column in ("issued_on", "due_on"):
        frame[column] = frame[column].astype("datetime64[ns]")
    frame["amount_sen"] = frame["amount_sen"].astype("int64")
    frame["source_row"] = frame["source_row"].astype("int64")
    return SourceResult(frame, [rejected[i] for i in sorted(rejected)])


# ---------------------------------------------------------------------------------------------
# cell readers (each raises ValueFormatError naming what was expected)


def read_invoice_no(value: Cell) -> str:
    """'20431' | 20431.0 | '#20431' | "'020431" -> '20431' / '020431' (text kept, '#' dropped)."""
    if isinstance(value, float):
        if not value.is_integer() or value <= 0:
            raise ValueFormatError(repr(value), "an invoice number such as 20431")
        return str(int(value))
    s = _text(value).lstrip("'`#").strip()
    if re.fullmatch(r"\d+\.0+", s):
        s = s.split(".")[0]
    if not s or not re.search(r"\d", s):
        raise ValueFormatError(_text(value), "an invoice number such as 20431")
    return s


def read_cell_date(value: Cell) -> date | None:
    """A date cell, an Excel serial, 'YYYY-MM-DD' or 'dd/mm/yyyy'; empty or a zero date -> None."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        raise ValueFormatError(str(value), "a date YYYY-MM-DD")
    if isinstance(value, int | float):
        return excel_serial_to_date(value)
    s = _text(value).lstrip("'`")
    if s == "" or s.startswith("0000-00-00"):
        return None
    if re.match(r"\d{4}-", s):
        return parse_iso(s)
    if re.fullmatch(r"\d{1,2}/\d{1,2}/\d{4}", s):
        return parse_dmy(s)
    raise ValueFormatError(s, "a date YYYY-MM-DD (or dd/mm/yyyy)")


def read_invoice_amount(value: Cell) -> Decimal:
    """An invoice total: a number cell, '1500000.00', '1,500,000.00', 'Rp 1.500.000,00'."""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        if not abs(value) < 10**15:  # also NaN and infinity
            raise ValueFormatError(repr(value), "an amount below Rp 1.000 triliun")
        amount = decimal_from_cell(value)
    else:
        s = _text(value)
        bare = re.sub(r"^(rp\.?|idr)\s*", "", s, flags=re.IGNORECASE)
        if re.fullmatch(r"\d{1,16}(\.\d{1,2})?", bare):
            amount = Decimal(bare).quantize(Decimal("0.01"))
        elif re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d{1,2})?", bare):
            amount = parse_amount_en(bare)
        elif re.fullmatch(r"\d{1,3}(\.\d{3})+(,\d{1,2})?|\d+,\d{1,2}", bare):
            amount = parse_amount_id(bare)
        else:
            raise ValueFormatError(s, "an amount such as 1500000.00 or 1.500.000")
    if amount < 0:
        raise ValueFormatError(_text(value), "an amount of zero or more")
    return amount


def read_status(value: Cell) -> str:
    s = _text(value)
    if s.lower() not in STATUSES:
        raise ValueFormatError(s, "a status Unpaid, Paid or Cancelled")
    return STATUSES[s.lower()]


def read_submitted_at(value: Cell) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, time())
    s = _text(value)
    m = re.fullmatch(r"(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(?::\d{2})?)", s)
    if not m:
        raise ValueFormatError(s, "a time stamp YYYY-MM-DD HH:MM:SS")
    try:
        return datetime.fromisoformat(f"{m[1]} {m[2]}")
    except ValueError as exc:
        raise ValueFormatError(s, "a real time stamp YYYY-MM-DD HH:MM:SS") from exc


def _cell(row: SourceRow, column: str, reader: Callable[[Cell], Any]) -> Any:
    try:
        return reader(row.cells.get(column))
    except ValueFormatError as exc:
        raise RowError(row.file, row.line, column, exc.value, exc.expected) from exc


# ---------------------------------------------------------------------------------------------
# invoices


def invoice_record(row: SourceRow) -> dict[str, Any]:
    """One invoice row -> frame record; raises RowError for the first unreadable cell."""
    client_name = _text(row.cells.get("client_name"))
    if not client_name:
        raise RowError(row.file, row.line, "client_name", "", "the client's name")
    issued_on = _cell(row, "issued_on", read_cell_date)
    due_on = _cell(row, "due_on", read_cell_date)
    return {
        "invoice_no": _cell(row, "invoice_no", read_invoice_no),
        "client_name": client_name,
        "company_name": _text(row.cells.get("company_name")),
        "email": _text(row.cells.get("email")).lower(),
        "issued_on": pd.Timestamp(issued_on) if issued_on else pd.NaT,
        "due_on": pd.Timestamp(due_on) if due_on else pd.NaT,
        "amount_sen": to_sen(_cell(row, "amount", read_invoice_amount)),
        "source_status": _cell(row, "status", read_status),
        "source_row": row.line,
    }


def invoice_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(records, columns=INVOICE_COLUMNS)
    for column in ("invoice_no", "client_name", "company_name", "email", "source_status"):
        frame[column] = frame[column].astype(object)
    for column in ("issued_on", "due_on"):
        frame[column] = pd.to_datetime(frame[column]).astype("datetime64[ns]")
    frame["amount_sen"] = frame["amount_sen"].astype("int64")
    frame["source_row"] = frame["source_row"].astype("int64")
    return frame


def collect_invoices(rows: Iterable[SourceRow]) -> SourceResult:
    """Invoice records from rows; unreadable and repeated invoice numbers are reported."""
    records: list[dict[str, Any]] = []
    rejected: list[RowError] = []
    seen: dict[str, int] = {}
    for row in rows:
        try:
            record = invoice_record(row)
        except RowError as exc:
            rejected.append(exc)
            continue
        number = record["invoice_no"]
        if number in seen:
            rejected.append(
                RowError(
                    row.file,
                    row.line,
                    "invoice_no",
                    number,
                    f"a unique invoice number (already on line {seen[number]})",
                )
            )
            continue
        seen[number] = row.line
        records.append(record)
    return SourceResult(invoice_frame(records), rejected)


def load_invoices(path: Path, rules: Rules) -> SourceResult:
    """The invoice list (formats.md §9.1) as the invoice frame of docs/DESIGN.md."""
    table = read_source_table(
        path,
        INVOICE_REQUIRED,
        INVOICE_OPTIONAL,
        rules.sources.invoice_columns,
        "invoice_columns",
    )
    return invoices_from_table(table)


# ---------------------------------------------------------------------------------------------
# confirmations


@dataclass(frozen=True, slots=True)
class TypedFields:
    """What the customer typed into the form, as text (or a typed cell from a spreadsheet)."""

    invoice_no: Cell
    bank_destination: Cell
    amount: Cell
    transfer_date: Cell


def confirmation_record(
    row: SourceRow,
    rules: Rules,
    known: Mapping[str, str],
    as_of: date,
) -> dict[str, Any]:
    """One ticket -> confirmation record. Ticket-system fields raise RowError; typed fields
    that cannot be read make the record INVALID with the reason, never an exception."""
    ticket_id = _text(row.cells.get("ticket_id")).lstrip("#")
    if not ticket_id:
        raise RowError(row.file, row.line, "ticket_id", "", "the ticket number")
    submitted_at = _cell(row, "submitted_at", read_submitted_at)
    subject = _text(row.cells.get("subject"))
    message = str(row.cells.get("message") or "").strip()
    typed = TypedFields(
        row.cells.get("invoice_no"),
        row.cells.get("bank_destination"),
        row.cells.get("amount"),
        row.cells.get("transfer_date"),
    )
    problems: list[str] = []
    notes: list[str] = []

    numbers = find_invoice_numbers(
        _text(typed.invoice_no), subject, message, known, rules.matching.invoice_number_digits
    )
    notes.extend(numbers.notes)
    destination = _destination(typed.bank_destination, message, rules, problems)
    if destination.note:
        notes.append(destination.note)
    amount = _typed_amount(typed.amount, subject, message, problems)
    transfer = _typed_transfer_date(typed.transfer_date, message, submitted_at, as_of, problems)
    department = _text(row.cells.get("department"))
    if department and department.lower() != BILLING_DEPARTMENT:
        notes.append(f"department: filed under {department!r}, not Billing")

    return {
        "ticket_id": ticket_id,
        "submitted_at": pd.Timestamp(submitted_at),
        "name": _text(row.cells.get("name")),
        "email": _text(row.cells.get("email")).lower(),
        "subject": subject,
        "message": message,
        "related_service": _text(row.cells.get("related_service")),
        "attachment": _text(row.cells.get("attachment")),
        "invoice_no_raw": _text(typed.invoice_no),
        "bank_destination_raw": _text(typed.bank_destination),
        "amount_raw": _text(typed.amount),
        "transfer_date_raw": _text(typed.transfer_date),
        "account_name": _text(row.cells.get("account_name")),
        "invoice_nos": ";".join(numbers.numbers),
        "dest_account_no": destination.account_no,
        "dest_not_ours": destination.not_ours,
        "amount_sen": to_sen(amount) if amount is not None else None,
        "transfer_date": pd.Timestamp(transfer.on) if transfer else pd.NaT,
        "intake_status": "INVALID" if problems else "VALID",
        "intake_reason": "; ".join([*problems, *notes]),
        "source_row": row.line,
    }


def _destination(value: Cell, message: str, rules: Rules, problems: list[str]) -> Destination:
    typed = _text(value)
    try:
        if typed:
            return resolve_destination(typed, rules.accounts)
    except ValueFormatError as exc:
        problems.append(f"bank_destination: {exc}")
        return Destination("", "", False, "")
    try:
        return resolve_destination(message, rules.accounts)
    except ValueFormatError:
        return Destination("", "", False, "")  # free text naming no bank: destination unknown


def _typed_amount(value: Cell, subject: str, message: str, problems: list[str]) -> Decimal | None:
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return parse_typed_amount(str(decimal_from_cell(value)))
        typed = _text(value)
        if typed:
            return parse_typed_amount(typed)
        for text in (subject, message):
            found = find_typed_amount(text)
            if found is not None:
                return found
    except ValueFormatError as exc:
        problems.append(f"amount: {exc}")
        return None
    problems.append("amount: empty, and no amount (Rp …, …rb, …jt) in the subject or message")
    return None


def _typed_transfer_date(
    value: Cell, message: str, submitted_at: datetime, as_of: date, problems: list[str]
) -> TypedDate | None:
    try:
        if isinstance(value, datetime | date):
            return parse_typed_date(_cell_date_text(value), submitted_at, as_of)
        typed = _text(value)
        if typed:
            return parse_typed_date(typed, submitted_at, as_of)
        found = find_typed_date(message, submitted_at, as_of)
    except ValueFormatError as exc:
        problems.append(f"transfer_date: {exc}")
        return None
    if found is None:
        problems.append("transfer_date: empty, and no date in the message")
    return found


def _cell_date_text(value: date) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return value.isoformat()


def confirmation_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(records, columns=CONFIRMATION_COLUMNS)
    for column in CONFIRMATION_COLUMNS:
        if column not in ("submitted_at", "transfer_date", "amount_sen", "source_row"):
            frame[column] = frame[column].astype(object)
    frame["dest_not_ours"] = frame["dest_not_ours"].astype(bool)
    frame["submitted_at"] = pd.to_datetime(frame["submitted_at"]).astype("datetime64[ns]")
    frame["transfer_date"] = pd.to_datetime(frame["transfer_date"]).astype("datetime64[ns]")
    frame["amount_sen"] = frame["amount_sen"].astype("Int64")
    frame["source_row"] = frame["source_row"].astype("int64")
    return frame


def collect_confirmations(
    rows: Iterable[SourceRow], rules: Rules, known_invoice_nos: Iterable[str], as_of: date
) -> SourceResult:
    known = known_invoice_index(known_invoice_nos)
    records: list[dict[str, Any]] = []
    rejected: list[RowError] = []
    seen: dict[str, int] = {}
    for row in rows:
        try:
            record = confirmation_record(row, rules, known, as_of)
        except RowError as exc:
            rejected.append(exc)
            continue
        ticket = record["ticket_id"]
        if ticket in seen:
            rejected.append(
                RowError(
                    row.file,
                    row.line,
                    "ticket_id",
                    ticket,
                    f"a unique ticket number (already on line {seen[ticket]})",
                )
            )
            continue
        seen[ticket] = row.line
        records.append(record)
    return SourceResult(confirmation_frame(records), rejected)


def _typed_amounts_in_bulk(uniques: list[Cell]) -> tuple[list[Any], np.ndarray]:
    """Common typed amounts (``Rp 1.500.000``, ``1.500.000,00``, ``150000``) -> (sen, None)."""
    texts, is_text = _texts_of(uniques)
    sen, read = typed_amounts_sen(texts)
    read &= is_text
    return [(int(v), None) if r else None for v, r in zip(sen, read, strict=True)], read


def _typed_amount_or_problem(typed: Cell) -> tuple[int | None, str | None]:
    """A typed amount text -> (sen, None), or (None, the problem) as ``_typed_amount`` says."""
    if not _text(typed):
        return None, None  # nothing typed: the subject and message are read by the row
    problems: list[str] = []
    amount = _typed_amount(typed, "", "", problems)
    return (to_sen(amount) if amount is not None else None), (problems[0] if problems else None)


def _destination_or_problem(typed: Cell, rules: Rules) -> tuple[Destination | None, str | None]:
    if not _text(typed):
        return None, None  # nothing typed: the message is read by the row
    problems: list[str] = []
    destination = _destination(typed, "", rules, problems)
    return destination, (problems[0] if problems else None)


def confirmations_from_table(
    table: SourceTable, rules: Rules, known_invoice_nos: Iterable[str], as_of: date
) -> SourceResult:
    """The confirmation frame of a whole table at once: what :func:`collect_confirmations`
    gives for ``table.rows()``. Each distinct typed text is read once (the common amount and
    date forms in bulk); rows holding typed spreadsheet cells are read row by row."""
    known = known_invoice_index(known_invoice_nos)
    digits = rules.matching.invoice_number_digits
    cells, text_only, n = table.cells, table.text_only, len(table)

    def texts(column: str) -> _Distinct:
        return _read_distinct(cells[column], text_only, _text, _clean_texts)

    def texts_read(column: str, reader: Callable[[Cell], Any]) -> _Distinct:
        return _read_distinct(cells[column], text_only, reader)

    ticket = texts_read("ticket_id", lambda v: _text(v).lstrip("#"))
    submitted = texts_read("submitted_at", read_submitted_at)
    subject = texts("subject")
    message = texts_read("message", lambda v: str(v or "").strip())
    field = texts("invoice_no")
    department = texts_read("department", lambda v: _text(v).lower())
    amount = _read_distinct(
        cells["amount"], text_only, _typed_amount_or_problem, _typed_amounts_in_bulk
    )
    destination = texts_read("bank_destination", lambda v: _destination_or_problem(v, rules))
    day_codes, day_texts = _distinct_cells(cells["transfer_date"], text_only)
    typed_days, _ = _texts_of(day_texts)
    common_day = typed_dates_with_year(typed_days)[day_codes]
    submitted_on = np.array(
        [v.date() if v is not None else date.min for v in submitted.values],
        dtype="datetime64[D]",
    )[submitted.codes]
    day_is_read = (
        ~np.isnat(common_day)
        & (common_day <= submitted_on)
        & (common_day <= np.datetime64(as_of, "D"))
    )

    # by the row: ticket-system cells the row-by-row reader refuses, typed spreadsheet cells
    typed_cells = np.zeros(n, dtype=bool)
    if not text_only:
        for column in ("invoice_no", "bank_destination", "amount", "transfer_date"):
            typed_cells |= np.array([type(v) is not str for v in cells[column]], dtype=bool)
        typed_cells |= np.array([type(v) not in (str, type(None)) for v in cells["message"]])
    ticket_ids = ticket.take()
    by_row = (ticket_ids == "") | submitted.failed_rows() | typed_cells

    claims_of = {
        role: [text_claims(number_runs(t), known, digits, field=role == "field") for t in d.values]
        for role, d in (("field", field), ("subject", subject), ("message", message))
    }
    message_destination: dict[int, Destination] = {}
    message_amount: dict[tuple[int, int], tuple[int | None, str | None]] = {}
    records: dict[int, dict[str, Any]] = {}
    rejected: dict[int, RowError] = {}
    worked_out = (
        "invoice_nos",
        "dest_account_no",
        "dest_not_ours",
        "amount_sen",
        "intake_status",
        "intake_reason",
    )
    columns: dict[str, list[Any]] = {c: [None] * n for c in worked_out}
    transfer_days = np.where(day_is_read, common_day, np.datetime64("NaT", "D"))
    for i in range(n):
        if by_row[i]:
            try:
                records[i] = confirmation_record(table.row(i), rules, known, as_of)
            except RowError as exc:
                rejected[i] = exc
            continue
        f, sj, m = field.codes[i], subject.codes[i], message.codes[i]
        subject_text, message_text = subject.values[sj], message.values[m]
        submitted_at = submitted.values[submitted.codes[i]]
        problems: list[str] = []
        notes: list[str] = []
        numbers = invoice_numbers_from_claims(
            (field.values[f], subject_text, message_text),
            (claims_of["field"][f], claims_of["subject"][sj], claims_of["message"][m]),
            digits,
        )
        notes.extend(numbers.notes)
        typed_place, problem = destination.values[destination.codes[i]]
        if problem:
            problems.append(problem)
        if typed_place is None:
            if m not in message_destination:  # nothing typed: the message may name the bank
                message_destination[m] = _destination("", message_text, rules, [])
            place = message_destination[m]
        else:
            place = typed_place
        if place.note:
            notes.append(place.note)
        a = amount.codes[i]
        sen, problem = amount.values[a]
        if problem is None and sen is None:  # nothing typed: look in the subject and message
            if (sj, m) not in message_amount:
                found: list[str] = []
                value = _typed_amount("", subject_text, message_text, found)
                message_amount[sj, m] = (
                    to_sen(value) if value is not None else None,
                    found[0] if found else None,
                )
            sen, problem = message_amount[sj, m]
        if problem:
            problems.append(problem)
        if not day_is_read[i]:
            typed_day = _typed_transfer_date(
                cells["transfer_date"][i], message_text, submitted_at, as_of, problems
            )
            if typed_day:
                transfer_days[i] = np.datetime64(typed_day.on, "D")
        department_name = department.values[department.codes[i]]
        if department_name and department_name != BILLING_DEPARTMENT:
            notes.append(f"department: filed under {_text(cells['department'][i])!r}, not Billing")
        row = columns
        row["invoice_nos"][i] = ";".join(numbers.numbers)
        row["dest_account_no"][i] = place.account_no
        row["dest_not_ours"][i] = place.not_ours
        row["amount_sen"][i] = sen
        row["intake_status"][i] = "INVALID" if problems else "VALID"
        row["intake_reason"][i] = "; ".join([*problems, *notes])
    plain = {
        "ticket_id": ticket_ids,
        "submitted_at": submitted.take(),
        "name": texts("name").take(),
        "email": _read_distinct(
            cells["email"], text_only, lambda v: _text(v).lower(), _lower_clean_texts
        ).take(),
        "subject": subject.take(),
        "message": message.take(),
        "related_service": texts("related_service").take(),
        "attachment": texts("attachment").take(),
        "invoice_no_raw": field.take(),
        "bank_destination_raw": texts("bank_destination").take(),
        "amount_raw": texts("amount").take(),
        "transfer_date_raw": _object_column([_text(v) for v in day_texts])[day_codes],
        "account_name": texts("account_name").take(),
        "source_row": table.lines,
    }
    frame_columns: dict[str, np.ndarray] = {c: _object_column(columns[c]) for c in worked_out}
    frame_columns.update(plain)
    frame_columns["transfer_date"] = transfer_days
    for i, record in records.items():
        for name, value in record.items():
            if name == "transfer_date":
                transfer_days[i] = np.datetime64("NaT") if pd.isna(value) else value.to_datetime64()
            else:
                frame_columns[name][i] = value
    read = np.ones(n, dtype=bool)
    read[list(rejected)] = False
    kept, repeats = _unique_in_order(
        table, frame_columns["ticket_id"], read, "ticket_id", "ticket number"
    )
    rejected.update(repeats)
    rows: slice | np.ndarray = slice(None) if kept.all() else kept
    frame = pd.DataFrame({c: frame_columns[c][rows] for c in CONFIRMATION_COLUMNS})
    for column in CONFIRMATION_COLUMNS:
        if column not in ("submitted_at", "transfer_date", "amount_sen", "source_row"):
            frame[column] = frame[column].astype(object)
    frame["dest_not_ours"] = frame["dest_not_ours"].astype(bool)
    frame["submitted_at"] = pd.to_datetime(frame["submitted_at"]).astype("datetime64[ns]")
    frame["transfer_date"] = frame["transfer_date"].astype("datetime64[ns]")
    frame["amount_sen"] = frame["amount_sen"].astype("Int64")
    frame["source_row"] = frame["source_row"].astype("int64")
    return SourceResult(frame, [rejected[i] for i in sorted(rejected)])


def _confirmation_table(path: Path, rules: Rules) -> SourceTable:
    """The confirmation export's rows under our column names (the rules' column mapping)."""
    return read_source_table(
        path,
        CONFIRMATION_REQUIRED,
        CONFIRMATION_OPTIONAL,
        rules.sources.confirmation_columns,
        "confirmation_columns",
    )


def load_confirmations(
    path: Path, rules: Rules, known_invoice_nos: Iterable[str], as_of: date
) -> SourceResult:
    """The confirmation export (formats.md §10.1) as the confirmation frame of docs/DESIGN.md."""
    table = _confirmation_table(path, rules)
    return confirmations_from_table(table, rules, known_invoice_nos, as_of)


_SUBMITTED_DAY = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}"


def _submitted_after(table: SourceTable, after: date) -> np.ndarray:
    """Rows submitted after the day ``after``, and rows whose submission is not plain
    ``YYYY-MM-DD HH:MM`` text (left for the full reader to read or refuse): a superset, so
    that no row whose reading may differ is left out."""
    cells = table.cells["submitted_at"]
    if not table.text_only:
        submitted = _read_distinct(cells, False, read_submitted_at)
        days = np.array(
            [v.date() if v is not None else date.max for v in submitted.values],
            dtype="datetime64[D]",
        )[submitted.codes]
        return np.asarray(days > np.datetime64(after, "D"))
    texts = pd.Series(cells, dtype=object)
    plain = texts.str.match(_SUBMITTED_DAY).to_numpy(dtype=bool)
    return ~plain | (texts.str.slice(0, 10) > after.isoformat()).to_numpy(dtype=bool)


_DIGIT_RUN = re.compile(r"[0-9]+")


def _mentioning(table: SourceTable, keys: set[str]) -> np.ndarray:
    """Rows whose invoice-number field, subject or message holds one of ``keys`` (invoice
    numbers' digits) anywhere in a run of digits: every row whose claims may name one."""
    sizes = sorted({len(k) for k in keys})

    def mentions(cell: Cell) -> bool:
        for run in _DIGIT_RUN.findall("" if cell is None else str(cell)):
            for size in sizes:
                if size > len(run):
                    break
                if any(run[i : i + size] in keys for i in range(len(run) - size + 1)):
                    return True
        return False

    rows = np.zeros(len(table), dtype=bool)
    for column in ("invoice_no", "subject", "message"):
        codes, uniques = _distinct_cells(table.cells[column], table.text_only)
        hits = np.array([mentions(u) for u in uniques], dtype=bool)
        rows |= hits[codes] if len(uniques) else False
    return rows


def load_confirmations_part(
    path: Path,
    rules: Rules,
    known_invoice_nos: Callable[[set[str]], Iterable[str]],
    as_of: date,
    *,
    submitted_after: date | None = None,
    mentioning: Iterable[str] = (),
) -> SourceResult | None:
    """The confirmations of the export whose reading may differ from an earlier read of the
    same file: those submitted after the day ``submitted_after`` (and those whose submission is
    not plain text to compare: see :func:`_submitted_after`) when the run date moved, and
    those mentioning an invoice number whose digits are in ``mentioning`` when invoices were
    added. Read as :func:`load_confirmations` reads them; their unreadable rows are the
    file's own, reported by the caller. None when a ticket number among them is also on
    another row: which copy counts depends on the whole file, which must then be read.

    ``known_invoice_nos(sequences)`` gives the invoice numbers when some ticket is to be read:
    at least those whose key is one of ``sequences`` (the digit sequences these tickets' texts
    hold, see :func:`_digit_sequences`), more being harmless; of them only those whose key
    is such a sequence are indexed (:func:`_keyed_among`)."""
    table = _confirmation_table(path, rules)
    part = np.zeros(len(table), dtype=bool)
    if submitted_after is not None:
        part |= _submitted_after(table, submitted_after)
    keys = {k for k in mentioning if k}
    if keys:
        part |= _mentioning(table, keys)
    if table.text_only:  # what _text(v).lstrip("#") gives, column-wise
        tickets = (
            pd.Series(table.cells["ticket_id"], dtype=object)
            .str.replace("\u00a0", " ")
            .str.split()
            .str.join(" ")
            .str.lstrip("#")
        )
    else:
        tickets = pd.Series([_text(v).lstrip("#") for v in table.cells["ticket_id"]], dtype=object)
    if (part & tickets.duplicated(keep=False).to_numpy()).any():
        return None
    if not part.any():
        return SourceResult(confirmation_frame([]))
    subset = SourceTable(
        table.file,
        table.lines[part],
        {name: column[part] for name, column in table.cells.items()},
        table.text_only,
    )
    sequences = _digit_sequences(subset, rules.matching.invoice_number_digits)
    known = _keyed_among(known_invoice_nos(sequences), sequences)
    return confirmations_from_table(subset, rules, known, as_of)


def _digit_sequences(table: SourceTable, digits: tuple[int, int]) -> set[str]:
    """Every digit sequence of a length in ``digits`` inside a digit run of the table's
    invoice-number field, subject or message: the keys its claims can look up (a claim is
    such a sequence without leading zeros)."""
    low, high = digits
    nameable: set[str] = set()
    for column in ("invoice_no", "subject", "message"):
        _, uniques = _distinct_cells(table.cells[column], table.text_only)
        for cell in uniques:
            for run in _DIGIT_RUN.findall("" if cell is None else str(cell)):
                for size in range(low, min(high, len(run)) + 1):
                    nameable.update(run[i : i + size] for i in range(len(run) - size + 1))
    return nameable


def _keyed_among(numbers: Iterable[str], nameable: set[str]) -> list[str]:
    """The invoice numbers (in their order) whose key (:func:`invoice_key`) is in
    ``nameable``."""
    listed = pd.Series(list(numbers), dtype=object)
    if not len(listed):
        return []
    decimal = listed.str.isdecimal().to_numpy(dtype=bool)
    stripped = listed.str.lstrip("0")
    keys = np.array(stripped.where(stripped != "", listed), dtype=object)
    keys[~decimal] = [invoice_key(no) for no in listed[~decimal]]
    return listed[pd.Series(keys).isin(nameable).to_numpy()].tolist()


__all__ = [
    "SourceResult",
    "SourceRow",
    "Unreadable",
    "load_confirmations",
    "load_confirmations_part",
    "load_invoices",
]
