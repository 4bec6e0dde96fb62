"""`reconcile status`: what the job did lately and what waits for a person."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import and_, func, select

from reconcile import db
from reconcile.migrate import current_revision
from reconcile.store import make_engine


def collect_status(db_url: str, *, last: int = 10) -> dict[str, Any]:
    engine = make_engine(db_url)
    try:
        if current_revision(engine) is None:
            return {
                "runs": [],
                "open_review": 0,
                "unidentified": 0,
                "oldest_unidentified": None,
                "note": "database is empty: no run yet",
            }
        with engine.connect() as conn:
            r = db.runs.c
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
            bl = db.bank_lines.c
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


def render_status(info: dict[str, Any]) -> None:
    console = Console()
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
    console.print(f"open review items: {info['open_review']}")
    console.print(f"unidentified credits: {info['unidentified']}")
    o = info["oldest_unidentified"]
    if o:
        console.print(
            f"oldest unidentified credit: line {o['line_id']} on {o['posted_on']}, "
            f"Rp {o['amount']} from {o['counterparty'] or 'unknown sender'} ({o['source_file']})"
        )
