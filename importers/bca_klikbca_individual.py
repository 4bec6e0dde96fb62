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
from decimal import Decimal
from pathlib import Path

from importers.base import FileSniff, ParseContext, read_text, row_context
from importers.bca_common import (
    BANK,
    GUARDS,
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
from reconcile.model import Statement, Transaction
from reconcile.money import parse_amount_en

NAME = "bca_klikbca_individual"

_FIRST_LINE = re.compile(r"(account no\.|no\. rekening)\s*([,;])\s*=\s*[,;]")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
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
        lines = _LINE_BREAK.split(read_text(path))
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
                continue
            head = fields[0].strip().lower()
            if head in ("date", "tanggal"):
                continue
            if any(k in info for k in _FOOTER):
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

        transactions = [
            self._row(file, number, fields, delimiter, columns, account, ctx)
            for number, fields in rows
        ]
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


IMPORTER = KlikBcaIndividualImporter()
