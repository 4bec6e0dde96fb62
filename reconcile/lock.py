"""Single instance: two runs started together never both import or match.

SQLite: a file lock beside the database file (filelock). PostgreSQL: a session advisory lock;
MariaDB/MySQL: GET_LOCK. The lock lives as long as the run; a killed process releases it
(the OS drops the file lock, the server drops the session's lock).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import filelock
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from reconcile.config import Rules
from reconcile.errors import LockBusy

LOCK_NAME = "reconcile-run"
PG_LOCK_KEY = 7_401_150_000  # arbitrary, fixed: the advisory lock id of a reconcile run


def _busy(wait: int) -> LockBusy:
    return LockBusy(
        f"another reconcile run holds the lock (waited {wait} s); "
        "it is still running, or try again when it finishes"
    )


@contextmanager
def run_lock(rules: Rules, db_url: str, *, wait_seconds: int | None = None) -> Iterator[None]:
    wait = rules.schedule.lock_wait_seconds if wait_seconds is None else wait_seconds
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        db_path = Path(url.database or "reconcile.db")
        db_path.parent.mkdir(parents=True, exist_ok=True)
        lock = filelock.FileLock(str(db_path) + ".lock")
        try:
            lock.acquire(timeout=wait)
        except filelock.Timeout as exc:
            raise _busy(wait) from exc
        try:
            yield
        finally:
            lock.release()
        return
    engine = create_engine(db_url, poolclass=None)
    conn = engine.connect()
    try:
        if url.get_backend_name() == "postgresql":
            deadline = time.monotonic() + wait
            while not conn.execute(
                text("SELECT pg_try_advisory_lock(:k)"), {"k": PG_LOCK_KEY}
            ).scalar():
                if time.monotonic() >= deadline:
                    raise _busy(wait)
                time.sleep(0.2)
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": PG_LOCK_KEY})
                conn.commit()
        else:
            got = conn.execute(
                text("SELECT GET_LOCK(:n, :w)"), {"n": LOCK_NAME, "w": wait}
            ).scalar()
            if got != 1:
                raise _busy(wait)
            try:
                yield
            finally:
                conn.execute(text("SELECT RELEASE_LOCK(:n)"), {"n": LOCK_NAME})
    finally:
        conn.close()
        engine.dispose()
