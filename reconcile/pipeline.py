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

import hashlib
import json
import logging
import os
import shutil
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sqlalchemy import Connection, Engine

from importers.base import gc_paused, sha256_file
from reconcile import db, readahead, store
from reconcile.config import Rules, snapshot
from reconcile.errors import FileRejected, ReconcileError
from reconcile.migrate import upgrade

if TYPE_CHECKING:
    from reconcile.matching import Book

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


@dataclass(frozen=True)
class SeenLines:
    """The bank lines a run saw, in file order, column by column: each row's line id (new, or
    the stored line it repeats), file, line in that file and whether it was a repeat. A run
    over a year of exports sees a million: kept as arrays through the match (an object per
    line held 132 MiB there, the arrays 21 MB)."""

    line_id: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    source_line: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    duplicate: npt.NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, bool))
    files: tuple[str, ...] = ()
    file_index: npt.NDArray[np.int32] = field(default_factory=lambda: np.zeros(0, np.int32))

    def __len__(self) -> int:
        return len(self.line_id)

    @property
    def source_file(self) -> npt.NDArray[np.object_]:
        """Each row's file name (one object per file)."""
        return np.array([*self.files, ""], dtype=object)[self.file_index]

    @classmethod
    def of_file(cls, file_name: str, outcome: store.ImportOutcome) -> SeenLines:
        """One row per row of the file, in file order."""
        source_line = np.asarray(outcome.source_lines, dtype=np.int64)
        duplicate = np.zeros(len(source_line), dtype=bool)
        if outcome.duplicates:
            repeated = np.fromiter((src for src, _ in outcome.duplicates), dtype=np.int64)
            duplicate = np.isin(source_line, repeated)
        return cls(
            np.asarray(outcome.row_line_ids, dtype=np.int64),
            source_line,
            duplicate,
            (file_name,),
            np.zeros(len(source_line), dtype=np.int32),
        )

    @classmethod
    def joined(cls, parts: Sequence[SeenLines]) -> SeenLines:
        """The parts one after another (one copy of each array, however many files)."""
        if not parts:
            return cls()
        offsets = np.cumsum([0, *(len(p.files) for p in parts[:-1])])
        return cls(
            np.concatenate([p.line_id for p in parts]),
            np.concatenate([p.source_line for p in parts]),
            np.concatenate([p.duplicate for p in parts]),
            tuple(name for p in parts for name in p.files),
            np.concatenate(
                [p.file_index + int(k) for p, k in zip(parts, offsets, strict=True)]
            ).astype(np.int32),
        )


@dataclass
class RunResult:
    run_id: int
    exit_code: int
    counts: dict[str, int] = field(default_factory=dict)
    rejections: list[Rejection] = field(default_factory=list)
    reports: list[Path] = field(default_factory=list)
    input_hashes: dict[str, str] = field(default_factory=dict)
    # invoice numbers and ticket ids whose matching state this run's match changes
    changed_by_match: tuple[list[str], list[str]] = ([], [])

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
    except FileNotFoundError:
        if path.exists():
            raise
        # gone since it was read (removed by hand, a sync client): what was read is stored
        log.warning("%s vanished before it could be moved to %s", path.name, folder)
    except OSError:
        shutil.move(str(path), str(target))  # another file system: copy, then remove
    return target


def prepare_database(engine: Engine, rules: Rules) -> None:
    upgrade(engine)
    with engine.begin() as conn:
        store.sync_accounts(conn, rules)


def import_inbox(engine: Engine, opts: RunOptions, run_id: int, result: RunResult) -> SeenLines:
    """Stage 1: every statement file in the inbox, each in its own transaction, in inbox order.

    Files are read (detect, parse, prove, encode) ahead in worker processes while this process
    stores the previous one (:mod:`reconcile.readahead`); a refused file is recorded and moved
    aside alone, the others go on.
    """
    rules = opts.rules
    accounts = rules.account_banks()
    seen: list[SeenLines] = []  # per file, joined once at the end
    archive = rules.path(rules.paths.archive)
    rejected = rules.path(rules.paths.rejected)
    assert archive is not None and rejected is not None
    files = inbox_files(opts.inbox)
    step("import.begin", total=len(files))
    reads = readahead.read_in_order(
        files, as_of=opts.as_of, accounts=accounts, dialect=engine.dialect
    )
    try:
        # no cyclic GC while files are stored: the allocations of a file's rows (unpickling
        # its read, binding its values) would trigger collections that re-scan every object
        # the run holds (the few cycles made wait for the next one)
        with gc_paused():
            for read in reads:
                path, sha = read.path, read.sha256
                if read.vanished:  # no bytes to record or hash, nothing to move aside
                    assert read.reason is not None
                    log.warning("skipped %s", read.reason)
                    result.rejections.append(Rejection(path.name, read.reason))
                    continue
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
                seen.append(SeenLines.of_file(path.name, outcome))
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
    return SeenLines.joined(seen)


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
    except OSError as exc:  # gone (or locked) since the run started
        reason = (
            f"{label}: file vanished or unreadable: {exc.strerror or exc} ({type(exc).__name__})"
        )
        log.warning("rejected %s", reason)
        result.rejections.append(Rejection(label, reason))
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


# Bump when importers/billing.py or importers/whmcs.py read an unchanged file differently: the
# next run then loads every source again instead of skipping it.
SOURCE_READER_VERSION = 1


def reader_settings(rules: Rules, kind: str) -> str:
    """sha256 of what reading a source of ``kind`` depends on besides its bytes and the run date
    (column names, the company accounts and invoice-number digits a confirmation is read
    with, the reader's version)."""
    import reconcile

    parts: dict[str, Any] = {
        "kind": kind,
        "version": reconcile.__version__,
        "reader": SOURCE_READER_VERSION,
    }
    if kind == "invoices":
        parts["columns"] = rules.sources.invoice_columns
    else:
        parts["columns"] = rules.sources.confirmation_columns
        parts["digits"] = list(rules.matching.invoice_number_digits)
        parts["accounts"] = [a.model_dump(mode="json") for a in rules.accounts]
        parts["department"] = rules.sources.whmcs_billing_department
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class _SourceFile:
    """One source as this run sees it: where it comes from, its bytes' hash, its settings."""

    kind: str
    origin: str
    sha256: str
    settings: str


def _source_file(kind: str, path: Path, rules: Rules, result: RunResult) -> _SourceFile | None:
    try:
        sha = sha256_file(path)
    except OSError:
        return None  # missing, vanished or unreadable: the reader rejects it, naming the file
    result.input_hashes[path.name] = sha
    return _SourceFile(kind, str(path.resolve()), sha, reader_settings(rules, kind))


def _unchanged(last: store.SourceLoad | None, now: _SourceFile | None) -> bool:
    """The latest load of this kind read these very bytes with these settings, in a run that
    completed (so nothing since has replaced what it loaded)."""
    return (
        last is not None
        and now is not None
        and last.run_completed
        and (last.origin, last.sha256, last.settings) == (now.origin, now.sha256, now.settings)
    )


def intake_as_of(as_of: date, latest_submitted_on: date | None) -> date | None:
    """The run date as a confirmation's intake sees it. A typed transfer date is refused when
    it is after the submission or after the run date; once the run date reaches the latest
    submission, every later run date reads the file alike."""
    if latest_submitted_on is None:
        return None
    return min(as_of, latest_submitted_on)


def _replay(result: RunResult, kind: str, last: store.SourceLoad) -> None:
    """A skipped source: its unreadable rows are reported again, as a re-read would."""
    for file, line, reason in last.rejected_rows:
        result.rejections.append(Rejection(file, reason, line))
    result.counts[f"{kind}_skipped"] = 1
    log.info("%s unchanged since run %d: not read again", kind, last.run_id)


def _rejected_rows(result: RunResult, before: int) -> list[tuple[str, int | None, str]]:
    return [(r.file, r.line, r.reason) for r in result.rejections[before:]]


def load_sources(
    engine: Engine, opts: RunOptions, run_id: int, result: RunResult
) -> tuple[list[str], list[str]]:
    """Stage 2: invoices and confirmations (files or WHMCS), upserted in one transaction.

    A file byte-identical to the one the latest load read (in a completed run, with the same
    reader settings) is not read again; confirmations also need the same set of invoice
    numbers and the same intake run date (:func:`intake_as_of`). Returns the invoice numbers
    and ticket ids this run inserted or changed.
    """
    with engine.begin() as conn:
        _load_invoices(conn, opts, run_id, result)
        _load_confirmations(conn, opts, run_id, result)
        step("sources.uncommitted")
        inv_nos = store.source_rows_changed_since(conn, db.invoices, "invoice_no", run_id - 1)
        tickets = store.source_rows_changed_since(conn, db.confirmations, "ticket_id", run_id - 1)
    return inv_nos, tickets


def _load_invoices(conn: Connection, opts: RunOptions, run_id: int, result: RunResult) -> None:
    from importers import billing, whmcs

    rules = opts.rules
    before = len(result.rejections)
    if rules.sources.invoices == "whmcs":
        url = rules.sources.whmcs_url or ""
        source = _SourceFile("invoices", "whmcs", "", reader_settings(rules, "invoices"))
        frame = _load_source(
            result, "WHMCS invoices", lambda: whmcs.load_whmcs_invoices(url, rules)
        )
    elif opts.invoices is not None:
        path = opts.invoices
        found = _source_file("invoices", path, rules, result)
        last = store.last_source_load(conn, "invoices")
        if last is not None and _unchanged(last, found):
            _replay(result, "invoices", last)
            return
        source = found or _SourceFile("invoices", str(path), "", "")
        frame = _load_source(result, path.name, lambda: billing.load_invoices(path, rules))
    else:
        return
    if frame is None:
        return  # refused (a rejection says why): what is stored stays as it is
    _store_source(
        conn, opts, run_id, result, "invoices", frame,
        origin=source.origin, sha256=source.sha256, settings=source.settings,
        row_count=len(frame), rejected_rows=_rejected_rows(result, before),
    )  # fmt: skip


def _store_source(
    conn: Connection,
    opts: RunOptions,
    run_id: int,
    result: RunResult,
    kind: str,
    frame: pd.DataFrame,
    **load: Any,
) -> None:
    """Upsert the rows read from the invoice or confirmation source, count the new and changed
    ones, and record the load (``load``: what ``store.record_source_load`` keeps of it)."""
    upsert = store.upsert_invoices if kind == "invoices" else store.upsert_confirmations
    stats = {"new": 0, "changed": 0}
    if len(frame):
        stats = upsert(conn, run_id=run_id, frame=frame, now=opts.clock())
    result.counts[f"{kind}_new"] = stats["new"]
    result.counts[f"{kind}_changed"] = stats["changed"]
    store.record_source_load(conn, run_id=run_id, kind=kind, stats=stats, now=opts.clock(), **load)


def _load_confirmations(conn: Connection, opts: RunOptions, run_id: int, result: RunResult) -> None:
    from importers import billing, whmcs

    rules = opts.rules
    before = len(result.rejections)
    known_count = store.count_rows(conn, db.invoices)
    if rules.sources.confirmations == "whmcs":
        url = rules.sources.whmcs_url or ""
        source = _SourceFile("confirmations", "whmcs", "", reader_settings(rules, "confirmations"))

        known = store.invoice_numbers(conn)  # our database: its errors are not WHMCS's

        def read() -> Any:
            return whmcs.load_whmcs_confirmations(url, rules, known, opts.as_of)

        frame = _load_source(result, "WHMCS tickets", read)
    elif opts.confirmations is not None:
        path = opts.confirmations
        found = _source_file("confirmations", path, rules, result)
        last = store.last_source_load(conn, "confirmations")
        if last is not None and _unchanged(last, found):
            now_as_of = intake_as_of(opts.as_of, last.latest_submitted_on)
            if last.known_invoices == known_count and last.intake_as_of == now_as_of:
                _replay(result, "confirmations", last)
                return
            if _reread_part(conn, opts, run_id, result, last, now_as_of, known_count):
                return
        source = found or _SourceFile("confirmations", str(path), "", "")

        known = store.invoice_numbers(conn)

        def read() -> Any:
            return billing.load_confirmations(path, rules, known, opts.as_of)

        frame = _load_source(result, path.name, read)
    else:
        return
    if frame is None:
        return
    submitted = frame["submitted_at"].dropna() if len(frame) else pd.Series(dtype=object)
    latest = pd.Timestamp(submitted.max()).date() if len(submitted) else None
    _store_source(
        conn, opts, run_id, result, "confirmations", frame,
        origin=source.origin, sha256=source.sha256, settings=source.settings,
        row_count=len(frame), rejected_rows=_rejected_rows(result, before),
        intake_as_of=intake_as_of(opts.as_of, latest), latest_submitted_on=latest,
        known_invoices=known_count,
    )  # fmt: skip


def _reread_part(
    conn: Connection,
    opts: RunOptions,
    run_id: int,
    result: RunResult,
    last: store.SourceLoad,
    now_as_of: date | None,
    known_count: int,
) -> bool:
    """The confirmations file is unchanged since the latest load, but invoices were added or
    the intake's run date moved: only some tickets can read differently. Those submitted
    after the earlier of the two run dates (a typed date on or before its submission is on or
    before both), and those whose texts hold the digits of an added invoice number (a ticket
    names an invoice only through a run of digits). Reads and upserts those; False when the
    whole file must be read instead."""
    from importers import billing
    from reconcile.normalize import invoice_key

    assert opts.confirmations is not None
    path, rules = opts.confirmations, opts.rules
    after: date | None = None
    if last.intake_as_of != now_as_of:
        if last.intake_as_of is None or now_as_of is None:
            return False
        after = min(last.intake_as_of, now_as_of)
    added: list[str] = []
    if last.known_invoices != known_count:
        added = store.invoices_added_after(conn, last.run_id)
        if last.known_invoices is None or last.known_invoices + len(added) != known_count:
            return False  # not only additions: read everything
    try:
        res = billing.load_confirmations_part(
            path,
            rules,
            lambda keys: store.invoice_numbers_keyed(conn, keys),
            opts.as_of,
            submitted_after=after,
            mentioning={invoice_key(no) for no in added},
        )
    except FileRejected:
        return False  # the full read reports it
    if res is None:
        return False
    for file, line, reason in last.rejected_rows:  # the file's refused rows, as a full read
        result.rejections.append(Rejection(file, reason, line))
    _store_source(
        conn, opts, run_id, result, "confirmations", res.frame,
        origin=last.origin, sha256=last.sha256, settings=last.settings,
        row_count=last.row_count, rejected_rows=last.rejected_rows, intake_as_of=now_as_of,
        latest_submitted_on=last.latest_submitted_on, known_invoices=known_count,
    )  # fmt: skip
    result.counts["confirmations_reread"] = len(res.frame)
    log.info(
        "confirmations unchanged since run %d: %d read again (submitted after %s, or naming "
        "one of %d added invoices)",
        last.run_id,
        len(res.frame),
        after,
        len(added),
    )
    return True


def match(engine: Engine, opts: RunOptions, run_id: int, result: RunResult) -> list[int]:
    """Stage 3: the pure matcher over what is still open; decisions committed atomically.

    The first matching run, and any after the ``matching:`` rules changed, decides every open
    credit against every invoice. Any other is incremental: it reads the invoices a credit can
    be paired with by amount, name or alias (open, or marked paid with no money seen), those
    changed since the last matching run, and the closed ones its credits or open confirmations
    name by number; the confirmations still open or changed since; and decides its new lines
    and the open credits a change reaches (``reconcile.affected``)."""
    from reconcile.candidates import invoice_key
    from reconcile.matching import (
        decide,
        note_repeat_payments,
        note_withdrawn,
        prepare_book,
        referenced_keys,
        start_credit_texts,
    )

    rules = opts.rules.matching
    texts = None
    try:
        with engine.connect() as conn:
            mark = store.last_match(conn)
            if mark is not None and not _same_rules(mark, opts):
                mark = None  # the rules changed: every open credit is decided again
            since = mark.run_id if mark is not None else None
            if mark is None:  # every open credit: what their texts give is found meanwhile
                credits = store.load_credits(conn)
                open_lines = len(credits)
                texts = start_credit_texts(credits, rules)
            aliases = store.load_aliases(conn)
            covered = store.statements_until(conn)
            quiet = mark is not None and _nothing_new(conn, aliases, mark)
            # only the prepared copies are kept (a million-line book is held through the match)
            book = prepare_book(
                # a quiet run decides no credit: only its confirmations' clocks move
                store.load_invoices(conn, numbers=[] if quiet else None, matchable_since=since),
                store.load_confirmations(conn, open_since=since),
            )
            if quiet:
                credits = store.load_credits(conn, line_ids=[])
                open_lines = store.count_open_credits(conn)
            elif mark is not None:
                changes = _changes(conn, book, aliases, mark)
                credits, open_lines = _to_decide(conn, book, aliases, changes, opts)
                wanted = referenced_keys(credits, book, rules)
                if wanted:
                    closed = pd.Series(
                        store.invoice_numbers_keyed(conn, wanted, closed_since=mark.run_id),
                        dtype=object,
                    )
                    named = closed[invoice_key(closed).isin(wanted).to_numpy()].tolist()
                    book = book.with_invoices(store.load_invoices(conn, numbers=named))
    except BaseException:
        if texts is not None:  # the run stops before decide takes (and reaps) the child
            texts.close()
        raise
    invoices, confirmations = book.invoices, book.confirmations
    result.counts["lines_considered"] = len(credits)
    result.counts["lines_left_as_decided"] = open_lines - len(credits)
    outcome = decide(
        credits, invoices, confirmations, aliases, rules, opts.as_of, book=book, texts=texts,
        statements_until=covered,
    )  # fmt: skip
    withdrawn: dict[int, str] = {}
    lines = outcome.lines
    if len(credits):
        lonely = lines["status"].to_numpy() == "UNMATCHED"
        amounts = credits.set_index("line_id").loc[lines["line_id"][lonely], "amount_sen"]
        with engine.connect() as conn:
            withdrawn = store.withdrawn_payments(conn, credits["line_id"].tolist())
            paid = store.paid_invoices_of(conn, amounts.tolist()) if lonely.any() else None
        if paid is not None:
            lines = note_repeat_payments(lines, credits, paid)
    outcome = replace(
        outcome,
        lines=note_withdrawn(lines, withdrawn),
        invoices=_changed(outcome.invoices, invoices, "invoice_no"),
        confirmations=_changed(outcome.confirmations, confirmations, "ticket_id"),
    )
    # the rows the match changes (the outcome keeps only those): the run report lists them
    result.changed_by_match = (
        outcome.invoices["invoice_no"].astype(str).tolist(),
        outcome.confirmations["ticket_id"].astype(str).tolist(),
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


def _same_rules(mark: store.MatchMark, opts: RunOptions) -> bool:
    """The last matching run used the ``matching:`` rules of this one."""
    return mark.matching == json.dumps(snapshot(opts.rules)["matching"], sort_keys=True)


@dataclass(frozen=True)
class _Changes:
    """What changed since the last matching run (``since``), as masks over the book's
    invoices and confirmations and the aliases; ``reach_all``: a change whose name or number
    can reach any open credit, so all of them are read with their senders and texts;
    ``stale_open``: an open credit was decided before that run (asked only when no other
    change reaches all: then its answer decides ``reach_all``, and ``_to_decide`` needs it)."""

    since: int
    invoices: npt.NDArray[np.bool_]
    confirmations: npt.NDArray[np.bool_]
    aliases: npt.NDArray[np.bool_]
    settled_aliases: npt.NDArray[np.bool_]
    reach_all: bool
    stale_open: bool


def _changes(
    conn: Connection, book: Book, aliases: pd.DataFrame, mark: store.MatchMark
) -> _Changes:
    since = mark.run_id
    cf = book.confirmations
    conf_changed = cf["updated_run_id"].fillna(cf["first_run_id"]).fillna(0).astype("int64")
    invoices = (book.invoices["changed_run_id"] > since).to_numpy()
    confirmations = (conf_changed > since).to_numpy()
    added, settled = _aliases_since(aliases, mark)
    reach_all = bool(invoices.any() or confirmations.any() or added.any())
    stale_open = not reach_all and store.any_open_credit_decided_before(conn, since)
    # what the last run learned reaches only credits decided before it
    reach_all = reach_all or bool(settled.any() and stale_open)
    return _Changes(since, invoices, confirmations, added, settled, reach_all, stale_open)


def _aliases_since(
    aliases: pd.DataFrame, mark: store.MatchMark
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Masks over ``aliases``: those a person added since the last matching run, and those
    learned automatically since (by that matching run itself)."""
    since_mark = pd.to_datetime(aliases["created_at"]) >= mark.started_at
    by_auto = aliases["created_by"] == "auto"
    return (since_mark & ~by_auto).to_numpy(), (since_mark & by_auto).to_numpy()


def _nothing_new(conn: Connection, aliases: pd.DataFrame, mark: store.MatchMark) -> bool:
    """Nothing since the last matching run can reach an open credit, so this run decides none
    (what :func:`_changes` and :func:`_to_decide` would find, asked of the database before the
    book is read): no line imported, no invoice or confirmation inserted or changed, no alias
    a person added; and no credit decided before that run proposing an invoice it changed or
    left to an alias it learned. Such a run, every 15 minutes of a day with no new export,
    reads no invoice; its confirmations are still decided (the days they wait for the money
    go by)."""
    since = mark.run_id
    if any(
        store.changed_after(conn, t, since) for t in (db.bank_lines, db.invoices, db.confirmations)
    ):
        return False
    added, settled = _aliases_since(aliases, mark)
    if added.any():
        return False
    if not store.any_open_credit_decided_before(conn, since):
        return True
    if settled.any():
        return False
    changed = store.invoices_changed_in(conn, since)
    return not store.credits_proposing(conn, changed, decided_before=since)


def _to_decide(
    conn: Connection,
    book: Book,
    aliases: pd.DataFrame,
    changes: _Changes,
    opts: RunOptions,
) -> tuple[pd.DataFrame, int]:
    """The open credits an incremental run decides (reconcile.affected): the new lines and
    those that what changed since the last matching run can reach; and how many credits are
    open in all.

    When a change can reach any open credit (``changes.reach_all``), all of them are read.
    Otherwise only two tests of ``affected`` can select an earlier credit, both by the invoices
    its decision proposes: a rival (it proposes an invoice a new line can claim) and a settled
    one (decided before the last matching run, it proposes an invoice that run changed); those
    are found through ``decision_proposals`` and only they are read besides the new lines."""
    from reconcile.affected import affected
    from reconcile.calendar import BankingCalendar
    from reconcile.matching import claimable_invoices

    rules = opts.rules.matching
    since = changes.since
    if changes.reach_all:
        credits = store.load_credits(conn)
        open_lines = len(credits)
        fresh = credits[credits["decision_run_id"].isna().to_numpy()]
    else:
        fresh = store.load_credits(conn, new_after=since)
        open_lines = store.count_open_credits(conn)
    claimable = claimable_invoices(fresh, book, aliases, rules).tolist()
    settled: list[str] = []
    if not changes.reach_all:
        ids = set(store.credits_proposing(conn, claimable))
        if changes.stale_open:
            settled = store.invoices_changed_in(conn, since)
            ids.update(store.credits_proposing(conn, settled, decided_before=since))
        ids.difference_update(fresh["line_id"].tolist())
        earlier = store.load_credits(conn, line_ids=sorted(ids))
        credits = pd.concat([fresh, earlier], ignore_index=True)
    new_lines = credits["decision_run_id"].isna().to_numpy()
    stale = (credits["decision_run_id"].fillna(since) < since).to_numpy()
    if changes.reach_all and stale.any():
        settled = store.invoices_changed_in(conn, since)
    chosen = affected(
        credits,
        book.invoices,
        book.confirmations,
        aliases,
        new_lines=new_lines,
        changed_invoices=changes.invoices,
        changed_confirmations=changes.confirmations,
        changed_aliases=changes.aliases,
        settled_aliases=changes.settled_aliases,
        # what the last run settled matters only to credits decided before it
        settled_invoices=settled,
        stale=stale,
        claimable=claimable,
        rules=rules,
        calendar=BankingCalendar(rules.extra_holidays),
    )
    chosen_credits = credits[chosen]
    return chosen_credits.sort_values("line_id", kind="stable").reset_index(drop=True), open_lines


_OUTCOME_COLUMNS = {
    "invoice_no": ("status", "received_sen", "codes", "reason"),
    "ticket_id": ("status", "codes", "line_ids", "reason"),
}


def _changed(outcome: pd.DataFrame, stored: pd.DataFrame, key: str) -> pd.DataFrame:
    """The outcome rows that differ from what is stored (only those are written)."""
    columns = [c for c in _OUTCOME_COLUMNS[key] if c in stored]
    if not len(outcome) or not len(stored):
        return outcome
    return outcome[~store.same_as_stored(outcome, stored, key, columns)].reset_index(drop=True)


def touched_rows(engine: Engine, run_id: int, result: RunResult) -> tuple[list[str], list[str]]:
    """What the run report lists (README "Output files"): the invoices and confirmations a
    source load inserted or changed since the previous completed run that wrote a report (so
    that what a killed run loaded is reported by the next one), and those this run's match
    changed; and every confirmation still without funds, whose workbook sheet is an
    exception list and stays complete; in key order."""
    with engine.connect() as conn:
        since = store.last_reported_run(conn, run_id)
        invoices = store.source_rows_changed_since(conn, db.invoices, "invoice_no", since)
        tickets = store.source_rows_changed_since(conn, db.confirmations, "ticket_id", since)
        waiting = store.confirmations_without_funds(conn)
    matched_invoices, matched_tickets = result.changed_by_match
    return sorted({*invoices, *matched_invoices}), sorted({*tickets, *matched_tickets, *waiting})


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
            if opts.load_sources:
                load_sources(engine, opts, run_id, result)
            step("sources.committed")
            considered = match(engine, opts, run_id, result) if opts.match else []
            step("match.committed")
            if opts.write_reports:
                inv_nos, tickets = touched_rows(engine, run_id, result)
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
