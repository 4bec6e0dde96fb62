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

import logging
import os
import shutil
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import repeat
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from importers.base import sha256_file
from reconcile import readahead, store
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


@dataclass(slots=True)
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
    """Stage 1: every statement file in the inbox, each in its own transaction, in inbox order.

    Files are read (detect, parse, prove, encode) ahead in worker processes while this process
    stores the previous one (:mod:`reconcile.readahead`); a refused file is recorded and moved
    aside alone, the others go on.
    """
    rules = opts.rules
    accounts = rules.account_banks()
    seen: list[SeenLine] = []
    archive = rules.path(rules.paths.archive)
    rejected = rules.path(rules.paths.rejected)
    assert archive is not None and rejected is not None
    files = inbox_files(opts.inbox)
    step("import.begin", total=len(files))
    reads = readahead.read_in_order(
        files, as_of=opts.as_of, accounts=accounts, dialect=engine.dialect
    )
    try:
        for read in reads:
            path, sha = read.path, read.sha256
            result.input_hashes[path.name] = sha
            if read.encoded is None:
                assert read.reason is not None
                if read.unexpected:
                    log.error("unexpected error while reading %s\n%s", path.name, read.trace)
                _reject(engine, opts, run_id, result, path, sha, read.reason, rejected)
                continue
            step("import.parsed")
            with engine.begin() as conn:
                outcome = store.import_encoded(
                    conn,
                    run_id=run_id,
                    file_name=path.name,
                    sha256=sha,
                    encoded=read.encoded,
                    now=opts.clock(),
                )
                step("import.uncommitted")
            step("import.committed")
            layout = read.encoded.layout
            del read
            seen += _seen_lines(path.name, outcome)
            result.counts["lines_new"] = result.counts.get("lines_new", 0) + len(
                outcome.new_line_ids
            )
            result.counts["lines_duplicate"] = result.counts.get("lines_duplicate", 0) + len(
                outcome.duplicates
            )
            result.counts["files_imported"] = result.counts.get("files_imported", 0) + 1
            log.info(
                "imported %s (%s): %d new lines, %d already known",
                path.name,
                layout,
                len(outcome.new_line_ids),
                len(outcome.duplicates),
            )
            if not opts.keep_inbox:
                move_aside(path, archive, sha)
            step("import.archived")
    finally:
        reads.close()  # stops the workers, also when storing failed
    return seen


def _seen_lines(file_name: str, outcome: store.ImportOutcome) -> list[SeenLine]:
    """One SeenLine per row of the file, in file order."""
    if not outcome.duplicates:
        dup = repeat(False)
    else:
        dup_lines = {src for src, _ in outcome.duplicates}
        dup = (src in dup_lines for src in outcome.source_lines)  # type: ignore[assignment]
    return list(map(SeenLine, outcome.row_line_ids, repeat(file_name), outcome.source_lines, dup))


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
    outcome = decide(credits, invoices, confirmations, aliases, opts.rules.matching, opts.as_of)
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
