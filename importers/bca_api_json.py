"""BCA API account-statement JSON, stored with the account number added (formats.md §3.5).

Layout::

    {"StartDate":"2026-03-02","EndDate":"2026-03-03","Currency":"IDR","StartBalance":"40000000.00",
     "AccountNumber":"0372543386",
     "Data":[{"TransactionDate":"02/03","BranchCode":"0000","TransactionType":"C",
              "TransactionAmount":"1250000.00","TransactionName":"TRSF E-BANKING CR",
              "Trailer":"0103/FTSCY/WS95031 1250000.00 INV20440 HENDRA WIJAYA"}, ...]}

BCA's body does not name the account; the fetching tool must add ``AccountNumber`` and a body
without it is rejected. ``TransactionDate`` is ``DD/MM`` (year from the period, §3.3) or
``PEND``; ``TransactionType`` ``C``/``D``; amounts are plain strings with two decimals. The
description is ``TransactionName``, a space, ``Trailer`` (just the name when the trailer is
empty). Only ``StartBalance`` is given: no running or closing balance to prove. Source line: the
physical line where the row's object starts.
"""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from importers.base import FileSniff, ParseContext, read_text, row_context
from importers.bca_common import (
    BANK,
    account_number,
    check_pend_rows_last,
    currency_code,
    make_transaction,
    parse_row_date,
    resolve_date,
)
from reconcile.dates import parse_iso
from reconcile.errors import FileRejected, RowError, ValueFormatError
from reconcile.model import Direction, Statement, Transaction
from reconcile.money import CENT, parse_amount_plain

NAME = "bca_api_json"
_REQUIRED = ("StartDate", "EndDate", "Currency", "StartBalance", "Data")
_ROW_FIELDS = (
    "TransactionDate",
    "BranchCode",
    "TransactionType",
    "TransactionAmount",
    "TransactionName",
    "Trailer",
)
_DATA_ARRAY = re.compile(r'"Data"\s*:\s*\[')
_DIRECTIONS = {"C": Direction.CR, "D": Direction.DB}


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _row_lines(text: str, count: int) -> list[int]:
    """The physical line where each object of the ``Data`` array starts, in order."""
    decoder = json.JSONDecoder()
    m = _DATA_ARRAY.search(text)
    if m is None:
        return [1] * count
    pos = m.end()
    lines: list[int] = []
    while len(lines) < count:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        lines.append(_line_of(text, pos))
        _, pos = decoder.raw_decode(text, pos)
    return lines


def parse_api_amount(value: Any) -> Decimal:
    """``"1250000.00"`` (a string, as BCA sends it) or an exact JSON number -> Decimal."""
    if isinstance(value, str):
        return parse_amount_plain(value)
    if isinstance(value, Decimal):
        return value.quantize(CENT)
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value).quantize(CENT)
    raise ValueFormatError(repr(value), 'an amount string such as "1250000.00"')


class BcaApiJsonImporter:
    name = NAME
    bank = BANK
    title = "BCA API statement JSON (with AccountNumber)"

    def identify(self, sniff: FileSniff) -> bool:
        return (
            sniff.kind == "json"
            and '"StartBalance"' in sniff.text
            and re.search(r'"Data"\s*:', sniff.text) is not None
        )

    def parse(self, path: Path, ctx: ParseContext) -> list[Statement]:
        file = path.name
        text = read_text(path)
        try:
            body = json.loads(text, parse_float=Decimal)
        except json.JSONDecodeError as exc:
            raise FileRejected(file, f"line {exc.lineno}: not valid JSON ({exc.msg})") from exc
        if not isinstance(body, dict):
            raise FileRejected(file, "expected a JSON object with StartDate, EndDate, Data")
        missing = [k for k in _REQUIRED if k not in body]
        if missing:
            raise FileRejected(file, f"missing field(s) {', '.join(missing)} in the BCA API body")
        if not str(body.get("AccountNumber", "")).strip():
            raise FileRejected(
                file,
                "the BCA API body does not say which account it is for; the tool that fetched it "
                "must add a top-level AccountNumber",
            )
        if not isinstance(body["Data"], list):
            raise FileRejected(file, "field Data is not a list of transactions")
        with row_context(file, 1, "StartDate"):
            start = parse_iso(str(body["StartDate"]))
        with row_context(file, 1, "EndDate"):
            end = parse_iso(str(body["EndDate"]))
        if end < start:
            raise FileRejected(file, f"EndDate {end} is before StartDate {start}")
        with row_context(file, 1, "StartBalance"):
            opening = parse_api_amount(body["StartBalance"])
        account = account_number(str(body["AccountNumber"]))
        lines = _row_lines(text, len(body["Data"]))
        transactions = [
            self._row(file, line, item, account, (start, end))
            for line, item in zip(lines, body["Data"], strict=True)
        ]
        check_pend_rows_last(file, transactions)
        return [
            Statement(
                bank=BANK,
                layout=NAME,
                account_no=account,
                transactions=transactions,
                currency=currency_code(str(body["Currency"])),
                period_start=start,
                period_end=end,
                opening_balance=opening,
            )
        ]

    def _row(
        self, file: str, line: int, item: Any, account: str, period: tuple[date, date]
    ) -> Transaction:
        if not isinstance(item, dict):
            raise RowError(
                file, line, "Data", repr(item), "an object with " + ", ".join(_ROW_FIELDS)
            )
        for key in _ROW_FIELDS:
            if key not in item:
                raise RowError(file, line, key, "", f"a {key} field in every Data item")
        date_text = str(item["TransactionDate"])
        with row_context(file, line, "TransactionDate"):
            rd = parse_row_date(date_text)
            posted = None if rd.pending else resolve_date(rd, date_text, period=period)
        with row_context(file, line, "TransactionAmount"):
            amount = parse_api_amount(item["TransactionAmount"])
        if amount < 0:
            raise RowError(
                file, line, "TransactionAmount", str(item["TransactionAmount"]), "a positive amount"
            )
        kind = str(item["TransactionType"]).strip().upper()
        if kind not in _DIRECTIONS:
            raise RowError(file, line, "TransactionType", str(item["TransactionType"]), "C or D")
        name = str(item["TransactionName"])
        trailer = "" if item["Trailer"] is None else str(item["Trailer"])
        description = f"{name} {trailer}" if trailer.strip() else name
        return make_transaction(
            layout=NAME,
            account_no=account,
            rd=rd,
            posted_on=posted,
            direction=_DIRECTIONS[kind],
            amount=amount,
            balance=None,
            description=description,
            source_line=line,
            pending_reference=period[1],
        )


IMPORTER = BcaApiJsonImporter()
