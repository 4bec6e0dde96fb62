"""Persistence: the only module that writes the database (SQLAlchemy Core, bulk statements).

Each function takes an open connection inside the caller's transaction, so that one input
file and its bookkeeping, or one run's decisions, commit atomically (or not at all).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from itertools import chain, islice
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sqlalchemy import (
    Connection,
    Engine,
    and_,
    create_engine,
    event,
    exists,
    false,
    func,
    insert,
    literal,
    not_,
    or_,
    select,
    true,
    update,
)

from importers.billing import CONFIRMATION_COLUMNS
from reconcile import db
from reconcile.candidates import OPEN_STATUSES, invoice_key
from reconcile.config import Rules
from reconcile.lines import ROW_COLUMNS, EncodedFile, LineColumns, encode_file
from reconcile.model import Statement
from reconcile.money import from_sen, rupiah_text, to_sen
from reconcile.sqlframes import chunks, driver_rows, frame, frame_by_ids, iso_of, sen_of

log = logging.getLogger("reconcile.store")

CHUNK = 1000
SQLITE_MAX_BOUND = 999  # values bound per statement: SQLite's lowest limit (before 3.32)
SQLITE_CACHE_KIB = 256 * 1024
ACTIVE_LINE_STATUSES = ("UNMATCHED", "REVIEW")
ANALYZE_AFTER_LINES = 10_000  # PostgreSQL: new lines of one file after which it is analysed


def make_engine(url: str) -> Engine:
    engine = create_engine(url, future=True)
    if engine.dialect.name == "sqlite":
        if engine.url.database and engine.url.database != ":memory:":
            Path(engine.url.database).parent.mkdir(parents=True, exist_ok=True)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            # the driver's own transaction handling never wraps DDL, so a kill during the
            # first migration would leave half a schema; SQLite itself can: take it over
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            # up to 256 MiB of page cache (allocated as used) instead of 2 MiB: the unique index
            # of a million bank lines (random hash keys) no longer spills dirty pages mid-file
            cur.execute(f"PRAGMA cache_size={-SQLITE_CACHE_KIB}")
            # statement journals (the pages one statement changed, kept to undo that statement
            # alone) in memory: once one outgrew 64 KiB SQLite wrote every later one to a temp
            # file, a few writes per row of a bulk UPDATE. Crash recovery is the WAL's, unchanged
            cur.execute("PRAGMA temp_store=MEMORY")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN")

    return engine


def next_ids(conn: Connection, table: Any, count: int) -> list[int]:
    """Ids for ``count`` new rows of ``table``. Safe because a run holds the single-instance
    lock and writes inside its transaction; bulk inserts then need no RETURNING."""
    top = conn.execute(select(func.max(table.c.id))).scalar_one()
    start = int(top or 0) + 1
    return list(range(start, start + count))


def bulk_insert(conn: Connection, table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert many rows in one round of driver calls: COPY on PostgreSQL, executemany
    elsewhere. Rows carry every column they set (ids included); money stays exact."""
    if not rows:
        return
    columns = list(rows[0])
    # each column's own SQLAlchemy bind processor: dates, times and Money (integer sen on
    # SQLite) are stored exactly as the ORM path would store them
    converted: list[list[Any]] = []
    for c in columns:
        proc = table.c[c].type._cached_bind_processor(conn.dialect)
        col = [r[c] for r in rows]
        converted.append(col if proc is None else [None if v is None else proc(v) for v in col])
    insert_values(conn, table, columns, list(zip(*converted, strict=True)))


def insert_values(
    conn: Connection,
    table: Any,
    columns: Sequence[str],
    values: Iterable[Sequence[Any]],
    *,
    constant: dict[str, Any] | None = None,
) -> None:
    """Insert rows already in the driver's bind form (each column's bind processor applied):
    COPY on PostgreSQL, one executemany on MariaDB (PyMySQL sends multi-row INSERTs), INSERTs of
    a few hundred rows (SQLITE_MAX_BOUND values) on SQLite. ``constant``: columns of the same
    bound value in every row, written once in the statement where the driver's literal for it
    is known (not bound again per row)."""
    rows = iter(values)
    first = next(rows, None)
    if first is None:
        return
    values = chain([first], rows)
    constant = constant or {}
    cursor = conn.connection.cursor()
    try:
        if conn.dialect.name == "postgresql":
            names = ", ".join([*columns, *constant])
            tail = tuple(constant.values())
            with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                for v in values:
                    copy.write_row((*v, *tail) if tail else v)
            if ("id" in columns or "id" in constant) and not isinstance(table, _Named):
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "  # noqa: S608
                    f"(SELECT MAX(id) FROM {table.name}))"
                )
        else:
            mark = _mark(conn)
            literals = {c: _literal(conn, v) for c, v in constant.items()}
            bound = [c for c, text in literals.items() if text is None]
            if bound:  # no literal known: bound on every row after all
                tail = tuple(constant[c] for c in bound)
                values = ((*v, *tail) for v in values)
            names = ", ".join([*columns, *bound, *(c for c in literals if c not in bound)])
            width = len(columns) + len(bound)
            texts = [t for t in literals.values() if t is not None]
            row = "(" + ", ".join([mark] * width + texts) + ")"
            sql = f"INSERT INTO {table.name} ({names}) VALUES "  # noqa: S608
            if conn.dialect.name != "sqlite":  # PyMySQL batches the rows into few statements
                cursor.executemany(sql + row, values)  # type: ignore[arg-type]  # any iterable
                return
            # SQLite: a few hundred rows per statement, as PyMySQL does, instead of the driver's
            # reset, binds and step per row
            per = max(1, SQLITE_MAX_BOUND // max(1, width))
            full = sql + ", ".join([row] * per)
            rows = iter(values)
            while batch := list(islice(rows, per)):
                text = full if len(batch) == per else sql + ", ".join([row] * len(batch))
                cursor.execute(text, list(chain.from_iterable(batch)))
    finally:
        cursor.close()


def _literal(conn: Connection, value: Any) -> str | None:
    """A bound value as SQL text that stores exactly what binding it would (NULL, an integer or
    a text on SQLite), or None. Not on MySQL/MariaDB: PyMySQL batches an executemany of INSERT
    into multi-row statements only when VALUES holds nothing but placeholders."""
    if conn.dialect.name != "sqlite":
        return None
    if value is None:
        return "NULL"
    if type(value) in (int, bool) and -(2**63) <= value < 2**63:
        return str(int(value))
    if type(value) is str and "\x00" not in value:
        return "'" + value.replace("'", "''") + "'"
    return None


def _mark(conn: Connection) -> str:
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def bulk_update(conn: Connection, table: Any, key: str, records: list[dict[str, Any]]) -> None:
    """``UPDATE table SET <other fields> WHERE key = …`` for many records."""
    if records:
        fields = list(records[0])
        update_columns(conn, table, key, {f: [r[f] for r in records] for f in fields})


GROUPED_UPDATE_MIN = 100  # rows per distinct set of values for one UPDATE … IN (…) per set
JOINED_UPDATE_MIN = 1000  # rows from which an UPDATE joined on a temporary table pays


def update_columns(conn: Connection, table: Any, key: str, columns: dict[str, Any]) -> None:
    """``UPDATE table SET <other columns> WHERE key = …`` for rows given column by column (a
    scalar fills its column), values bound once per distinct value, plain tuples on the
    driver's cursor (no per-row parameter dictionaries). On SQLite, ``UPDATE … FROM (VALUES
    …)`` over a few hundred rows at a time (:func:`_update_from_values`). On PostgreSQL and
    MariaDB, where many rows get the same values (a million line statuses, three of them), one
    ``UPDATE … WHERE key IN (…)`` per set of values and chunk of keys; else, from
    JOINED_UPDATE_MIN rows, one UPDATE joined on a temporary table of them
    (:func:`_update_joined`); else one executemany, a statement per row."""
    fields = [f for f in columns if f != key]
    varying, constant, count = _bound_columns(
        conn, table, {**{f: columns[f] for f in fields}, key: columns[key]}
    )
    if not count or not fields:
        return
    if key in varying and conn.dialect.name == "sqlite":
        _update_from_values(conn, table, key, _last_of_each_key(varying, key), constant)
        return
    values = [varying[f] if f in varying else [constant[f]] * count for f in fields]
    keys = varying[key] if key in varying else [constant[key]] * count
    groups: dict[tuple[Any, ...], list[Any]] = {}
    for row, k in zip(zip(*values, strict=True), keys, strict=True):
        groups.setdefault(row, []).append(k)
        if len(groups) * GROUPED_UPDATE_MIN > count:
            break
    grouped = len(groups) * GROUPED_UPDATE_MIN <= count
    if not grouped and count >= JOINED_UPDATE_MIN and key in varying:
        _update_joined(conn, table, key, _last_of_each_key(varying, key), constant)
        return
    mark = _mark(conn)
    sets = ", ".join(f"{f} = {mark}" for f in fields)
    cursor = conn.connection.cursor()
    try:
        if not grouped:
            rows = zip(*values, keys, strict=True)
            sql = f"UPDATE {table.name} SET {sets} WHERE {key} = {mark}"  # noqa: S608
            cursor.executemany(sql, rows)  # type: ignore[arg-type]  # the drivers take any iterable
            return
        for group, keys_of in groups.items():
            for chunk in chunks(keys_of):
                marks = ", ".join([mark] * len(chunk))
                cursor.execute(
                    f"UPDATE {table.name} SET {sets} WHERE {key} IN ({marks})",  # noqa: S608
                    (*group, *chunk),
                )
    finally:
        cursor.close()


def _last_of_each_key(varying: dict[str, list[Any]], key: str) -> dict[str, list[Any]]:
    """The columns with one row per key, its last: what a statement per row leaves behind
    (an UPDATE joined on rows that repeat a key may take any of them)."""
    repeated = pd.Series(varying[key], dtype=object).duplicated(keep="last").to_numpy()
    if not repeated.any():
        return varying
    picked = np.flatnonzero(~repeated).tolist()
    return {name: [col[i] for i in picked] for name, col in varying.items()}


def _update_from_values(
    conn: Connection, table: Any, key: str, varying: dict[str, list[Any]], constant: dict[str, Any]
) -> None:
    """SQLite: ``UPDATE table SET … FROM (VALUES (…), …) AS v WHERE key = v.…`` for a few
    hundred rows per statement, the constant columns bound once per statement. Against a
    statement per row: no per-statement work per row (with a foreign key among the columns, each
    UPDATE opens a statement journal), 434k invoices at 1M lines 1.9 -> 1.3 s; against
    ``UPDATE … WHERE key IN (…)`` per set of values: one pass over the table, 800k line statuses
    2.2 -> 1.9 s. One UPDATE joined on all rows would journal every page it changes (190 MiB)."""
    names = list(varying)
    column = {name: f"v.column{i}" for i, name in enumerate(names, start=1)}
    sets = ", ".join(
        [*(f"{f} = {column[f]}" for f in names if f != key), *(f"{c} = ?" for c in constant)]
    )
    row_marks = "(" + ", ".join(["?"] * len(names)) + ")"

    def statement(rows: int) -> str:
        return (
            f"UPDATE {table.name} SET {sets} FROM (VALUES {', '.join([row_marks] * rows)}) AS v "  # noqa: S608
            f"WHERE {table.name}.{key} = {column[key]}"
        )

    per = max(1, (SQLITE_MAX_BOUND - len(constant)) // len(names))
    full = statement(per)
    head = tuple(constant.values())
    columns = list(varying.values())
    count = len(columns[0])
    cursor = conn.connection.cursor()
    try:
        for i in range(0, count, per):
            batch = zip(*(col[i : i + per] for col in columns), strict=True)
            sql = full if i + per <= count else statement(count - i)
            cursor.execute(sql, (*head, *chain.from_iterable(batch)))
    finally:
        cursor.close()


def _update_joined(
    conn: Connection, table: Any, key: str, varying: dict[str, list[Any]], constant: dict[str, Any]
) -> None:
    """PostgreSQL/MariaDB: ``update_columns`` for many rows of many distinct values (one per
    key): the rows into a temporary table (COPY on PostgreSQL, PyMySQL's batched multi-row
    INSERT on MariaDB; the target's column types), then one UPDATE joined on it, the constant
    columns bound once. (PyMySQL runs an executemany of UPDATE as a round trip per row.)"""
    dialect = conn.dialect.name
    temp = f"tmp_{table.name}"
    qualified = f"pg_temp.{temp}" if dialect == "postgresql" else temp
    drop = "DROP TABLE" if dialect == "postgresql" else "DROP TEMPORARY TABLE"
    names = list(varying)
    typed = ", ".join(f"{n} {table.c[n].type.compile(dialect=conn.dialect)}" for n in names)
    fields = [f for f in names if f != key]
    mark = _mark(conn)
    cursor = conn.connection.cursor()
    try:
        cursor.execute(f"{drop} IF EXISTS {qualified}")
        cursor.execute(f"CREATE TEMPORARY TABLE {temp} ({typed}, PRIMARY KEY ({key}))")
        insert_values(conn, _Named(temp), names, zip(*varying.values(), strict=True))
        if dialect == "postgresql":
            sets = ", ".join(
                [*(f"{f} = u.{f}" for f in fields), *(f"{c} = {mark}" for c in constant)]
            )
            cursor.execute(
                f"UPDATE {table.name} SET {sets} FROM {temp} u "  # noqa: S608
                f"WHERE {table.name}.{key} = u.{key}",
                tuple(constant.values()),
            )
        else:
            sets = ", ".join(
                [*(f"t.{f} = u.{f}" for f in fields), *(f"t.{c} = {mark}" for c in constant)]
            )
            cursor.execute(
                f"UPDATE {table.name} t JOIN {temp} u ON t.{key} = u.{key} SET {sets}",  # noqa: S608
                tuple(constant.values()),
            )
        cursor.execute(f"{drop} {qualified}")
    finally:
        cursor.close()


@dataclass(frozen=True)
class _Named:
    """A table name where :func:`insert_values` wants a table (a temporary one)."""

    name: str


def sync_accounts(conn: Connection, rules: Rules) -> None:
    existing = {r.account_no: r for r in conn.execute(select(db.accounts)).all()}
    for a in rules.accounts:
        row = {"account_no": a.account_no, "bank": a.bank, "holder": a.holder}
        if a.account_no not in existing:
            conn.execute(insert(db.accounts), row)
        elif (existing[a.account_no].bank, existing[a.account_no].holder) != (a.bank, a.holder):
            conn.execute(update(db.accounts).where(db.accounts.c.account_no == a.account_no), row)


# ---------------------------------------------------------------------------------------------
# runs


def start_run(
    conn: Connection, *, as_of: date, command: str, snapshot: dict[str, Any], now: datetime
) -> int:
    result = conn.execute(
        insert(db.runs).returning(db.runs.c.id),
        {
            "started_at": now,
            "as_of": as_of,
            "command": command,
            "status": "RUNNING",
            "config_snapshot": json.dumps(snapshot, sort_keys=True),
        },
    )
    return int(result.scalar_one())


def finish_run(
    conn: Connection,
    run_id: int,
    *,
    status: str,
    exit_code: int,
    now: datetime,
    counts: dict[str, Any] | None = None,
    input_hashes: dict[str, str] | None = None,
    message: str | None = None,
) -> None:
    conn.execute(
        update(db.runs)
        .where(db.runs.c.id == run_id)
        .values(
            finished_at=now,
            status=status,
            exit_code=exit_code,
            counts=json.dumps(counts or {}, sort_keys=True),
            input_hashes=json.dumps(input_hashes or {}, sort_keys=True),
            message=message,
        )
    )


def audit(
    conn: Connection,
    *,
    actor: str,
    action: str,
    entity: str,
    entity_id: str,
    detail: dict[str, Any],
    now: datetime,
    run_id: int | None = None,
) -> None:
    conn.execute(
        insert(db.audit_log),
        {
            "at": now,
            "actor": actor,
            "action": action,
            "entity": entity,
            "entity_id": entity_id,
            "detail": json.dumps(detail, sort_keys=True, default=str),
            "run_id": run_id,
        },
    )


# ---------------------------------------------------------------------------------------------
# statement files and bank lines


@dataclass
class ImportOutcome:
    file_id: int
    new_line_ids: list[int] = field(default_factory=list)
    # (source_line, existing line id) for every row that repeats a stored line
    duplicates: list[tuple[int, int]] = field(default_factory=list)
    source_lines: list[int] = field(default_factory=list)  # per row of the file, in file order
    row_line_ids: list[int] = field(default_factory=list)  # line id per row (new or existing)


def record_rejected_file(
    conn: Connection, *, run_id: int, file_name: str, sha256: str, reason: str, now: datetime
) -> None:
    """Record a refused file once: the same bytes refused for the same reason add nothing."""
    sf = db.statement_files.c
    seen = conn.execute(
        select(sf.id, sf.reason).where(and_(sf.sha256 == sha256, sf.status == "REJECTED"))
    ).all()
    if any(r.reason == reason for r in seen):
        return
    conn.execute(
        insert(db.statement_files),
        {
            "run_id": run_id,
            "file_name": file_name,
            "sha256": sha256,
            "status": "REJECTED",
            "reason": reason,
            "recorded_at": now,
            "line_count": 0,
            "new_lines": 0,
            "duplicate_lines": 0,
        },
    )


KEY_CHUNK = 5000  # keys per lookup query: well under every driver's bind-parameter limit


@dataclass(frozen=True)
class _StoredLine:
    """A stored line sharing a key with a row being imported (dates in the driver's form)."""

    line_id: int
    occurrence: int
    pending: bool
    posted_on: Any
    initiated_on: Any


# a PEND row is posted within days of the initiation date its description carries (formats.md
# §3.1): a stored line posted outside that window is another transaction with the same key
PENDING_POSTS_WITHIN_DAYS = 10


def _day(value: Any) -> date:
    """A date as the driver gives or takes it (SQLite: ISO text)."""
    return date.fromisoformat(value[:10]) if isinstance(value, str) else value  # type: ignore[no-any-return]


def _posts(initiated_on: Any, posted_on: Any) -> bool:
    """A PEND row initiated on ``initiated_on`` can be the row posted on ``posted_on``."""
    if initiated_on is None or posted_on is None:
        return True
    days = (_day(posted_on) - _day(initiated_on)).days
    return -1 <= days <= PENDING_POSTS_WITHIN_DAYS


def _same_transaction(
    stored: _StoredLine, pending: bool, posted_on: Any, initiated_on: Any
) -> bool:
    """Whether a row with ``stored``'s key is that stored transaction exported again: both PEND;
    one PEND and the other posted within its window; or both posted on the same day. A key
    leaves the date out where the layout prints a running balance (reconcile.dedup), so a
    customer paying the same amount with the same text on another day, while the balance is
    back where it was (an account swept to a fixed float), has the key of the earlier payment:
    the posting day tells them apart."""
    if pending and stored.pending:
        return True
    if pending:
        return _posts(initiated_on, stored.posted_on)
    if stored.pending:
        return _posts(stored.initiated_on, posted_on)
    return bool(stored.posted_on == posted_on)


def _existing_keys(
    conn: Connection, account_no: str, keys: Sequence[str]
) -> dict[str, list[_StoredLine]]:
    """dedup_key -> the account's stored lines with that key, by occurrence."""
    found: dict[str, list[_StoredLine]] = {}
    # driver SQL: compiling an expanding IN of thousands of keys cost more than running it
    unique = list(dict.fromkeys(keys))
    mark = _mark(conn)
    cursor = conn.connection.cursor()
    try:
        for i in range(0, len(unique), KEY_CHUNK):
            chunk = unique[i : i + KEY_CHUNK]
            cursor.execute(
                "SELECT id, dedup_key, occurrence, pending, posted_on, initiated_on "  # noqa: S608
                f"FROM bank_lines WHERE account_no = {mark} "
                f"AND dedup_key IN ({', '.join([mark] * len(chunk))})",
                [account_no, *chunk],
            )
            for line_id, key, occurrence, pending, posted_on, initiated_on in cursor.fetchall():
                found.setdefault(key, []).append(
                    _StoredLine(
                        int(line_id), int(occurrence), bool(pending), posted_on, initiated_on
                    )
                )
    finally:
        cursor.close()
    for stored in found.values():
        stored.sort(key=lambda line: line.occurrence)
    return found


@dataclass
class _Twins:
    """Each row of a file: the stored line it repeats (None: a new line), and the occurrence
    a new row is stored under."""

    line_ids: list[int | None]
    occurrences: list[int]
    was_pending: list[bool]

    @property
    def complete(self) -> bool:
        return all(line_id is not None for line_id in self.line_ids)


def _stored_twins(conn: Connection, lines: LineColumns) -> _Twins | None:
    """The file's rows matched with the lines already stored (None: no row shares a key with
    a stored line). One lookup per account of the file (and per KEY_CHUNK keys), none for an
    account that has no lines yet.

    Rows and stored lines of one key pair up in order, each row with the first stored line not
    taken yet that is the same transaction (:func:`_same_transaction`): an overlapping export
    repeats a line whatever occurrence it had in its own file, and a new transaction with an
    old key is stored under the next free occurrence of that key. The rows left are then
    looked for among lines stored from exports of another shape (:func:`_other_shape_twins`)."""
    cols = lines.columns
    accounts, keys = cols["account_no"], cols["dedup_key"]
    stored: dict[tuple[str, str], list[_StoredLine]] = {}
    distinct = list(dict.fromkeys(accounts))
    # an account's first export has nothing to repeat: no lookup at all
    known = {acct for acct in distinct if _has_lines(conn, acct)}
    for acct in distinct:
        if acct not in known:
            continue
        mine = (
            keys
            if len(distinct) == 1
            else [k for a, k in zip(accounts, keys, strict=True) if a == acct]
        )
        for key, found in _existing_keys(conn, acct, mine).items():
            stored[(acct, key)] = found
    total = len(lines)
    twins = _Twins([None] * total, list(cols["occurrence"]), [False] * total)
    taken: set[int] = set()
    last: dict[tuple[str, str], int] = {}  # the highest occurrence of a key, stored or given
    posted_on, initiated_on, pending = cols["posted_on"], cols["initiated_on"], lines.pending_raw
    for i, group in enumerate(zip(accounts, keys, strict=True)):
        if not stored:
            break
        candidates = stored.get(group)
        if candidates is None:
            continue  # a key the account never had: the row keeps its occurrence in the file
        for line in candidates:
            if line.line_id not in taken and _same_transaction(
                line, pending[i], posted_on[i], initiated_on[i]
            ):
                taken.add(line.line_id)
                twins.line_ids[i], twins.was_pending[i] = line.line_id, line.pending
                break
        else:
            n = last[group] = max(last.get(group, candidates[-1].occurrence), 0) + 1
            twins.occurrences[i] = n
    _other_shape_twins(conn, lines, twins, known)
    if not stored and all(x is None for x in twins.line_ids):
        return None
    return twins


def _sender_tokens(name: Any) -> set[str]:
    from reconcile.names import normalise_name

    return {t for t in normalise_name(str(name or "")).split() if len(t) >= 3}


def _has_lines(conn: Connection, account_no: str) -> bool:
    b = db.bank_lines.c
    return conn.execute(select(b.id).where(b.account_no == account_no).limit(1)).first() is not None


def _other_shape_twins(
    conn: Connection, lines: LineColumns, twins: _Twins, known: Collection[str]
) -> None:
    """Rows no key matched that repeat a line stored from an export of another shape of the
    same account (formats.md §12 item 21: Kopra and MCM classic or MT940, BNIDirect CSV and
    XLS, an export with or without its balance column, for overlapping days). Their texts
    differ, so their keys do: the same transaction has the same account, posting day,
    direction and amount, confirmed by the running balance where both carry one, else by a
    sender-name word both print (when both print one); several on a day pair in order.
    Lines of the row's own shape are never looked at here: there the key is authoritative.
    ``known``: the accounts of the file that have lines stored."""
    cols = lines.columns
    layout, balance, pending = cols["layout"], cols["balance"], lines.pending_raw
    posted_on, amount, direction = cols["posted_on"], cols["amount"], cols["direction"]
    accounts, counterparty = cols["account_no"], cols["counterparty"]
    open_rows = [
        i for i, hit in enumerate(twins.line_ids)
        if hit is None and not pending[i] and posted_on[i] is not None
    ]  # fmt: skip
    if not open_rows:
        return
    b = db.bank_lines.c
    by_account: dict[str, list[int]] = {}
    for i in open_rows:
        by_account.setdefault(accounts[i], []).append(i)
    taken = {x for x in twins.line_ids if x is not None}
    for acct, rows in by_account.items():
        if acct not in known:
            continue  # the account's first export
        days = sorted({posted_on[i] for i in rows}, key=str)
        stored: dict[tuple[Any, str, Any], list[Any]] = {}
        for chunk in chunks(days):
            found = conn.execute(
                select(b.id, b.posted_on, b.direction, b.amount, b.balance, b.layout,
                       b.counterparty)
                .where(and_(b.account_no == acct, b.pending.is_(False), b.posted_on.in_(
                    [_day(d) for d in chunk])))
                .order_by(b.posted_on, b.id)
            ).all()  # fmt: skip
            for line in found:
                stored.setdefault((line.posted_on, line.direction, line.amount), []).append(line)
        if not stored:
            continue
        for i in rows:
            money = _money_value(conn, amount[i])
            group = stored.get((_day(posted_on[i]), direction[i], money), ())
            shape = (layout[i], balance[i] is None)
            for line in group:
                if line.id in taken or (line.layout, line.balance is None) == shape:
                    continue
                if balance[i] is not None and line.balance is not None:
                    same = _money_value(conn, balance[i]) == line.balance
                else:
                    mine, theirs = (
                        _sender_tokens(counterparty[i]),
                        _sender_tokens(line.counterparty),
                    )
                    same = not mine or not theirs or bool(mine & theirs)
                if same:
                    taken.add(line.id)
                    twins.line_ids[i] = int(line.id)
                    break


def _money_value(conn: Connection, value: Any) -> Decimal:
    """An encoded amount (SQLite: integer sen) as the Decimal a select returns."""
    return from_sen(int(value)) if conn.dialect.name == "sqlite" else Decimal(value)


def import_statements(
    conn: Connection,
    *,
    run_id: int,
    file_name: str,
    sha256: str,
    layout: str,
    statements: list[Statement],
    now: datetime,
) -> ImportOutcome:
    """Store one file's statements: a statement_files row and its new lines, in bulk.

    Rows whose (account, key, occurrence) is already stored are duplicates: nothing is
    inserted for them, except that a stored PEND row takes the posting date of its posted twin.
    """
    return import_encoded(
        conn,
        run_id=run_id,
        file_name=file_name,
        sha256=sha256,
        encoded=encode_file(layout, statements, conn.dialect),
        now=now,
    )


def import_encoded(
    conn: Connection,
    *,
    run_id: int,
    file_name: str,
    sha256: str,
    encoded: EncodedFile,
    now: datetime,
) -> ImportOutcome:
    """:func:`import_statements` for a file already turned into columns
    (:func:`reconcile.lines.encode_file`, possibly in another process). The rows must have been
    encoded for this connection's dialect."""
    lines = encoded.lines
    if lines.dialect != conn.dialect.name:
        raise ValueError(f"lines encoded for {lines.dialect}, stored on {conn.dialect.name}")
    statements = encoded.statements
    cols = lines.columns
    total = len(lines)
    source_lines: list[int] = cols["source_line"]
    first = statements[0] if statements else None
    known_file = already_imported(conn, sha256)
    twins = _stored_twins(conn, lines)
    if known_file is not None and twins is not None and twins.complete:
        # the very same bytes again: every row resolves to its stored line; record nothing
        out = ImportOutcome(file_id=known_file, source_lines=source_lines)
        for line_id, src in zip(twins.line_ids, source_lines, strict=True):
            assert line_id is not None
            out.duplicates.append((src, line_id))
            out.row_line_ids.append(line_id)
        return out
    file_id = int(
        conn.execute(
            insert(db.statement_files).returning(db.statement_files.c.id),
            {
                "run_id": run_id,
                "file_name": file_name,
                "sha256": sha256,
                "status": "IMPORTED",
                "bank": first.bank if first else None,
                "layout": encoded.layout,
                "account_no": ";".join(sorted({s.account_no for s in statements})) or None,
                "period_start": min(
                    (s.period_start for s in statements if s.period_start), default=None
                ),
                "period_end": max((s.period_end for s in statements if s.period_end), default=None),
                "opening_balance": first.opening_balance
                if len(statements) == 1 and first
                else None,
                "closing_balance": first.closing_balance
                if len(statements) == 1 and first
                else None,
                "line_count": total,
                "new_lines": 0,
                "duplicate_lines": 0,
                "warnings": "\n".join(w for s in statements for w in s.warnings) or None,
                "recorded_at": now,
            },
        ).scalar_one()
    )
    out = ImportOutcome(file_id=file_id, source_lines=source_lines)
    line_ids: list[int] = [0] * total
    if twins is None:
        new_positions: list[int] | range = range(total)
    else:
        new_positions = []
        posted_twins: list[tuple[Any, ...]] = []
        posted_on, posted_time, pending = cols["posted_on"], cols["posted_time"], lines.pending_raw
        for i, hit in enumerate(twins.line_ids):
            if hit is None:
                new_positions.append(i)
                continue
            line_ids[i] = hit
            out.duplicates.append((source_lines[i], hit))
            if twins.was_pending[i] and not pending[i] and posted_on[i] is not None:
                posted_twins.append((posted_on[i], posted_time[i], hit))
        _post_pending_twins(conn, posted_twins)
        cols = {**cols, "occurrence": twins.occurrences}
    ids = next_ids(conn, db.bank_lines, len(new_positions))
    for pos, line_id in zip(new_positions, ids, strict=True):
        line_ids[pos] = line_id
    out.new_line_ids = ids
    if isinstance(new_positions, range):
        picked = [cols[c] for c in ROW_COLUMNS]
    else:
        picked = [[cols[c][i] for i in new_positions] for c in ROW_COLUMNS]
    count = len(ids)
    values = list(
        zip(ids, [file_id] * count, [file_name] * count, *picked, [run_id] * count, strict=True)
    )
    insert_values(
        conn,
        db.bank_lines,
        ("id", "statement_file_id", "source_file", *ROW_COLUMNS, "first_run_id"),
        values,
    )
    out.row_line_ids = line_ids
    conn.execute(
        update(db.statement_files)
        .where(db.statement_files.c.id == file_id)
        .values(new_lines=len(out.new_line_ids), duplicate_lines=len(out.duplicates))
    )
    if conn.dialect.name == "postgresql" and count >= ANALYZE_AFTER_LINES:
        # fresh statistics for the next file's key lookups: on a table just filled without
        # them the planner scanned every line per lookup (seconds each at a million lines)
        conn.exec_driver_sql("ANALYZE bank_lines")
    return out


def _post_pending_twins(conn: Connection, rows: list[tuple[Any, ...]]) -> None:
    """A stored PEND line takes the posting date and time of its posted twin (values in the
    driver's bind form, as encoded)."""
    if not rows:
        return
    pending_false = db.bank_lines.c.pending.type._cached_bind_processor(conn.dialect)
    flag = pending_false(False) if pending_false is not None else False
    mark = _mark(conn)
    cursor = conn.connection.cursor()
    try:
        cursor.executemany(
            f"UPDATE bank_lines SET posted_on = {mark}, pending = {mark}, "  # noqa: S608
            f"posted_time = {mark} WHERE id = {mark}",
            [(day, flag, clock, line_id) for day, clock, line_id in rows],
        )
    finally:
        cursor.close()


def already_imported(conn: Connection, sha256: str) -> int | None:
    row = conn.execute(
        select(db.statement_files.c.id).where(
            and_(db.statement_files.c.sha256 == sha256, db.statement_files.c.status == "IMPORTED")
        )
    ).first()
    return int(row[0]) if row else None


# ---------------------------------------------------------------------------------------------
# invoices and confirmations (upsert with history)

_INVOICE_FIELDS = (
    "client_name",
    "company_name",
    "email",
    "issued_on",
    "due_on",
    "amount",
    "source_status",
)


def _as_str(v: Any) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return ""
    if isinstance(v, Decimal):
        return f"{v:f}"
    return str(v)


def _status_from_source(source_status: str, current: str | None) -> str:
    s = source_status.strip().lower()
    if s == "cancelled":
        return "CANCELLED"
    if s in ("paid", "refunded"):
        return "PAID" if current in (None, "OPEN", "REVIEW", "CANCELLED") else current
    # Unpaid, Draft, Collections, Payment Pending: still open unless we already settled it
    if current in ("PAID", "PARTIAL"):
        return current
    return "OPEN"


def _rows_by_key(conn: Connection, table: Any, key: str, keys: list[str]) -> dict[str, Any]:
    """The stored rows of ``table`` whose ``key`` is in ``keys``, by key (chunked IN lists)."""
    found: dict[str, Any] = {}
    for i in range(0, len(keys), CHUNK):
        for row in conn.execute(select(table).where(table.c[key].in_(keys[i : i + CHUNK]))):
            found[getattr(row, key)] = row
    return found


# Above this many keys the stored side is read in one scan and filtered here: cheaper than
# hundreds of IN lists when the incoming source is most of the table (a full export).
SCAN_ABOVE = 20_000


def _stored_by_keys(
    conn: Connection, table: Any, key: str, columns: dict[str, Any], keys: list[str]
) -> pd.DataFrame:
    """The stored ``columns`` (name -> SQL expression) of the rows whose ``key`` is in
    ``keys``: one IN query per chunk, or one scan when the keys are many."""
    names = [key, *columns]
    exprs = [table.c[key], *columns.values()]
    if len(keys) > SCAN_ABOVE:
        found = frame(conn, select(*exprs), names)
        return found[found[key].isin(keys).to_numpy()].reset_index(drop=True)
    parts = [
        frame(conn, select(*exprs).where(table.c[key].in_(keys[i : i + CHUNK])), names)
        for i in range(0, len(keys), CHUNK)
    ]
    if not parts:
        return pd.DataFrame({n: pd.Series(dtype=object) for n in names})
    return pd.concat(parts, ignore_index=True)


def _texts(values: pd.Series) -> pd.Series:
    """Text cells as str, a missing one as "" (how the row-by-row comparison read them)."""
    return values.astype(object).where(values.notna(), "").astype(str)


def _days(values: pd.Series) -> pd.Series:
    """Dates (date objects, datetime64, ISO text, missing) as datetime64[ns] at midnight."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.astype("datetime64[ns]").dt.normalize()
    days = pd.to_datetime(values.astype(object).where(values.notna(), None), format="ISO8601")
    return days.astype("datetime64[ns]").dt.normalize()


def _instants(values: pd.Series) -> pd.Series:
    """Date-times (datetime objects, datetime64, ISO text, missing) as datetime64[ns]."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.astype("datetime64[ns]")
    return pd.to_datetime(
        values.astype(object).where(values.notna(), None), format="ISO8601"
    ).astype("datetime64[ns]")


def _same(a: pd.Series, b: pd.Series) -> np.ndarray:
    """Element-wise equality where two missing values are equal."""
    a_na, b_na = a.isna().to_numpy(), b.isna().to_numpy()
    equal = (a == b).fillna(False).to_numpy(dtype=bool) if len(a) else np.zeros(0, dtype=bool)
    return (equal & ~a_na & ~b_na) | (a_na & b_na)


def _sen_to_decimal(sen: pd.Series) -> np.ndarray:
    """Integer sen (nullable) -> Decimal (None when missing), each distinct amount once."""
    codes, uniques = pd.factorize(sen.astype("Int64"))
    objects = np.empty(len(uniques) + 1, dtype=object)
    objects[:-1] = [from_sen(int(u)) for u in uniques]
    objects[-1] = None
    return objects[codes]


def _day_objects(values: pd.Series) -> np.ndarray:
    """Dates as ``datetime.date`` (None when missing), each distinct day converted once."""
    codes, uniques = pd.factorize(_days(values))
    objects = np.empty(len(uniques) + 1, dtype=object)
    objects[:-1] = [u.date() for u in uniques]
    objects[-1] = None
    return objects[codes]  # code -1 (missing) takes the last: None


def _datetime_objects(values: pd.Series) -> list[datetime | None]:
    return [None if pd.isna(v) else v.to_pydatetime() for v in _instants(values)]


def _bound_columns(
    conn: Connection, table: Any, columns: dict[str, Any]
) -> tuple[dict[str, list[Any]], dict[str, Any], int]:
    """Columns of equal length in the driver's form, each column's SQLAlchemy bind processor run
    once per distinct value: (the columns given as values, each a list; those given as a scalar,
    bound once; the number of rows)."""

    def is_column(v: Any) -> bool:  # np.ndim(list) would build an array of it
        return isinstance(v, list | tuple | np.ndarray | pd.Series | pd.Index)

    count = max((len(v) for v in columns.values() if is_column(v)), default=0)
    varying: dict[str, list[Any]] = {}
    constant: dict[str, Any] = {}
    for name, values in columns.items():
        proc = table.c[name].type._cached_bind_processor(conn.dialect)
        if not is_column(values):
            constant[name] = values if proc is None or values is None else proc(values)
        elif proc is None:
            varying[name] = (
                values if isinstance(values, list) else np.asarray(values, object).tolist()
            )
        else:
            codes, uniques = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=True)
            bound = np.empty(len(uniques) + 1, dtype=object)
            bound[:-1] = [proc(u) for u in uniques]
            bound[-1] = None
            varying[name] = bound[codes].tolist()
    return varying, constant, count


def bulk_insert_columns(conn: Connection, table: Any, columns: dict[str, Any]) -> int:
    """:func:`bulk_insert` for rows given column by column (equal lengths; a scalar fills its
    column). Returns the number of rows."""
    varying, constant, count = _bound_columns(conn, table, columns)
    if count:
        rows = zip(*varying.values(), strict=True)
        insert_values(conn, table, list(varying), rows, constant=constant)
    return count


@dataclass
class _Diff:
    """The incoming rows split by the stored ones: new (not stored), and possibly changed.
    ``new_positions`` are the new rows' positions among the incoming rows (and in the source
    frame they were built from, row for row)."""

    new: pd.DataFrame
    new_positions: np.ndarray
    maybe_changed: list[str]


def _diff(incoming: pd.DataFrame, stored: pd.DataFrame, key: str, fields: list[str]) -> _Diff:
    """``incoming`` and ``stored`` hold ``key`` and ``fields`` in comparable form (texts, sen,
    datetime64): a row differs when any field differs."""
    merged = incoming.merge(stored, on=key, how="left", suffixes=("", "_stored"), indicator=True)
    known = (merged["_merge"] == "both").to_numpy()
    differs = np.zeros(len(merged), dtype=bool)
    for f in fields:
        differs |= ~_same(merged[f], merged[f"{f}_stored"])
    if len(merged) == len(incoming):  # stored keys are unique: merged row i is incoming row i
        is_new = ~known
    else:
        is_new = incoming[key].isin(merged.loc[~known, key]).to_numpy()
    positions = np.flatnonzero(is_new)
    return _Diff(
        new=incoming.iloc[positions],
        new_positions=positions,
        maybe_changed=merged.loc[known & differs, key].tolist(),
    )


def _invoice_values(rec: Any) -> dict[str, Any]:
    return {
        "client_name": rec.client_name or "",
        "company_name": rec.company_name or "",
        "email": rec.email or "",
        "issued_on": _date_or_none(rec.issued_on),
        "due_on": _date_or_none(rec.due_on),
        "amount": from_sen(int(rec.amount_sen)),
        "source_status": rec.source_status,
    }


def _reissued_reason(received: Decimal, amount: Decimal) -> str:
    """The reason of an invoice with money on it whose amount the billing system changed."""
    now = f"the billing system changed its amount to {rupiah_text(to_sen(amount))}"
    if received < amount:
        return f"partly paid; {rupiah_text(to_sen(amount - received))} outstanding since {now}"
    if received > amount:
        return f"paid; {rupiah_text(to_sen(received - amount))} over since {now}"
    return f"paid; {now}"


def release_cancelled(
    conn: Connection, *, run_id: int, invoice_nos: Sequence[str], now: datetime
) -> list[int]:
    """Money applied automatically to invoices the billing system has since cancelled: those
    automatic decisions are withdrawn with all their allocations (kept, inactive, in the audit
    trail), so their lines are open again and this run's match decides them as it decides any
    money for a cancelled invoice (review, PAYMENT_ON_CLOSED_INVOICE, or another invoice the
    evidence fits); the invoices they paid get their received amounts back. Money a person
    applied stays: the invoice says so for the accountant. Returns the lines opened again."""
    if not invoice_nos:
        return []
    al, dc, ic = db.allocations.c, db.decisions.c, db.invoices.c
    rows = conn.execute(
        select(al.decision_id, al.bank_line_id, al.invoice_no, al.amount, dc.decided_by)
        .join(db.decisions, dc.id == al.decision_id)
        .where(and_(al.invoice_no.in_(list(invoice_nos)), al.active.is_(True)))
    ).all()
    auto = sorted({r.decision_id for r in rows if r.decided_by == "auto"})
    by_person = sorted({r.invoice_no for r in rows if r.decided_by != "auto"})
    lines = sorted({int(r.bank_line_id) for r in rows if r.decided_by == "auto"})
    touched = set(invoice_nos)
    if auto:
        touched.update(
            str(no)
            for (no,) in conn.execute(
                select(al.invoice_no).where(and_(al.decision_id.in_(auto), al.active.is_(True)))
            )
        )
        conn.execute(update(db.decisions).where(dc.id.in_(auto)).values(active=False))
        conn.execute(update(db.allocations).where(al.decision_id.in_(auto)).values(active=False))
        conn.execute(
            update(db.bank_lines).where(db.bank_lines.c.id.in_(lines)).values(status="UNMATCHED")
        )
    for no in sorted(touched):
        inv = conn.execute(select(db.invoices).where(ic.invoice_no == no)).one()
        received = sum(
            conn.execute(
                select(al.amount).where(and_(al.invoice_no == no, al.active.is_(True)))
            ).scalars(),
            Decimal("0.00"),
        )
        if inv.status == "CANCELLED":
            status = "CANCELLED"
            codes = "PAYMENT_ON_CLOSED_INVOICE"
            reason = (
                f"cancelled in the billing system after {rupiah_text(to_sen(inv.amount_received))} was "
                + ("applied to it by a person: refund it or move it" if no in by_person
                   else "received: the payment is decided again")
            )  # fmt: skip
        else:  # another invoice of a combined payment that was withdrawn
            status = "OPEN" if not received else ("PAID" if received >= inv.amount else "PARTIAL")
            codes, reason = "", "payment withdrawn: another invoice it paid was cancelled"
        conn.execute(
            update(db.invoices)
            .where(ic.invoice_no == no)
            .values(amount_received=received, status=status, codes=codes, reason=reason,
                    updated_run_id=run_id)
        )  # fmt: skip
    cancelled_by_decision: dict[int, set[str]] = {}
    for r in rows:
        if r.decided_by == "auto":
            cancelled_by_decision.setdefault(int(r.decision_id), set()).add(str(r.invoice_no))
    for decision_id in auto:
        audit(
            conn, actor="auto", action="withdraw", entity="decision", entity_id=str(decision_id),
            detail={"reason": "invoice cancelled in the billing system",
                    "invoices": sorted(cancelled_by_decision[int(decision_id)])},
            now=now, run_id=run_id,
        )  # fmt: skip
    return lines


def paid_invoices_of(conn: Connection, amounts_sen: Collection[int]) -> pd.DataFrame:
    """Invoices marked PAID whose amount is one of ``amounts_sen``: invoice_no, client_name,
    company_name, amount_sen (the invoices a credit nothing open fits may be paying twice)."""
    c = db.invoices.c
    dialect = conn.dialect.name
    columns = ["invoice_no", "client_name", "company_name", "amount_sen"]
    sen = sen_of(c.amount, dialect)
    stmt = select(c.invoice_no, c.client_name, c.company_name, sen)
    wanted = sorted({int(a) for a in amounts_sen})
    parts = [
        frame(conn, stmt.where(and_(c.status == "PAID", sen.in_(chunk))), columns)
        for chunk in chunks(wanted)
    ]
    if not parts:
        return pd.DataFrame({k: pd.Series(dtype=object) for k in columns})
    found = pd.concat(parts, ignore_index=True)
    found["amount_sen"] = found["amount_sen"].astype("int64")
    return found


def withdrawn_payments(conn: Connection, line_ids: Sequence[int]) -> dict[int, str]:
    """Of these lines (open credits being decided), those whose payment
    :func:`release_cancelled` withdrew: line id -> the cancelled invoices it had paid (not the
    others of a combined payment), ';'-joined."""
    a, dc = db.audit_log.c, db.decisions.c
    cancelled = {
        int(decision_id): json.loads(detail or "{}").get("invoices", [])
        for decision_id, detail in conn.execute(
            select(a.entity_id, a.detail).where(
                and_(a.action == "withdraw", a.entity == "decision")
            )
        )
    }
    if not cancelled or not line_ids:
        return {}
    wanted = set(int(x) for x in line_ids)
    found: dict[int, list[str]] = {}
    for chunk in chunks(sorted(cancelled)):
        for decision_id, line_id in conn.execute(
            select(dc.id, dc.bank_line_id).where(dc.id.in_(chunk))
        ):
            if int(line_id) in wanted:
                found.setdefault(int(line_id), []).extend(cancelled[int(decision_id)])
    return {line: ";".join(sorted(set(nos))) for line, nos in found.items()}


def upsert_invoices(
    conn: Connection, *, run_id: int, frame: pd.DataFrame, now: datetime
) -> dict[str, int]:
    """Insert new invoices; update changed ones, writing every change to invoice_history.

    Set-based: the incoming frame is compared with the stored source fields in one query per
    chunk (vectorised); only the rows that differ are read whole and updated, in one
    executemany; new rows go in with one bulk insert. What matching or a person set (status,
    amount received, codes) changes only as the source status and amount rules below say.
    """
    dialect = conn.dialect.name
    c = db.invoices.c
    keys = frame["invoice_no"].astype(str).tolist()
    stored = _stored_by_keys(
        conn,
        db.invoices,
        "invoice_no",
        {
            "client_name": c.client_name,
            "company_name": c.company_name,
            "email": c.email,
            "issued_on": iso_of(c.issued_on, dialect),
            "due_on": iso_of(c.due_on, dialect),
            "amount_sen": sen_of(c.amount, dialect),
            "source_status": c.source_status,
        },
        keys,
    )
    text_fields = ["client_name", "company_name", "email", "source_status"]
    incoming = pd.DataFrame({"invoice_no": keys})
    for f in text_fields:
        incoming[f] = _texts(frame[f]).to_numpy()
        stored[f] = _texts(stored[f])
    for f in ("issued_on", "due_on"):
        incoming[f] = _days(frame[f]).to_numpy()
        stored[f] = _days(stored[f])
    incoming["amount_sen"] = frame["amount_sen"].astype("int64").to_numpy()
    stored["amount_sen"] = stored["amount_sen"].astype("Int64")
    found = _diff(
        incoming, stored, "invoice_no", [*text_fields, "issued_on", "due_on", "amount_sen"]
    )

    changed = 0
    updates: list[dict[str, Any]] = []
    history: list[dict[str, Any]] = []
    cancelled_with_money: list[str] = []
    if found.maybe_changed:
        old_rows = _rows_by_key(conn, db.invoices, "invoice_no", found.maybe_changed)
        wanted = set(found.maybe_changed)
        for rec in frame[frame["invoice_no"].isin(wanted)].itertuples(index=False):
            old = old_rows[rec.invoice_no]
            values = _invoice_values(rec)
            diffs = {k: v for k, v in values.items() if _as_str(getattr(old, k)) != _as_str(v)}
            if not diffs:
                continue
            changed += 1
            new_status = _status_from_source(values["source_status"], old.status)
            reason = old.reason
            if "amount" in diffs and old.status in ("PAID", "PARTIAL"):
                new_status = "PAID" if old.amount_received >= values["amount"] else "PARTIAL"
                reason = _reissued_reason(old.amount_received, values["amount"])
            if new_status == "CANCELLED" and old.status != "CANCELLED" and old.amount_received:
                cancelled_with_money.append(rec.invoice_no)
            if new_status != old.status:
                diffs["status"] = new_status
            if reason != old.reason:
                diffs["reason"] = reason
            updates.append(
                {"invoice_no": rec.invoice_no, **values, "status": new_status,
                 "reason": reason, "updated_run_id": run_id}
            )  # fmt: skip
            history.extend(
                {
                    "invoice_no": rec.invoice_no,
                    "run_id": run_id,
                    "field": k,
                    "old_value": _as_str(getattr(old, k)),
                    "new_value": _as_str(v),
                    "changed_at": now,
                }
                for k, v in diffs.items()
            )
    bulk_update(conn, db.invoices, "invoice_no", updates)
    release_cancelled(conn, run_id=run_id, invoice_nos=cancelled_with_money, now=now)

    new = found.new
    new_frame = frame.iloc[found.new_positions]
    statuses = {s: _status_from_source(s, None) for s in new_frame["source_status"].unique()}
    inserted = bulk_insert_columns(
        conn,
        db.invoices,
        {
            "invoice_no": new["invoice_no"].to_numpy(),
            "client_name": new["client_name"].to_numpy(),
            "company_name": new["company_name"].to_numpy(),
            "email": new["email"].to_numpy(),
            "issued_on": _day_objects(new_frame["issued_on"]),
            "due_on": _day_objects(new_frame["due_on"]),
            "amount": _sen_to_decimal(new_frame["amount_sen"]),
            "source_status": new["source_status"].to_numpy(),
            "status": new_frame["source_status"].map(statuses).to_numpy(dtype=object),
            "amount_received": Decimal("0.00"),
            "codes": "",
            "reason": "",
            "first_run_id": run_id,
            "updated_run_id": run_id,
            "number_key": number_keys(new["invoice_no"]),
        },
    )
    if history:
        conn.execute(insert(db.invoice_history), history)
    return {"new": inserted, "changed": changed}


def _date_or_none(v: Any) -> date | None:
    if v is None or v is pd.NaT or (isinstance(v, float) and v != v):
        return None
    if isinstance(v, pd.Timestamp):
        return v.date()
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    return None


def _datetime_or_none(v: Any) -> datetime | None:
    if v is None or v is pd.NaT or (isinstance(v, float) and v != v):
        return None
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime()
    if isinstance(v, datetime):
        return v
    return None


# the stored fields of a confirmation: the intake's columns (importers.billing), money as the
# Money column ``amount``; the key and the source row are not compared
_CONF_FIELDS = tuple(
    "amount" if c == "amount_sen" else c
    for c in CONFIRMATION_COLUMNS
    if c not in ("ticket_id", "source_row")
)


def _confirmation_values(rec: dict[str, Any]) -> dict[str, Any]:
    """One incoming confirmation's stored fields, as the row-by-row comparison reads them."""
    amount = rec.get("amount_sen")
    values: dict[str, Any] = {k: rec.get(k) for k in _CONF_FIELDS if k in rec}
    values["submitted_at"] = _datetime_or_none(rec.get("submitted_at"))
    values["transfer_date"] = _date_or_none(rec.get("transfer_date"))
    values["amount"] = None if amount is None or pd.isna(amount) else from_sen(int(amount))
    values["dest_not_ours"] = bool(rec.get("dest_not_ours", False))
    for k in _CONF_FIELDS:
        if k not in values or (
            values[k] is not None
            and not isinstance(values[k], bool | date | datetime | Decimal)
            and pd.isna(values[k])
        ):
            values[k] = None if k in ("submitted_at", "transfer_date", "amount") else ""
    return values


_CONF_TEXT_FIELDS = [
    f for f in _CONF_FIELDS if f not in ("submitted_at", "transfer_date", "amount", "dest_not_ours")
]


def upsert_confirmations(
    conn: Connection, *, run_id: int, frame: pd.DataFrame, now: datetime
) -> dict[str, int]:
    """Insert new confirmations; a changed ticket is updated and the change audited.

    Set-based like :func:`upsert_invoices`. A changed ticket's status follows its new intake
    only while no credit settled it (INVALID / AWAITING_FUNDS / NO_FUNDS).
    """
    dialect = conn.dialect.name
    c = db.confirmations.c
    keys = frame["ticket_id"].astype(str).tolist()
    stored = _stored_by_keys(
        conn,
        db.confirmations,
        "ticket_id",
        {
            **{f: c[f] for f in _CONF_TEXT_FIELDS},
            "submitted_at": iso_of(c.submitted_at, dialect),
            "transfer_date": iso_of(c.transfer_date, dialect),
            "amount_sen": sen_of(c.amount, dialect),
            "dest_not_ours": c.dest_not_ours,
        },
        keys,
    )
    incoming = pd.DataFrame({"ticket_id": keys})
    for f in _CONF_TEXT_FIELDS:
        column = frame[f] if f in frame else pd.Series([""] * len(frame), dtype=object)
        incoming[f] = _texts(column).to_numpy()
        stored[f] = _texts(stored[f])
    incoming["submitted_at"] = _instants(frame["submitted_at"]).to_numpy()
    stored["submitted_at"] = _instants(stored["submitted_at"])
    incoming["transfer_date"] = _days(frame["transfer_date"]).to_numpy()
    stored["transfer_date"] = _days(stored["transfer_date"])
    incoming["amount_sen"] = frame["amount_sen"].astype("Int64").to_numpy()
    stored["amount_sen"] = stored["amount_sen"].astype("Int64")
    incoming["dest_not_ours"] = frame["dest_not_ours"].fillna(False).astype(bool).to_numpy()
    stored["dest_not_ours"] = stored["dest_not_ours"].fillna(False).astype(bool)
    fields = [*_CONF_TEXT_FIELDS, "submitted_at", "transfer_date", "amount_sen", "dest_not_ours"]
    found = _diff(incoming, stored, "ticket_id", fields)

    changed = 0
    updates: list[dict[str, Any]] = []
    if found.maybe_changed:
        old_rows = _rows_by_key(conn, db.confirmations, "ticket_id", found.maybe_changed)
        wanted = set(found.maybe_changed)
        for rec in frame[frame["ticket_id"].isin(wanted)].to_dict("records"):
            old = old_rows[rec["ticket_id"]]
            values = _confirmation_values(rec)
            diffs = {k: v for k, v in values.items() if _as_str(getattr(old, k)) != _as_str(v)}
            if not diffs:
                continue
            changed += 1
            status = "INVALID" if values["intake_status"] == "INVALID" else "AWAITING_FUNDS"
            settled = old.status not in ("INVALID", "AWAITING_FUNDS", "NO_FUNDS")
            updates.append(
                {"ticket_id": rec["ticket_id"], **values,
                 "status": old.status if settled else status, "updated_run_id": run_id}
            )  # fmt: skip
            audit(
                conn,
                actor="source",
                action="confirmation_changed",
                entity="confirmation",
                entity_id=rec["ticket_id"],
                detail={k: [_as_str(getattr(old, k)), _as_str(v)] for k, v in diffs.items()},
                now=now,
                run_id=run_id,
            )
    bulk_update(conn, db.confirmations, "ticket_id", updates)

    new_frame = frame.iloc[found.new_positions]
    inserted = bulk_insert_columns(
        conn,
        db.confirmations,
        {
            "ticket_id": found.new["ticket_id"].to_numpy(),
            **{f: found.new[f].to_numpy() for f in _CONF_TEXT_FIELDS},
            "submitted_at": _datetime_objects(new_frame["submitted_at"]),
            "transfer_date": _day_objects(new_frame["transfer_date"]),
            "amount": _sen_to_decimal(new_frame["amount_sen"]),
            "dest_not_ours": found.new["dest_not_ours"].to_numpy(dtype=object),
            "status": np.where(
                found.new["intake_status"].to_numpy() == "INVALID", "INVALID", "AWAITING_FUNDS"
            ),
            "codes": "",
            "line_ids": "",
            "reason": found.new["intake_reason"].to_numpy(),
            "first_run_id": run_id,
            "updated_run_id": run_id,
        },
    )
    return {"new": inserted, "changed": changed}


# ---------------------------------------------------------------------------------------------
# source loads: what the invoices / confirmations tables hold from which file


@dataclass(frozen=True)
class SourceLoad:
    """The latest load of one kind of source, and whether the run that made it completed."""

    run_id: int
    run_completed: bool
    origin: str
    sha256: str
    settings: str
    intake_as_of: date | None
    latest_submitted_on: date | None
    known_invoices: int | None
    row_count: int
    rejected_rows: list[tuple[str, int | None, str]]


def last_source_load(conn: Connection, kind: str) -> SourceLoad | None:
    sl, r = db.source_loads.c, db.runs.c
    row = conn.execute(
        select(db.source_loads, r.status.label("run_status"))
        .join(db.runs, r.id == sl.run_id)
        .where(sl.kind == kind)
        .order_by(sl.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return SourceLoad(
        run_id=int(row.run_id),
        run_completed=row.run_status == "COMPLETED",
        origin=row.origin,
        sha256=row.sha256,
        settings=row.settings,
        intake_as_of=row.intake_as_of,
        latest_submitted_on=row.latest_submitted_on,
        known_invoices=row.known_invoices,
        row_count=int(row.row_count),
        rejected_rows=[(f, n, why) for f, n, why in json.loads(row.rejected_rows)],
    )


def record_source_load(
    conn: Connection,
    *,
    run_id: int,
    kind: str,
    origin: str,
    sha256: str,
    settings: str,
    row_count: int,
    stats: dict[str, int],
    rejected_rows: Sequence[tuple[str, int | None, str]],
    now: datetime,
    intake_as_of: date | None = None,
    latest_submitted_on: date | None = None,
    known_invoices: int | None = None,
) -> None:
    conn.execute(
        insert(db.source_loads),
        {
            "run_id": run_id,
            "kind": kind,
            "origin": origin,
            "sha256": sha256,
            "settings": settings,
            "intake_as_of": intake_as_of,
            "latest_submitted_on": latest_submitted_on,
            "known_invoices": known_invoices,
            "row_count": row_count,
            "new_rows": stats.get("new", 0),
            "changed_rows": stats.get("changed", 0),
            "rejected_rows": json.dumps([list(r) for r in rejected_rows]),
            "loaded_at": now,
        },
    )


def invoice_numbers(conn: Connection) -> list[str]:
    """Every stored invoice number (one column: what a confirmation's intake needs), in
    number order: where two numbers share a key ('INV-20432', '20432') the intake's index
    keeps the last, so the order is fixed, the same as ``invoice_numbers_keyed`` gives."""
    c = db.invoices.c
    return _keys(conn, select(c.invoice_no).order_by(c.invoice_no))


def invoice_numbers_keyed(
    conn: Connection, keys: Collection[str], *, closed_since: int | None = None
) -> list[str]:
    """The numbers of the invoices whose key (``number_key``: digits without leading zeros) is
    one of ``keys``, and of those with an empty key (no digit, or only zeros: the caller's own
    reading of the number decides for them), in number order; with ``closed_since``, of the
    invoices ``load_invoices(matchable_since=closed_since)`` leaves out only. Index lookups:
    a run reads the few invoices some texts name, not every number."""
    c = db.invoices.c
    scope = true() if closed_since is None else not_(_matchable(closed_since))
    found = _keys(conn, select(c.invoice_no).where(and_(_unkeyed(), scope)))
    wanted = sorted({k for k in keys if k and not k.startswith("0")})  # no key starts with 0
    for chunk in chunks(wanted):
        found += _keys(conn, select(c.invoice_no).where(and_(c.number_key.in_(chunk), scope)))
    return sorted(set(found))


def _unkeyed() -> Any:
    c = db.invoices.c
    return or_(c.number_key == "", c.number_key.is_(None))


def number_keys(numbers: pd.Series) -> npt.NDArray[np.object_]:
    """``number_key`` of each invoice number (candidates.invoice_key)."""
    return invoice_key(numbers.astype(str)).to_numpy(dtype=object)


def invoices_changed_in(conn: Connection, run_id: int) -> list[str]:
    """Invoice numbers whose last change was made by run ``run_id``."""
    c = db.invoices.c
    changed = func.coalesce(c.updated_run_id, c.first_run_id, 0)
    return _keys(conn, select(c.invoice_no).where(changed == run_id))


def changed_after(conn: Connection, table: Any, run_id: int) -> bool:
    """Whether a row of ``table`` (bank lines: imported; invoices, confirmations: inserted or
    changed) was written by a run after ``run_id``."""
    c = table.c
    if table is db.bank_lines:
        changed = c.first_run_id > run_id  # indexed: the new lines are found at once
    else:
        changed = func.coalesce(c.updated_run_id, c.first_run_id, 0) > run_id
    return conn.execute(select(literal(1)).where(changed).limit(1)).first() is not None


def invoices_added_after(conn: Connection, run_id: int) -> list[str]:
    """Invoice numbers first loaded by a run after ``run_id``."""
    c = db.invoices.c
    stmt = select(c.invoice_no).where(and_(c.updated_run_id > run_id, c.first_run_id > run_id))
    return _keys(conn, stmt)


def last_reported_run(conn: Connection, before: int) -> int:
    """The latest completed run before ``before`` that wrote a run report (0 when none)."""
    r = db.runs.c
    found = conn.execute(
        select(func.max(r.id)).where(
            and_(r.id < before, r.status == "COMPLETED", r.command.in_(REPORTING_COMMANDS))
        )
    ).scalar_one()
    return int(found or 0)


REPORTING_COMMANDS = ("run", "match")


def confirmations_without_funds(conn: Connection) -> list[str]:
    """Tickets still waiting without money (NO_FUNDS, or carrying that code)."""
    c = db.confirmations.c
    stmt = select(c.ticket_id).where(
        (c.status == "NO_FUNDS") | c.codes.contains("CONFIRMATION_WITHOUT_FUNDS")
    )
    return [str(k) for k in frame(conn, stmt, ["ticket_id"])["ticket_id"]]


def source_rows_changed_since(conn: Connection, table: Any, key: str, run_id: int) -> list[str]:
    """Keys of the rows a source load inserted or changed after run ``run_id``, in key order."""
    c = table.c
    stmt = select(c[key]).where(c.updated_run_id > run_id).order_by(c[key])
    return _keys(conn, stmt)


def _keys(conn: Connection, stmt: Any) -> list[str]:
    """The one text column a select returns, as a list (read from the driver's tuples: a
    frame's string column cost more to build and iterate than the query, at 610,000 keys)."""
    return [str(k) for (k,) in driver_rows(conn, stmt)]


# ---------------------------------------------------------------------------------------------
# frames for the matcher


def _read_frame(conn: Connection, stmt: Any) -> pd.DataFrame:
    result = conn.execute(stmt)
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def _awaiting_decision(dialect: str, few: bool = False) -> Any:
    """Credit lines still waiting for a decision: UNMATCHED, or REVIEW, and no person decided
    them (a person's decision is never reopened). ``few``: the condition is asked of a few
    lines (looked up per line instead of listing every person's decision first).

    Every line of the open book, on PostgreSQL: ``NOT EXISTS``, which it plans as an anti
    join whatever its statistics say. ``NOT IN (subquery)`` is a subplan there, hashed only
    when its estimate fits ``work_mem``: with stale statistics (autovacuum off, or not yet
    run after a bulk load) it was not, and under a parallel scan counting the 450k open
    lines of a million took 366 s (the same count with ``NOT EXISTS``: 1.8 s). SQLite and
    MariaDB list the persons' decisions once (``NOT IN``): 0.18 s against 0.40 s for a
    lookup per line on SQLite."""
    c, d = db.bank_lines.c, db.decisions.alias("by_person").c
    person = and_(d.active.is_(True), d.decided_by != "auto")
    if few or dialect == "postgresql":
        not_by_person = ~exists().where(and_(d.bank_line_id == c.id, person))
    else:
        not_by_person = c.id.not_in(select(d.bank_line_id).where(person))
    return and_(_open_credit_line(), not_by_person)


def _open_credit_line() -> Any:
    """A credit line (not a fee) still UNMATCHED or in REVIEW."""
    c = db.bank_lines.c
    return and_(c.direction == "CR", c.is_fee.is_(False), c.status.in_(ACTIVE_LINE_STATUSES))


def _with_decision() -> Any:
    c, d = db.bank_lines.c, db.decisions.c
    return db.bank_lines.outerjoin(db.decisions, and_(d.bank_line_id == c.id, d.active.is_(True)))


def count_open_credits(conn: Connection) -> int:
    """Credit lines still waiting for a decision (those ``load_credits`` reads)."""
    where = _awaiting_decision(conn.dialect.name)
    return int(conn.execute(select(func.count()).where(where)).scalar_one())


def any_open_credit_decided_before(conn: Connection, run_id: int) -> bool:
    """An open credit whose active automatic decision was made before run ``run_id`` (read
    from the decisions by run: none before it is found at once)."""
    c, d = db.bank_lines.c, db.decisions.c
    line_open = and_(c.id == d.bank_line_id, _open_credit_line())
    stmt = (
        select(d.id)
        .where(
            and_(
                d.run_id < run_id,
                d.active.is_(True),
                d.decided_by == "auto",  # a line has one active decision: not a person's
                exists().where(line_open),
            )
        )
        .limit(1)
    )
    return conn.execute(stmt).first() is not None


def credits_proposing(
    conn: Connection, invoice_nos: Sequence[str], *, decided_before: int | None = None
) -> list[int]:
    """Lines whose active automatic decision proposes one of ``invoice_nos``
    (``decision_proposals``), made before run ``decided_before`` if given; in line order."""
    p, d = db.decision_proposals.c, db.decisions.c
    where = and_(d.active.is_(True), d.decided_by == "auto")
    if decided_before is not None:
        where = and_(where, d.run_id < decided_before)
    found: set[int] = set()
    for chunk in chunks(sorted(set(invoice_nos))):
        # the proposals first (by invoice number), then their decisions by key: with a join a
        # planner without statistics may walk every decision of a run instead
        proposing = select(p.decision_id).where(p.invoice_no.in_(chunk))
        stmt = select(d.bank_line_id).where(and_(d.id.in_(proposing), where))
        found.update(int(line_id) for (line_id,) in driver_rows(conn, stmt))
    return sorted(found)


def load_credits(
    conn: Connection,
    *,
    new_after: int | None = None,
    line_ids: Sequence[int] | None = None,
) -> pd.DataFrame:
    """Credit lines still waiting for a decision (UNMATCHED, or REVIEW not decided by a person),
    with their current automatic decision's run, candidates and invoices (``decision_run_id``
    <NA>: never decided). ``new_after``: only those never decided, imported after that run
    (a matching run decides every line imported before it: ``pipeline._to_decide``);
    ``line_ids``: only those of these lines."""
    c = db.bank_lines.c
    d = db.decisions.c
    dialect = conn.dialect.name
    # what matching reads (a pending line has no posting date yet: its initiation date stands
    # in); nothing more, a million open lines are held in memory through the match
    columns = {
        "line_id": c.id,
        "posted_on": iso_of(func.coalesce(c.posted_on, c.initiated_on), dialect),
        "amount_sen": sen_of(c.amount, dialect),
        **_credit_details(),
        "decision_id": d.id, "decision_run_id": d.run_id,
        "candidates": d.candidates, "invoice_nos": d.invoice_nos,
    }  # fmt: skip
    where = _awaiting_decision(dialect, few=line_ids is not None or new_after is not None)
    if new_after is not None:
        # lines are numbered as they are imported: the new ones are those from the first line
        # a later run imported (its id bounds the scan; no "new" status to look lines up by)
        first = conn.execute(
            select(c.id).where(c.first_run_id > new_after).order_by(c.first_run_id, c.id).limit(1)
        ).scalar_one_or_none()
        if first is None:
            where = false()
        else:
            where = and_(where, c.id >= first, c.first_run_id > new_after, d.id.is_(None))
    stmt = select(*columns.values()).select_from(_with_decision())
    # one object per account and day
    more = {"shared": ("posted_on", "account_no"), "integers": ("line_id",)}
    if line_ids is not None:
        df = frame_by_ids(
            conn, lambda ids: stmt.where(and_(where, ids)), list(line_ids), list(columns), c.id,
            **more,
        )  # fmt: skip
    else:
        df = frame(conn, stmt.where(where), list(columns), **more)
    if df["line_id"].duplicated().any():  # one active decision per line; the latest if not
        df = df.sort_values("decision_id", na_position="first").drop_duplicates(
            "line_id", keep="last"
        )
    df = df.drop(columns=["decision_id"]).sort_values("line_id", kind="stable")
    df["line_id"] = df["line_id"].astype("int64")
    df["decision_run_id"] = df["decision_run_id"].astype("Int64")  # <NA>: never decided
    df["candidates"] = df["candidates"].fillna("").astype(str)
    df["invoice_nos"] = df["invoice_nos"].fillna("").astype(str)
    df["amount_sen"] = df["amount_sen"].astype("int64")
    df["posted_on"] = pd.to_datetime(df["posted_on"], format="ISO8601")
    for col in _credit_details():
        df[col] = df[col].fillna("").astype(str)
    return df.reset_index(drop=True)


def _credit_details() -> dict[str, Any]:
    c = db.bank_lines.c
    return {
        "account_no": c.account_no,
        "counterparty": c.counterparty,
        "message": c.message,
        "description": c.description,
    }


def _matchable(since: int) -> Any:
    """Invoices the matcher can pair a credit with by amount, name or alias (open ones, and
    those marked paid by hand with no money seen), and those changed after run ``since``."""
    c = db.invoices.c
    return or_(
        c.status.in_(OPEN_STATUSES),
        and_(c.status == "PAID", c.amount_received == 0),
        func.coalesce(c.updated_run_id, c.first_run_id, 0) > since,
    )


def load_invoices(
    conn: Connection, *, matchable_since: int | None = None, numbers: Sequence[str] | None = None
) -> pd.DataFrame:
    """Invoices as the matcher reads them: all of them; or with ``matchable_since`` only those
    an incremental run's candidates can come from (``_matchable``: a closed invoice is reached
    only by its number, see ``invoice_numbers_keyed``); or those of ``numbers``."""
    c = db.invoices.c
    dialect = conn.dialect.name
    columns = {
        "invoice_no": c.invoice_no, "client_name": c.client_name,
        "company_name": c.company_name, "email": c.email,
        "issued_on": iso_of(c.issued_on, dialect), "due_on": iso_of(c.due_on, dialect),
        "source_status": c.source_status, "status": c.status, "codes": c.codes,
        "reason": c.reason,
        "changed_run_id": func.coalesce(c.updated_run_id, c.first_run_id, 0),
        "amount_sen": sen_of(c.amount, dialect),
        "received_sen": sen_of(c.amount_received, dialect),
    }  # fmt: skip
    stmt = select(*columns.values())
    # one object per day, status and outcome
    shared = ("issued_on", "due_on", "source_status", "status", "codes", "reason")
    if numbers is not None:
        df = frame_by_ids(
            conn, stmt.where, list(numbers), list(columns), c.invoice_no, shared=shared
        )
    else:
        where = true() if matchable_since is None else _matchable(matchable_since)
        df = frame(conn, stmt.where(where), list(columns), shared=shared)
    for col in ("amount_sen", "received_sen", "changed_run_id"):
        df[col] = df[col].astype("int64")
    for col in ("issued_on", "due_on"):
        df[col] = pd.to_datetime(df[col], format="ISO8601")
    df["email"] = _per_distinct(df["email"].fillna(""), str.lower)
    df["client_key"] = df["email"].where(
        df["email"] != "", _per_distinct(df["client_name"], str.upper)
    )
    return df


def _per_distinct(values: pd.Series, f: Callable[[str], str]) -> pd.Series:
    """``f`` of each distinct value, one object per distinct result: a client's e-mail and
    name key stand on each of their invoices, held through the match."""
    codes, distinct = pd.factorize(values.to_numpy(dtype=object))
    out = np.array([f(v) for v in distinct.tolist()] + [""], dtype=object)[codes]
    return pd.Series(out, index=values.index, dtype=object)


def load_confirmations(conn: Connection, *, open_since: int | None = None) -> pd.DataFrame:
    """Confirmations as the matcher reads them: all; or with ``open_since`` those a credit can
    still be linked with (valid and not matched yet) and those changed after that run (a
    closed one keeps its outcome: an incremental run need not read it)."""
    dialect = conn.dialect.name
    table = db.confirmations
    special = {"amount", "transfer_date", "submitted_at"}
    plain = [col for col in table.columns if col.name not in special]
    c = table.c
    extra = {
        "amount_sen": sen_of(c.amount, dialect),
        "transfer_date": iso_of(c.transfer_date, dialect),
        "submitted_at": iso_of(c.submitted_at, dialect),
    }
    where: Any = true()
    if open_since is not None:
        where = or_(
            and_(c.intake_status == "VALID", c.status != "MATCHED"),
            func.coalesce(c.updated_run_id, c.first_run_id, 0) > open_since,
        )
    stmt = select(*plain, *extra.values()).where(where)
    df = frame(conn, stmt, [col.name for col in plain] + list(extra))
    df["amount_sen"] = df["amount_sen"].astype("Int64")
    df["dest_not_ours"] = df["dest_not_ours"].astype(bool)
    df["transfer_date"] = pd.to_datetime(df["transfer_date"], format="ISO8601")
    df["submitted_at"] = pd.to_datetime(df["submitted_at"], format="ISO8601")
    return df


def statements_until(conn: Connection) -> dict[str, date]:
    """Per company account, the last day its imported statements cover (the latest period
    end: printed by the export, else its latest dated row, ``validate``): a confirmation's
    money cannot be missing from days no statement covers yet."""
    f = db.statement_files.c
    stmt = (
        select(f.account_no, func.max(f.period_end))
        .where(and_(f.status == "IMPORTED", f.period_end.is_not(None)))
        .group_by(f.account_no)
    )
    # max() keeps the column's Date type: a date on SQLite, PostgreSQL and MariaDB alike
    return {str(account): day for account, day in conn.execute(stmt)}


def load_aliases(conn: Connection) -> pd.DataFrame:
    c = db.payer_aliases.c
    return _read_frame(
        conn,
        select(c.sender_norm, c.client_key, c.created_by, c.created_at).where(
            c.removed_at.is_(None)
        ),
    )


@dataclass(frozen=True)
class MatchMark:
    """The last run whose matching committed: what changed after it is new to the matcher."""

    run_id: int
    started_at: datetime
    matching: str  # that run's `matching:` rules, as JSON


def last_match(conn: Connection) -> MatchMark | None:
    """The latest run that wrote automatic decisions, or completed a matching stage."""
    d = db.decisions.c
    r = db.runs.c
    # decision ids grow with the runs: the latest automatic decision is the latest run's (read
    # backwards along the key, not by scanning a million decisions for the largest run id);
    # not one an undo restored (``reverses_decision_id``): that run matched nothing
    matched = and_(d.decided_by == "auto", d.reverses_decision_id.is_(None))
    by_decisions = conn.execute(
        select(d.run_id).where(matched).order_by(d.id.desc()).limit(1)
    ).scalar_one_or_none()
    completed = conn.execute(
        select(r.id, r.counts).where(r.status == "COMPLETED").order_by(r.id.desc()).limit(50)
    ).all()
    by_runs = next(
        (int(row.id) for row in completed if "decisions_written" in json.loads(row.counts or "{}")),
        None,
    )
    ids = [x for x in (by_decisions, by_runs) if x is not None]
    if not ids:
        return None
    row = conn.execute(select(r.started_at, r.config_snapshot).where(r.id == max(ids))).one()
    snapshot = json.loads(row.config_snapshot or "{}")
    return MatchMark(
        run_id=max(ids),
        started_at=row.started_at,
        matching=json.dumps(snapshot.get("matching"), sort_keys=True),
    )


# ---------------------------------------------------------------------------------------------
# decisions


def current_decisions(conn: Connection, line_ids: Sequence[int]) -> dict[int, Any]:
    """The active decision per line (latest), for change detection."""
    c = db.decisions.c
    out: dict[int, Any] = {}
    ids = list(line_ids)
    for i in range(0, len(ids), CHUNK):
        for row in conn.execute(
            select(db.decisions)
            .where(and_(c.bank_line_id.in_(ids[i : i + CHUNK]), c.active.is_(True)))
            .order_by(c.id)
        ):
            out[row.bank_line_id] = row
    return out


def count_rows(conn: Connection, table: Any) -> int:
    return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


_DECISION_FIELDS = (
    "status",
    "rule",
    "score",
    "codes",
    "invoice_nos",
    "confirmation_ids",
    "candidates",
    "reason",
)


def _active_decisions(conn: Connection, line_ids: Any) -> pd.DataFrame:
    """The active decision (latest) of each of ``line_ids``: id, bank_line_id, who decided it
    and the fields a new decision is compared on."""
    d = db.decisions.c
    columns = ["id", "bank_line_id", "decided_by", *_DECISION_FIELDS]
    fields = [d.id, d.bank_line_id, d.decided_by, *[d[k] for k in _DECISION_FIELDS]]
    active = d.active.is_(True)
    ids = [int(x) for x in line_ids]
    found = frame_by_ids(
        conn, lambda where: select(*fields).where(and_(active, where)), ids, columns,
        d.bank_line_id,
    )  # fmt: skip
    found = found.sort_values("id").drop_duplicates("bank_line_id", keep="last")
    return found.astype({"bank_line_id": "int64"})


def same_as_stored(
    after: pd.DataFrame,
    before: pd.DataFrame,
    key: str,
    columns: Sequence[str],
    *,
    numeric: Sequence[str] = (),
) -> npt.NDArray[np.bool_]:
    """Per row of ``after``: ``before`` (unique ``key``) holds a row of that key with equal
    values in every one of ``columns``, compared as text (missing reads as "") or, for the
    ``numeric`` ones, as numbers. What a run would write again unchanged."""
    if not len(before):  # nothing stored (a first run): no comparing a million rows with none
        return np.zeros(len(after), dtype=bool)
    both = after[[key, *columns]].merge(
        before[[key, *columns]], on=key, how="left", suffixes=("", "_before"), indicator=True
    )
    same: npt.NDArray[np.bool_] = (both["_merge"] == "both").to_numpy().copy()
    for c in columns:
        now, then = both[c], both[f"{c}_before"]
        if c in numeric:
            same &= now.to_numpy(dtype=float) == then.to_numpy(dtype=float, na_value=np.nan)
        else:
            same &= (now.fillna("").astype(str) == then.fillna("").astype(str)).to_numpy()
    return same


def write_proposals(
    conn: Connection, decision_ids: npt.NDArray[np.int64], decisions: pd.DataFrame
) -> int:
    """``decision_proposals`` of new automatic decisions (``decisions``: their ``status``,
    ``candidates`` and ``invoice_nos``, row for row with ``decision_ids``): one row per invoice
    a decision leaving its line open proposes, as a candidate or as its invoice."""
    text = {
        c: decisions[c].fillna("").astype(str).to_numpy(dtype=object)
        for c in ("candidates", "invoice_nos")
    }
    keep = (decisions["status"] != "MATCHED").to_numpy() & (
        (text["candidates"] != "") | (text["invoice_nos"] != "")
    )
    proposed = [
        f"{c};{i}"
        for c, i in zip(
            text["candidates"][keep].tolist(), text["invoice_nos"][keep].tolist(), strict=True
        )
    ]
    if not proposed:
        return 0
    # one split of all the texts joined (a split per text, or pandas' explode, took seconds at 1M)
    parts = ";".join(proposed).split(";")
    per = np.fromiter((p.count(";") + 1 for p in proposed), dtype=np.int64, count=len(proposed))
    rows = pd.DataFrame(
        {
            "decision_id": np.repeat(decision_ids[keep], per),
            "invoice_no": np.array(parts, dtype=object),
        }
    )
    rows = rows[rows["invoice_no"].notna() & (rows["invoice_no"] != "")].drop_duplicates()
    columns = {
        "decision_id": rows["decision_id"].astype("int64").tolist(),
        "invoice_no": rows["invoice_no"].astype(str).tolist(),
    }
    return bulk_insert_columns(conn, db.decision_proposals, columns)


def _without_lines(result: Any, line_ids: set[int]) -> Any:
    """``result`` (a MatchResult) without what it says of ``line_ids``: their decisions and
    allocations, the invoices those allocations pay (their state counts that money) and the
    confirmations it links to those lines."""
    lines, alloc = result.lines, result.allocations
    dropped = alloc["line_id"].isin(line_ids).to_numpy()
    paid = set(alloc.loc[dropped, "invoice_no"].astype(str).tolist())
    inv = result.invoices
    inv = inv[~inv["invoice_no"].astype(str).isin(paid).to_numpy()]
    conf = result.confirmations
    if "line_ids" in conf and len(conf):
        named = [
            bool(line_ids & {int(x) for x in str(text).split(";") if x.isdigit()})
            for text in conf["line_ids"].fillna("").tolist()
        ]
        conf = conf[~np.array(named, dtype=bool)]
    kept = set(conf["ticket_id"].astype(str).tolist())
    left = sorted(set(result.confirmations["ticket_id"].astype(str).tolist()) - kept)
    log.warning(
        "line(s) %s were decided by a person after this match read them: their decision stays "
        "and nothing automatic is written for them (invoices %s, confirmations %s left as they "
        "are)",
        ", ".join(str(x) for x in sorted(line_ids)),
        ", ".join(sorted(paid)) or "none",
        ", ".join(left) or "none",
    )
    return replace(
        result,
        lines=lines[~lines["line_id"].isin(line_ids).to_numpy()].reset_index(drop=True),
        allocations=alloc[~dropped].reset_index(drop=True),
        invoices=inv.reset_index(drop=True),
        confirmations=conf.reset_index(drop=True),
    )


def persist_match(conn: Connection, *, run_id: int, result: Any, now: datetime) -> dict[str, int]:
    """Write a MatchResult (reconcile.matching) atomically: decisions, allocations, statuses.

    A line whose new decision equals its active one writes nothing, so re-running over the
    same inputs leaves the database exactly as it was. A line a person decided is never
    decided again automatically (the match does not read them, ``_awaiting_decision``): should
    one be in ``result`` all the same (decided by a person after the match read it), the
    person's decision stays in force and nothing the match said of that line is written.
    """
    old = _active_decisions(conn, result.lines["line_id"].to_numpy())
    by_person = old["decided_by"] != "auto"
    if by_person.any():
        result = _without_lines(result, set(old.loc[by_person, "bank_line_id"].tolist()))
        old = old[~by_person]
    lines: pd.DataFrame = result.lines
    fresh = pd.DataFrame(
        {
            "bank_line_id": lines["line_id"].astype("int64"),
            **{k: lines[k].fillna("").astype(str) for k in _DECISION_FIELDS if k != "score"},
            "score": lines["score"].fillna(0).astype("int64"),
            "signals": lines["signals"].fillna("[]").astype(str),
        }
    )
    same = same_as_stored(fresh, old, "bank_line_id", _DECISION_FIELDS, numeric=("score",))
    superseded = (
        fresh[["bank_line_id"]][~same]
        .merge(old[["bank_line_id", "id"]], on="bank_line_id")["id"]
        .astype("int64")
        .tolist()
    )
    changed = fresh[~same].reset_index(drop=True)
    dc = db.decisions.c
    if superseded:
        for i in range(0, len(superseded), CHUNK):
            conn.execute(
                update(db.decisions)
                .where(dc.id.in_(superseded[i : i + CHUNK]))
                .values(active=False)
            )
    first_id = next_ids(conn, db.decisions, 1)[0]
    decision_ids = np.arange(first_id, first_id + len(changed), dtype=np.int64)
    bulk_insert_columns(
        conn,
        db.decisions,
        {
            "id": decision_ids.tolist(),
            **{c: changed[c].tolist() for c in changed.columns},
            "run_id": run_id,
            "decided_by": "auto",
            "active": True,
            "created_at": now,
            "reverses_decision_id": None,
            "note": None,
        },
    )
    write_proposals(conn, decision_ids, changed)
    decision_of_line = pd.Series(decision_ids, index=changed["bank_line_id"].to_numpy())
    allocations = result.allocations
    allocations = allocations[allocations["line_id"].isin(decision_of_line.index)]
    first_alloc = next_ids(conn, db.allocations, 1)[0]
    bulk_insert_columns(
        conn,
        db.allocations,
        {
            "id": list(range(first_alloc, first_alloc + len(allocations))),
            "bank_line_id": allocations["line_id"].astype("int64").tolist(),
            "invoice_no": allocations["invoice_no"].tolist(),
            "amount": _sen_to_decimal(allocations["amount_sen"]).tolist(),
            "decision_id": decision_of_line.loc[allocations["line_id"].to_numpy()].tolist(),
            "run_id": run_id,
            "active": True,
        },
    )
    update_columns(
        conn,
        db.bank_lines,
        "id",
        {"id": changed["bank_line_id"].tolist(), "status": changed["status"].tolist()},
    )

    def texts(frame: pd.DataFrame, column: str) -> list[str]:
        if column not in frame:
            return [""] * len(frame)
        return frame[column].fillna("").astype(str).tolist()

    inv = result.invoices
    update_columns(
        conn,
        db.invoices,
        "invoice_no",
        {
            "invoice_no": inv["invoice_no"].tolist(),
            "status": inv["status"].tolist(),
            "amount_received": _sen_to_decimal(inv["received_sen"]).tolist(),
            "codes": texts(inv, "codes"),
            "reason": texts(inv, "reason"),
            "updated_run_id": run_id,  # a change the next run's matching takes into account
        },
    )
    conf = result.confirmations
    update_columns(
        conn,
        db.confirmations,
        "ticket_id",
        {
            "ticket_id": conf["ticket_id"].tolist(),
            "status": conf["status"].tolist(),
            **{c: texts(conf, c) for c in ("codes", "line_ids", "reason")},
        },
    )
    learned = learn_aliases(conn, getattr(result, "aliases", None), now=now, run_id=run_id)
    return {"decisions": len(changed), "allocations": len(allocations), "aliases": learned}


def learn_aliases(
    conn: Connection, frame: pd.DataFrame | None, *, now: datetime, run_id: int
) -> int:
    """Remember sender → client links that confirmations proved (spouse, employer accounts).

    An alias a person removed stays removed: it is not learned again automatically.
    """
    if frame is None or not len(frame):
        return 0
    a = db.payer_aliases.c
    known = {
        (r.sender_norm, r.client_key) for r in conn.execute(select(a.sender_norm, a.client_key))
    }
    rows = []
    for rec in frame[["sender_norm", "client_key"]].drop_duplicates().itertuples(index=False):
        key = (str(rec.sender_norm), str(rec.client_key))
        if not key[0] or not key[1] or key in known:
            continue
        known.add(key)
        rows.append(
            {
                "sender_norm": key[0],
                "client_key": key[1],
                "source": "confirmation",
                "created_by": "auto",
                "created_at": now,
                "removed_at": None,
            }
        )
    for row, alias_id in zip(rows, next_ids(conn, db.payer_aliases, len(rows)), strict=True):
        row["id"] = alias_id
    bulk_insert(conn, db.payer_aliases, rows)
    # one audit row per alias, as audit() writes it, in one bulk insert (ids as the database
    # assigns them to single inserts)
    details = [
        {"sender": row["sender_norm"], "client": row["client_key"], "source": "confirmation"}
        for row in rows
    ]
    bulk_insert_columns(
        conn,
        db.audit_log,
        {
            "at": now,
            "actor": "auto",
            "action": "alias_learned",
            "entity": "payer_alias",
            "entity_id": [str(row["id"]) for row in rows],
            "detail": [json.dumps(d, sort_keys=True, default=str) for d in details],
            "run_id": run_id,
        },
    )
    return len(rows)
