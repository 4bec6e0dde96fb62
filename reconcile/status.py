"""`reconcile status`: what the job did lately and what waits for a person.

Runs are serialised by the lock, so a run still marked RUNNING while a later run exists was
killed (or its machine died) before it could record its end: it is shown as INTERRUPTED.
"""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import and_, func, select

from reconcile import db
from reconcile.migrate import current_revision
from reconcile.store import make_engine

REVIEW_SHOWN = 10


def collect_status(db_url: str, *, last: int = 10) -> dict[str, Any]:
    engine = make_engine(db_url)
    try:
        if current_revision(engine) is None:
            return {
                "runs": [],
                "open_review": 0,
                "review_items": [],
                "unidentified": 0,
                "oldest_unidentified": None,
                "note": "database is empty: no run yet",
            }
        with engine.connect() as conn:
            r, bl = db.runs.c, db.bank_lines.c
            runs = [
                {
                    "id": row.id,
                    "command": row.command,
                    "started_at": row.started_at,
                    "finished_at": row.finished_at,
                    "as_of": row.as_of,
                    "status": row.status,
                    "exit_code": row.exit_code,
                    "inputs": json.loads(row.input_hashes or "{}"),
                    "counts": json.loads(row.counts or "{}"),
                    "message": row.message,
                }
                for row in conn.execute(select(db.runs).order_by(r.id.desc()).limit(last))
            ]
            for run in runs[1:]:  # not the newest: a later run has started since
                if run["status"] == "RUNNING":
                    run["status"] = "INTERRUPTED"
            review_items = [
                {
                    "line_id": row.id,
                    "posted_on": row.posted_on,
                    "amount": f"{row.amount:f}",
                    "counterparty": row.counterparty,
                    "source_file": row.source_file,
                }
                for row in conn.execute(
                    select(bl.id, bl.posted_on, bl.amount, bl.counterparty, bl.source_file)
                    .where(bl.status == "REVIEW")
                    .order_by(bl.posted_on, bl.id)
                    .limit(REVIEW_SHOWN)
                )
            ]
            review = conn.execute(select(func.count()).where(bl.status == "REVIEW")).scalar_one()
            unmatched = conn.execute(
                select(func.count()).where(and_(bl.status == "UNMATCHED", bl.direction == "CR"))
            ).scalar_one()
            oldest = conn.execute(
                select(bl.id, bl.posted_on, bl.amount, bl.counterparty, bl.source_file)
                .where(and_(bl.status == "UNMATCHED", bl.direction == "CR"))
                .order_by(bl.posted_on, bl.id)
                .limit(1)
            ).first()
        return {
            "runs": runs,
            "open_review": int(review),
            "review_items": review_items,
            "unidentified": int(unmatched),
            "oldest_unidentified": None
            if oldest is None
            else {
                "line_id": oldest.id,
                "posted_on": oldest.posted_on,
                "amount": f"{oldest.amount:f}",
                "counterparty": oldest.counterparty,
                "source_file": oldest.source_file,
            },
        }
    finally:
        engine.dispose()


def render_status(info: dict[str, Any], console: Console | None = None) -> None:
    console = console or Console()
    table = Table(title="Last runs")
    for col in ("run", "command", "started", "as of", "status", "exit", "inputs", "counts"):
        table.add_column(col)
    for run in info["runs"]:
        counts = run["counts"]
        table.add_row(
            str(run["id"]),
            run["command"],
            str(run["started_at"])[:19],
            str(run["as_of"]),
            run["status"],
            "" if run["exit_code"] is None else str(run["exit_code"]),
            "\n".join(f"{k} {v[:12]}" for k, v in run["inputs"].items()),
            ", ".join(f"{k}={v}" for k, v in sorted(counts.items())),
        )
    console.print(table)
    if info.get("note"):
        console.print(info["note"])
    console.print(f"open review items: {info['open_review']}")
    for item in info["review_items"]:
        console.print(
            f"  line {item['line_id']} on {item['posted_on']}: Rp {item['amount']} "
            f"from {item['counterparty'] or 'unknown sender'} ({item['source_file']})"
        )
    console.print(f"unidentified credits: {info['unidentified']}")
    o = info["oldest_unidentified"]
    if o:
        console.print(
            f"oldest unidentified credit: line {o['line_id']} on {o['posted_on']}, "
            f"Rp {o['amount']} from {o['counterparty'] or 'unknown sender'} ({o['source_file']})"
        )
