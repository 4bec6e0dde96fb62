"""One file's bank lines as columns, in the form the database stores them.

A parsed statement file is a list of :class:`~reconcile.model.Transaction` objects; storing a
million of them one dict per row, and pickling them one object per row between processes, cost
more than parsing them. :func:`encode_file` turns a file's statements into one
:class:`LineColumns`: a list per ``bank_lines`` column, each value already converted by that
column's own SQLAlchemy bind processor for the target dialect (dates and times as SQLite stores
them, money as integer sen on SQLite, ``Decimal`` elsewhere), plus the idempotency key and
occurrence of every row (:mod:`reconcile.dedup`). Lists of plain values pickle in bulk, so a
worker process can parse and encode a file while the main process stores the previous one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.engine.url import make_url

from reconcile import db
from reconcile.dedup import keys_with_occurrence
from reconcile.model import Direction, Statement, Transaction

# bank_lines columns a file's rows carry, in insert order; the store adds ``id``,
# ``statement_file_id``, ``source_file`` and ``first_run_id`` (the same for every row of a file)
ROW_COLUMNS: tuple[str, ...] = (
    "source_line",
    "bank",
    "layout",
    "account_no",
    "posted_on",
    "posted_time",
    "value_on",
    "initiated_on",
    "pending",
    "direction",
    "amount",
    "balance",
    "description",
    "channel",
    "counterparty",
    "sender_bank",
    "sender_account",
    "message",
    "bank_ref",
    "is_fee",
    "dedup_key",
    "occurrence",
    "status",
)
_MEMOISED = ("posted_on", "posted_time", "value_on", "initiated_on", "pending", "is_fee")
_DIRECTION = {Direction.CR: "CR", Direction.DB: "DB"}


@dataclass
class LineColumns:
    """A file's rows, one list per column of :data:`ROW_COLUMNS`, all of equal length, in file
    order (statement after statement). ``pending_raw`` keeps each row's pending flag as a plain
    ``bool`` for the store's own decisions, whatever the dialect's stored form."""

    dialect: str
    columns: dict[str, list[Any]]
    pending_raw: list[bool] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.columns["source_line"])


@dataclass
class EncodedFile:
    """What the store needs of one parsed and proven file: its statements' headers (control
    totals, period, warnings; ``transactions`` emptied) and all its rows as columns."""

    layout: str
    statements: list[Statement]
    lines: LineColumns


@cache
def dialect_named(drivername: str) -> Dialect:
    """A dialect object for bind processing only (no connection), e.g. ``postgresql+psycopg``."""
    dialect: Dialect = make_url(f"{drivername}://").get_dialect()()
    return dialect


def _sqlite_sen(value: Decimal) -> int:
    """Money.process_bind_param on SQLite, for a value with at most two places: integer sen."""
    scaled = value * 100
    sen = int(scaled)
    if sen != scaled:
        raise ValueError(f"money with more than two decimals: {value}")
    return sen


def _processor(dialect: Dialect, column: str) -> Callable[[Any], Any] | None:
    proc: Callable[[Any], Any] | None = db.bank_lines.c[column].type._cached_bind_processor(dialect)
    return proc


def encode_rows(rows: list[Transaction], dialect: Dialect) -> LineColumns:
    """The rows as bind-ready columns (see the module docstring), keys and occurrences included."""
    keyed = keys_with_occurrence(rows)
    cols: dict[str, list[Any]] = {
        "source_line": [t.source_line for t in rows],
        "bank": [t.bank for t in rows],
        "layout": [t.layout for t in rows],
        "account_no": [t.account_no for t in rows],
        "posted_on": [t.posted_on for t in rows],
        "posted_time": [t.posted_time for t in rows],
        "value_on": [t.value_on for t in rows],
        "initiated_on": [t.initiated_on for t in rows],
        "pending": [t.pending for t in rows],
        "direction": [_DIRECTION[t.direction] for t in rows],
        "amount": [t.amount for t in rows],
        "balance": [t.balance for t in rows],
        "description": [t.description for t in rows],
        "channel": [t.channel for t in rows],
        "counterparty": [t.counterparty for t in rows],
        "sender_bank": [t.sender_bank for t in rows],
        "sender_account": [t.sender_account for t in rows],
        "message": [t.message for t in rows],
        "bank_ref": [t.bank_ref for t in rows],
        "is_fee": [t.is_fee for t in rows],
        "dedup_key": [k for k, _ in keyed],
        "occurrence": [n for _, n in keyed],
        "status": [
            "IGNORED" if (t.direction is Direction.DB or t.is_fee) else "UNMATCHED" for t in rows
        ],
    }
    pending_raw = list(cols["pending"])
    for name in _MEMOISED:
        proc = _processor(dialect, name)
        if proc is None:
            continue
        # few distinct dates, times and flags per file: convert each once
        done: dict[Any, Any] = {None: None}
        col = cols[name]
        for i, v in enumerate(col):
            got = done.get(v, done)
            if got is done:
                got = done[v] = proc(v)
            col[i] = got
    for name in ("amount", "balance"):
        col = cols[name]
        if dialect.name == "sqlite":
            cols[name] = [None if v is None else _sqlite_sen(v) for v in col]
        else:
            proc = _processor(dialect, name)
            if proc is not None:
                cols[name] = [None if v is None else proc(v) for v in col]
    return LineColumns(dialect=dialect.name, columns=cols, pending_raw=pending_raw)


def encode_file(layout: str, statements: list[Statement], dialect: Dialect) -> EncodedFile:
    """A parsed, proven file for the store: headers kept, rows turned into columns."""
    rows = [t for st in statements for t in st.transactions]
    heads = [_header(st) for st in statements]
    return EncodedFile(layout=layout, statements=heads, lines=encode_rows(rows, dialect))


def _header(st: Statement) -> Statement:
    from dataclasses import replace

    return replace(st, transactions=[])
