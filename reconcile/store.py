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
from reconcile.dedup import keys_with_occurrence
from reconcile.model import Direction, Statement, Transaction
from reconcile.money import from_sen, to_sen
from reconcile.sqlframes import frame, iso_of, sen_of

CHUNK = 1000
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
    dialect = conn.dialect.name
    columns = list(rows[0])
    # each column's own SQLAlchemy bind processor: dates, times and Money (integer sen on
    # SQLite) are stored exactly as the ORM path would store them
    converted: list[list[Any]] = []
    for c in columns:
        proc = table.c[c].type._cached_bind_processor(conn.dialect)
        col = [r[c] for r in rows]
        converted.append(col if proc is None else [None if v is None else proc(v) for v in col])
    values = list(zip(*converted, strict=True))
    names = ", ".join(columns)
    cursor = conn.connection.cursor()
    try:
        if dialect == "postgresql":
            with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                for v in values:
                    copy.write_row(v)
            if "id" in columns:
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "  # noqa: S608
                    f"(SELECT MAX(id) FROM {table.name}))"
                )
        else:
            mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
            marks = ", ".join([mark] * len(columns))
            cursor.executemany(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", values)  # noqa: S608
    finally:
        cursor.close()


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
    rows: list[Transaction] = field(default_factory=list)
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
    unique = sorted(set(keys))
    c = db.bank_lines.c
    for i in range(0, len(unique), CHUNK):
        chunk = unique[i : i + CHUNK]
        for row in conn.execute(
            select(c.id, c.dedup_key, c.occurrence, c.pending).where(
                and_(c.account_no == account_no, c.dedup_key.in_(chunk))
            )
        ):
            found[(row.dedup_key, row.occurrence)] = (row.id, bool(row.pending))
    return found


def _line_row(
    t: Transaction, key: str, occ: int, file_id: int, file_name: str, run_id: int
) -> dict[str, Any]:
    return {
        "statement_file_id": file_id,
        "source_file": file_name,
        "source_line": t.source_line,
        "bank": t.bank,
        "layout": t.layout,
        "account_no": t.account_no,
        "posted_on": t.posted_on,
        "posted_time": t.posted_time,
        "value_on": t.value_on,
        "initiated_on": t.initiated_on,
        "pending": t.pending,
        "direction": t.direction.value,
        "amount": t.amount,
        "balance": t.balance,
        "description": t.description,
        "channel": t.channel,
        "counterparty": t.counterparty,
        "sender_bank": t.sender_bank,
        "sender_account": t.sender_account,
        "message": t.message,
        "bank_ref": t.bank_ref,
        "is_fee": t.is_fee,
        "dedup_key": key,
        "occurrence": occ,
        "status": "IGNORED" if (t.direction is Direction.DB or t.is_fee) else "UNMATCHED",
        "first_run_id": run_id,
    }


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
    first = statements[0] if statements else None
    total = sum(len(s.transactions) for s in statements)
    known_file = already_imported(conn, sha256)
    if known_file is not None:
        # the very same bytes again: every row resolves to its stored line; record nothing
        resolved = _resolve_known_file(conn, known_file, statements)
        if resolved is not None:
            return resolved
    file_id = int(
        conn.execute(
            insert(db.statement_files).returning(db.statement_files.c.id),
            {
                "run_id": run_id,
                "file_name": file_name,
                "sha256": sha256,
                "status": "IMPORTED",
                "bank": first.bank if first else None,
                "layout": layout,
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
    out = ImportOutcome(file_id=file_id)
    c = db.bank_lines.c
    for st in statements:
        rows = st.transactions
        keyed = keys_with_occurrence(rows)
        existing = _existing_keys(conn, st.account_no, [k for k, _ in keyed])
        new_rows: list[dict[str, Any]] = []
        new_positions: list[int] = []
        line_ids: list[int] = [0] * len(rows)
        for i, (t, (key, occ)) in enumerate(zip(rows, keyed, strict=True)):
            hit = existing.get((key, occ))
            if hit is None:
                new_rows.append(_line_row(t, key, occ, file_id, file_name, run_id))
                new_positions.append(i)
                continue
            line_id, was_pending = hit
            line_ids[i] = line_id
            out.duplicates.append((t.source_line, line_id))
            if was_pending and not t.pending and t.posted_on is not None:
                conn.execute(
                    update(db.bank_lines)
                    .where(c.id == line_id)
                    .values(posted_on=t.posted_on, pending=False, posted_time=t.posted_time)
                )
        ids = next_ids(conn, db.bank_lines, len(new_rows))
        for row, pos, line_id in zip(new_rows, new_positions, ids, strict=True):
            row["id"] = line_id
            line_ids[pos] = line_id
            out.new_line_ids.append(line_id)
        bulk_insert(conn, db.bank_lines, new_rows)
        out.rows.extend(rows)
        out.row_line_ids.extend(line_ids)
    conn.execute(
        update(db.statement_files)
        .where(db.statement_files.c.id == file_id)
        .values(new_lines=len(out.new_line_ids), duplicate_lines=len(out.duplicates))
    )
    return out


def _resolve_known_file(
    conn: Connection, file_id: int, statements: list[Statement]
) -> ImportOutcome:
    out = ImportOutcome(file_id=file_id)
    for st in statements:
        keyed = keys_with_occurrence(st.transactions)
        existing = _existing_keys(conn, st.account_no, [k for k, _ in keyed])
        for t, key in zip(st.transactions, keyed, strict=True):
            line_id, _ = existing[key]
            out.duplicates.append((t.source_line, line_id))
            out.rows.append(t)
            out.row_line_ids.append(line_id)
    return out


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
    """Credit lines still waiting for a decision (UNMATCHED, or REVIEW not decided by a person),
    with their current automatic decision's run, candidates and invoices (``decision_run_id``
    <NA>: never decided)."""
    c = db.bank_lines.c
    d = db.decisions.c
    dialect = conn.dialect.name
    human = (
        select(d.bank_line_id)
        .where(and_(d.active.is_(True), d.decided_by != "auto"))
        .scalar_subquery()
    )
    columns = {
        "line_id": c.id, "bank": c.bank, "account_no": c.account_no,
        "posted_on": iso_of(c.posted_on, dialect), "initiated_on": iso_of(c.initiated_on, dialect),
        "pending": c.pending, "amount_sen": sen_of(c.amount, dialect),
        "counterparty": c.counterparty, "sender_bank": c.sender_bank, "message": c.message,
        "description": c.description, "channel": c.channel, "source_file": c.source_file,
        "source_line": c.source_line,
    }  # fmt: skip
    open_line = and_(c.direction == "CR", c.is_fee.is_(False), c.status.in_(ACTIVE_LINE_STATUSES))
    stmt = select(*columns.values()).where(and_(open_line, c.id.not_in(human)))
    df = frame(conn, stmt, list(columns))
    if line_ids is not None:
        df = df[df["line_id"].isin(list(line_ids))]
    current = frame(
        conn,
        select(d.bank_line_id, d.id, d.run_id, d.candidates, d.invoice_nos)
        .join(db.bank_lines, c.id == d.bank_line_id)
        .where(and_(d.active.is_(True), open_line)),
        ["line_id", "id", "decision_run_id", "candidates", "invoice_nos"],
    )
    current = current.sort_values("id").drop_duplicates("line_id", keep="last").drop(columns="id")
    df = df.merge(current, on="line_id", how="left")
    df["line_id"] = df["line_id"].astype("int64")
    df["decision_run_id"] = df["decision_run_id"].astype("Int64")  # <NA>: never decided
    df["candidates"] = df["candidates"].fillna("").astype(str)
    df["invoice_nos"] = df["invoice_nos"].fillna("").astype(str)
    df["amount_sen"] = df["amount_sen"].astype("int64")
    df["pending"] = df["pending"].astype(bool)
    for col in ("posted_on", "initiated_on"):
        df[col] = pd.to_datetime(df[col], format="ISO8601")
    # a pending line has no posting date yet: its initiation date stands in
    df["posted_on"] = df["posted_on"].fillna(df["initiated_on"])
    for col in ("counterparty", "sender_bank", "message", "description", "channel"):
        df[col] = df[col].fillna("").astype(str)
    return df.reset_index(drop=True)


def load_invoices(conn: Connection) -> pd.DataFrame:
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
    df = frame(conn, select(*columns.values()), list(columns))
    for col in ("amount_sen", "received_sen", "changed_run_id"):
        df[col] = df[col].astype("int64")
    for col in ("issued_on", "due_on"):
        df[col] = pd.to_datetime(df[col], format="ISO8601")
    df["email"] = df["email"].fillna("").str.lower()
    df["client_key"] = df["email"].where(df["email"] != "", df["client_name"].str.upper())
    return df


def load_confirmations(conn: Connection) -> pd.DataFrame:
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
    df = frame(conn, select(*plain, *extra.values()), [col.name for col in plain] + list(extra))
    df["amount_sen"] = df["amount_sen"].astype("Int64")
    df["dest_not_ours"] = df["dest_not_ours"].astype(bool)
    df["transfer_date"] = pd.to_datetime(df["transfer_date"], format="ISO8601")
    df["submitted_at"] = pd.to_datetime(df["submitted_at"], format="ISO8601")
    return df


def load_aliases(conn: Connection) -> pd.DataFrame:
    c = db.payer_aliases.c
    return _read_frame(
        conn, select(c.sender_norm, c.client_key, c.created_at).where(c.removed_at.is_(None))
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
    by_decisions = conn.execute(
        select(func.max(d.run_id)).where(d.decided_by == "auto")
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
    """The active decision (latest) of each of ``line_ids``: id, bank_line_id and the fields
    a new decision is compared on. Many ids: one range scan, filtered here."""
    d = db.decisions.c
    columns = ["id", "bank_line_id", *[f"{k}_old" for k in _DECISION_FIELDS]]
    fields = [d.id, d.bank_line_id, *[d[k] for k in _DECISION_FIELDS]]
    active = d.active.is_(True)
    ids = [int(x) for x in line_ids]
    if not ids:
        return pd.DataFrame(
            {
                c: pd.Series(dtype="int64" if c in ("id", "bank_line_id") else object)
                for c in columns
            }
        )
    if len(ids) <= 20 * CHUNK:
        parts = [
            frame(conn, select(*fields).where(and_(active, d.bank_line_id.in_(ids[i : i + CHUNK]))), columns)
            for i in range(0, len(ids), CHUNK)
        ]  # fmt: skip
        found = pd.concat(parts, ignore_index=True)
    else:
        span = d.bank_line_id.between(min(ids), max(ids))
        found = frame(conn, select(*fields).where(and_(active, span)), columns)
        found = found[found["bank_line_id"].isin(ids)]
    found = found.sort_values("id").drop_duplicates("bank_line_id", keep="last")
    return found.astype({"bank_line_id": "int64"})


def persist_match(conn: Connection, *, run_id: int, result: Any, now: datetime) -> dict[str, int]:
    """Write a MatchResult (reconcile.matching) atomically: decisions, allocations, statuses.

    A line whose new decision equals its active one writes nothing, so re-running over the
    same inputs leaves the database exactly as it was.
    """
    lines: pd.DataFrame = result.lines
    fresh = pd.DataFrame(
        {
            "bank_line_id": lines["line_id"].astype("int64"),
            **{k: lines[k].fillna("").astype(str) for k in _DECISION_FIELDS if k != "score"},
            "score": lines["score"].fillna(0).astype("int64"),
            "signals": lines["signals"].fillna("[]").astype(str),
        }
    )
    old = _active_decisions(conn, fresh["bank_line_id"].to_numpy())
    both = fresh.merge(old, on="bank_line_id", how="left", suffixes=("", "_old"))
    had = both["id"].notna().to_numpy()
    same = had.copy()
    for k in _DECISION_FIELDS:
        same &= (both[k].astype(str) == both[f"{k}_old"].fillna("").astype(str)).to_numpy()
    superseded = both.loc[had & ~same, "id"].astype("int64").tolist()
    changed = fresh[~same]
    new_decisions: list[dict[str, Any]] = [
        {**rec, "run_id": run_id, "decided_by": "auto", "active": True, "created_at": now}
        for rec in changed.to_dict("records")
    ]
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
                "updated_run_id": run_id,  # a change the next run's matching takes into account
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
