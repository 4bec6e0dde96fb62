"""BNIDirect CSV (formats.md §5.1, §11A multi-account inquiry).

Layout (every row ends with a comma; money quoted when it holds commas)::

    Post Date,Value Date,Branch,Journal No.,Description,Debit,Credit,
    02/03/26 08.15.42,02/03/26 08.15.42,0259,418273,TRANSFER DARI | PEMINDAHAN DARI 0281234567 Bpk BUDI  SANTOSO | INV20431,.00,"1,500,000.00",

* A variant adds a ``Balance`` column at the end: the running balance after each row.
* The multi-account inquiry (``TRX_INQ-<corporate id>-<timestamp>.csv``) puts ``Account No``
  first, quotes every field and repeats the header before each account's section. A section
  whose currency is not IDR (a ``Currency`` column, or a line such as ``Currency : USD`` before
  its header) is skipped with a warning; a file with nothing but such sections is rejected.
* ``Total Credit :`` / ``Total Debit :`` lines (count, amount) are control totals, not rows.
* The single-account layout carries no account number. The company has one BNI account, so the
  file is attributed to it, unless the file name holds another 10-digit number, which is then
  taken as the account (and the statement proof rejects it as foreign).
* Dates are ``dd/mm/yy HH.MM.SS`` (dots in the time); amounts are English style, zero ``.00``.
* Month-end interest/tax rows timed ``00.00.00`` follow later rows of the same day: file order
  is kept, never sorted by time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

from importers.base import (
    FileSniff,
    MemoisedMoments,
    ParseContext,
    csv_records,
    digits_only,
    gc_paused,
    read_text,
    row_context,
)
from importers.remarks.bni import parse_bni_remarks
from reconcile.dates import initiation_date
from reconcile.errors import FileRejected, RowError, ValueFormatError
from reconcile.model import Direction, Statement, Transaction
from reconcile.money import ZERO, parse_amount_en

NAME = "bni_bnidirect_csv"
BANK = "bni"
# formats.md §1.2/§5.1: the company's only BNI account; the single-account layout has no number.

COLUMNS = ("post date", "value date", "branch", "journal no.", "description", "debit", "credit")
_HEADER = ",".join(COLUMNS)
_MULTI_HEADER = "account no," + _HEADER

_BNI_DATETIME = re.compile(
    r"(?P<d>\d{1,2})/(?P<m>\d{1,2})/(?P<y>\d{2}|\d{4})"
    r"(?:\s+(?P<H>\d{1,2})[.:](?P<M>\d{2})(?:[.:](?P<S>\d{2}))?)?"
)
_CURRENCY_LINE = re.compile(r"\b(?:currency|ccy|mata uang)\b\W*(?P<ccy>[A-Z]{3})\b", re.I)
_TOTAL = re.compile(r"total\s+(?P<kind>credit|debit)\s*:?", re.I)
_ACCOUNT_IN_NAME = re.compile(r"(?<!\d)\d{10}(?!\d)")
_TOTAL_WORD = re.compile(r"total", re.I)  # no match: no cell can be a _TOTAL label
_STRICT_DATETIME = re.compile(r"\d\d/\d\d/\d\d \d\d\.\d\d\.\d\d")  # '02/03/26 08.15.42'


def parse_bni_datetime(text: str) -> datetime:
    """'02/03/26 08.15.42' -> 2026-03-02 08:15:42; two-digit years are 20yy; the time may be absent."""
    m = _BNI_DATETIME.fullmatch(text.strip())
    expected = "a date and time dd/mm/yy HH.MM.SS"
    if not m:
        raise ValueFormatError(text, expected)
    year = int(m["y"]) + (2000 if len(m["y"]) == 2 else 0)
    try:
        return datetime(  # noqa: DTZ001 - bank times are local WIB, never converted
            year,
            int(m["m"]),
            int(m["d"]),
            int(m["H"] or 0),
            int(m["M"] or 0),
            int(m["S"] or 0),
        )
    except ValueError as exc:
        raise ValueFormatError(text, "a real date and time dd/mm/yy HH.MM.SS") from exc


def _normalised(cells: list[str]) -> str:
    return ",".join(c.replace('"', "").strip().lower() for c in cells if c.strip())


@dataclass(slots=True)
class _Section:
    """The rows of one account (under one header), with the totals its footer prints."""

    account_no: str
    currency: str
    first_line: int
    transactions: list[Transaction] = field(default_factory=list)
    total_credit: Decimal | None = None
    total_debit: Decimal | None = None
    count_credit: int | None = None
    count_debit: int | None = None


class BniBnidirectCsvImporter:
    name = NAME
    bank = BANK
    title = "BNIDirect CSV"

    def identify(self, sniff: FileSniff) -> bool:
        if sniff.kind != "text":
            return False
        for line in sniff.first_lines(2):
            flat = ",".join(c.strip() for c in line.split(","))
            if flat.startswith((_HEADER, _MULTI_HEADER)):
                return True
        return False

    def parse(self, path: Path, ctx: ParseContext) -> list[Statement]:
        return parse_bni_bnidirect_csv(path, ctx.accounts)


def _file_account(path: Path, accounts: Mapping[str, str]) -> str:
    """The content names no account (formats.md §5.1): a 10-digit number in the file name, else
    the company's one BNI account from rules.yaml."""
    numbers = _ACCOUNT_IN_NAME.findall(path.stem)
    if numbers:
        return str(numbers[-1])
    bni = sorted(a for a, bank in accounts.items() if bank == "bni")
    if len(bni) != 1:
        raise FileRejected(
            path.name,
            "a BNIDirect CSV names no account; with "
            f"{len(bni)} BNI accounts in rules.yaml the file name must contain the account number",
        )
    return bni[0]


def parse_bni_bnidirect_csv(path: Path, accounts: Mapping[str, str]) -> list[Statement]:
    """Every account section of a BNIDirect CSV as one Statement each (file order kept)."""
    with gc_paused():
        return _parse(path, accounts)


def _parse(path: Path, accounts: Mapping[str, str]) -> list[Statement]:
    file = path.name
    text = read_text(path)
    sections: list[_Section] = []
    columns: list[str] | None = None
    pending_currency = "IDR"
    multi = False
    fast: _FastRows | None = None
    # every row of a header that ends with a comma ends with one too: a last row without it
    # was cut after its last comma (an amount '450.00' read as '45')
    header_comma = False
    last: tuple[int, bool] | None = None  # the last non-blank record: line, ends with a comma
    for line, raw in csv_records(file, text):
        cells = list(raw)
        if cells and cells[-1].strip() == "":
            cells = cells[:-1]  # the trailing comma (§12.4)
        if any(c.strip() for c in cells):
            last = (line, len(cells) < len(raw))
        # A cell starting with a digit cannot open a header, and without the word "total" no
        # cell is a total; under a header such a cell row is read by the fast path, which
        # declines (before changing anything) whatever it does not vouch for.
        if (
            fast is not None
            and cells
            and cells[0][:1].isdigit()
            and not _TOTAL_WORD.search(",".join(cells))
        ):
            try:
                sections[-1].transactions.append(fast.row(line, cells, sections[-1]))
                continue
            except (_Declined, ValueError):
                pass
        if not any(c.strip() for c in cells):
            continue
        flat = _normalised(cells)
        if flat.startswith((_HEADER, _MULTI_HEADER)):
            columns = [c.replace('"', "").strip().lower() for c in cells]
            header_comma = len(cells) < len(raw)
            multi = columns[0] == "account no"
            fast = _FastRows(columns)
            sections.append(
                _Section(
                    account_no="" if multi else _file_account(path, accounts),
                    currency=pending_currency,
                    first_line=line,
                )
            )
            pending_currency = "IDR"
            continue
        total = next((i for i, c in enumerate(cells) if _TOTAL.fullmatch(c.strip())), None)
        if total is not None:
            if not sections:
                raise FileRejected(file, f"line {line}: a total before the column header")
            _read_total(file, line, cells, total, sections[-1])
            continue
        if columns is None or not sections:
            m = _CURRENCY_LINE.search(" ".join(cells))
            if m:
                pending_currency = m["ccy"].upper()
            continue
        m = _CURRENCY_LINE.search(" ".join(cells))
        if m and not _looks_like_row(cells, columns):
            pending_currency = m["ccy"].upper()
            continue
        _read_row(file, line, cells, columns, sections)
    if not sections:
        raise FileRejected(file, "no BNIDirect column header (Post Date,Value Date,…) found")
    if header_comma and last is not None and not last[1]:
        raise FileRejected(
            file,
            f"line {last[0]}: the last row does not end with the comma that ends the header "
            "and every row of this export; expected a complete last row: the file is cut short "
            "or still being written, export it again",
        )
    return _statements(file, sections)


def _looks_like_row(cells: list[str], columns: list[str]) -> bool:
    at = columns.index("post date")
    return at < len(cells) and bool(_BNI_DATETIME.fullmatch(cells[at].strip()))


def _read_total(file: str, line: int, cells: list[str], at: int, section: _Section) -> None:
    kind = _TOTAL.fullmatch(cells[at].strip())
    assert kind is not None
    label = cells[at].strip()
    values = [c.strip() for c in cells[at + 1 :] if c.strip()]
    if len(values) != 2:
        raise RowError(file, line, label, ",".join(values), "a count and an amount")
    count_text, amount_text = values
    if not count_text.isdigit():
        raise RowError(file, line, label, count_text, "a whole number of rows")
    with row_context(file, line, label):
        amount = parse_amount_en(amount_text)
    if kind["kind"].lower() == "credit":
        section.count_credit, section.total_credit = int(count_text), amount
    else:
        section.count_debit, section.total_debit = int(count_text), amount


def _fields(file: str, line: int, cells: list[str], columns: list[str]) -> dict[str, str]:
    """Pair cells with column names; surplus cells belong to an unquoted-comma description."""
    extra = len(cells) - len(columns)
    if extra < 0:
        raise RowError(
            file,
            line,
            columns[len(cells)],
            ",".join(cells),
            f"{len(columns)} fields ({', '.join(columns)})",
        )
    at = columns.index("description")
    if extra:
        cells = [*cells[:at], ",".join(cells[at : at + extra + 1]), *cells[at + extra + 1 :]]
    return dict(zip(columns, cells, strict=True))


def _read_row(
    file: str, line: int, cells: list[str], columns: list[str], sections: list[_Section]
) -> None:
    f = _fields(file, line, cells, columns)
    section = sections[-1]
    if "account no" in f:
        account = digits_only(f["account no"])
        if not account:
            raise RowError(file, line, "Account No", f["account no"], "an account number")
        if section.account_no and account != section.account_no:
            # another account without its own header: a new section of the same currency
            section = _Section(account, section.currency, line)
            sections.append(section)
        section.account_no = account
    if "currency" in f and f["currency"].strip():
        section.currency = f["currency"].strip().upper()
    with row_context(file, line, "Post Date"):
        posted = parse_bni_datetime(f["post date"])
    with row_context(file, line, "Value Date"):
        value = parse_bni_datetime(f["value date"])
    with row_context(file, line, "Debit"):
        debit = parse_amount_en(f["debit"], allow_empty=True)
    with row_context(file, line, "Credit"):
        credit = parse_amount_en(f["credit"], allow_empty=True)
    for column, amount in (("Debit", debit), ("Credit", credit)):
        if amount < ZERO:  # the column gives the direction: a sign would flip it silently
            raise RowError(file, line, column, f[column.lower()], "a positive amount")
    if (debit == ZERO) == (credit == ZERO):
        raise RowError(
            file,
            line,
            "Credit",
            f["credit"],
            f"exactly one of Debit ({f['debit']}) and Credit to be non-zero",
        )
    balance = None
    if "balance" in f:
        with row_context(file, line, "Balance"):
            balance = parse_amount_en(f["balance"])
    description = f["description"]
    remarks = parse_bni_remarks(description)
    posted_on = posted.date()
    section.transactions.append(
        Transaction(
            bank=BANK,
            layout=NAME,
            account_no=section.account_no,
            posted_on=posted_on,
            direction=Direction.CR if credit != ZERO else Direction.DB,
            amount=credit if credit != ZERO else debit,
            description=description,
            source_line=line,
            balance=balance,
            posted_time=posted.time(),
            value_on=value.date(),
            initiated_on=_initiated(remarks.initiated_ddmm, posted_on),
            channel=remarks.channel,
            counterparty=remarks.sender_name,
            sender_bank=remarks.sender_bank,
            sender_account=remarks.sender_account,
            message=remarks.message,
            bank_ref=remarks.bank_ref,
            is_fee=remarks.is_fee,
        )
    )


class _Declined(Exception):
    """The fast path does not vouch for this row; the reference reading decides."""


class _FastRows:
    """:func:`_read_row` for the well-formed rows of one header's columns, with the values that
    repeat in a statement (days, times of day, amounts, account cells) read once.

    It raises :class:`_Declined` or ``ValueError`` for anything it does not vouch for, always
    before changing a section, so the reference path then reads the row from scratch: a
    missing cell, another account or currency (a new section), any value that is not in its
    usual form, both or neither of Debit and Credit set.
    """

    __slots__ = (
        "_account_at",
        "_accounts",
        "_amounts",
        "_balance_at",
        "_credit_at",
        "_currency_at",
        "_debit_at",
        "_description_at",
        "_moment",
        "_post_at",
        "_value_at",
        "_width",
    )  # fmt: skip

    def __init__(self, columns: list[str]) -> None:
        def at(name: str) -> int:
            return columns.index(name) if name in columns else -1

        self._width = len(columns)
        self._account_at = at("account no")
        self._currency_at = at("currency")
        self._post_at = at("post date")
        self._value_at = at("value date")
        self._description_at = at("description")
        self._debit_at = at("debit")
        self._credit_at = at("credit")
        self._balance_at = at("balance")
        # '02/03/26 08.15.42' as parse_bni_datetime reads it, each date and time once
        self._moment = MemoisedMoments(
            _STRICT_DATETIME,
            8,
            lambda d: date(2000 + int(d[6:8]), int(d[3:5]), int(d[:2])),
            parse_bni_datetime,
        )
        self._amounts: dict[str, Decimal] = {}
        self._accounts: dict[str, str] = {}

    def _amount(self, text: str) -> Decimal:
        amount = self._amounts.get(text)
        if amount is None:
            amount = self._amounts[text] = parse_amount_en(text, allow_empty=True)
        return amount

    def row(self, line: int, cells: list[str], section: _Section) -> Transaction:
        extra = len(cells) - self._width
        if extra:
            if extra < 0:
                raise _Declined
            at = self._description_at  # surplus cells: an unquoted comma in the description
            cells = [*cells[:at], ",".join(cells[at : at + extra + 1]), *cells[at + extra + 1 :]]
        if self._account_at >= 0:
            written = cells[self._account_at]
            account = self._accounts.get(written)
            if account is None:
                account = self._accounts[written] = digits_only(written)
            if not account or account != section.account_no:
                raise _Declined
        if self._currency_at >= 0:
            currency = cells[self._currency_at].strip()
            if currency and currency.upper() != section.currency:
                raise _Declined
        posted_on, posted_time = self._moment(cells[self._post_at])
        value_on, _ = self._moment(cells[self._value_at])
        debit = self._amount(cells[self._debit_at])
        credit = self._amount(cells[self._credit_at])
        if (debit == ZERO) == (credit == ZERO) or debit < ZERO or credit < ZERO:
            raise _Declined
        balance = parse_amount_en(cells[self._balance_at]) if self._balance_at >= 0 else None
        description = cells[self._description_at]
        remarks = parse_bni_remarks(description)
        ddmm = remarks.initiated_ddmm
        return Transaction(
            bank=BANK,
            layout=NAME,
            account_no=section.account_no,
            posted_on=posted_on,
            direction=Direction.CR if credit != ZERO else Direction.DB,
            amount=credit if credit != ZERO else debit,
            description=description,
            source_line=line,
            balance=balance,
            posted_time=posted_time,
            value_on=value_on,
            initiated_on=initiation_date(ddmm, posted_on) if ddmm else None,
            channel=remarks.channel,
            counterparty=remarks.sender_name,
            sender_bank=remarks.sender_bank,
            sender_account=remarks.sender_account,
            message=remarks.message,
            bank_ref=remarks.bank_ref,
            is_fee=remarks.is_fee,
        )


def _initiated(ddmm: str | None, posted_on: date) -> date | None:
    return initiation_date(ddmm, posted_on) if ddmm else None


def _statements(file: str, sections: list[_Section]) -> list[Statement]:
    """One Statement per account; foreign-currency sections are skipped with a warning."""
    kept: list[_Section] = []
    skipped: list[str] = []
    for s in sections:
        if s.currency in ("IDR", "RP"):
            if s.account_no or s.transactions:
                kept.append(s)
            continue
        skipped.append(
            f"skipped the {s.currency} section for account {s.account_no or '(none)'} "
            f"at line {s.first_line}: only IDR accounts are reconciled"
        )
    if not kept:
        reason = "; ".join(skipped) if skipped else "no account section"
        raise FileRejected(file, f"nothing to import: {reason}")
    out: dict[str, Statement] = {}
    for s in kept:
        st = out.get(s.account_no)
        if st is None:
            st = out[s.account_no] = Statement(
                bank=BANK, layout=NAME, account_no=s.account_no, transactions=[]
            )
        st.transactions.extend(s.transactions)
        st.total_credit = _add(st.total_credit, s.total_credit)
        st.total_debit = _add(st.total_debit, s.total_debit)
        st.count_credit = _add(st.count_credit, s.count_credit)
        st.count_debit = _add(st.count_debit, s.count_debit)
    statements = list(out.values())
    for st in statements:
        st.warnings.extend(skipped)
    return statements


_N = TypeVar("_N", int, Decimal)


def _add(a: _N | None, b: _N | None) -> _N | None:
    if a is None:
        return b
    if b is None:
        return a
    return a + b


IMPORTER = BniBnidirectCsvImporter()
