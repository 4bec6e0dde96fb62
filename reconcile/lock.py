"""Single instance: two runs started together never both import or match.

SQLite: an OS file lock (flock) on ``<database file>.lock`` beside the database. PostgreSQL: a
session advisory lock keyed by the schema the tables live in. MariaDB/MySQL: ``GET_LOCK`` named
after the database. The lock lives exactly as long as the run: a killed process releases it (the
kernel drops the flock, the server drops the session's lock), so a crash never leaves a stale lock
behind. A second run waits up to ``schedule.lock_wait_seconds`` (or ``wait_seconds``) and then
raises :class:`LockBusy` (exit code 4) having done nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import filelock
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from reconcile.config import Rules
from reconcile.errors import LockBusy
from reconcile.logs import register_url_secret, safe_url

log = logging.getLogger("reconcile.lock")

LOCK_NAME = "reconcile-run"
PG_LOCK_CLASS = 740_115  # first half of the advisory key: "a reconcile run"; second: the schema
POLL_SECONDS = 0.2


RUN_HINT = "The next scheduled run will pick up the inbox"


def busy_message(db_url: str, wait: float, hint: str = RUN_HINT) -> str:
    return (
        f"another reconcile run is in progress on {safe_url(db_url)} "
        f"(waited {wait:g} s for it); this run did nothing. "
        f"{hint}; raise schedule.lock_wait_seconds in rules.yaml to wait longer."
    )


def lock_file_for(db_url: str) -> Path | None:
    """The lock file of an SQLite database, or None for an in-memory one (nothing to share)."""
    database = make_url(db_url).database
    if not database or database == ":memory:":
        return None
    return Path(database + ".lock")


@contextmanager
def run_lock(
    rules: Rules, db_url: str, *, wait_seconds: float | None = None, hint: str = RUN_HINT
) -> Iterator[None]:
    """Hold the single-instance lock of ``db_url`` for the body; raise LockBusy after waiting
    (its message ends with ``hint``: what to do next). ``review apply`` and ``undo`` hold it
    too: a match must not decide a line while a person's decision on it is being written."""
    wait = rules.schedule.lock_wait_seconds if wait_seconds is None else wait_seconds
    register_url_secret(db_url)
    backend = make_url(db_url).get_backend_name()
    if backend == "sqlite":
        with _sqlite_lock(db_url, wait, hint):
            yield
        return
    engine = create_engine(db_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            if backend == "postgresql":
                with _pg_lock(conn, db_url, wait, hint):
                    yield
            else:
                with _mysql_lock(conn, db_url, wait, hint):
                    yield
    finally:
        engine.dispose()


@contextmanager
def _sqlite_lock(db_url: str, wait: float, hint: str) -> Iterator[None]:
    path = lock_file_for(db_url)
    if path is None:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    # a real kernel lock only: a "soft" lock file would survive a kill -9 and block every later run
    lock = filelock.FileLock(path, fallback_to_soft=False, preserve_lock_file=True)
    try:
        lock.acquire(timeout=0)
    except filelock.Timeout:
        log.info("another run holds %s; waiting up to %g s", path, wait)
        try:
            lock.acquire(timeout=wait)
        except filelock.Timeout as exc:
            log.warning("lock busy: %s", path)
            raise LockBusy(busy_message(db_url, wait, hint)) from exc
    log.debug("lock acquired: %s", path)
    try:
        yield
    finally:
        lock.release()


def _poll(try_once: Callable[[], bool], db_url: str, wait: float, what: str, hint: str) -> None:
    if try_once():
        return
    log.info("another run holds %s; waiting up to %g s", what, wait)
    deadline = time.monotonic() + wait
    while True:
        if time.monotonic() >= deadline:
            log.warning("lock busy: %s", what)
            raise LockBusy(busy_message(db_url, wait, hint))
        time.sleep(POLL_SECONDS)
        if try_once():
            return


@contextmanager
def _pg_lock(conn: Connection, db_url: str, wait: float, hint: str) -> Iterator[None]:
    key = conn.execute(text("SELECT hashtext(current_schema())")).scalar_one()
    conn.commit()

    def try_once() -> bool:
        got = conn.execute(
            text("SELECT pg_try_advisory_lock(:c, :k)"), {"c": PG_LOCK_CLASS, "k": key}
        ).scalar_one()
        conn.commit()
        return bool(got)

    _poll(try_once, db_url, wait, "the PostgreSQL advisory lock", hint)
    log.debug("lock acquired: advisory (%d, %d)", PG_LOCK_CLASS, key)
    try:
        yield
    finally:
        conn.execute(text("SELECT pg_advisory_unlock(:c, :k)"), {"c": PG_LOCK_CLASS, "k": key})
        conn.commit()


@contextmanager
def _mysql_lock(conn: Connection, db_url: str, wait: float, hint: str) -> Iterator[None]:
    name = conn.execute(
        text("SELECT LEFT(CONCAT(:n, ':', COALESCE(DATABASE(), '')), 64)"), {"n": LOCK_NAME}
    ).scalar_one()

    def try_once() -> bool:
        got = conn.execute(text("SELECT GET_LOCK(:n, 0)"), {"n": name}).scalar()
        conn.commit()
        return got == 1

    _poll(try_once, db_url, wait, f"the MariaDB lock {name!r}", hint)
    log.debug("lock acquired: GET_LOCK(%r)", name)
    try:
        yield
    finally:
        conn.execute(text("SELECT RELEASE_LOCK(:n)"), {"n": name})
        conn.commit()
