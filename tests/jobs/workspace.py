"""A job's working folder for tests: rules.yaml, an inbox of real-layout BCA statements (plus one
file no importer claims), invoices and confirmations; and the comparable state it ends in."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import sys
import time
import traceback
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, select

from reconcile import db

TESTS = Path(__file__).resolve().parents[1]
REPO = TESTS.parent
BCA_SAMPLES = TESTS / "importers" / "bca_klikbca_individual" / "samples"
BILLING = TESTS / "importers" / "billing_samples"
STATEMENTS = ("english_march_with_pend.csv", "no_header_line.csv", "twins_commas_backticks.csv")
JUNK_NAME = "notes.txt"  # sorted between the statements: the rejection happens mid-import
# the run date: the last day of the statements in the inbox (no_header_line.csv runs to 13
# March), since a statement with a row dated after the run date is rejected
AS_OF = date(2026, 3, 13)


def make_workspace(
    root: Path,
    db_url: str,
    *,
    lock_wait_seconds: int = 0,
    junk: bool = True,
    extra_yaml: str = "",
) -> Path:
    """Create the folder; return the path of its rules.yaml."""
    inbox = root / "inbox"
    inbox.mkdir(parents=True)
    for name in STATEMENTS:
        shutil.copy2(BCA_SAMPLES / name, inbox / name)
    if junk:
        (inbox / JUNK_NAME).write_text("minutes of the Monday meeting\n", encoding="utf-8")
    shutil.copy2(BILLING / "invoices_formats_9_1.csv", root / "invoices.csv")
    shutil.copy2(BILLING / "confirmations_formats_10_1.csv", root / "confirmations.csv")
    (root / "var").mkdir()
    rules = root / "rules.yaml"
    rules.write_text(
        f"""accounts:
  - bank: bca
    account_no: "0372543386"
    holder: RINA WULANDARI
database_url: "{db_url}"
keep_inbox: false
as_of: {AS_OF.isoformat()}
paths:
  inbox: inbox
  archive: var/archive
  rejected: var/rejected
  reports: var/reports
  invoices: invoices.csv
  confirmations: confirmations.csv
  log_file: var/logs/reconcile.log
schedule:
  every_minutes: 15
  daily_report_at: "07:00"
  lock_wait_seconds: {lock_wait_seconds}
{extra_yaml}""",
        encoding="utf-8",
    )
    return rules


def input_digests(root: Path) -> list[str]:
    """sha256 of every input file wherever it is now (inbox, archive, rejected), sorted."""
    found = []
    for folder in (root / "inbox", root / "var" / "archive", root / "var" / "rejected"):
        if folder.is_dir():
            for p in folder.iterdir():
                if p.is_file() and not p.name.endswith((".reason.txt", ".tmp")):
                    found.append(hashlib.sha256(p.read_bytes()).hexdigest())
    return sorted(found)


def original_digests() -> list[str]:
    data = [(BCA_SAMPLES / n).read_bytes() for n in STATEMENTS]
    data.append(b"minutes of the Monday meeting\n")
    return sorted(hashlib.sha256(d).hexdigest() for d in data)


# ---------------------------------------------------------------------------------------------
# the state to compare: business tables without ids of runs, row ids or timestamps

_VOLATILE = {
    "id",
    "statement_file_id",
    "first_run_id",
    "updated_run_id",
    "run_id",
    "decision_id",
    "reverses_decision_id",
    "created_at",
    "recorded_at",
}
_LINE_REF = re.compile(r"\bline (\d+)\b")


def _line_keys(conn: Any) -> dict[int, str]:
    c = db.bank_lines.c
    return {
        int(r.id): f"{r.source_file}:{r.source_line}"
        for r in conn.execute(select(c.id, c.source_file, c.source_line))
    }


def _translate(value: Any, keys: dict[int, str], column: str) -> Any:
    """Row ids differ between databases and after a rolled-back insert (PostgreSQL sequences):
    name bank lines by file and line instead."""
    if column in ("bank_line_id", "line_id") and value is not None:
        return keys[int(value)]
    if column in ("line_ids",) and value:
        return ";".join(keys[int(x)] for x in str(value).split(";"))
    if isinstance(value, str):
        return _LINE_REF.sub(lambda m: f"line {keys.get(int(m.group(1)), m.group(1))}", value)
    return value


def _rows(conn: Any, table: Any, keys: dict[int, str], where: Any = None) -> list[tuple[Any, ...]]:
    stmt = select(table) if where is None else select(table).where(where)
    cols = [c.name for c in table.columns if c.name not in _VOLATILE]
    out = []
    for row in conn.execute(stmt):
        m = row._mapping
        out.append(tuple((c, _translate(m[c], keys, c)) for c in cols))
    return sorted(out, key=repr)


def business_state(db_url: str) -> dict[str, Any]:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            keys = _line_keys(conn)
            return {
                "bank_lines": _rows(conn, db.bank_lines, keys),
                "invoices": _rows(conn, db.invoices, keys),
                "confirmations": _rows(conn, db.confirmations, keys),
                "allocations": _rows(conn, db.allocations, keys, db.allocations.c.active.is_(True)),
                "decisions": _rows(conn, db.decisions, keys, db.decisions.c.active.is_(True)),
            }
    finally:
        engine.dispose()


def report_state(root: Path, db_url: str) -> dict[str, Any]:
    """invoices.csv and confirmations.csv (line ids named by file:line), and where files are."""
    engine = create_engine(db_url)
    with engine.connect() as conn:
        keys = _line_keys(conn)
    engine.dispose()
    out: dict[str, Any] = {}
    for name in ("invoices.csv", "confirmations.csv"):
        text = (root / "var" / "reports" / name).read_text(encoding="utf-8")
        lines = text.splitlines()
        header = lines[0].split(",")
        idx = header.index("line_ids")
        rows = []
        for line in lines[1:]:
            cells = line.split(",")  # synthetic inputs: no commas inside cells of these columns
            cells[idx] = _translate(cells[idx], keys, "line_ids")
            rows.append(_translate(",".join(cells), keys, "text"))
        out[name] = [lines[0], *rows]
    for folder in ("inbox", "var/archive", "var/rejected"):
        d = root / folder
        out[folder] = (
            sorted(
                (p.name, p.read_text(encoding="utf-8") if p.name.endswith(".reason.txt") else "")
                for p in d.iterdir()
                if p.is_file() and not p.name.endswith(".tmp")
            )
            if d.is_dir()
            else []
        )
    return out


# ---------------------------------------------------------------------------------------------
# running the job in a real child process (fork: modules already imported, so it is quick)


def run_forked(rules: Path, *, crash_at: str | None = None, kill_after: float | None = None) -> int:
    """Run ``jobs.run_once`` in a forked process; its exit code, or -9 when SIGKILLed."""
    from jobs.run_once import run_once
    from reconcile.pipeline import CRASH_ENV

    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 98
        try:
            if crash_at is None:
                os.environ.pop(CRASH_ENV, None)
            else:
                os.environ[CRASH_ENV] = crash_at
            code = run_once(rules, quiet=True)
        except BaseException:  # report anything to the parent through the exit code
            traceback.print_exc()
            code = 99
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    if kill_after is not None:
        deadline = time.monotonic() + kill_after
        while time.monotonic() < deadline:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return os.waitstatus_to_exitcode(status)
            time.sleep(0.005)
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)
