"""SWIFT MT940 customer statements (formats.md §2, §7), read through the ``mt-940`` library.

Layout (one block per statement; a file may hold several)::

    :20:STMT260302
    :25:0495227030
    :28C:00001/001
    :60F:C260301IDR8200000,00
    :61:2603020302C1500000,00NTRFNONREF//418273
    :86:TRANSFER DARI | PEMINDAHAN DARI 0281234567 Bpk BUDI SANTOSO | INV20431
    :62F:C260302IDR9700000,00

* The bank is whichever company account ``:25:`` names (formats.md §1.2); an account that is
  not the company's gets no bank and is rejected by the statement proof.
* ``:60F:``/``:60M:`` and ``:62F:``/``:62M:`` are the opening and closing balances (a ``D`` mark
  makes them negative); ``:90C:``/``:90D:`` sums, when present, are control totals.
* ``:61:`` gives value date, booking date (``MMDD``), mark ``C``/``D``/``RC``/``RD`` and amount;
  the source position is the physical line of the ``:61:`` tag.
* ``:86:`` continuation lines are joined with a space, then read by the bank's description
  parser (§8); the raw joined text is kept as the description.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from itertools import pairwise
from pathlib import Path
from typing import Any

import mt940 as mt940_lib

from importers.base import FileSniff, ParseContext, digits_only, read_text
from importers.remarks.bca import parse_bca_remarks
from importers.remarks.bni import parse_bni_remarks
from importers.remarks.bri import parse_bri_remarks
from importers.remarks.mandiri import parse_mandiri_remarks
from reconcile.dates import initiation_date
from reconcile.errors import FileRejected, RowError
from reconcile.model import Direction, Remarks, Statement, Transaction
from reconcile.money import CENT

NAME = "mt940"

REMARKS_PARSERS: dict[str, Callable[[str], Remarks]] = {
    "bca": parse_bca_remarks,
    "bni": parse_bni_remarks,
    "bri": parse_bri_remarks,
    "mandiri": parse_mandiri_remarks,
}
SWIFT_LINE = 65  # characters per :86: line
_DIRECTIONS = {"C": Direction.CR, "RD": Direction.CR, "D": Direction.DB, "RC": Direction.DB}
_TAG = re.compile(r"^:(?P<tag>\d{2}[A-Z]?|NS):", re.M)
_TAG_EXAMPLES = {
    "61": "a :61: statement line such as 2603020302C1500000,00NTRFNONREF//418273",
    "60": "a :60F: balance such as C260301IDR8200000,00",
    "62": "a :62F: balance such as C260302IDR9700000,00",
    "25": "an account identification such as 0495227030",
}


def bank_of_account(account: str, accounts: Mapping[str, str]) -> str:
    """'0495227030' -> 'bni' (accounts from rules.yaml: number -> bank); a number without its
    leading zeros is still ours; else ''."""
    if account in accounts:
        return accounts[account]
    same = [b for a, b in accounts.items() if a.lstrip("0") == account.lstrip("0")]
    return same[0] if len(same) == 1 and account else ""


def account_from_tag25(value: str) -> str:
    """':25:' text -> digits of the account: 'BNINIDJA/0495227030' -> '0495227030'."""
    return digits_only(value.rsplit("/", 1)[-1])


class Mt940Importer:
    name = NAME
    bank = ""
    title = "SWIFT MT940"

    def identify(self, sniff: FileSniff) -> bool:
        if sniff.kind not in ("text", "json"):
            return False
        if sniff.kind == "json" and not sniff.text.lstrip().startswith("{1:"):
            return False
        tags = [m["tag"] for m in _TAG.finditer(sniff.text.replace("\r", ""))]
        return (
            "20" in tags
            and "25" in tags
            and any(t in ("60F", "60M") for t in tags)
            and tags.index("20") < tags.index("25")
        )

    def parse(self, path: Path, ctx: ParseContext) -> list[Statement]:
        return parse_mt940(path, ctx.accounts)


def join_details(details: str) -> str:
    """Join :86: lines: after a full 65-character line the text was hard-wrapped (no space),
    after a shorter one the line break stood for a space (formats.md §7)."""
    parts = details.split("\n")
    out = parts[0]
    for prev, part in pairwise(parts):
        out += part if len(prev) >= SWIFT_LINE else " " + part
    return out


def _line_of(lines: list[str], needle: str, start: int = 0) -> int:
    for i in range(start, len(lines)):
        if needle and needle in lines[i]:
            return i + 1
    return start + 1


def parse_mt940(path: Path, accounts: Mapping[str, str]) -> list[Statement]:
    """Every statement block of an MT940 file, with its balances as control values."""
    file = path.name
    text = read_text(path).replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    try:
        blocks = mt940_lib.parse_statements(text)
    except RuntimeError as exc:
        tag, value = (exc.args[1], exc.args[2]) if len(exc.args) >= 3 else (None, "")
        first = str(value).split("\n", 1)[0]
        slug = getattr(tag, "id", "?")
        raise RowError(
            file,
            _line_of(lines, first),
            f":{slug}:",
            str(value),
            _TAG_EXAMPLES.get(
                str(slug), f"a :{slug}: field as the SWIFT MT940 standard defines it"
            ),
        ) from exc
    except (ValueError, InvalidOperation) as exc:
        raise FileRejected(file, f"not a readable MT940 statement: {exc}") from exc
    tag61_lines = [i + 1 for i, line in enumerate(lines) if line.startswith(":61:")]
    parsed = sum(len(b.transactions) for b in blocks)
    if parsed != len(tag61_lines):
        raise FileRejected(
            file, f"{len(tag61_lines)} :61: lines but the MT940 reader found {parsed} entries"
        )
    statements: list[Statement] = []
    cursor = 0
    for block in blocks:
        if "account_identification" not in block.data:
            if not block.transactions and not _balances(block.data):
                continue  # a header block without a statement
            raise FileRejected(file, "statement block without :25: account identification")
        n = len(block.transactions)
        statements.append(_statement(file, block, tag61_lines[cursor : cursor + n], accounts))
        cursor += n
    if not statements:
        raise FileRejected(file, "no MT940 statement block (:20: … :62F:) found")
    return statements


def _balances(data: dict[str, Any]) -> bool:
    return any(k.endswith("balance") for k in data)


def _balance(data: dict[str, Any], *keys: str) -> tuple[Decimal | None, str | None]:
    for key in keys:
        bal = data.get(key)
        if bal is not None and getattr(bal, "amount", None) is not None:
            amount = bal.amount
            return Decimal(amount.amount).quantize(CENT), amount.currency
    return None, None


def _statement(
    file: str, block: Any, source_lines: list[int], accounts: Mapping[str, str]
) -> Statement:
    data: dict[str, Any] = block.data
    account = account_from_tag25(str(data["account_identification"]))
    if not account:
        raise FileRejected(file, f":25: {data['account_identification']!r} holds no account number")
    bank = bank_of_account(account, accounts)
    opening, currency = _balance(data, "final_opening_balance", "intermediate_opening_balance")
    closing, closing_ccy = _balance(data, "final_closing_balance", "intermediate_closing_balance")
    if opening is None:
        raise FileRejected(file, f"statement for account {account} has no :60F: opening balance")
    st = Statement(
        bank=bank,
        layout=NAME,
        account_no=account,
        transactions=[],
        currency=(currency or closing_ccy or "IDR").upper(),
        opening_balance=opening,
        closing_balance=closing,
    )
    for key, total_attr, count_attr in (
        ("sum_credit_entries", "total_credit", "count_credit"),
        ("sum_debit_entries", "total_debit", "count_debit"),
    ):
        entry = data.get(key)
        if entry is not None:
            setattr(st, total_attr, abs(Decimal(entry.amount)).quantize(CENT))
            setattr(st, count_attr, int(entry.number))
    parser = REMARKS_PARSERS.get(bank)
    for tx, line in zip(block.transactions, source_lines, strict=True):
        st.transactions.append(_transaction(file, line, tx.data, st, parser))
    return st


def _transaction(
    file: str,
    line: int,
    d: dict[str, Any],
    st: Statement,
    parser: Callable[[str], Remarks] | None,
) -> Transaction:
    mark = str(d.get("status") or "").upper()
    if mark not in _DIRECTIONS:
        raise RowError(file, line, ":61:", mark, "a debit/credit mark C, D, RC or RD")
    amount = abs(Decimal(d["amount"].amount))
    if amount != amount.quantize(CENT) or amount == 0:
        raise RowError(file, line, ":61:", f"{amount}", "a non-zero amount with at most 2 decimals")
    value_on: date = d["date"]
    posted_on: date = d.get("guessed_entry_date") or d.get("entry_date") or value_on
    details = str(d.get("transaction_details") or "")
    description = join_details(details)
    remarks = parser(" ".join(description.split())) if parser else Remarks()
    bank_ref = d.get("bank_reference") or (
        d.get("customer_reference") if d.get("customer_reference") != "NONREF" else None
    )
    posted = date(posted_on.year, posted_on.month, posted_on.day)
    return Transaction(
        bank=st.bank,
        layout=NAME,
        account_no=st.account_no,
        posted_on=posted,
        direction=_DIRECTIONS[mark],
        amount=amount.quantize(CENT),
        description=description,
        source_line=line,
        value_on=date(value_on.year, value_on.month, value_on.day),
        initiated_on=initiation_date(remarks.initiated_ddmm, posted)
        if remarks.initiated_ddmm
        else None,
        channel=remarks.channel,
        counterparty=remarks.sender_name,
        sender_bank=remarks.sender_bank,
        sender_account=remarks.sender_account,
        message=remarks.message,
        bank_ref=remarks.bank_ref or bank_ref,
        is_fee=remarks.is_fee,
    )


IMPORTER = Mt940Importer()
