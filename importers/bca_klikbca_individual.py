"""KlikBCA Individual "Mutasi Rekening" CSV, English and Indonesian UI (formats.md §3.1, §3.2).

Layout (English; the Indonesian UI says ``No. Rekening``/``Nama``/``Mata Uang``,
``Tanggal,Keterangan,Cabang,Jumlah,,Saldo`` and ``Saldo Awal``/``Kredit``/``Debet``/``Saldo Akhir``)::

    Account No.,=,'0372543386
    Name,=,RINA WULANDARI
    Currency,=,IDR

    Date,Description,Branch,Amount,,Balance
    '02/03/2026,TRSF E-BANKING CR 0203/FTSCY/WS95031 1500000.00INV 20431 BUDI SANTOSO,'0000,1500000.00,CR,16500000.00
    'PEND,TRSF E-BANKING CR 0403/FTSCY/WS95031 350000.00hosting, bln maret     AGUS PRASETYO,'0000,350000.00,CR,17590000.00

    Starting Balance,=,15000000.00
    Credit,=,2600000.00
    Debet,=,10000.00
    Ending Balance,=,17590000.00

No quoting: descriptions may hold commas, so every row is split from the right (the last four
fields are branch, amount, direction, balance). Dates are ``'DD/MM/YYYY`` or year-less ``'DD/MM``
(year from the run's as-of date) or ``'PEND``. Variants accepted (§11A): a backtick guard, a copy
re-saved by Excel (``;`` delimiter, quoted cells, `` Jumlah `` header with ``" 20,000 "`` amounts)
and a missing column-header line. The footer is required: without it the file is truncated.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from importers.base import FileSniff, ParseContext, gc_paused, read_text, row_context
from importers.bca_common import (
    BANK,
    GUARDS,
    RowDate,
    account_number,
    check_pend_rows_last,
    currency_code,
    make_transaction,
    parse_direction,
    parse_row_date,
    resolve_date,
    strip_guard,
)
from reconcile.errors import FileRejected, RowError
from reconcile.model import Direction, Statement, Transaction
from reconcile.money import parse_amount_en

NAME = "bca_klikbca_individual"

_FIRST_LINE = re.compile(r"(account no\.|no\. rekening)\s*([,;])\s*=\s*[,;]")
_BRANCH = re.compile(r"\d{1,4}")
_GUARDED_BRANCH = re.compile(r"['`]\d{4}")

# preamble / footer label (lower case) -> key, for both UI languages
_LABELS = {
    "account no.": "account",
    "no. rekening": "account",
    "name": "holder",
    "nama": "holder",
    "currency": "currency",
    "mata uang": "currency",
    "starting balance": "opening",
    "saldo awal": "opening",
    "credit": "credit",
    "kredit": "credit",
    "debet": "debit",
    "ending balance": "closing",
    "saldo akhir": "closing",
}
_FOOTER = ("opening", "credit", "debit", "closing")


@dataclass(frozen=True, slots=True)
class _Columns:
    date: str
    branch: str
    amount: str
    direction: str
    balance: str


_ENGLISH = _Columns("Date", "Branch", "Amount", "CR/DB", "Balance")
_INDONESIAN = _Columns("Tanggal", "Cabang", "Jumlah", "CR/DB", "Saldo")


def _split(line: str, delimiter: str) -> list[str]:
    """Fields of one line: a plain split, or a CSV read where Excel added quotes."""
    if '"' in line:
        return next(csv.reader([line], delimiter=delimiter))
    return line.split(delimiter)


class KlikBcaIndividualImporter:
    name = NAME
    bank = BANK
    title = "BCA KlikBCA Individual CSV (English or Indonesian UI)"

    def identify(self, sniff: FileSniff) -> bool:
        if sniff.kind != "text":
            return False
        first = sniff.first_lines(1)
        return bool(first) and _FIRST_LINE.match(first[0]) is not None

    def parse(self, path: Path, ctx: ParseContext) -> list[Statement]:
        file = path.name
        # lines end in \r\n, \r or \n; no regex over the whole file
        lines = read_text(path).replace("\r\n", "\n").replace("\r", "\n").split("\n")
        first = next((s for s in lines if s.strip()), "")
        m = _FIRST_LINE.match(first.replace('"', "").strip().lower())
        if not m:
            raise FileRejected(file, "line 1 is not 'Account No.,=,…' or 'No. Rekening,=,…'")
        delimiter = m[2]
        columns = (
            _INDONESIAN if first.replace('"', "").strip().lower().startswith("no.") else _ENGLISH
        )
        info: dict[str, tuple[int, str, str]] = {}
        rows: list[tuple[int, list[str]]] = []
        footer_seen = False
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            fields = _split(line, delimiter)
            if len(fields) >= 3 and fields[1].strip() == "=":
                label = fields[0].strip()
                key = _LABELS.get(label.lower())
                if key is None:
                    raise FileRejected(file, f"line {number}: unknown label {label!r}")
                info[key] = (number, label, delimiter.join(fields[2:]))
                footer_seen = footer_seen or key in _FOOTER
                continue
            head = fields[0].strip().lower()
            if head in ("date", "tanggal"):
                continue
            if footer_seen:
                raise FileRejected(
                    file,
                    f"line {number}: transaction row after the footer totals ({line.strip()!r})",
                )
            rows.append((number, fields))
        if "account" not in info:
            raise FileRejected(file, "no account number line ('Account No.,=,…')")
        missing = [k for k in _FOOTER if k not in info]
        if missing:
            names = {
                "opening": "Starting Balance / Saldo Awal",
                "credit": "Credit / Kredit",
                "debit": "Debet",
                "closing": "Ending Balance / Saldo Akhir",
            }
            raise FileRejected(
                file,
                "footer totals missing ("
                + ", ".join(names[k] for k in missing)
                + "): the file is truncated or incomplete; download the statement again",
            )
        totals: dict[str, Decimal] = {}
        for key in _FOOTER:
            number, label, text = info[key]
            with row_context(file, number, label):
                totals[key] = parse_amount_en(text, allow_empty=key in ("credit", "debit"))
        account = account_number(info["account"][2])
        currency = currency_code(info["currency"][2]) if "currency" in info else "IDR"
        holder = info["holder"][2].strip() or None if "holder" in info else None

        transactions = self._transactions(file, rows, delimiter, columns, account, ctx)
        check_pend_rows_last(file, transactions)
        return [
            Statement(
                bank=BANK,
                layout=NAME,
                account_no=account,
                transactions=transactions,
                currency=currency,
                opening_balance=totals["opening"],
                closing_balance=totals["closing"],
                total_credit=totals["credit"],
                total_debit=totals["debit"],
                holder_name=holder,
            )
        ]

    def _transactions(
        self,
        file: str,
        rows: list[tuple[int, list[str]]],
        delimiter: str,
        columns: _Columns,
        account: str,
        ctx: ParseContext,
    ) -> list[Transaction]:
        """Every row through the fast path; a row it declines goes through :meth:`_row`, which
        either reads it the same way or raises the RowError naming the column at fault."""
        fast = _FastRows(delimiter, account, ctx)
        out: list[Transaction] = []
        append = out.append
        i = 0
        with gc_paused():
            while i < len(rows):
                try:
                    for i in range(i, len(rows)):  # noqa: B020 - resumes after a declined row
                        append(fast.row(rows[i]))
                    break
                except (_Declined, ValueError):
                    number, fields = rows[i]
                    append(self._row(file, number, fields, delimiter, columns, account, ctx))
                    i += 1
        return out

    def _row(
        self,
        file: str,
        number: int,
        fields: list[str],
        delimiter: str,
        columns: _Columns,
        account: str,
        ctx: ParseContext,
    ) -> Transaction:
        if len(fields) < 6:
            raise RowError(
                file,
                number,
                columns.date,
                delimiter.join(fields),
                f"6 fields: {columns.date}, description, {columns.branch}, {columns.amount}, "
                f"CR/DB, {columns.balance}",
            )
        date_text = fields[0]
        branch_text, amount_text, direction_text, balance_text = fields[-4:]
        # the guard on the date means BCA's own file: the branch carries it too, four digits
        branch_pattern = _GUARDED_BRANCH if date_text.strip()[:1] in GUARDS else _BRANCH
        if not branch_pattern.fullmatch(branch_text.strip()):
            # a comma typed inside an amount shifts every field left: say so at the branch
            raise RowError(
                file,
                number,
                columns.branch,
                branch_text,
                "a branch code such as '0000 (the last four fields must be branch, amount, "
                "CR/DB and balance)",
            )
        description = delimiter.join(fields[1:-4])
        with row_context(file, number, columns.date):
            rd = parse_row_date(date_text)
            posted = None if rd.pending else resolve_date(rd, date_text, as_of=ctx.as_of)
        with row_context(file, number, columns.amount):
            amount = parse_amount_en(strip_guard(amount_text))
        if amount < 0:
            raise RowError(
                file,
                number,
                columns.amount,
                amount_text,
                "a positive amount (CR/DB gives the sign)",
            )
        with row_context(file, number, columns.direction):
            direction = parse_direction(direction_text)
        with row_context(file, number, columns.balance):
            balance = parse_amount_en(strip_guard(balance_text))
        return make_transaction(
            layout=NAME,
            account_no=account,
            rd=rd,
            posted_on=posted,
            direction=direction,
            amount=amount,
            balance=balance,
            description=description,
            source_line=number,
            pending_reference=ctx.as_of,
        )


class _Declined(Exception):
    """The fast path does not vouch for this row; the reference reading decides."""


class _FastRows:
    """The reading of :meth:`KlikBcaIndividualImporter._row` for well-formed rows, with the
    values that repeat in a statement (dates, branches, amounts, initiation days) read once.

    Raises :class:`_Declined` or ``ValueError`` for anything it does not vouch for; it never
    raises the file's error itself, so the reference path keeps the order of the checks.
    """

    __slots__ = ("_account", "_amounts", "_as_of", "_branches", "_dates", "_delimiter")

    def __init__(self, delimiter: str, account: str, ctx: ParseContext) -> None:
        self._delimiter = delimiter
        self._account = account
        self._as_of = ctx.as_of
        # date text -> (row date, posted date, whether it carries BCA's guard)
        self._dates: dict[str, tuple[RowDate, date | None, bool]] = {}
        self._branches: set[tuple[bool, str]] = set()
        self._amounts: dict[str, Decimal] = {}

    def _date(self, text: str) -> tuple[RowDate, date | None, bool]:
        rd = parse_row_date(text)
        posted = None if rd.pending else resolve_date(rd, text, as_of=self._as_of)
        value = (rd, posted, text.strip()[:1] in GUARDS)
        self._dates[text] = value
        return value

    def _amount(self, text: str) -> Decimal:
        amount = parse_amount_en(strip_guard(text))
        if amount < 0:
            raise _Declined
        self._amounts[text] = amount
        return amount

    def row(self, item: tuple[int, list[str]]) -> Transaction:
        number, fields = item
        if len(fields) < 6:
            raise _Declined
        date_text = fields[0]
        branch_text, amount_text, direction_text, balance_text = fields[-4:]
        dated = self._dates.get(date_text) or self._date(date_text)
        rd, posted, guarded = dated
        if (guarded, branch_text) not in self._branches:
            pattern = _GUARDED_BRANCH if guarded else _BRANCH
            if not pattern.fullmatch(branch_text.strip()):
                raise _Declined
            self._branches.add((guarded, branch_text))
        amount = self._amounts.get(amount_text)
        if amount is None:
            amount = self._amount(amount_text)
        if direction_text == "CR":
            direction = Direction.CR
        elif direction_text == "DB":
            direction = Direction.DB
        else:
            direction = parse_direction(direction_text)
        balance = parse_amount_en(
            strip_guard(balance_text) if balance_text[:1] in GUARDS else balance_text
        )
        return make_transaction(
            layout=NAME,
            account_no=self._account,
            rd=rd,
            posted_on=posted,
            direction=direction,
            amount=amount,
            balance=balance,
            description=self._delimiter.join(fields[1:-4]),
            source_line=number,
            pending_reference=self._as_of,
        )


IMPORTER = KlikBcaIndividualImporter()
