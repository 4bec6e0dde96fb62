"""One complete run for cron: lock, import, match, report, alert; exit code as documented.

``python -m jobs.run_once --rules /srv/reconcile/rules.yaml --quiet`` is the same as
``reconcile run``. The run's date (``as_of``) is passed in; nothing here reads the clock except
the CLI default (rules.yaml ``as_of``, else today's WIB date).
"""

from __future__ import annotations

import logging
import sys
from datetime import date
from pathlib import Path

import typer

from reconcile.errors import ConfigError
from reconcile.pipeline import EXIT_USAGE

log = logging.getLogger("reconcile.jobs")


def run_once(
    rules_path: Path,
    *,
    as_of: date | None = None,
    quiet: bool = False,
    verbose: bool = False,
    db: str | None = None,
) -> int:
    """Load rules.yaml afresh (edits apply to the next run), then one locked run; its exit code."""
    from reconcile.cli import build_run_options, execute_run
    from reconcile.config import load_rules
    from reconcile.logs import configure_logging, safe_url, set_run_id, stop_progress

    try:
        rules = load_rules(rules_path)
    except ConfigError as exc:
        log.error("%s", exc)
        typer.echo(str(exc), err=True)
        return EXIT_USAGE
    configure_logging(log_file=rules.path(rules.paths.log_file), quiet=quiet, verbose=verbose)
    opts = build_run_options(
        rules,
        inbox=None,
        invoices=None,
        confirmations=None,
        db=db,
        out=None,
        as_of=None if as_of is None else as_of.isoformat(),
        keep_inbox=None,
    )
    log.info(
        "run starting: as_of %s, database %s, inbox %s",
        opts.as_of,
        safe_url(opts.db_url),
        opts.inbox,
    )
    try:
        code = execute_run(opts, wait=rules.schedule.lock_wait_seconds)
        log.info("run ended with exit code %d", code)
    finally:
        stop_progress()
        set_run_id("-")
    return code


def main(argv: list[str] | None = None) -> int:
    from reconcile.cli import main as cli_main

    return cli_main(["run", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
