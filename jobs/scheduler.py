"""``reconcile schedule``: stay running, reconcile every ``schedule.every_minutes`` and write the
daily report at ``schedule.daily_report_at`` (rules.yaml, machine-local time; WIB on our servers).

* A failing job is logged with its traceback and the loop goes on (``schedule`` itself would let
  the exception escape and end the loop).
* SIGTERM / SIGINT ask the loop to stop: the job in progress finishes, no new one starts, exit 0.
* Jobs run one after another in this thread, so the scheduler never starts a run while one of
  its own is going; the database lock (reconcile/lock.py) keeps cron runs out as well.
* Each job gets its ``as_of`` passed in (rules.yaml ``as_of``, else today's WIB date at the time
  the job starts); no job reads the clock.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from types import FrameType
from zoneinfo import ZoneInfo

import schedule

from reconcile.config import Rules, load_rules
from reconcile.errors import ConfigError, LockBusy
from reconcile.pipeline import EXIT_FAILURE, EXIT_LOCKED, EXIT_OK, EXIT_USAGE

log = logging.getLogger("reconcile.jobs.scheduler")
WIB = ZoneInfo("Asia/Jakarta")
POLL_SECONDS = 1.0

Job = Callable[[date], int]


def today_wib() -> date:
    return datetime.now(WIB).date()


class JobLoop:
    """The loop: two jobs on a ``schedule.Scheduler``, each guarded, stoppable by signal."""

    def __init__(
        self,
        rules: Rules,
        *,
        reconcile_job: Job,
        report_job: Job,
        today: Callable[[], date] = today_wib,
    ) -> None:
        self.rules = rules
        self.today = today
        self.stop_requested = threading.Event()
        self.scheduler = schedule.Scheduler()
        self.outcomes: list[tuple[str, date, int | None]] = []
        self._reconcile_job = reconcile_job
        self.scheduler.every(rules.schedule.every_minutes).minutes.do(
            self.guarded, "run", reconcile_job
        )
        self.scheduler.every().day.at(rules.schedule.daily_report_at).do(
            self.guarded, "daily report", report_job
        )

    def as_of(self) -> date:
        return self.rules.as_of or self.today()

    def guarded(self, name: str, job: Job) -> None:
        """Run one job; an exception is logged with its traceback and swallowed."""
        if self.stop_requested.is_set():
            return
        as_of = self.as_of()
        code: int | None = None
        try:
            code = job(as_of)
        except Exception:  # the loop must outlive any failing job; the traceback is logged
            log.exception("%s as of %s failed; the scheduler goes on", name, as_of)
        else:
            level = logging.INFO if code in (EXIT_OK,) else logging.WARNING
            log.log(level, "%s as of %s ended with exit code %s", name, as_of, code)
        self.outcomes.append((name, as_of, code))

    def request_stop(self, signum: int, _frame: FrameType | None = None) -> None:
        log.info("%s received: stopping after the current step", signal.Signals(signum).name)
        self.stop_requested.set()

    def serve(self, *, install_signals: bool = True) -> int:
        if install_signals:
            signal.signal(signal.SIGTERM, self.request_stop)
            signal.signal(signal.SIGINT, self.request_stop)
        s = self.rules.schedule
        log.info(
            "scheduler started: a run every %d min, daily report at %s",
            s.every_minutes,
            s.daily_report_at,
        )
        self.guarded("run", self._reconcile_job)  # at start, then every interval
        while not self.stop_requested.is_set():
            self.scheduler.run_pending()
            idle = self.scheduler.idle_seconds
            wait = POLL_SECONDS if idle is None else min(max(idle, 0.05), POLL_SECONDS)
            self.stop_requested.wait(wait)
        log.info("scheduler stopped")
        return EXIT_OK


def make_reconcile_job(rules_path: Path, *, quiet: bool, verbose: bool) -> Job:
    from jobs.run_once import run_once

    def reconcile_job(as_of: date) -> int:
        return run_once(rules_path, as_of=as_of, quiet=quiet, verbose=verbose)

    return reconcile_job


def make_report_job(rules_path: Path) -> Job:
    def report_job(as_of: date) -> int:
        """The daily workbook and CSVs of the current state, under the run lock."""
        from reconcile.cli import build_run_options
        from reconcile.lock import run_lock
        from reconcile.reports import write_state_reports

        rules = load_rules(rules_path)
        opts = build_run_options(
            rules,
            inbox=None,
            invoices=None,
            confirmations=None,
            db=None,
            out=None,
            as_of=as_of.isoformat(),
            keep_inbox=True,
            command="report",
        )
        try:
            with run_lock(rules, opts.db_url):
                paths = write_state_reports(opts)
        except LockBusy as exc:
            log.warning("daily report skipped: %s", exc)
            return EXIT_LOCKED
        for p in paths:
            log.info("daily report: wrote %s", p)
        return EXIT_OK

    return report_job


def serve(rules_path: Path, *, quiet: bool = False, verbose: bool = False) -> int:
    """Entry point of ``reconcile schedule``."""
    from reconcile.logs import configure_logging

    try:
        rules = load_rules(rules_path)
    except ConfigError as exc:
        import typer

        typer.echo(str(exc), err=True)
        return EXIT_USAGE
    configure_logging(log_file=rules.path(rules.paths.log_file), quiet=quiet, verbose=verbose)
    loop = JobLoop(
        rules,
        reconcile_job=make_reconcile_job(rules_path, quiet=quiet, verbose=verbose),
        report_job=make_report_job(rules_path),
    )
    try:
        return loop.serve()
    except Exception:  # a defect in the loop itself (not in a job): logged, exit 1
        log.exception("the scheduler failed")
        return EXIT_FAILURE
