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

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
from python_calamine import CalamineError, CalamineWorkbook, PasswordError, XmlError, ZipError

from importers.base import read_text, sniff
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
    known_invoice_index,
    parse_typed_amount,
    parse_typed_date,
    resolve_destination,
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
        text = read_text(path)
        reader = csv.reader(io.StringIO(text, newline=""))
        start = 1
        for record in reader:
            yield start, list(record)
            start = reader.line_num + 1
    elif kind == "zip":
        try:
            sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
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
    rows = read_source_rows(
        path,
        INVOICE_REQUIRED,
        INVOICE_OPTIONAL,
        rules.sources.invoice_columns,
        "invoice_columns",
    )
    return collect_invoices(rows)


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


def load_confirmations(
    path: Path, rules: Rules, known_invoice_nos: Iterable[str], as_of: date
) -> SourceResult:
    """The confirmation export (formats.md §10.1) as the confirmation frame of docs/DESIGN.md."""
    rows = read_source_rows(
        path,
        CONFIRMATION_REQUIRED,
        CONFIRMATION_OPTIONAL,
        rules.sources.confirmation_columns,
        "confirmation_columns",
    )
    return collect_confirmations(rows, rules, known_invoice_nos, as_of)


__all__ = [
    "SourceResult",
    "SourceRow",
    "Unreadable",
    "load_confirmations",
    "load_invoices",
]
