"""Command line: a thin layer that turns arguments into library calls (README "Commands").

Exit codes (fixed; finance staff's scripts rely on them):
  0  run completed (discrepancies are results, not errors)
  1  unexpected failure; nothing half written
  2  usage or configuration error
  3  completed, but some input files or rows were rejected
  4  another run holds the lock (it did not finish waiting)
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from reconcile.config import Rules, load_rules
from reconcile.errors import ConfigError, LockBusy, ReconcileError
from reconcile.pipeline import (
    EXIT_FAILURE,
    EXIT_LOCKED,
    EXIT_OK,
    EXIT_REJECTED,
    EXIT_USAGE,
    RunOptions,
)

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Bank-transfer reconciliation: mutasi rekening vs invoices and payment confirmations.",
)
db_app = typer.Typer(no_args_is_help=True, help="Database maintenance.")
app.add_typer(db_app, name="db")

RulesOpt = Annotated[Path, typer.Option("--rules", help="Path to rules.yaml.")]
DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db", help="SQLAlchemy database URL (default: $RECONCILE_DB_URL, then rules.yaml)."
    ),
]
AsOfOpt = Annotated[
    str | None,
    typer.Option(
        "--as-of", help="The run's date YYYY-MM-DD (default: rules.yaml as_of, else today)."
    ),
]
QuietOpt = Annotated[
    bool, typer.Option("--quiet", "-q", help="Only warnings and errors on stderr.")
]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging on stderr.")]

log = logging.getLogger("reconcile")
WIB = ZoneInfo("Asia/Jakarta")  # bank dates are local WIB dates (formats.md §11.2)


def _fail(code: int, message: str) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


def _rules(path: Path) -> Rules:
    try:
        return load_rules(path)
    except ConfigError as exc:
        raise _fail(EXIT_USAGE, str(exc)) from exc


def _as_of(value: str | None, rules: Rules) -> date:
    if value:
        try:
            return date.fromisoformat(value)
        except ValueError as exc:
            raise _fail(EXIT_USAGE, f"--as-of: expected a date YYYY-MM-DD (got {value!r})") from exc
    return rules.as_of or datetime.now(WIB).date()


def _setup_logging(rules: Rules | None, quiet: bool, verbose: bool, run_tag: str = "-") -> None:
    from reconcile.logs import configure_logging

    log_file = rules.path(rules.paths.log_file) if rules is not None else None
    configure_logging(log_file=log_file, quiet=quiet, verbose=verbose)


def _path_or(value: Path | None, configured: str | None, rules: Rules) -> Path | None:
    if value is not None:
        return value
    return rules.path(configured)


def build_run_options(
    rules: Rules,
    *,
    inbox: Path | None,
    invoices: Path | None,
    confirmations: Path | None,
    db: str | None,
    out: Path | None,
    as_of: str | None,
    keep_inbox: bool | None,
    command: str = "run",
) -> RunOptions:
    inbox_path = _path_or(inbox, rules.paths.inbox, rules)
    out_path = _path_or(out, rules.paths.reports, rules)
    assert inbox_path is not None and out_path is not None
    return RunOptions(
        rules=rules,
        inbox=inbox_path,
        out=out_path,
        db_url=rules.resolved_db_url(db),
        as_of=_as_of(as_of, rules),
        invoices=_path_or(invoices, rules.paths.invoices, rules),
        confirmations=_path_or(confirmations, rules.paths.confirmations, rules),
        keep_inbox=rules.keep_inbox if keep_inbox is None else keep_inbox,
        command=command,
    )


def execute_run(opts: RunOptions, *, wait: int | None = None) -> int:
    """Run under the single-instance lock; print where outputs went and a one-line summary."""
    from reconcile import pipeline
    from reconcile.lock import run_lock

    try:
        with run_lock(opts.rules, opts.db_url, wait_seconds=wait):
            result = pipeline.run(opts)
    except LockBusy as exc:
        typer.echo(str(exc), err=True)
        return EXIT_LOCKED
    except ReconcileError as exc:
        typer.echo(f"run failed: {exc}", err=True)
        return EXIT_FAILURE
    for r in result.rejections:
        typer.echo(f"rejected: {r.reason}", err=True)
    for p in result.reports:
        typer.echo(f"wrote {p}")
    typer.echo(result.summary())
    from reconcile.alerts import maybe_send_summary

    maybe_send_summary(opts, result)
    return result.exit_code


@app.command()
def run(
    rules: RulesOpt = Path("rules.yaml"),
    inbox: Annotated[Path | None, typer.Option(help="Folder of bank statement files.")] = None,
    invoices: Annotated[Path | None, typer.Option(help="Invoice list (CSV/XLSX).")] = None,
    confirmations: Annotated[
        Path | None, typer.Option(help="Payment confirmations (CSV/XLSX).")
    ] = None,
    db: DbOpt = None,
    out: Annotated[Path | None, typer.Option(help="Folder for the workbook and CSVs.")] = None,
    as_of: AsOfOpt = None,
    keep_inbox: Annotated[
        bool | None,
        typer.Option(
            "--keep-inbox/--move-inbox",
            help="Leave input files in the inbox (default: rules.yaml keep_inbox).",
        ),
    ] = None,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Import the inbox, load invoices and confirmations, match, and write the reports."""
    r = _rules(rules)
    _setup_logging(r, quiet, verbose)
    opts = build_run_options(
        r,
        inbox=inbox,
        invoices=invoices,
        confirmations=confirmations,
        db=db,
        out=out,
        as_of=as_of,
        keep_inbox=keep_inbox,
    )
    raise typer.Exit(execute_run(opts, wait=r.schedule.lock_wait_seconds))


@app.command()
def schedule(
    rules: RulesOpt = Path("rules.yaml"),
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Keep running: a run every schedule.every_minutes, the daily report at
    schedule.daily_report_at; SIGTERM or Ctrl-C stop it after the current step."""
    from jobs.scheduler import serve

    raise typer.Exit(serve(rules, quiet=quiet, verbose=verbose))


@app.command("import")
def import_files(
    files: Annotated[
        list[Path], typer.Argument(help="Statement files to import.", exists=True, dir_okay=False)
    ],
    rules: RulesOpt = Path("rules.yaml"),
    db: DbOpt = None,
    as_of: AsOfOpt = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be imported; write nothing.")
    ] = False,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Import statement files (no matching). With --dry-run: rows, totals, period and proof only."""
    from importers import ParseContext, read_statement_file
    from reconcile.errors import FileRejected
    from reconcile.model import Direction
    from reconcile.money import format_amount_en

    r = _rules(rules)
    if not dry_run:
        _setup_logging(r, quiet, verbose)
    ctx = ParseContext(as_of=_as_of(as_of, r), accounts=r.account_banks())
    rejected = 0
    if not dry_run:
        opts = RunOptions(
            rules=r,
            inbox=Path("."),
            out=Path("."),
            db_url=r.resolved_db_url(db),
            as_of=ctx.as_of,
            keep_inbox=True,
            command="import",
            load_sources=False,
            match=False,
            write_reports=False,
        )
        raise typer.Exit(_import_now(opts, files, wait=r.schedule.lock_wait_seconds))
    for f in files:
        try:
            importer, statements = read_statement_file(f, ctx, r.account_banks())
        except FileRejected as exc:
            typer.echo(f"REJECTED {exc}")
            rejected += 1
            continue
        for st in statements:
            cr = [t for t in st.transactions if t.direction is Direction.CR]
            db_rows = [t for t in st.transactions if t.direction is Direction.DB]
            period = f"{st.period_start or '?'} .. {st.period_end or '?'}"
            typer.echo(
                f"{f.name}: {importer.name} account {st.account_no} period {period}: "
                f"{len(st.transactions)} rows, {len(cr)} credits {format_amount_en(sum((t.amount for t in cr), Decimal(0)))}, "
                f"{len(db_rows)} debits {format_amount_en(sum((t.amount for t in db_rows), Decimal(0)))}; proof OK"
            )
            for w in st.warnings:
                typer.echo(f"  warning: {w}")
    typer.echo("dry run: nothing was written")
    raise typer.Exit(EXIT_REJECTED if rejected else EXIT_OK)


def _import_now(opts: RunOptions, files: list[Path], *, wait: int) -> int:
    import shutil
    import tempfile

    # import exactly these files: stage them in a private inbox (copies; originals untouched)
    with tempfile.TemporaryDirectory() as tmp:
        for f in files:
            shutil.copy2(f, Path(tmp) / f.name)
        opts.inbox = Path(tmp)
        return execute_run(opts, wait=wait)


@app.command()
def match(
    rules: RulesOpt = Path("rules.yaml"),
    db: DbOpt = None,
    out: Annotated[Path | None, typer.Option(help="Folder for the workbook and CSVs.")] = None,
    as_of: AsOfOpt = None,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Match what is already in the database (no file import) and write the reports."""
    r = _rules(rules)
    _setup_logging(r, quiet, verbose)
    opts = _stored_state_options(r, db=db, out=out, as_of=as_of, command="match")
    raise typer.Exit(execute_run(opts, wait=r.schedule.lock_wait_seconds))


def _stored_state_options(
    r: Rules, *, db: str | None, out: Path | None, as_of: str | None, command: str
) -> RunOptions:
    """Options for a command that works on what the database holds: no inbox, no sources."""
    opts = build_run_options(
        r,
        inbox=Path("/nonexistent-inbox"),
        invoices=None,
        confirmations=None,
        db=db,
        out=out,
        as_of=as_of,
        keep_inbox=True,
        command=command,
    )
    opts.invoices = opts.confirmations = None
    opts.load_sources = False
    return opts


@app.command()
def report(
    rules: RulesOpt = Path("rules.yaml"),
    db: DbOpt = None,
    out: Annotated[Path | None, typer.Option(help="Folder for the workbook and CSVs.")] = None,
    as_of: AsOfOpt = None,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Write the workbook and CSVs for the current state without importing or matching."""
    r = _rules(rules)
    _setup_logging(r, quiet, verbose)
    opts = _stored_state_options(r, db=db, out=out, as_of=as_of, command="report")
    opts.match = False
    from reconcile.reports import write_state_reports

    paths = write_state_reports(opts)
    for p in paths:
        typer.echo(f"wrote {p}")


@app.command("check-rules")
def check_rules(rules: RulesOpt = Path("rules.yaml")) -> None:
    """Validate rules.yaml; print every problem with its key and line (exit 2), or OK."""
    r = _rules(rules)
    from reconcile.logs import safe_url

    typer.echo(
        f"{rules}: OK ({len(r.accounts)} accounts, database {safe_url(r.resolved_db_url())})"
    )


@db_app.command("upgrade")
def db_upgrade(rules: RulesOpt = Path("rules.yaml"), db: DbOpt = None) -> None:
    """Create or migrate the database schema to the latest version (Alembic)."""
    from reconcile.migrate import current_revision
    from reconcile.pipeline import prepare_database
    from reconcile.store import make_engine

    r = _rules(rules)
    engine = make_engine(r.resolved_db_url(db))
    prepare_database(engine, r)
    typer.echo(f"database at revision {current_revision(engine)}")


@app.command()
def status(
    rules: RulesOpt = Path("rules.yaml"),
    db: DbOpt = None,
    last: Annotated[int, typer.Option(help="How many runs to show.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Last runs (inputs, counts, outcome, exit code), open review items, oldest unidentified credit."""
    from reconcile.status import collect_status, render_status

    r = _rules(rules)
    info = collect_status(r.resolved_db_url(db), last=last)
    if as_json:
        typer.echo(json.dumps(info, indent=2, default=str))
    else:
        render_status(info)


review_app = typer.Typer(no_args_is_help=True, help="Apply accountants' decisions from a workbook.")
app.add_typer(review_app, name="review")
aliases_app = typer.Typer(no_args_is_help=True, help="Payer aliases learned from reviews.")
app.add_typer(aliases_app, name="aliases")
ByOpt = Annotated[
    str | None, typer.Option("--by", help="Who decides (audit trail; default: the OS user).")
]


def _actor(by: str | None) -> str:
    import getpass

    return by or getpass.getuser()


@review_app.command("apply")
def review_apply(
    workbook: Annotated[
        Path, typer.Argument(help="The reviewed run workbook (.xlsx).", exists=True, dir_okay=False)
    ],
    rules: RulesOpt = Path("rules.yaml"),
    db: DbOpt = None,
    as_of: AsOfOpt = None,
    by: ByOpt = None,
) -> None:
    """Apply the decisions filled in on the review sheets; exit 3 if any row was refused."""
    from reconcile.lock import run_lock
    from reconcile.review import apply_review
    from reconcile.store import make_engine

    r = _rules(rules)
    url = r.resolved_db_url(db)
    engine = make_engine(url)
    try:
        # under the run's lock: a match running meanwhile would decide these lines again
        with run_lock(r, url, hint=f"Apply {workbook.name} again once it has finished"):
            result = apply_review(
                engine, workbook, actor=_actor(by), rules=r.matching, as_of=_as_of(as_of, r)
            )
    except LockBusy as exc:
        raise _fail(EXIT_LOCKED, str(exc)) from exc
    except ReconcileError as exc:
        raise _fail(EXIT_USAGE, str(exc)) from exc
    finally:
        engine.dispose()
    for where in result.applied:
        typer.echo(f"applied: {where}")
    for problem in result.refused:
        typer.echo(f"refused: {problem}", err=True)
    typer.echo(result.summary())
    raise typer.Exit(EXIT_REJECTED if result.refused else EXIT_OK)


@app.command()
def undo(
    decision: Annotated[
        int | None, typer.Option("--decision", help="Reverse this decision id.")
    ] = None,
    run_id: Annotated[
        int | None, typer.Option("--run", help="Reverse every decision this run made.")
    ] = None,
    rules: RulesOpt = Path("rules.yaml"),
    db: DbOpt = None,
    as_of: AsOfOpt = None,
    by: ByOpt = None,
) -> None:
    """Reverse decisions (history is kept: the decision becomes inactive, the previous returns)."""
    from reconcile.review import undo_decision, undo_run
    from reconcile.store import make_engine

    if (decision is None) == (run_id is None):
        raise _fail(EXIT_USAGE, "undo: give exactly one of --decision ID or --run ID")
    from reconcile.lock import run_lock

    r = _rules(rules)
    url = r.resolved_db_url(db)
    engine = make_engine(url)
    kwargs = {"actor": _actor(by), "rules": r.matching, "as_of": _as_of(as_of, r)}
    try:
        with run_lock(r, url, hint="Undo again once it has finished"):
            if decision is not None:
                result = undo_decision(engine, decision, **kwargs)  # type: ignore[arg-type]
            else:
                assert run_id is not None
                result = undo_run(engine, run_id, **kwargs)  # type: ignore[arg-type]
    except LockBusy as exc:
        raise _fail(EXIT_LOCKED, str(exc)) from exc
    except ReconcileError as exc:
        raise _fail(EXIT_USAGE, str(exc)) from exc
    finally:
        engine.dispose()
    for problem in result.refused:
        typer.echo(f"refused: {problem}", err=True)
    typer.echo(result.summary())
    raise typer.Exit(EXIT_REJECTED if result.refused else EXIT_OK)


@aliases_app.command("list")
def aliases_list(
    rules: RulesOpt = Path("rules.yaml"),
    db: DbOpt = None,
    all_: Annotated[bool, typer.Option("--all", help="Include removed aliases.")] = False,
) -> None:
    """List learned payer aliases (sender name -> client)."""
    from reconcile.review import list_aliases
    from reconcile.store import make_engine

    r = _rules(rules)
    engine = make_engine(r.resolved_db_url(db))
    try:
        rows = list_aliases(engine, include_removed=all_)
    finally:
        engine.dispose()
    for a in rows:
        removed = f" removed {a['removed_at']:%Y-%m-%d}" if a["removed_at"] else ""
        typer.echo(
            f"{a['id']}\t{a['sender_norm']}\t-> {a['client_key']}\t"
            f"({a['source']}, {a['created_by']}, {a['created_at']:%Y-%m-%d}){removed}"
        )
    typer.echo(f"{len(rows)} aliases")


@aliases_app.command("remove")
def aliases_remove(
    alias_id: Annotated[int, typer.Argument(help="Alias id (see 'aliases list').")],
    rules: RulesOpt = Path("rules.yaml"),
    db: DbOpt = None,
    by: ByOpt = None,
) -> None:
    """Stop using a learned alias (kept in history, marked removed)."""
    from reconcile.review import remove_alias
    from reconcile.store import make_engine

    r = _rules(rules)
    engine = make_engine(r.resolved_db_url(db))
    try:
        row = remove_alias(engine, alias_id, actor=_actor(by))
    except ReconcileError as exc:
        raise _fail(EXIT_USAGE, str(exc)) from exc
    finally:
        engine.dispose()
    typer.echo(f"removed alias {alias_id}: {row['sender_norm']} -> {row['client_key']}")


@app.command()
def sources(
    rules: RulesOpt = Path("rules.yaml"),
    invoices: Annotated[Path | None, typer.Option(help="Invoice list (CSV/XLSX).")] = None,
    confirmations: Annotated[
        Path | None, typer.Option(help="Payment confirmations (CSV/XLSX).")
    ] = None,
    db: DbOpt = None,
    as_of: AsOfOpt = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be loaded; write nothing.")
    ] = False,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Load invoices and confirmations (files or WHMCS) without matching; --dry-run shows them."""

    r = _rules(rules)
    if not dry_run:
        _setup_logging(r, quiet, verbose)
    opts = build_run_options(
        r,
        inbox=Path("/nonexistent-inbox"),
        invoices=invoices,
        confirmations=confirmations,
        db=db,
        out=None,
        as_of=as_of,
        keep_inbox=True,
        command="sources",
    )
    opts.match = False
    opts.write_reports = False
    if dry_run:
        raise typer.Exit(_sources_dry_run(opts))
    raise typer.Exit(execute_run(opts, wait=r.schedule.lock_wait_seconds))


def _sources_dry_run(opts: RunOptions) -> int:
    from importers import billing, whmcs
    from reconcile.errors import FileRejected
    from reconcile.money import format_amount_en, from_sen

    r = opts.rules
    url = r.sources.whmcs_url or ""
    problems = 0
    known: set[str] = set()
    try:
        if r.sources.invoices == "whmcs":
            inv = whmcs.load_whmcs_invoices(url, r)
        elif opts.invoices is not None:
            inv = billing.load_invoices(opts.invoices, r)
        else:
            inv = None
        if inv is not None:
            frame = inv.frame
            known = set(frame["invoice_no"])
            total = from_sen(int(frame["amount_sen"].sum())) if len(frame) else from_sen(0)
            typer.echo(f"invoices: {len(frame)} rows, Rp {format_amount_en(total)} in all")
            for row in inv.rejected_rows:
                typer.echo(f"  left out: {row}")
            problems += len(inv.rejected_rows)
        if r.sources.confirmations == "whmcs":
            conf = whmcs.load_whmcs_confirmations(url, r, known, opts.as_of)
        elif opts.confirmations is not None:
            conf = billing.load_confirmations(opts.confirmations, r, known, opts.as_of)
        else:
            conf = None
        if conf is not None:
            cf = conf.frame
            invalid = cf[cf["intake_status"] == "INVALID"]
            typer.echo(f"confirmations: {len(cf)} rows, {len(invalid)} INVALID")
            for rec in invalid.itertuples(index=False):
                typer.echo(f"  INVALID ticket {rec.ticket_id}: {rec.intake_reason}")
            for row in conf.rejected_rows:
                typer.echo(f"  left out: {row}")
            problems += len(conf.rejected_rows)
    except FileRejected as exc:
        typer.echo(f"REJECTED {exc}")
        problems += 1
    typer.echo("dry run: nothing was written")
    return EXIT_REJECTED if problems else EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Console entry point; returns the exit code (never raises for expected failures)."""
    try:
        app(args=argv, prog_name="reconcile")
    except SystemExit as exc:  # Typer ends every command (and usage errors, code 2) this way
        if exc.code is None:
            return EXIT_OK
        return exc.code if isinstance(exc.code, int) else EXIT_FAILURE
    except Exception as exc:
        log.exception("unexpected failure")
        print(f"unexpected failure: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_OK


def _entry() -> None:  # pragma: no cover
    sys.exit(main())
