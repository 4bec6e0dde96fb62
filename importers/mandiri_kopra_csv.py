"""Mandiri Kopra / MCM 2.0 account statement CSV (formats.md §4.1).

One header line, then one row per movement; ``;``-separated, unquoted, CRLF or LF::

    AccountNo;Ccy;PostDate;Remarks;AdditionalDesc;Credit Amount;Debit Amount;Close Balance
    1370010136428;IDR;03 March 2026 10:02:11;CV SUMBER REJEKI ABADI J;Trf Inw CN BANK DANAMON;3300000.00;0.00;30550000.00

- **Credit before Debit**; plain amounts; ``Close Balance`` sometimes without decimals.
- The account is on every row: one :class:`Statement` per account, in order of appearance.
- A row with more than eight fields has a ``;`` inside a description: three fields are taken
  from each end, the split between Remarks and AdditionalDesc is a guess and a warning says so.
- No opening balance is printed: the chain of close balances is proved from the first row
  (reconcile.validate); a newest-first export (chain holds only reversed) is put in date order.
- ``description`` is ``Remarks;AdditionalDesc`` exactly as the line carries them.
"""

from __future__ import annotations

import re
from datetime import time
from decimal import Decimal
from itertools import pairwise
from pathlib import Path

from importers.base import FileSniff, ParseContext, gc_paused, read_text, row_context
from importers.mandiri_common import (
    BANK,
    MonthNameMoments,
    RawRow,
    build_transaction,
    direction_and_amount,
)
from reconcile.errors import FileRejected, RowError, ValueFormatError
from reconcile.model import Direction, Statement, Transaction
from reconcile.money import parse_amount_plain

HEADER = "AccountNo;Ccy;PostDate;Remarks;AdditionalDesc;Credit Amount;Debit Amount;Close Balance"
COLUMNS = HEADER.split(";")
_ACCOUNT = re.compile(r"\d+")
_SCIENTIFIC = re.compile(r"\d+(\.\d+)?[eE]\+\d+")


def _signed(t: Transaction) -> Decimal:
    return t.amount if t.direction is Direction.CR else -t.amount


def _chain_holds(rows: list[Transaction]) -> bool:
    """Every close balance equals the previous one plus this row's movement."""
    return all(
        cur.balance is not None
        and prev.balance is not None
        and cur.balance == prev.balance + _signed(cur)
        for prev, cur in pairwise(rows)
    )


class MandiriKopraCsv:
    name = "mandiri_kopra_csv"
    bank = BANK
    title = "Mandiri Kopra / MCM 2.0 CSV"

    def identify(self, sniff: FileSniff) -> bool:
        if sniff.kind != "text":
            return False
        first = sniff.first_lines(1)
        return bool(first) and first[0] == HEADER.lower()

    def parse(self, path: Path, ctx: ParseContext) -> list[Statement]:
        with gc_paused():
            return self._parse(path)

    def _parse(self, path: Path) -> list[Statement]:
        file = path.name
        lines = re.split(r"\r\n|\r|\n", read_text(path))
        if not lines or lines[0].replace('"', "").strip().lower() != HEADER.lower():
            raise FileRejected(file, f"line 1 is not the Kopra header {HEADER!r}")
        by_account: dict[str, Statement] = {}
        # a statement repeats its post dates and credit/debit amounts thousands of times: each
        # distinct text is read once (only readings that succeeded are kept)
        moments = MonthNameMoments()
        amounts: dict[str, Decimal] = {}
        for number, line in enumerate(lines[1:], start=2):
            if not line.strip():
                continue
            fields = line.split(";")
            if len(fields) < len(COLUMNS):
                raise FileRejected(
                    file,
                    f"line {number} has {len(fields)} of the {len(COLUMNS)} ';'-separated fields "
                    f"({HEADER}); the file looks truncated: export it again",
                )
            account_no = self._account(file, number, fields[0])
            currency = fields[1].strip().upper()
            if not currency:
                raise RowError(file, number, "Ccy", fields[1], "a currency code such as IDR")
            st = by_account.setdefault(
                account_no,
                Statement(
                    bank=BANK,
                    layout=self.name,
                    account_no=account_no,
                    transactions=[],
                    currency=currency,
                ),
            )
            if st.currency != currency:
                raise FileRejected(
                    file,
                    f"line {number}: account {account_no} has rows in {st.currency} and in "
                    f"{currency}; one statement has one currency",
                )
            middle = fields[3:-3]
            if len(middle) > 2:
                st.warnings.append(
                    f"line {number} has {len(fields)} fields: a ';' inside the description; "
                    "Remarks and AdditionalDesc were split at the last ';' (a guess)"
                )
            row = self._row(
                file, number, account_no, fields[2], middle, fields[-3:], moments, amounts
            )
            st.transactions.append(build_transaction(self.name, row))
        statements = list(by_account.values())
        for st in statements:
            self._order(st)
            st.closing_balance = st.transactions[-1].balance if st.transactions else None
        return statements

    @staticmethod
    def _account(file: str, number: int, text: str) -> str:
        s = text.strip().lstrip("'`")
        if _ACCOUNT.fullmatch(s) or _SCIENTIFIC.fullmatch(s):
            return s  # scientific notation is refused by the account check, with its reason
        raise RowError(file, number, "AccountNo", text, "an account number (digits only)")

    def _row(
        self,
        file: str,
        number: int,
        account_no: str,
        post_date: str,
        middle: list[str],
        money: list[str],
        moments: MonthNameMoments,
        amounts: dict[str, Decimal],
    ) -> RawRow:
        try:
            posted = moments(post_date)
        except ValueFormatError as exc:
            raise RowError(file, number, "PostDate", exc.value, exc.expected) from exc
        credit_text, debit_text, balance_text = money
        credit = amounts.get(credit_text)
        if credit is None:
            with row_context(file, number, "Credit Amount"):
                credit = amounts[credit_text] = parse_amount_plain(credit_text)
        debit = amounts.get(debit_text)
        if debit is None:
            with row_context(file, number, "Debit Amount"):
                debit = amounts[debit_text] = parse_amount_plain(debit_text)
        try:
            balance = parse_amount_plain(balance_text)
        except ValueFormatError as exc:
            raise RowError(file, number, "Close Balance", exc.value, exc.expected) from exc
        direction: Direction
        if credit > 0 and debit == 0:
            direction, amount = Direction.CR, credit
        elif debit > 0 and credit == 0:
            direction, amount = Direction.DB, debit
        else:  # the shared check words the error
            with row_context(file, number, "Credit Amount"):
                direction, amount = direction_and_amount(
                    credit,
                    debit,
                    credit_column="Credit Amount",
                    debit_column="Debit Amount",
                    text=f"Credit Amount={money[0].strip()} Debit Amount={money[1].strip()}",
                )
        remarks, additional = ";".join(middle[:-1]), middle[-1]
        return RawRow(
            account_no=account_no,
            posted_on=posted[0],
            posted_time=posted[1],
            direction=direction,
            amount=amount,
            balance=balance,
            description=";".join(middle),
            source_line=number,
            remarks=remarks,
            additional=additional,
        )

    @staticmethod
    def _order(st: Statement) -> None:
        """Put a newest-first export in date order.

        Newest-first when only the reversed chain of close balances holds, or when both hold
        (a +x, -x pair) and the post times run backwards.
        """
        rows = st.transactions
        if len(rows) < 2:
            return
        forward, backward = _chain_holds(rows), _chain_holds(rows[::-1])
        stamps = [(t.posted_on, t.posted_time or time.min) for t in rows]
        runs_backwards = stamps[0] > stamps[-1] and stamps == sorted(stamps, reverse=True)
        if backward and (not forward or runs_backwards):
            st.transactions = rows[::-1]
            st.warnings.append("rows were newest-first; read in reverse order")


IMPORTER = MandiriKopraCsv()
