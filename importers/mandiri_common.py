"""What the three Mandiri layouts share: month-name dates, WIB times, one way to build a row.

Not an importer (it is not listed in ``importers._MODULES``). Dates are pure functions that
raise :class:`ValueFormatError`; the importers turn that into a :class:`RowError`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal

from importers.remarks.mandiri import parse_mandiri_remarks
from reconcile.dates import initiation_date
from reconcile.errors import ValueFormatError
from reconcile.model import Direction, Transaction

BANK = "mandiri"

# English and Indonesian month names and their abbreviations (formats.md §4.1, §4.3).
MONTHS: dict[str, int] = {
    **{
        name: i
        for i, names in enumerate(
            [
                ("january", "januari", "jan"),
                ("february", "februari", "feb", "peb"),
                ("march", "maret", "mar"),
                ("april", "apr"),
                ("may", "mei"),
                ("june", "juni", "jun"),
                ("july", "juli", "jul"),
                ("august", "agustus", "aug", "agu", "agt", "ags"),
                ("september", "sep", "sept"),
                ("october", "oktober", "oct", "okt"),
                ("november", "nopember", "nov", "nop"),
                ("december", "desember", "dec", "des"),
            ],
            start=1,
        )
        for name in names
    }
}

_MONTH_DATE = re.compile(
    r"(?P<d>\d{1,2})[ -](?P<m>[A-Za-z]{3,9})\.?[ -](?P<y>\d{4})"
    r"(?:\s+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?)?"
)
_TIME = re.compile(r"(?P<H>\d{1,2})[:.](?P<M>\d{2})(?:[:.](?P<S>\d{2}))?(?:\s*WIB)?", re.IGNORECASE)
_DATE_EXPECTED = "a date such as 02 March 2026 or 02 Mar 2026"
_TIME_EXPECTED = "a time such as 08:15:42 WIB"


def _clock(h: str, m: str, s: str | None, text: str) -> time:
    hh, mm, ss = int(h), int(m), int(s or 0)
    if hh > 23 or mm > 59 or ss > 59:
        raise ValueFormatError(text, _TIME_EXPECTED)
    return time(hh, mm, ss)


def parse_month_name_datetime(text: str) -> tuple[date, time | None]:
    """'02 March 2026 08:15:42' | '02 Mar 2026' | '2 Agustus 2026' -> (date, time or None)."""
    s = " ".join(text.split())
    m = _MONTH_DATE.fullmatch(s)
    if not m:
        raise ValueFormatError(text, _DATE_EXPECTED)
    month = MONTHS.get(m["m"].lower())
    if month is None:
        raise ValueFormatError(text, _DATE_EXPECTED)
    try:
        day = date(int(m["y"]), month, int(m["d"]))
    except ValueError as exc:
        raise ValueFormatError(text, "a real calendar date such as 02 Mar 2026") from exc
    clock = _clock(m["H"], m["M"], m["S"], text) if m["H"] is not None else None
    return day, clock


_STRICT_CLOCK = re.compile(r"[0-9]{2}:[0-9]{2}:[0-9]{2}")


class MonthNameMoments:
    """:func:`parse_month_name_datetime` for the texts of one statement, each distinct date and
    time of day read once: ``'03 March 2026 10:02:11'`` is read as its date part and its
    ``HH:MM:SS`` part (the full reading accepts the text exactly when it accepts both parts).
    Anything else, and any part that does not read, goes to the full reading, which raises."""

    __slots__ = ("_clocks", "_days")

    def __init__(self) -> None:
        self._days: dict[str, date] = {}
        self._clocks: dict[str, time] = {}

    def __call__(self, text: str) -> tuple[date, time | None]:
        head, clock_text = text[:-9], text[-8:]
        day = self._days.get(head)
        clock = self._clocks.get(clock_text)
        if day is not None and clock is not None and text[-9] == " ":
            return day, clock
        if len(text) < 10 or text[-9] != " " or not _STRICT_CLOCK.fullmatch(clock_text):
            return parse_month_name_datetime(text)
        if day is None:
            try:
                day, no_clock = parse_month_name_datetime(head)
            except ValueFormatError:
                return parse_month_name_datetime(text)
            if no_clock is not None:
                return parse_month_name_datetime(text)
            self._days[head] = day
        if clock is None:
            hh, mm, ss = int(clock_text[:2]), int(clock_text[3:5]), int(clock_text[6:])
            if hh > 23 or mm > 59 or ss > 59:
                return parse_month_name_datetime(text)
            clock = self._clocks[clock_text] = time(hh, mm, ss)
        return day, clock


def parse_month_name_date(text: str) -> date:
    """'02 Mar 2026' -> date (a time after it is not allowed here)."""
    day, clock = parse_month_name_datetime(text)
    if clock is not None:
        raise ValueFormatError(text, "a date without a time, such as 02 Mar 2026")
    return day


def parse_wib_time(text: str) -> time:
    """'08:15:42 WIB' | '08:15:42' | '8.15' -> time (local WIB, never converted)."""
    m = _TIME.fullmatch(text.strip())
    if not m:
        raise ValueFormatError(text, _TIME_EXPECTED)
    return _clock(m["H"], m["M"], m["S"], text)


@dataclass(frozen=True, slots=True)
class RawRow:
    """One movement as a layout reads it, before the description is interpreted."""

    account_no: str
    posted_on: date
    direction: Direction
    amount: Decimal
    description: str
    source_line: int
    remarks: str  # the narrative handed to the remarks parser
    additional: str | None = None  # Kopra AdditionalDesc / MCM second Description
    balance: Decimal | None = None
    posted_time: time | None = None
    value_on: date | None = None
    bank_ref: str | None = None  # the layout's own reference column, when it has one


def build_transaction(layout: str, row: RawRow) -> Transaction:
    """The canonical row, with the description-derived fields filled in (formats.md §8.3)."""
    r = parse_mandiri_remarks(row.remarks, row.additional)
    return Transaction(
        bank=BANK,
        layout=layout,
        account_no=row.account_no,
        posted_on=row.posted_on,
        direction=row.direction,
        amount=row.amount,
        description=row.description,
        source_line=row.source_line,
        balance=row.balance,
        posted_time=row.posted_time,
        value_on=row.value_on,
        initiated_on=initiation_date(r.initiated_ddmm, row.posted_on) if r.initiated_ddmm else None,
        channel=r.channel,
        counterparty=r.sender_name,
        sender_bank=r.sender_bank,
        sender_account=r.sender_account,
        message=r.message,
        bank_ref=row.bank_ref or r.bank_ref,
        is_fee=r.is_fee,
    )


def direction_and_amount(
    credit: Decimal, debit: Decimal, *, credit_column: str, debit_column: str, text: str
) -> tuple[Direction, Decimal]:
    """Exactly one of the two columns carries a positive amount; anything else is an error."""
    if credit < 0 or debit < 0:
        raise ValueFormatError(
            text, f"amounts in {credit_column!r} and {debit_column!r} not below 0"
        )
    if credit > 0 and debit == 0:
        return Direction.CR, credit
    if debit > 0 and credit == 0:
        return Direction.DB, debit
    raise ValueFormatError(
        text, f"exactly one of {credit_column!r} and {debit_column!r} above 0.00"
    )
