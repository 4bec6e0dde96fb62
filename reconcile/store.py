"""Persistence: the only module that writes the database (SQLAlchemy Core, bulk statements).

Each function takes an open connection inside the caller's transaction, so that one input
file and its bookkeeping, or one run's decisions, commit atomically (or not at all).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import (
    Connection,
    Engine,
    and_,
    bindparam,
    create_engine,
    event,
    func,
    insert,
    select,
    update,
)

from reconcile import db
from reconcile.config import Rules
from reconcile.lines import ROW_COLUMNS, EncodedFile, LineColumns, encode_file
from reconcile.model import Statement
from reconcile.money import from_sen, to_sen

CHUNK = 1000
SQLITE_CACHE_KIB = 256 * 1024
ACTIVE_LINE_STATUSES = ("UNMATCHED", "REVIEW")


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
    conn: Connection, table: Any, columns: Sequence[str], values: Sequence[Sequence[Any]]
) -> None:
    """Insert rows already in the driver's bind form (each column's bind processor applied),
    in one round of driver calls: COPY on PostgreSQL, one executemany elsewhere."""
    if not values:
        return
    names = ", ".join(columns)
    cursor = conn.connection.cursor()
    try:
        if conn.dialect.name == "postgresql":
            with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                for v in values:
                    copy.write_row(v)
            if "id" in columns:
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "  # noqa: S608
                    f"(SELECT MAX(id) FROM {table.name}))"
                )
        else:
            mark = _mark(conn)
            marks = ", ".join([mark] * len(columns))
            cursor.executemany(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", values)  # noqa: S608
    finally:
        cursor.close()


def _mark(conn: Connection) -> str:
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def bulk_update(conn: Connection, table: Any, key: str, records: list[dict[str, Any]]) -> None:
    """``UPDATE table SET <other fields> WHERE key = …`` for many records in one executemany."""
    if not records:
        return
    fields = [f for f in records[0] if f != key]
    stmt = (
        update(table)
        .where(table.c[key] == bindparam("k_key"))
        .values({f: bindparam(f"v_{f}") for f in fields})
    )
    conn.execute(stmt, [{"k_key": r[key], **{f"v_{f}": r[f] for f in fields}} for r in records])


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


def _existing_keys(
    conn: Connection, account_no: str, keys: Sequence[str]
) -> dict[tuple[str, int], tuple[int, bool]]:
    """(dedup_key, occurrence) -> (line id, pending) for keys already stored for the account."""
    found: dict[tuple[str, int], tuple[int, bool]] = {}
    has_any = conn.execute(
        select(db.bank_lines.c.id).where(db.bank_lines.c.account_no == account_no).limit(1)
    ).first()
    if has_any is None:
        return found
    # driver SQL: compiling an expanding IN of thousands of keys cost more than running it
    unique = list(dict.fromkeys(keys))
    mark = _mark(conn)
    cursor = conn.connection.cursor()
    try:
        for i in range(0, len(unique), KEY_CHUNK):
            chunk = unique[i : i + KEY_CHUNK]
            cursor.execute(
                "SELECT id, dedup_key, occurrence, pending FROM bank_lines "  # noqa: S608
                f"WHERE account_no = {mark} AND dedup_key IN ({', '.join([mark] * len(chunk))})",
                [account_no, *chunk],
            )
            for line_id, key, occurrence, pending in cursor.fetchall():
                found[(key, int(occurrence))] = (int(line_id), bool(pending))
    finally:
        cursor.close()
    return found


def _stored_twins(conn: Connection, lines: LineColumns) -> dict[tuple[str, str, int], Any]:
    """(account, dedup_key, occurrence) -> (line id, pending) for the file's rows already
    stored: one lookup per account of the file (and per KEY_CHUNK keys), none for an account
    that has no lines yet."""
    cols = lines.columns
    accounts, keys = cols["account_no"], cols["dedup_key"]
    found: dict[tuple[str, str, int], Any] = {}
    distinct = list(dict.fromkeys(accounts))
    for acct in distinct:
        mine = (
            keys
            if len(distinct) == 1
            else [k for a, k in zip(accounts, keys, strict=True) if a == acct]
        )
        for (key, occ), hit in _existing_keys(conn, acct, mine).items():
            found[(acct, key, occ)] = hit
    return found


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
    if known_file is not None:
        # the very same bytes again: every row resolves to its stored line; record nothing
        twins = _stored_twins(conn, lines)
        out = ImportOutcome(file_id=known_file, source_lines=source_lines)
        for acct, key, occ, src in zip(
            cols["account_no"], cols["dedup_key"], cols["occurrence"], source_lines, strict=True
        ):
            line_id, _ = twins[(acct, key, occ)]
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
    twins = _stored_twins(conn, lines)
    line_ids: list[int] = [0] * total
    if not twins:
        new_positions: list[int] | range = range(total)
    else:
        new_positions = []
        posted_twins: list[tuple[Any, ...]] = []
        posted_on, posted_time, pending = cols["posted_on"], cols["posted_time"], lines.pending_raw
        for i, key in enumerate(
            zip(cols["account_no"], cols["dedup_key"], cols["occurrence"], strict=True)
        ):
            hit = twins.get(key)
            if hit is None:
                new_positions.append(i)
                continue
            line_id, was_pending = hit
            line_ids[i] = line_id
            out.duplicates.append((source_lines[i], line_id))
            if was_pending and not pending[i] and posted_on[i] is not None:
                posted_twins.append((posted_on[i], posted_time[i], line_id))
        _post_pending_twins(conn, posted_twins)
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


def upsert_invoices(
    conn: Connection, *, run_id: int, frame: pd.DataFrame, now: datetime
) -> dict[str, int]:
    """Insert new invoices; update changed ones, writing every change to invoice_history."""
    c = db.invoices.c
    existing = _rows_by_key(conn, db.invoices, "invoice_no", frame["invoice_no"].tolist())
    inserts: list[dict[str, Any]] = []
    history: list[dict[str, Any]] = []
    changed = 0
    for rec in frame.itertuples(index=False):
        values = {
            "client_name": rec.client_name or "",
            "company_name": rec.company_name or "",
            "email": rec.email or "",
            "issued_on": _date_or_none(rec.issued_on),
            "due_on": _date_or_none(rec.due_on),
            "amount": from_sen(int(rec.amount_sen)),
            "source_status": rec.source_status,
        }
        old = existing.get(rec.invoice_no)
        if old is None:
            inserts.append(
                {
                    "invoice_no": rec.invoice_no,
                    **values,
                    "status": _status_from_source(rec.source_status, None),
                    "amount_received": Decimal("0.00"),
                    "codes": "",
                    "reason": "",
                    "first_run_id": run_id,
                    "updated_run_id": run_id,
                }
            )
            continue
        diffs = {k: v for k, v in values.items() if _as_str(getattr(old, k)) != _as_str(v)}
        if not diffs:
            continue
        changed += 1
        new_status = _status_from_source(values["source_status"], old.status)
        if "amount" in diffs and old.status in ("PAID", "PARTIAL"):
            new_status = "PAID" if old.amount_received >= values["amount"] else "PARTIAL"
        upd = {**diffs, "updated_run_id": run_id}
        if new_status != old.status:
            upd["status"] = new_status
            diffs["status"] = new_status
        conn.execute(update(db.invoices).where(c.invoice_no == rec.invoice_no).values(**upd))
        for k, v in diffs.items():
            history.append(
                {
                    "invoice_no": rec.invoice_no,
                    "run_id": run_id,
                    "field": k,
                    "old_value": _as_str(getattr(old, k)),
                    "new_value": _as_str(v),
                    "changed_at": now,
                }
            )
    bulk_insert(conn, db.invoices, inserts)
    if history:
        conn.execute(insert(db.invoice_history), history)
    return {"new": len(inserts), "changed": changed}


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


_CONF_FIELDS = (
    "submitted_at",
    "name",
    "email",
    "subject",
    "message",
    "related_service",
    "attachment",
    "invoice_no_raw",
    "bank_destination_raw",
    "amount_raw",
    "transfer_date_raw",
    "account_name",
    "invoice_nos",
    "dest_account_no",
    "dest_not_ours",
    "amount",
    "transfer_date",
    "intake_status",
    "intake_reason",
)


def upsert_confirmations(
    conn: Connection, *, run_id: int, frame: pd.DataFrame, now: datetime
) -> dict[str, int]:
    """Insert new confirmations; a changed ticket is updated and the change audited."""
    c = db.confirmations.c
    existing = _rows_by_key(conn, db.confirmations, "ticket_id", frame["ticket_id"].tolist())
    inserts: list[dict[str, Any]] = []
    changed = 0
    for rec in frame.to_dict("records"):
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
        status = "INVALID" if values["intake_status"] == "INVALID" else "AWAITING_FUNDS"
        old = existing.get(rec["ticket_id"])
        if old is None:
            inserts.append(
                {
                    "ticket_id": rec["ticket_id"],
                    **values,
                    "status": status,
                    "codes": "",
                    "line_ids": "",
                    "reason": values["intake_reason"] or "",
                    "first_run_id": run_id,
                    "updated_run_id": run_id,
                }
            )
            continue
        diffs = {k: v for k, v in values.items() if _as_str(getattr(old, k)) != _as_str(v)}
        if not diffs:
            continue
        changed += 1
        upd = {**diffs, "updated_run_id": run_id}
        if old.status in ("INVALID", "AWAITING_FUNDS", "NO_FUNDS") and old.status != status:
            upd["status"] = status
        conn.execute(update(db.confirmations).where(c.ticket_id == rec["ticket_id"]).values(**upd))
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
    bulk_insert(conn, db.confirmations, inserts)
    return {"new": len(inserts), "changed": changed}


# ---------------------------------------------------------------------------------------------
# frames for the matcher


def _read_frame(conn: Connection, stmt: Any) -> pd.DataFrame:
    result = conn.execute(stmt)
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def _sen(series: pd.Series) -> pd.Series:
    return series.map(lambda v: to_sen(Decimal(v)) if v is not None else 0).astype("int64")


def load_credits(conn: Connection, line_ids: Iterable[int] | None = None) -> pd.DataFrame:
    """Credit lines still waiting for a decision (UNMATCHED, or REVIEW not decided by a person)."""
    c = db.bank_lines.c
    human = (
        select(db.decisions.c.bank_line_id)
        .where(and_(db.decisions.c.active.is_(True), db.decisions.c.decided_by != "auto"))
        .scalar_subquery()
    )
    stmt = select(
        c.id.label("line_id"),
        c.bank,
        c.account_no,
        c.posted_on,
        c.initiated_on,
        c.pending,
        c.amount,
        c.counterparty,
        c.sender_bank,
        c.message,
        c.description,
        c.channel,
        c.source_file,
        c.source_line,
    ).where(
        and_(
            c.direction == "CR",
            c.is_fee.is_(False),
            c.status.in_(ACTIVE_LINE_STATUSES),
            c.id.not_in(human),
        )
    )
    df = _read_frame(conn, stmt)
    if line_ids is not None:
        df = df[df["line_id"].isin(list(line_ids))]
    df["amount_sen"] = _sen(df["amount"]) if len(df) else pd.Series(dtype="int64")
    df = df.drop(columns=["amount"])
    for col in ("posted_on", "initiated_on"):
        df[col] = pd.to_datetime(df[col])
    # a pending line has no posting date yet: its initiation date stands in
    df["posted_on"] = df["posted_on"].fillna(df["initiated_on"])
    for col in ("counterparty", "sender_bank", "message", "description", "channel"):
        df[col] = df[col].fillna("").astype(str)
    return df.reset_index(drop=True)


def load_invoices(conn: Connection) -> pd.DataFrame:
    c = db.invoices.c
    df = _read_frame(
        conn,
        select(
            c.invoice_no,
            c.client_name,
            c.company_name,
            c.email,
            c.issued_on,
            c.due_on,
            c.amount,
            c.amount_received,
            c.source_status,
            c.status,
        ),
    )
    df["amount_sen"] = _sen(df["amount"]) if len(df) else pd.Series(dtype="int64")
    df["received_sen"] = _sen(df["amount_received"]) if len(df) else pd.Series(dtype="int64")
    df = df.drop(columns=["amount", "amount_received"])
    for col in ("issued_on", "due_on"):
        df[col] = pd.to_datetime(df[col])
    df["email"] = df["email"].fillna("").str.lower()
    df["client_key"] = df["email"].where(df["email"] != "", df["client_name"].str.upper())
    return df


def load_confirmations(conn: Connection) -> pd.DataFrame:
    c = db.confirmations.c
    df = _read_frame(conn, select(db.confirmations))
    df["amount_sen"] = pd.array(
        [to_sen(Decimal(v)) if v is not None else None for v in df["amount"]], dtype="Int64"
    )
    df = df.drop(columns=["amount"])
    df["transfer_date"] = pd.to_datetime(df["transfer_date"])
    df["submitted_at"] = pd.to_datetime(df["submitted_at"])
    _ = c
    return df


def load_aliases(conn: Connection) -> pd.DataFrame:
    c = db.payer_aliases.c
    return _read_frame(conn, select(c.sender_norm, c.client_key).where(c.removed_at.is_(None)))


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


def _same_decision(old: Any, new: dict[str, Any]) -> bool:
    return all(_as_str(getattr(old, k)) == _as_str(new[k]) for k in _DECISION_FIELDS)


def persist_match(conn: Connection, *, run_id: int, result: Any, now: datetime) -> dict[str, int]:
    """Write a MatchResult (reconcile.matching) atomically: decisions, allocations, statuses.

    A line whose new decision equals its active one writes nothing, so re-running over the
    same inputs leaves the database exactly as it was.
    """
    lines: pd.DataFrame = result.lines
    current = current_decisions(conn, [int(x) for x in lines["line_id"]]) if len(lines) else {}
    new_decisions: list[dict[str, Any]] = []
    superseded: list[int] = []
    for rec in lines.to_dict("records"):
        row = {
            "run_id": run_id,
            "bank_line_id": int(rec["line_id"]),
            "status": rec["status"],
            "rule": rec.get("rule") or "",
            "score": int(rec.get("score") or 0),
            "signals": rec.get("signals") or "[]",
            "reason": rec.get("reason") or "",
            "codes": rec.get("codes") or "",
            "invoice_nos": rec.get("invoice_nos") or "",
            "confirmation_ids": rec.get("confirmation_ids") or "",
            "candidates": rec.get("candidates") or "",
            "decided_by": "auto",
            "active": True,
            "created_at": now,
        }
        old = current.get(row["bank_line_id"])
        if old is not None and _same_decision(old, row):
            continue
        if old is not None:
            superseded.append(int(old.id))
        new_decisions.append(row)
    dc = db.decisions.c
    if superseded:
        for i in range(0, len(superseded), CHUNK):
            conn.execute(
                update(db.decisions)
                .where(dc.id.in_(superseded[i : i + CHUNK]))
                .values(active=False)
            )
    decision_of_line: dict[int, int] = {}
    for row, decision_id in zip(
        new_decisions, next_ids(conn, db.decisions, len(new_decisions)), strict=True
    ):
        row["id"] = decision_id
        row["reverses_decision_id"] = None
        row["note"] = None
        decision_of_line[row["bank_line_id"]] = decision_id
    bulk_insert(conn, db.decisions, new_decisions)
    allocs = [
        {
            "bank_line_id": int(a["line_id"]),
            "invoice_no": a["invoice_no"],
            "amount": from_sen(int(a["amount_sen"])),
            "decision_id": decision_of_line[int(a["line_id"])],
            "run_id": run_id,
            "active": True,
        }
        for a in result.allocations.to_dict("records")
        if int(a["line_id"]) in decision_of_line
    ]
    for alloc, alloc_id in zip(allocs, next_ids(conn, db.allocations, len(allocs)), strict=True):
        alloc["id"] = alloc_id
    bulk_insert(conn, db.allocations, allocs)
    bulk_update(
        conn,
        db.bank_lines,
        "id",
        [{"id": row["bank_line_id"], "status": row["status"]} for row in new_decisions],
    )
    bulk_update(
        conn,
        db.invoices,
        "invoice_no",
        [
            {
                "invoice_no": r["invoice_no"],
                "status": r["status"],
                "amount_received": from_sen(int(r["received_sen"])),
                "codes": r.get("codes") or "",
                "reason": r.get("reason") or "",
            }
            for r in result.invoices.to_dict("records")
        ],
    )
    bulk_update(
        conn,
        db.confirmations,
        "ticket_id",
        [
            {
                "ticket_id": r["ticket_id"],
                "status": r["status"],
                "codes": r.get("codes") or "",
                "line_ids": r.get("line_ids") or "",
                "reason": r.get("reason") or "",
            }
            for r in result.confirmations.to_dict("records")
        ],
    )
    learned = learn_aliases(conn, getattr(result, "aliases", None), now=now, run_id=run_id)
    return {"decisions": len(new_decisions), "allocations": len(allocs), "aliases": learned}


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
    for row in rows:
        audit(
            conn,
            actor="auto",
            action="alias_learned",
            entity="payer_alias",
            entity_id=str(row["id"]),
            detail={
                "sender": row["sender_norm"],
                "client": row["client_key"],
                "source": "confirmation",
            },
            now=now,
            run_id=run_id,
        )
    return len(rows)
