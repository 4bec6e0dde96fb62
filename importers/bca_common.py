"""Pieces every BCA layout shares (formats.md §3): value syntax, PEND rows, the Bisnis block.

Not an importer itself (it is not listed in ``importers._MODULES``). The KlikBCA Individual CSV,
the Bisnis CSV, the Bisnis HTML twin and the API JSON all print the same descriptions, the same
``PEND`` rows and the same ``CR``/``DB`` directions; the two Bisnis layouts share one account
block and footer (``No. rekening``, ``Periode``, ``Saldo Awal``, ``Mutasi Debet`` + count ...).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from importers.base import digits_only, row_context
from importers.remarks.bca import parse_bca_remarks
from reconcile.dates import initiation_date, year_for_day_month, year_in_period
from reconcile.errors import FileRejected, RowError, ValueFormatError
from reconcile.model import Direction, Statement, Transaction
from reconcile.money import parse_amount_en

BANK = "bca"
GUARDS = "'`"  # BCA's guard against Excel; a backtick stands in for it in some copies (§11A)
PEND = "PEND"

_DATE = re.compile(r"(\d{1,2})/(\d{1,2})(?:/(\d{4}))?")
_PERIOD = re.compile(r"(\d{1,2}/\d{1,2}/\d{4})\s*-\s*(\d{1,2}/\d{1,2}/\d{4})")
_AMOUNT_WITH_DIRECTION = re.compile(r"(?P<amount>.*?)\s*(?P<dir>CR|DB)", re.I)
_COUNT = re.compile(r"\d+")
_ACCOUNT_DIGITS = re.compile(r"[\d\-\s.]+")


@dataclass(frozen=True, slots=True)
class RowDate:
    """A BCA date cell: a full date, a year-less day/month, or PEND (pending)."""

    pending: bool
    day: int = 0
    month: int = 0
    year: int | None = None


def strip_guard(text: str) -> str:
    return text.strip().lstrip(GUARDS).strip()


def parse_row_date(text: str) -> RowDate:
    """``'02/03/2026`` | ``'02/03`` | ``'PEND`` (guard optional) -> RowDate; anything else raises.

    The calendar check happens once the year is known (:func:`resolve_date`).
    """
    s = strip_guard(text)
    if s.upper() == PEND:
        return RowDate(pending=True)
    m = _DATE.fullmatch(s)
    if not m:
        raise ValueFormatError(text, "a date dd/mm/yyyy, dd/mm or PEND")
    return RowDate(False, int(m[1]), int(m[2]), int(m[3]) if m[3] else None)


def resolve_date(
    rd: RowDate, text: str, *, as_of: date | None = None, period: tuple[date, date] | None = None
) -> date:
    """The real date of a non-PEND row: its own year, else the period's (§3.3), else as-of's (§3.1)."""
    label = strip_guard(text)
    if rd.year is not None:
        try:
            return date(rd.year, rd.month, rd.day)
        except ValueError as exc:
            raise ValueFormatError(text, "a real calendar date dd/mm/yyyy") from exc
    if period is not None:
        return year_in_period(rd.day, rd.month, period[0], period[1], label)
    if as_of is None:
        raise ValueFormatError(text, "a date with its year (the file has no period line)")
    return year_for_day_month(rd.day, rd.month, as_of, label)


def parse_direction(text: str) -> Direction:
    s = text.strip().upper()
    if s == "CR":
        return Direction.CR
    if s == "DB":
        return Direction.DB
    raise ValueFormatError(text, "CR or DB")


def parse_amount_and_direction(text: str) -> tuple[Decimal, Direction]:
    """``'1,250,000.00 CR'`` -> (Decimal('1250000.00'), CR): the Bisnis suffix form (§3.3)."""
    m = _AMOUNT_WITH_DIRECTION.fullmatch(text.strip())
    if not m:
        raise ValueFormatError(text, "an amount followed by CR or DB, such as 1,250,000.00 CR")
    amount = parse_amount_en(m["amount"])
    if amount < 0:  # CR/DB gives the direction: a sign would flip it silently
        raise ValueFormatError(text, "a positive amount followed by CR or DB")
    return amount, parse_direction(m["dir"])


def parse_count(text: str) -> int:
    s = text.replace("\u00a0", " ").strip()
    if not _COUNT.fullmatch(s):
        raise ValueFormatError(text, "a row count such as 43")
    return int(s)


def parse_period(text: str) -> tuple[date, date]:
    """``'02/03/2026 - 03/03/2026'`` -> (start, end); end before start raises."""
    from reconcile.dates import parse_dmy

    m = _PERIOD.fullmatch(text.strip())
    if not m:
        raise ValueFormatError(text, "a period dd/mm/yyyy - dd/mm/yyyy")
    start, end = parse_dmy(m[1]), parse_dmy(m[2])
    if end < start:
        raise ValueFormatError(text, "a period whose end is not before its start")
    return start, end


def account_number(text: str) -> str:
    """``'0372543386`` -> ``0372543386``. A mangled value (``3.72543E+09``) is kept as written so
    that the account check can say what happened to it."""
    s = strip_guard(text)
    return digits_only(s) if _ACCOUNT_DIGITS.fullmatch(s) else s


def currency_code(text: str) -> str:
    s = text.strip()
    return "IDR" if s.upper() in ("IDR", "RP") else s


def make_transaction(
    *,
    layout: str,
    account_no: str,
    rd: RowDate,
    posted_on: date | None,
    direction: Direction,
    amount: Decimal,
    balance: Decimal | None,
    description: str,
    source_line: int,
    pending_reference: date | None,
) -> Transaction:
    """One canonical row, with the description's remarks (§8.2) filled in.

    ``pending_reference`` dates a PEND row's initiation DDMM (the as-of date, or the period end).
    """
    remarks = parse_bca_remarks(description)
    reference = posted_on if posted_on is not None else pending_reference
    initiated = (
        initiation_date(remarks.initiated_ddmm, reference)
        if remarks.initiated_ddmm and reference is not None
        else None
    )
    return Transaction(
        bank=BANK,
        layout=layout,
        account_no=account_no,
        posted_on=posted_on,
        direction=direction,
        amount=amount,
        description=description,
        source_line=source_line,
        balance=balance,
        pending=rd.pending,
        initiated_on=initiated,
        channel=remarks.channel,
        counterparty=remarks.sender_name,
        sender_bank=remarks.sender_bank,
        sender_account=remarks.sender_account,
        message=remarks.message,
        bank_ref=remarks.bank_ref,
        is_fee=remarks.is_fee,
    )


def check_pend_rows_last(file: str, rows: Sequence[Transaction]) -> None:
    """PEND rows come last (§3.1, §3.3); a posted row after one means the file was edited."""
    seen_pending: Transaction | None = None
    for t in rows:
        if t.pending:
            seen_pending = t
        elif seen_pending is not None:
            raise FileRejected(
                file,
                f"line {t.source_line}: a posted row follows the PEND row on line "
                f"{seen_pending.source_line}; PEND rows come last in a BCA statement",
            )


# --------------------------------------------------------------------------------------------
# KlikBCA Bisnis: the CSV (§3.3) and the HTML ".xls" (§3.4) carry the same cells

BISNIS_COLUMNS = ("Tanggal Transaksi", "Keterangan", "Cabang", "Jumlah", "Saldo")
_BISNIS_LABELS = {
    "no. rekening": "account",
    "nama": "holder",
    "periode": "period",
    "kode mata uang": "currency",
    "saldo awal": "opening",
    "mutasi debet": "debit",
    "mutasi kredit": "credit",
    "saldo akhir": "closing",
}
_FOOTER_KEYS = ("opening", "debit", "credit", "closing")
_FOOTER_NAMES = {
    "opening": "Saldo Awal",
    "debit": "Mutasi Debet",
    "credit": "Mutasi Kredit",
    "closing": "Saldo Akhir",
}


@dataclass(frozen=True, slots=True)
class _Labelled:
    line: int
    key: str
    label: str
    values: list[str]


def _labelled(line: int, cells: list[str]) -> _Labelled | None:
    """``"No. rekening : 0372543386"`` or ``No. rekening | : 0372543386`` -> its key and values."""
    first = cells[0].strip()
    label, sep, value = first.partition(":")
    key = _BISNIS_LABELS.get(label.strip().lower())
    if key is None:
        return None
    values = [value.strip()] if sep and value.strip() else []
    for cell in cells[1:]:
        v = cell.strip()
        if v.startswith(":"):
            v = v[1:].strip()
        if v:
            values.append(v)
    return _Labelled(line, key, label.strip(), values)


def parse_bisnis_rows(
    file: str, layout: str, rows: Iterable[tuple[int, list[str]]]
) -> list[Statement]:
    """Turn the Bisnis cell rows (line / ``<tr>`` index, raw cell texts) into one statement."""
    info: dict[str, _Labelled] = {}
    header_seen = False
    data: list[tuple[int, list[str]]] = []
    for line, raw_cells in rows:
        cells = list(raw_cells)
        while cells and not cells[-1].strip():
            cells.pop()
        if not cells:
            continue
        first = cells[0].strip()
        if first.lower().startswith("informasi rekening"):
            continue
        if first.lower() == "tanggal transaksi":
            header_seen = True
            continue
        labelled = _labelled(line, cells)
        if labelled is not None:
            info[labelled.key] = labelled
            continue
        if not header_seen:
            raise FileRejected(
                file,
                f"line {line}: unexpected content {first!r} before the header "
                f"'Tanggal Transaksi, Keterangan, Cabang, Jumlah, Saldo'",
            )
        if any(k in info for k in _FOOTER_KEYS):
            raise FileRejected(
                file, f"line {line}: transaction row {first!r} after the footer (Saldo Awal ...)"
            )
        data.append((line, cells))
    if not header_seen:
        raise FileRejected(file, "no header 'Tanggal Transaksi, Keterangan, Cabang, Jumlah, Saldo'")
    if "account" not in info or not info["account"].values:
        raise FileRejected(file, "no account number ('No. rekening') in the statement header")
    missing = [_FOOTER_NAMES[k] for k in _FOOTER_KEYS if k not in info]
    if missing:
        raise FileRejected(
            file,
            f"footer line(s) {', '.join(missing)} missing: the file is truncated or incomplete; "
            "download the statement again",
        )

    def value(key: str, index: int = 0) -> tuple[int, str, str]:
        item = info[key]
        if len(item.values) <= index:
            what = "an amount" if index == 0 else "a row count"
            raise RowError(file, item.line, item.label, "", what)
        return item.line, item.label, item.values[index]

    period: tuple[date, date] | None = None
    if "period" in info:
        line, label, text = value("period")
        with row_context(file, line, label):
            period = parse_period(text)
    amounts: dict[str, Decimal] = {}
    for key in _FOOTER_KEYS:
        line, label, text = value(key)
        with row_context(file, line, label):
            amounts[key] = parse_amount_en(text)
    counts: dict[str, int] = {}
    for key in ("debit", "credit"):
        line, label, text = value(key, 1)
        with row_context(file, line, label):
            counts[key] = parse_count(text)
    account = account_number(info["account"].values[0])
    currency = currency_code(value("currency")[2]) if "currency" in info else "IDR"
    holder = (
        info["holder"].values[0].strip() if "holder" in info and info["holder"].values else None
    )

    reference = period[1] if period else None
    transactions = [
        _bisnis_transaction(file, layout, account, line, cells, period, reference)
        for line, cells in data
    ]
    check_pend_rows_last(file, transactions)
    return [
        Statement(
            bank=BANK,
            layout=layout,
            account_no=account,
            transactions=transactions,
            currency=currency,
            period_start=period[0] if period else None,
            period_end=period[1] if period else None,
            opening_balance=amounts["opening"],
            closing_balance=amounts["closing"],
            total_credit=amounts["credit"],
            total_debit=amounts["debit"],
            count_credit=counts["credit"],
            count_debit=counts["debit"],
            holder_name=holder,
        )
    ]


def _bisnis_transaction(
    file: str,
    layout: str,
    account: str,
    line: int,
    cells: list[str],
    period: tuple[date, date] | None,
    reference: date | None,
) -> Transaction:
    """A row of 5 cells (amount with CR/DB suffix) or 6 (older files: separate CR/DB cell)."""
    if len(cells) == 5:
        date_cell, description, _branch, amount_cell, balance_cell = cells
        with row_context(file, line, "Jumlah"):
            amount, direction = parse_amount_and_direction(amount_cell)
    elif len(cells) == 6:
        date_cell, description, _branch, amount_cell, direction_cell, balance_cell = cells
        with row_context(file, line, "Jumlah"):
            amount = parse_amount_en(amount_cell)
        if amount < 0:
            raise RowError(
                file, line, "Jumlah", amount_cell, "a positive amount (DB/CR gives the sign)"
            )
        with row_context(file, line, "DB/CR"):
            direction = parse_direction(direction_cell)
    else:
        raise RowError(
            file,
            line,
            "Tanggal Transaksi",
            ",".join(cells),
            "a row of 5 cells: Tanggal Transaksi, Keterangan, Cabang, Jumlah, Saldo",
        )
    with row_context(file, line, "Tanggal Transaksi"):
        rd = parse_row_date(date_cell)
        posted = None if rd.pending else resolve_date(rd, date_cell, period=period)
    with row_context(file, line, "Saldo"):
        balance = parse_amount_en(balance_cell)
    if rd.pending and reference is None:
        raise FileRejected(file, f"line {line}: a PEND row needs the statement period (Periode)")
    return make_transaction(
        layout=layout,
        account_no=account,
        rd=rd,
        posted_on=posted,
        direction=direction,
        amount=amount,
        balance=balance,
        description=description,
        source_line=line,
        pending_reference=reference,
    )
