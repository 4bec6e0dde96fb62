"""Statement proof and account check (formats.md §2 step 4, §3.1 balance checks, §12.15-16, 22, 26).

A statement that does not add up is rejected whole, naming the first row where it breaks.
Pure: takes statements and the company accounts, returns statements (possibly re-ordered)
with warnings, or raises FileRejected.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date
from decimal import Decimal

from reconcile.errors import FileRejected
from reconcile.model import Direction, Statement, Transaction


def check_account(file: str, st: Statement, accounts: Mapping[str, str]) -> Statement:
    """The statement's account must be one of ours, at the bank whose layout was detected.

    ``accounts`` maps account number -> bank. A number equal to ours without its leading
    zeros (it went through Excel) is accepted with a warning; scientific notation is rejected.
    """
    acct = st.account_no.strip()
    if "E+" in acct.upper() or "e+" in acct:
        raise FileRejected(
            file,
            f"account number {acct!r} is in scientific notation (the file went through Excel); "
            "it cannot be recovered: export the statement again",
        )
    if acct not in accounts:
        restored = [a for a in accounts if a.lstrip("0") == acct.lstrip("0") and acct]
        if len(restored) == 1:
            st.warnings.append(
                f"account number {acct} lost its leading zeros (the file went through Excel); "
                f"read as {restored[0]}"
            )
            acct = restored[0]
            st.account_no = acct
            st.transactions = [_with_account(t, acct) for t in st.transactions]
        else:
            raise FileRejected(
                file, f"statement is for account {acct}, which is not one of the company's accounts"
            )
    bank = accounts[acct]
    if st.bank and bank != st.bank:
        raise FileRejected(
            file,
            f"statement is for account {acct}, which is the company's {bank.upper()} account, "
            f"but the file is a {st.bank.upper()} layout ({st.layout})",
        )
    if st.currency.upper() not in ("IDR", "RP"):
        raise FileRejected(
            file, f"statement currency is {st.currency}; only IDR accounts are reconciled"
        )
    return st


def _with_account(t: Transaction, acct: str) -> Transaction:
    from dataclasses import replace

    return replace(t, account_no=acct)


def _signed(t: Transaction) -> Decimal:
    return t.amount if t.direction is Direction.CR else -t.amount


def _chain_break(opening: Decimal, rows: list[Transaction]) -> Transaction | None:
    """First row whose printed running balance disagrees with previous + CR - DB."""
    running = opening
    for t in rows:
        running += _signed(t)
        if t.balance is not None:
            if t.balance != running:
                return t
            running = t.balance
    return None


def prove(file: str, st: Statement) -> Statement:
    """Check every control the layout prints; reverse newest-first files; raise on a break."""
    rows = st.transactions
    has_running = any(t.balance is not None for t in rows)
    if has_running and rows:
        opening = st.opening_balance
        if opening is None:
            first = rows[0]
            opening = (first.balance - _signed(first)) if first.balance is not None else None
        if opening is not None:
            bad = _chain_break(opening, rows)
            if bad is not None and st.opening_balance is not None:
                rev = list(reversed(rows))
                if _chain_break(opening, rev) is None:
                    st.transactions = rows = rev
                    st.warnings.append("rows were newest-first; read in reverse order")
                    bad = None
            if bad is not None:
                raise FileRejected(
                    file,
                    f"running balance breaks at line {bad.source_line}: printed "
                    f"{bad.balance:f}, expected {_expected_at(opening, rows, bad):f} "
                    f"(previous balance + credit - debit)",
                )
    credits = sum((t.amount for t in rows if t.direction is Direction.CR), Decimal("0.00"))
    debits = sum((t.amount for t in rows if t.direction is Direction.DB), Decimal("0.00"))
    if st.total_credit is not None and credits != st.total_credit:
        raise FileRejected(
            file, f"credit rows add up to {credits:f} but the footer says {st.total_credit:f}"
        )
    if st.total_debit is not None and debits != st.total_debit:
        raise FileRejected(
            file, f"debit rows add up to {debits:f} but the footer says {st.total_debit:f}"
        )
    n_cr = sum(1 for t in rows if t.direction is Direction.CR)
    n_db = len(rows) - n_cr
    if st.count_credit is not None and n_cr != st.count_credit:
        raise FileRejected(
            file, f"file has {n_cr} credit rows but the footer counts {st.count_credit}"
        )
    if st.count_debit is not None and n_db != st.count_debit:
        raise FileRejected(
            file, f"file has {n_db} debit rows but the footer counts {st.count_debit}"
        )
    if st.opening_balance is not None and st.closing_balance is not None:
        expected = st.opening_balance + credits - debits
        if expected != st.closing_balance:
            raise FileRejected(
                file,
                f"opening balance {st.opening_balance:f} + credits {credits:f} - debits "
                f"{debits:f} = {expected:f}, but the closing balance is {st.closing_balance:f}",
            )
    _period_from_rows(st)
    return st


def _period_from_rows(st: Statement) -> None:
    """A layout without a period line covers at least the days of its posted rows."""
    days = [t.posted_on for t in st.transactions if t.posted_on is not None]
    if st.period_start is None and days:
        st.period_start = min(days)
    if st.period_end is None and days:
        st.period_end = max(days)


def _expected_at(opening: Decimal, rows: list[Transaction], bad: Transaction) -> Decimal:
    running = opening
    for t in rows:
        running += _signed(t)
        if t is bad:
            return running
        if t.balance is not None:
            running = t.balance
    return running


def check_dates(file: str, st: Statement, as_of: date | None) -> Statement:
    """Every dated row lies inside the period the file prints (where the layout prints one) and
    not after the run date; a printed period ending after the run date is taken to end on it
    (with a warning): a statement cannot show days that have not happened yet.

    A misread date (US-style 03/04/26 for 4 March read as 3 April, a 2027 typo, a 2025 row in
    a March 2026 statement) would otherwise be stored, and the period the statement is taken to
    cover (``store.statements_until``) would run into days no statement covers: confirmations
    of those days would be called unfunded. Run before :func:`prove`, which fills a missing
    period from the rows. Dates are written ISO in the messages: unambiguous by design.
    """
    start, end = st.period_start, st.period_end
    if as_of is not None and end is not None and end > as_of:
        # a period asked for up to the month's end, exported mid-month: the rows (checked
        # below) are the proof; the statement covers the days up to the run date, no further
        st = replace(
            st,
            period_end=as_of,
            warnings=[
                *st.warnings,
                f"the statement prints a period ending {end.isoformat()}, after the run date "
                f"{as_of.isoformat()}: taken to cover the days up to the run date",
            ],
        )
    days = [t.posted_on for t in st.transactions if t.posted_on is not None]
    if not days:
        return st
    low, high = min(days), max(days)
    inside = (start is None or low >= start) and (end is None or high <= end)
    if inside and (as_of is None or high <= as_of):
        return st
    for t in st.transactions:
        day = t.posted_on
        if day is None:
            continue
        if (start is not None and day < start) or (end is not None and day > end):
            period = f"{start.isoformat() if start else '…'} to {end.isoformat() if end else '…'}"
            raise FileRejected(
                file,
                f"line {t.source_line}: dated {day.isoformat()}, outside the period {period} "
                "the statement prints; expected every row inside it",
            )
        if as_of is not None and day > as_of:
            raise FileRejected(
                file,
                f"line {t.source_line}: dated {day.isoformat()}, after the run date "
                f"{as_of.isoformat()}; expected no row from the future (a misread date?)",
            )
    return st


def validate(
    file: str,
    statements: list[Statement],
    accounts: Mapping[str, str],
    as_of: date | None = None,
) -> list[Statement]:
    """Account check, dates and proof for every statement of a file; the first failure rejects
    it. ``as_of`` is the run date: no row may be dated after it."""
    return [
        prove(file, check_dates(file, check_account(file, st, accounts), as_of))
        for st in statements
    ]
