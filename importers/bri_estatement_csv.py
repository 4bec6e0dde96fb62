"""BRI e-statement CSV, BRImo / internet banking (formats.md §6.1, §11A).

Layout (every field double-quoted; 19 columns, or 18 without ``REMARK_CUSTOM``)::

    "ID","NOREK","TGL_TRAN","TGL_EFEKTIF","JAM_TRAN","SEQ","DESK_TRAN","SALDO_AWAL_MUTASI",
    "MUTASI_DEBET","MUTASI_KREDIT","SALDO_AKHIR_MUTASI","GLSIGN","TRUSER","KODE_TRAN",
    "KODE_TRAN_TELLER","TRREMK","TLBDS1","TLBDS2","REMARK_CUSTOM"
    "1","002901124296507","2026-03-02 08:15:42","2026-03-02 08:15:42","81542","3120045",
    "NBMB BUDI SANTOSO TO RINA WULANDARI ESB:NBMB:0001500F:260302812345","25000000.00",".00",
    "1500000.00","26500000.00","Cr","","","","","","",""

* Columns are read by name. ``NOREK`` (15 digits, leading zeros) is on every row: one Statement
  per account, in file order.
* ``TGL_TRAN`` is the posting date, ``TGL_EFEKTIF`` the value date (``YYYY-MM-DD HH:MM:SS``);
  ``JAM_TRAN`` is HHMMSS without leading zeros (``81542`` = 08:15:42).
* Amounts are plain decimals, zero ``.00``. ``GLSIGN`` (``Cr``/``Db``) must agree with the amount
  columns; each row must satisfy awal − debet + kredit = akhir; the chain is proved afterwards.
* A fee debit sharing ``SEQ``, day and ``DESK_TRAN`` with the row before it is that row's charge.
* ``REMARK_CUSTOM``, when present, is kept as the message (and may name a BI-FAST sender).
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from decimal import Decimal
from itertools import pairwise
from operator import itemgetter
from pathlib import Path

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
from importers.remarks.bri import parse_bri_remarks
from reconcile.errors import FileRejected, RowError, ValueFormatError
from reconcile.model import Direction, Statement, Transaction
from reconcile.money import ZERO, parse_amount_plain

NAME = "bri_estatement_csv"
BANK = "bri"
COLUMNS = (
    "ID",
    "NOREK",
    "TGL_TRAN",
    "TGL_EFEKTIF",
    "JAM_TRAN",
    "SEQ",
    "DESK_TRAN",
    "SALDO_AWAL_MUTASI",
    "MUTASI_DEBET",
    "MUTASI_KREDIT",
    "SALDO_AKHIR_MUTASI",
    "GLSIGN",
    "TRUSER",
    "KODE_TRAN",
    "KODE_TRAN_TELLER",
    "TRREMK",
    "TLBDS1",
    "TLBDS2",
)
OPTIONAL = ("REMARK_CUSTOM",)
_SIGNATURE = ",".join(c.lower() for c in COLUMNS[:12])
_BRI_DATETIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2}):(\d{2}))?")
_JAM = re.compile(r"\d{1,6}")


def parse_bri_datetime(text: str) -> datetime:
    """'2026-03-02 08:15:42' (or a bare '2026-03-02') -> datetime."""
    m = _BRI_DATETIME.fullmatch(text.strip())
    if not m:
        raise ValueFormatError(text, "a date and time YYYY-MM-DD HH:MM:SS")
    y, mo, d, hh, mm, ss = (int(g) if g is not None else 0 for g in m.groups())
    try:
        return datetime(y, mo, d, hh, mm, ss)  # noqa: DTZ001 - local WIB times, never converted
    except ValueError as exc:
        raise ValueFormatError(text, "a real date and time YYYY-MM-DD HH:MM:SS") from exc


def parse_jam_tran(text: str) -> time:
    """'81542' -> 08:15:42, '426' -> 00:04:26: HHMMSS left-padded to six digits."""
    s = text.strip()
    if not _JAM.fullmatch(s):
        raise ValueFormatError(text, "a time HHMMSS without leading zeros, such as 81542")
    padded = s.zfill(6)
    try:
        return time(int(padded[:2]), int(padded[2:4]), int(padded[4:]))
    except ValueError as exc:
        raise ValueFormatError(text, "a real time HHMMSS, such as 81542") from exc


class BriEstatementCsvImporter:
    name = NAME
    bank = BANK
    title = "BRI e-statement CSV"

    def identify(self, sniff: FileSniff) -> bool:
        if sniff.kind != "text":
            return False
        first = sniff.first_lines(1)
        return bool(first) and first[0].replace(" ", "").startswith(_SIGNATURE)

    def parse(self, path: Path, ctx: ParseContext) -> list[Statement]:
        return parse_bri_estatement_csv(path)


def parse_bri_estatement_csv(path: Path) -> list[Statement]:
    """One Statement per NOREK, rows in chronological order, opening/closing from the rows."""
    with gc_paused():
        return _parse(path)


def _parse(path: Path) -> list[Statement]:
    file = path.name
    records = csv_records(file, read_text(path))
    header = [h.strip().upper() for h in next(records, (1, []))[1]]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise FileRejected(file, f"header lacks the column(s) {', '.join(missing)}")
    index = {name: header.index(name) for name in (*COLUMNS, *OPTIONAL) if name in header}
    by_account: dict[str, list[tuple[Transaction, Decimal]]] = {}
    seen: dict[str, tuple[date, str, str]] = {}
    fast = _FastRows(index)
    for start, raw in records:
        try:
            t, awal = fast.row(start, raw, seen)
        except (_Declined, ValueError):
            # the reference reading: the same Transaction, or the error naming the column
            if not any(c.strip() for c in raw):
                continue
            if len(raw) < len(COLUMNS):
                raise RowError(
                    file, start, header[len(raw)], ",".join(raw), f"{len(header)} fields"
                ) from None
            row = {name: raw[i] if i < len(raw) else "" for name, i in index.items()}
            t, awal = _transaction(file, start, row, seen)
        by_account.setdefault(t.account_no, []).append((t, awal))
    return [_statement(file, account, rows) for account, rows in by_account.items()]


def _transaction(
    file: str, line: int, row: dict[str, str], seen: dict[str, tuple[date, str, str]]
) -> tuple[Transaction, Decimal]:
    account = digits_only(row["NOREK"])
    if not account:
        raise RowError(file, line, "NOREK", row["NOREK"], "an account number")
    with row_context(file, line, "TGL_TRAN"):
        posted = parse_bri_datetime(row["TGL_TRAN"])
    with row_context(file, line, "TGL_EFEKTIF"):
        effective = parse_bri_datetime(row["TGL_EFEKTIF"])
    posted_time = posted.time()
    if row["JAM_TRAN"].strip():
        with row_context(file, line, "JAM_TRAN"):
            posted_time = parse_jam_tran(row["JAM_TRAN"])
    amounts: dict[str, Decimal] = {}
    for column in ("SALDO_AWAL_MUTASI", "MUTASI_DEBET", "MUTASI_KREDIT", "SALDO_AKHIR_MUTASI"):
        with row_context(file, line, column):
            amounts[column] = parse_amount_plain(row[column])
    awal, debet = amounts["SALDO_AWAL_MUTASI"], amounts["MUTASI_DEBET"]
    kredit, akhir = amounts["MUTASI_KREDIT"], amounts["SALDO_AKHIR_MUTASI"]
    for column in ("MUTASI_DEBET", "MUTASI_KREDIT"):
        if amounts[column] < ZERO:  # the column gives the direction: a sign would flip it
            raise RowError(file, line, column, row[column], "a positive amount")
    direction = _direction(file, line, row, debet, kredit)
    if awal - debet + kredit != akhir:
        raise FileRejected(
            file,
            f"line {line}: SALDO_AWAL_MUTASI {awal:f} - MUTASI_DEBET {debet:f} + MUTASI_KREDIT "
            f"{kredit:f} = {awal - debet + kredit:f}, but SALDO_AKHIR_MUTASI is {akhir:f}",
        )
    desk = row["DESK_TRAN"]
    custom = row.get("REMARK_CUSTOM") or None
    remarks = parse_bri_remarks(desk, custom)
    key = (posted.date(), row["SEQ"].strip(), " ".join(desk.split()))
    is_fee_child = direction is Direction.DB and seen.get(account) == key and bool(key[1])
    seen[account] = key
    return (
        Transaction(
            bank=BANK,
            layout=NAME,
            account_no=account,
            posted_on=posted.date(),
            direction=direction,
            amount=kredit if direction is Direction.CR else debet,
            description=desk,
            source_line=line,
            balance=akhir,
            posted_time=posted_time,
            value_on=effective.date(),
            channel="FEE" if is_fee_child else remarks.channel,
            counterparty=remarks.sender_name,
            sender_bank=remarks.sender_bank,
            sender_account=remarks.sender_account,
            message=remarks.message,
            bank_ref=remarks.bank_ref,
            is_fee=remarks.is_fee or is_fee_child,
        ),
        awal,
    )


class _Declined(Exception):
    """The fast path does not vouch for this row; the reference reading decides."""


_STRICT_DATETIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")  # '2026-03-02 08:15:42'


_FAST_CELLS = (
    "NOREK", "TGL_TRAN", "TGL_EFEKTIF", "JAM_TRAN", "SEQ", "DESK_TRAN",
    "SALDO_AWAL_MUTASI", "MUTASI_DEBET", "MUTASI_KREDIT", "SALDO_AKHIR_MUTASI", "GLSIGN",
)  # fmt: skip


class _FastRows:
    """:func:`_transaction` for well-formed rows, with the values that repeat in a statement
    (days, times of day, JAM_TRAN, amounts, NOREK cells) read once.

    It raises :class:`_Declined` or ``ValueError`` for anything it does not vouch for, before
    touching ``seen``, so the reference path then reads the row from scratch: a short or blank
    row, any value not in its usual form, both or neither amount set, a GLSIGN that disagrees,
    a row that does not add up.
    """

    __slots__ = ("_accounts", "_amounts", "_cells", "_custom_at", "_jams", "_moment")

    def __init__(self, index: dict[str, int]) -> None:
        # the eleven cells a row is read from, fetched in one call
        self._cells = itemgetter(*(index[name] for name in _FAST_CELLS))
        self._custom_at = index.get("REMARK_CUSTOM", -1)
        # '2026-03-02 08:15:42' as parse_bri_datetime reads it, each date and time once
        self._moment = MemoisedMoments(
            _STRICT_DATETIME,
            10,
            lambda d: date(int(d[:4]), int(d[5:7]), int(d[8:10])),
            parse_bri_datetime,
        )
        self._jams: dict[str, time] = {}
        self._amounts: dict[str, Decimal] = {}
        self._accounts: dict[str, str] = {}

    def _jam(self, text: str) -> time:
        clock = self._jams.get(text)
        if clock is None:
            clock = self._jams[text] = parse_jam_tran(text)
        return clock

    def _amount(self, text: str) -> Decimal:
        amount = self._amounts.get(text)
        if amount is None:
            amount = self._amounts[text] = parse_amount_plain(text)
        return amount

    def row(
        self, line: int, raw: list[str], seen: dict[str, tuple[date, str, str]]
    ) -> tuple[Transaction, Decimal]:
        if len(raw) < len(COLUMNS):
            raise _Declined
        (written, tgl_tran, tgl_efektif, jam, seq, desk, awal_text, debet_text, kredit_text,
         akhir_text, glsign) = self._cells(raw)  # fmt: skip
        account = self._accounts.get(written)
        if account is None:
            account = self._accounts[written] = digits_only(written)
        if not account:
            raise _Declined
        posted_on, posted_time = self._moment(tgl_tran)
        value_on, _ = self._moment(tgl_efektif)
        if jam.strip():
            posted_time = self._jam(jam)
        awal = parse_amount_plain(awal_text)
        debet = self._amount(debet_text)
        kredit = self._amount(kredit_text)
        akhir = parse_amount_plain(akhir_text)
        if (debet == ZERO) == (kredit == ZERO) or debet < ZERO or kredit < ZERO:
            raise _Declined
        direction = Direction.CR if kredit != ZERO else Direction.DB
        if glsign != ("Cr" if direction is Direction.CR else "Db"):
            raise _Declined
        if awal - debet + kredit != akhir:
            raise _Declined
        custom_at = self._custom_at
        custom = (raw[custom_at] if 0 <= custom_at < len(raw) else "") or None
        remarks = parse_bri_remarks(desk, custom)
        key = (posted_on, seq.strip(), " ".join(desk.split()))
        is_fee_child = direction is Direction.DB and seen.get(account) == key and bool(key[1])
        seen[account] = key
        transaction = Transaction(
            bank=BANK,
            layout=NAME,
            account_no=account,
            posted_on=posted_on,
            direction=direction,
            amount=kredit if direction is Direction.CR else debet,
            description=desk,
            source_line=line,
            balance=akhir,
            posted_time=posted_time,
            value_on=value_on,
            channel="FEE" if is_fee_child else remarks.channel,
            counterparty=remarks.sender_name,
            sender_bank=remarks.sender_bank,
            sender_account=remarks.sender_account,
            message=remarks.message,
            bank_ref=remarks.bank_ref,
            is_fee=remarks.is_fee or is_fee_child,
        )
        return transaction, awal


def _direction(
    file: str, line: int, row: dict[str, str], debet: Decimal, kredit: Decimal
) -> Direction:
    if (debet == ZERO) == (kredit == ZERO):
        raise RowError(
            file,
            line,
            "MUTASI_KREDIT",
            row["MUTASI_KREDIT"],
            f"exactly one of MUTASI_DEBET ({row['MUTASI_DEBET']}) and MUTASI_KREDIT non-zero",
        )
    direction = Direction.CR if kredit != ZERO else Direction.DB
    want = "Cr" if direction is Direction.CR else "Db"
    if row["GLSIGN"].strip().lower() != want.lower():
        raise RowError(
            file,
            line,
            "GLSIGN",
            row["GLSIGN"],
            f"{want}, since MUTASI_DEBET is {row['MUTASI_DEBET']} and MUTASI_KREDIT is "
            f"{row['MUTASI_KREDIT']}",
        )
    return direction


def _chained(rows: list[tuple[Transaction, Decimal]]) -> bool:
    """Each row's SALDO_AWAL_MUTASI continues the SALDO_AKHIR_MUTASI of the row before."""
    return all(prev.balance == awal for (prev, _), (_, awal) in pairwise(rows))


def _statement(file: str, account: str, rows: list[tuple[Transaction, Decimal]]) -> Statement:
    warnings: list[str] = []
    if not _chained(rows) and _chained(rows[::-1]):
        rows = rows[::-1]
        warnings.append("rows were newest-first; read in reverse order")
    return Statement(
        bank=BANK,
        layout=NAME,
        account_no=account,
        transactions=[t for t, _ in rows],
        opening_balance=rows[0][1],
        closing_balance=rows[-1][0].balance,
        warnings=warnings,
    )


IMPORTER = BriEstatementCsvImporter()
