"""The job: runs each stage in order, trapping errors per input file.

Every stage commits on its own terms (crash safety):
* one input file = one transaction (its statement_files row and its lines), then the file moves
  inbox → archive/ (or rejected/ with a ``.reason.txt``) by rename, after the commit;
* invoices + confirmations upsert = one transaction;
* a run's decisions = one transaction;
* reports are written to a temporary name and renamed into place.
A run killed at any point and started again converges to the state of an uninterrupted run:
a file committed but not yet moved is seen again, its lines are recognised as already stored.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from importers import ParseContext, read_statement_file
from importers.base import sha256_file
from reconcile import store
from reconcile.config import Rules, snapshot
from reconcile.errors import FileRejected, ReconcileError
from reconcile.migrate import upgrade

log = logging.getLogger("reconcile")

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_REJECTED = 3
EXIT_LOCKED = 4

CRASH_ENV = "RECONCILE_CRASH_AT"
_step_counts: dict[str, int] = {}
step_listeners: list[Callable[[str, dict[str, Any]], None]] = []


def step(name: str, **detail: Any) -> None:
    """A named point of the run. Listeners (the progress display) hear of it; and when
    $RECONCILE_CRASH_AT is ``<name>:<n>`` the n-th passage kills this process with SIGKILL
    (crash-safety tests: a run killed there must converge when started again)."""
    count = _step_counts[name] = _step_counts.get(name, 0) + 1
    for listener in step_listeners:
        listener(name, detail)
    if os.environ.get(CRASH_ENV) == f"{name}:{count}":
        os.kill(os.getpid(), signal.SIGKILL)


@dataclass
class RunOptions:
    rules: Rules
    inbox: Path
    out: Path
    db_url: str
    as_of: date
    invoices: Path | None = None
    confirmations: Path | None = None
    keep_inbox: bool = False
    command: str = "run"
    load_sources: bool = True
    match: bool = True
    write_reports: bool = True
    clock: Callable[[], datetime] = datetime.now


@dataclass
class Rejection:
    file: str
    reason: str
    line: int | None = None


@dataclass
class SeenLine:
    """A bank line as this run saw it: new, or a repeat of a stored line."""

    line_id: int
    source_file: str
    source_line: int
    duplicate: bool


@dataclass
class RunResult:
    run_id: int
    exit_code: int
    counts: dict[str, int] = field(default_factory=dict)
    rejections: list[Rejection] = field(default_factory=list)
    reports: list[Path] = field(default_factory=list)
    input_hashes: dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        c = self.counts
        return (
            f"run {self.run_id}: {c.get('lines_new', 0)} bank lines imported "
            f"({c.get('lines_duplicate', 0)} already known), "
            f"{c.get('invoices_paid', 0)} invoices paid, "
            f"{c.get('review', 0)} items to review, "
            f"{c.get('unmatched', 0)} credits unidentified, "
            f"{len(self.rejections)} rejected"
        )


def inbox_files(inbox: Path) -> list[Path]:
    if not inbox.is_dir():
        return []
    return sorted(
        p
        for p in inbox.iterdir()
        if p.is_file() and not p.name.startswith(".") and not p.name.endswith(".reason.txt")
    )


def _unique_target(folder: Path, name: str, sha: str) -> Path:
    target = folder / name
    if target.exists():
        target = folder / f"{Path(name).stem}.{sha[:12]}{Path(name).suffix}"
    return target


def move_aside(path: Path, folder: Path, sha: str, reason: str | None = None) -> Path:
    """Atomic rename into ``folder`` (never a delete); the reason file is written first."""
    folder.mkdir(parents=True, exist_ok=True)
    target = _unique_target(folder, path.name, sha)
    if reason is not None:
        tmp = target.with_name(target.name + ".reason.txt.tmp")
        tmp.write_text(reason + "\n", encoding="utf-8")
        os.replace(tmp, target.with_name(target.name + ".reason.txt"))
    try:
        os.replace(path, target)
    except OSError:
        shutil.move(str(path), str(target))  # another file system: copy, then remove
    return target


def prepare_database(engine: Engine, rules: Rules) -> None:
    upgrade(engine)
    with engine.begin() as conn:
        store.sync_accounts(conn, rules)


def import_inbox(
    engine: Engine, opts: RunOptions, run_id: int, result: RunResult
) -> list[SeenLine]:
    """Stage 1: every statement file in the inbox, each in its own transaction."""
    rules = opts.rules
    accounts = rules.account_banks()
    ctx = ParseContext(as_of=opts.as_of, accounts=accounts)
    seen: list[SeenLine] = []
    archive = rules.path(rules.paths.archive)
    rejected = rules.path(rules.paths.rejected)
    assert archive is not None and rejected is not None
    files = inbox_files(opts.inbox)
    step("import.begin", total=len(files))
    for path in files:
        sha = sha256_file(path)
        result.input_hashes[path.name] = sha
        try:
            importer, statements = read_statement_file(path, ctx, accounts)
        except FileRejected as exc:
            _reject(engine, opts, run_id, result, path, sha, str(exc), rejected)
            continue
        except Exception as exc:  # a defect in an importer must not stop the other files
            log.exception("unexpected error while reading %s", path.name)
            reason = f"{path.name}: unexpected error while reading the file ({type(exc).__name__}: {exc})"
            _reject(engine, opts, run_id, result, path, sha, reason, rejected)
            continue
        step("import.parsed")
        with engine.begin() as conn:
            outcome = store.import_statements(
                conn,
                run_id=run_id,
                file_name=path.name,
                sha256=sha,
                layout=importer.name,
                statements=statements,
                now=opts.clock(),
            )
            step("import.uncommitted")
        step("import.committed")
        dup_lines = {src for src, _ in outcome.duplicates}
        for t, line_id in zip(outcome.rows, outcome.row_line_ids, strict=True):
            seen.append(SeenLine(line_id, path.name, t.source_line, t.source_line in dup_lines))
        result.counts["lines_new"] = result.counts.get("lines_new", 0) + len(outcome.new_line_ids)
        result.counts["lines_duplicate"] = result.counts.get("lines_duplicate", 0) + len(
            outcome.duplicates
        )
        result.counts["files_imported"] = result.counts.get("files_imported", 0) + 1
        log.info(
            "imported %s (%s): %d new lines, %d already known",
            path.name,
            importer.name,
            len(outcome.new_line_ids),
            len(outcome.duplicates),
        )
        if not opts.keep_inbox:
            move_aside(path, archive, sha)
        step("import.archived")
    return seen


def _reject(
    engine: Engine,
    opts: RunOptions,
    run_id: int,
    result: RunResult,
    path: Path,
    sha: str,
    reason: str,
    rejected: Path,
) -> None:
    log.warning("rejected %s", reason)
    with engine.begin() as conn:
        store.record_rejected_file(
            conn, run_id=run_id, file_name=path.name, sha256=sha, reason=reason, now=opts.clock()
        )
        step("reject.uncommitted")
    step("reject.committed")
    result.rejections.append(Rejection(path.name, reason))
    if not opts.keep_inbox:
        move_aside(path, rejected, sha, reason)
    step("reject.moved")


def _load_source(result: RunResult, label: str, loader: Callable[[], Any]) -> pd.DataFrame | None:
    """Call one source loader; a refused file or an unreachable WHMCS database is a rejection
    (the run goes on with what is already stored), unreadable rows are rejections too."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        res = loader()
    except FileRejected as exc:
        log.warning("rejected %s", exc)
        result.rejections.append(Rejection(exc.file, str(exc)))
        return None
    except SQLAlchemyError as exc:
        reason = f"{label}: cannot read the WHMCS database ({type(exc).__name__}: {exc.args[0] if exc.args else ''})"
        log.error(reason)
        result.rejections.append(Rejection(label, reason))
        return None
    for row in res.rejected_rows:
        result.rejections.append(Rejection(row.file, str(row), row.line))
    frame: pd.DataFrame = res.frame
    return frame


def load_sources(
    engine: Engine, opts: RunOptions, run_id: int, result: RunResult
) -> tuple[list[str], list[str]]:
    """Stage 2: invoices and confirmations (files or WHMCS), upserted in one transaction."""
    from importers import billing, whmcs

    rules = opts.rules
    url = rules.sources.whmcs_url or ""
    inv_frame: pd.DataFrame | None = None
    conf_frame: pd.DataFrame | None = None
    if rules.sources.invoices == "whmcs":
        inv_frame = _load_source(
            result, "WHMCS invoices", lambda: whmcs.load_whmcs_invoices(url, rules)
        )
    elif opts.invoices is not None:
        inv_path = opts.invoices
        if inv_path.exists():
            result.input_hashes[inv_path.name] = sha256_file(inv_path)
        inv_frame = _load_source(
            result, inv_path.name, lambda: billing.load_invoices(inv_path, rules)
        )
    with engine.connect() as conn:
        known = set(store.load_invoices(conn)["invoice_no"])
    if inv_frame is not None:
        known |= set(inv_frame["invoice_no"])
    if rules.sources.confirmations == "whmcs":
        conf_frame = _load_source(
            result,
            "WHMCS tickets",
            lambda: whmcs.load_whmcs_confirmations(url, rules, known, opts.as_of),
        )
    elif opts.confirmations is not None:
        conf_path = opts.confirmations
        if conf_path.exists():
            result.input_hashes[conf_path.name] = sha256_file(conf_path)
        conf_frame = _load_source(
            result,
            conf_path.name,
            lambda: billing.load_confirmations(conf_path, rules, known, opts.as_of),
        )
    with engine.begin() as conn:
        if inv_frame is not None and len(inv_frame):
            stats = store.upsert_invoices(conn, run_id=run_id, frame=inv_frame, now=opts.clock())
            result.counts["invoices_new"] = stats["new"]
            result.counts["invoices_changed"] = stats["changed"]
        if conf_frame is not None and len(conf_frame):
            stats = store.upsert_confirmations(
                conn, run_id=run_id, frame=conf_frame, now=opts.clock()
            )
            result.counts["confirmations_new"] = stats["new"]
            result.counts["confirmations_changed"] = stats["changed"]
        step("sources.uncommitted")
    inv_nos = [] if inv_frame is None else inv_frame["invoice_no"].tolist()
    tickets = [] if conf_frame is None else conf_frame["ticket_id"].tolist()
    return inv_nos, tickets


def match(engine: Engine, opts: RunOptions, run_id: int, result: RunResult) -> list[int]:
    """Stage 3: the pure matcher over what is still open; decisions committed atomically."""
    from reconcile.matching import decide

    with engine.connect() as conn:
        credits = store.load_credits(conn)
        invoices = store.load_invoices(conn)
        confirmations = store.load_confirmations(conn)
        aliases = store.load_aliases(conn)
        mark = store.last_match(conn)
    open_lines = len(credits)
    credits = _to_decide(credits, invoices, confirmations, aliases, mark, opts)
    result.counts["lines_considered"] = len(credits)
    result.counts["lines_left_as_decided"] = open_lines - len(credits)
    outcome = decide(credits, invoices, confirmations, aliases, opts.rules.matching, opts.as_of)
    outcome = replace(
        outcome,
        invoices=_changed(outcome.invoices, invoices, "invoice_no"),
        confirmations=_changed(outcome.confirmations, confirmations, "ticket_id"),
    )
    step("match.decided")
    with engine.begin() as conn:
        stats = store.persist_match(conn, run_id=run_id, result=outcome, now=opts.clock())
        step("match.uncommitted")
    lines = outcome.lines
    result.counts["decisions_written"] = stats["decisions"]
    result.counts["matched"] = int((lines["status"] == "MATCHED").sum()) if len(lines) else 0
    result.counts["review"] = int((lines["status"] == "REVIEW").sum()) if len(lines) else 0
    result.counts["unmatched"] = int((lines["status"] == "UNMATCHED").sum()) if len(lines) else 0
    inv = outcome.invoices
    result.counts["invoices_paid"] = int((inv["status"] == "PAID").sum()) if len(inv) else 0
    return [int(x) for x in credits["line_id"]]


def _to_decide(
    credits: pd.DataFrame,
    invoices: pd.DataFrame,
    confirmations: pd.DataFrame,
    aliases: pd.DataFrame,
    mark: store.MatchMark | None,
    opts: RunOptions,
) -> pd.DataFrame:
    """The open credits this run decides (reconcile.affected): all of them on the first run or
    when the matching rules changed since the last matching run, else the new lines and those
    that what changed since can reach."""
    from reconcile.affected import affected
    from reconcile.calendar import BankingCalendar

    rules = opts.rules.matching
    if mark is None or mark.matching != json.dumps(
        snapshot(opts.rules)["matching"], sort_keys=True
    ):
        return credits
    since = mark.run_id
    conf_changed = confirmations["updated_run_id"].fillna(confirmations["first_run_id"]).fillna(0)
    chosen = affected(
        credits,
        invoices,
        confirmations,
        aliases,
        new_lines=credits["decision_run_id"].isna().to_numpy(),
        changed_invoices=(invoices["changed_run_id"] > since).to_numpy(),
        changed_confirmations=(conf_changed.astype("int64") > since).to_numpy(),
        changed_aliases=(pd.to_datetime(aliases["created_at"]) >= mark.started_at).to_numpy(),
        rules=rules,
        calendar=BankingCalendar(rules.extra_holidays),
    )
    return credits[chosen].reset_index(drop=True)


_OUTCOME_COLUMNS = {
    "invoice_no": ("status", "received_sen", "codes", "reason"),
    "ticket_id": ("status", "codes", "line_ids", "reason"),
}


def _changed(outcome: pd.DataFrame, stored: pd.DataFrame, key: str) -> pd.DataFrame:
    """The outcome rows that differ from what is stored (only those are written)."""
    columns = [c for c in _OUTCOME_COLUMNS[key] if c in stored]
    if not len(outcome) or not len(stored):
        return outcome
    before = stored[[key, *columns]].astype({c: str for c in columns})
    after = outcome[[key, *columns]].astype({c: str for c in columns})
    both = after.merge(before, on=key, how="left", suffixes=("", "_before"), indicator=True)
    same = (both["_merge"] == "both").to_numpy().copy()
    for c in columns:
        same &= (both[c] == both[f"{c}_before"].fillna("")).to_numpy()
    return outcome[~same].reset_index(drop=True)


def run(opts: RunOptions) -> RunResult:
    """One complete run. Returns the result with its exit code; raises only on a defect."""
    from reconcile import reports
    from reconcile.logs import set_run_id

    _step_counts.clear()
    engine = store.make_engine(opts.db_url)
    try:
        prepare_database(engine, opts.rules)
        with engine.begin() as conn:
            run_id = store.start_run(
                conn,
                as_of=opts.as_of,
                command=opts.command,
                snapshot=snapshot(opts.rules),
                now=opts.clock(),
            )
        result = RunResult(run_id=run_id, exit_code=EXIT_OK)
        set_run_id(run_id)
        step("run.started", run_id=run_id)
        try:
            seen = import_inbox(engine, opts, run_id, result)
            step("sources.begin")
            inv_nos, tickets = (
                load_sources(engine, opts, run_id, result) if opts.load_sources else ([], [])
            )
            step("sources.committed")
            considered = match(engine, opts, run_id, result) if opts.match else []
            step("match.committed")
            if opts.write_reports:
                result.reports = reports.write_run_reports(
                    engine,
                    opts,
                    run_id,
                    seen=seen,
                    considered=considered,
                    invoice_nos=inv_nos,
                    ticket_ids=tickets,
                    rejections=result.rejections,
                )
            step("reports.written")
        except ReconcileError as exc:
            _finish(engine, opts, result, "FAILED", EXIT_FAILURE, str(exc))
            raise
        except BaseException as exc:
            _finish(engine, opts, result, "FAILED", EXIT_FAILURE, f"{type(exc).__name__}: {exc}")
            raise
        result.exit_code = EXIT_REJECTED if result.rejections else EXIT_OK
        _finish(engine, opts, result, "COMPLETED", result.exit_code, result.summary())
        step("run.finished")
        return result
    finally:
        engine.dispose()


def _finish(
    engine: Engine, opts: RunOptions, result: RunResult, status: str, code: int, message: str
) -> None:
    try:
        with engine.begin() as conn:
            store.finish_run(
                conn,
                result.run_id,
                status=status,
                exit_code=code,
                now=opts.clock(),
                counts=result.counts | {"rejected": len(result.rejections)},
                input_hashes=result.input_hashes,
                message=message,
            )
    except Exception:  # the database itself may be what failed; the original error matters more
        log.exception("could not record the end of run %s", result.run_id)
