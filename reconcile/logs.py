"""Logging: one ``key=value`` line per event carrying the run id, to stderr and a rotating file.

``2026-03-10T07:15:02 level=INFO run=12 pid=4711 logger=reconcile msg="imported a.csv ..."``

Secrets never reach a log line: every formatted line (message and traceback alike) passes
through :func:`redact`, which hides the password of any ``scheme://user:password@host`` URL and
every value registered with :func:`add_secret` (the SMTP password, a database password).

On a terminal (and not ``--quiet``) long stages show rich progress bars; under cron (no TTY)
nothing but the log lines is written.
"""

from __future__ import annotations

import logging
import logging.handlers
import re
import sys
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

FORMAT = '%(asctime)s level=%(levelname)s run=%(run_id)s pid=%(process)d logger=%(name)s msg="%(message)s"'
DATE_FORMAT = "%Y-%m-%dT%H:%M:%S"
MAX_BYTES = 5_000_000
BACKUPS = 10

_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^:/?#@\s]*:)[^@\s/]+(?=@)")
_secrets: set[str] = set()
_run_id = "-"


def set_run_id(run_id: int | str) -> None:
    """Every later log line carries this run id (``-`` between runs)."""
    global _run_id
    _run_id = str(run_id)


def current_run_id() -> str:
    return _run_id


def add_secret(value: str | None) -> None:
    """Never write ``value`` to a log line (short values would hide too much: 4+ characters)."""
    if value and len(value) >= 4:
        _secrets.add(value)


def redact(text: str) -> str:
    text = _URL_PASSWORD.sub(r"\g<head>***", text)
    for secret in sorted(_secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def safe_url(url: str) -> str:
    """A database URL fit for a log line: the password replaced by ***."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return redact(url)


def register_url_secret(url: str) -> None:
    """Remember the password of a database URL so that no log line ever shows it."""
    try:
        add_secret(make_url(url).password)
    except ArgumentError:
        return


class _RunIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "run_id"):
            record.run_id = _run_id
        return True


class RedactingFormatter(logging.Formatter):
    """The whole formatted record, traceback included, with secrets hidden."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def _formatter() -> RedactingFormatter:
    return RedactingFormatter(FORMAT, datefmt=DATE_FORMAT)


def configure_logging(
    *,
    log_file: Path | None,
    quiet: bool = False,
    verbose: bool = False,
    stream: TextIO | None = None,
    progress: bool | None = None,
) -> None:
    """(Re)configure the ``reconcile`` loggers. ``progress=None``: bars only on a terminal."""
    stderr = stream if stream is not None else sys.stderr
    root = logging.getLogger("reconcile")
    for h in list(root.handlers):
        root.removeHandler(h)
        h.close()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    root.propagate = False
    level = logging.WARNING if quiet else (logging.DEBUG if verbose else logging.INFO)
    show_progress = (not quiet) and (stderr.isatty() if progress is None else progress)
    err: logging.Handler
    if show_progress:
        from rich.console import Console
        from rich.logging import RichHandler

        console = Console(file=stderr)
        err = RichHandler(console=console, show_path=False, markup=False)
        err.setFormatter(RedactingFormatter("run=%(run_id)s %(message)s"))
        enable_progress(console)
    else:
        disable_progress()
        err = logging.StreamHandler(stderr)
        err.setFormatter(_formatter())
    err.setLevel(level)
    err.addFilter(_RunIdFilter())
    root.addHandler(err)
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        fh = logging.handlers.RotatingFileHandler(
            log_file, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
        )
        fh.setLevel(logging.DEBUG if verbose else logging.INFO)
        fh.setFormatter(_formatter())
        fh.addFilter(_RunIdFilter())
        root.addHandler(fh)


# ---------------------------------------------------------------------------------------------
# progress bars, driven by the pipeline's named steps (reconcile.pipeline.step)

_STAGES = {
    "sources.begin": "loading invoices and confirmations",
    "sources.committed": "matching",
    "match.committed": "writing reports",
}


class StageProgress:
    """Listener for pipeline steps: one bar for the statement files, a spinner per later stage."""

    def __init__(self, console: Any) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self._progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=console
        )
        self._task: Any = None

    def __call__(self, name: str, detail: dict[str, Any]) -> None:
        p = self._progress
        if name == "import.begin":
            p.start()
            self._task = p.add_task("importing statement files", total=detail["total"])
        elif name in ("import.archived", "reject.moved") and self._task is not None:
            p.advance(self._task)
        elif name in _STAGES:
            self._close_task()
            self._task = p.add_task(_STAGES[name], total=None)
        elif name in ("reports.written", "run.finished"):
            self.stop()

    def _close_task(self) -> None:
        if self._task is not None:
            done = self._progress.tasks[-1].completed
            self._progress.update(self._task, total=max(done, 1), completed=max(done, 1))
        self._task = None

    def stop(self) -> None:
        self._close_task()
        self._progress.stop()


def enable_progress(console: Any) -> None:
    from reconcile import pipeline

    disable_progress()
    pipeline.step_listeners.append(StageProgress(console))


def stop_progress() -> None:
    """End any bar still drawn (a run that failed half-way leaves its bar open)."""
    from reconcile import pipeline

    for x in pipeline.step_listeners:
        if isinstance(x, StageProgress):
            x.stop()


def disable_progress() -> None:
    from reconcile import pipeline

    stop_progress()
    pipeline.step_listeners[:] = [
        x for x in pipeline.step_listeners if not isinstance(x, StageProgress)
    ]
