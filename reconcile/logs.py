"""Logging: one line per event with the run id, to stderr and a rotating file.

Database URLs are logged with their password hidden (``render_as_string(hide_password=True)``).
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path

from sqlalchemy.engine import make_url

FORMAT = "%(asctime)s %(levelname)s run=%(run_id)s %(name)s: %(message)s"


class _RunIdFilter(logging.Filter):
    run_id = "-"

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "run_id"):
            record.run_id = _RunIdFilter.run_id
        return True


def set_run_id(run_id: int | str) -> None:
    _RunIdFilter.run_id = str(run_id)


def safe_url(url: str) -> str:
    """A database URL fit for a log line: the password replaced by ***."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL at all: say nothing of it
        return "<unparseable database URL>"


def configure_logging(*, log_file: Path | None, quiet: bool = False, verbose: bool = False) -> None:
    root = logging.getLogger("reconcile")
    for h in list(root.handlers):
        root.removeHandler(h)
        h.close()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    root.propagate = False
    fmt = logging.Formatter(FORMAT)
    err = logging.StreamHandler(sys.stderr)
    err.setLevel(logging.WARNING if quiet else (logging.DEBUG if verbose else logging.INFO))
    err.setFormatter(fmt)
    err.addFilter(_RunIdFilter())
    root.addHandler(err)
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        fh = logging.handlers.RotatingFileHandler(
            log_file, maxBytes=5_000_000, backupCount=10, encoding="utf-8"
        )
        fh.setLevel(logging.DEBUG if verbose else logging.INFO)
        fh.setFormatter(fmt)
        fh.addFilter(_RunIdFilter())
        root.addHandler(fh)
