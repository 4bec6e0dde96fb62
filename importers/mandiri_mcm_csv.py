"""Mandiri MCM classic CSV (formats.md §4.2, §11A).

Comma-separated, quoted where a field holds a comma, a trailing comma on every line (or, in
some exports, on none); ``Description`` appears twice and is read by position::

    Account No,Date,Val. Date,Transaction Code,Description,Description,Reference No.,Debit,Credit,
    1370010136428,02/03/26,02/03/26,7820,MCM InhouseTrf CS-CS DARI BUDI SANTOSO,INV 20431 ,,.00,"1,500,000.00",

- The first Description is the bank's narrative, the second the sender's message.
- ``dd/mm/yy`` dates (20yy); English amounts, zero as ``.00`` (quoted or not) or empty;
  **Debit before Credit** here.
- No balance and no footer: nothing to prove beyond one positive amount per row.
- ``description`` is the two Description fields joined by `` | ``, each exactly as read.
- The account is on every row: one :class:`Statement` per account, in order of appearance.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

from importers.base import FileSniff, ParseContext, csv_records, read_text, row_context
from importers.mandiri_common import BANK, RawRow, build_transaction, direction_and_amount
from reconcile.dates import parse_dmy
from reconcile.errors import FileRejected, RowError
from reconcile.model import Statement
from reconcile.money import parse_amount_en

COLUMNS = [
    "Account No",
    "Date",
    "Val. Date",
    "Transaction Code",
    "Description",
    "Description",
    "Reference No.",
    "Debit",
    "Credit",
]
HEADER = ",".join(COLUMNS)
_ACCOUNT = re.compile(r"\d+")
_SCIENTIFIC = re.compile(r"\d+(\.\d+)?[eE]\+\d+")


def _is_header(fields: list[str]) -> bool:
    return [f.strip().lower() for f in fields[: len(COLUMNS)]] == [c.lower() for c in COLUMNS]


class MandiriMcmCsv:
    name = "mandiri_mcm_csv"
    bank = BANK
    title = "Mandiri MCM classic CSV"

    def identify(self, sniff: FileSniff) -> bool:
        if sniff.kind != "text":
            return False
        first = sniff.first_lines(1)
        return bool(first) and first[0].rstrip(",") == HEADER.lower()

    def parse(self, path: Path, ctx: ParseContext) -> list[Statement]:
        file = path.name
        by_account: dict[str, Statement] = {}
        seen_header = False
        for number, fields in csv_records(file, read_text(path)):
            if not any(f.strip() for f in fields):
                continue
            if _is_header(fields):
                seen_header = True
                continue
            if not seen_header:
                raise FileRejected(file, f"line {number} comes before the header {HEADER!r}")
            fields = self._fields(file, number, fields)
            account_no = self._account(file, number, fields[0])
            st = by_account.setdefault(
                account_no,
                Statement(bank=BANK, layout=self.name, account_no=account_no, transactions=[]),
            )
            st.transactions.append(build_transaction(self.name, self._row(file, number, fields)))
        if not seen_header:
            raise FileRejected(file, f"no header line {HEADER!r}")
        return list(by_account.values())

    @staticmethod
    def _fields(file: str, number: int, fields: list[str]) -> list[str]:
        """Nine fields, after dropping the empty one the trailing comma makes."""
        if len(fields) == len(COLUMNS) + 1 and not fields[-1].strip():
            fields = fields[:-1]
        if len(fields) < len(COLUMNS):
            raise FileRejected(
                file,
                f"line {number} has {len(fields)} of the {len(COLUMNS)} fields ({HEADER}); "
                "the file looks truncated: export it again",
            )
        if len(fields) > len(COLUMNS):
            raise FileRejected(
                file,
                f"line {number} has {len(fields)} fields; expected {len(COLUMNS)} ({HEADER}) "
                "and an optional trailing comma",
            )
        return fields

    @staticmethod
    def _account(file: str, number: int, text: str) -> str:
        s = text.strip().lstrip("'`")
        if _ACCOUNT.fullmatch(s) or _SCIENTIFIC.fullmatch(s):
            return s  # scientific notation is refused by the account check, with its reason
        raise RowError(file, number, "Account No", text, "an account number (digits only)")

    def _row(self, file: str, number: int, fields: list[str]) -> RawRow:
        account, posted, value, _code, narrative, message, reference, debit, credit = fields
        with row_context(file, number, "Date"):
            posted_on = parse_dmy(posted)
        with row_context(file, number, "Val. Date"):
            value_on = parse_dmy(value) if value.strip() else None
        amounts: list[Decimal] = []
        for column, text in (("Debit", debit), ("Credit", credit)):
            with row_context(file, number, column):
                amounts.append(parse_amount_en(text, allow_empty=True))
        with row_context(file, number, "Credit"):
            direction, amount = direction_and_amount(
                amounts[1],
                amounts[0],
                credit_column="Credit",
                debit_column="Debit",
                text=f"Debit={debit.strip()} Credit={credit.strip()}",
            )
        return RawRow(
            account_no=account.strip().lstrip("'`"),
            posted_on=posted_on,
            value_on=value_on,
            direction=direction,
            amount=amount,
            description=f"{narrative} | {message}",
            source_line=number,
            remarks=narrative,
            additional=message,
            bank_ref=reference.strip() or None,
        )


IMPORTER = MandiriMcmCsv()
