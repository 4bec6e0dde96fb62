"""Scratch databases for tests: SQLite always; PostgreSQL and MariaDB when reachable.

Each test gets its own PostgreSQL schema / MariaDB database, dropped afterwards, so tests never
see each other's rows. Servers default to the local ones and can be pointed elsewhere with
RECONCILE_TEST_PG_URL / RECONCILE_TEST_MYSQL_URL.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

PG_URL = os.environ.get(
    "RECONCILE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
MYSQL_URL = os.environ.get("RECONCILE_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test")
BACKENDS = ("sqlite", "postgresql", "mariadb")

_reachable: dict[str, str | None] = {}


def unreachable_reason(backend: str) -> str | None:
    """None when the server answers, else why not (used as the skip reason)."""
    if backend == "sqlite":
        return None
    if backend not in _reachable:
        url = PG_URL if backend == "postgresql" else MYSQL_URL
        try:
            engine = create_engine(url, connect_args={"connect_timeout": 3})
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            engine.dispose()
            _reachable[backend] = None
        except Exception as exc:  # any driver/network error means "not reachable"
            safe = make_url(url).render_as_string(hide_password=True)
            _reachable[backend] = f"{backend} server not reachable at {safe}: {type(exc).__name__}"
    return _reachable[backend]


@contextmanager
def scratch_database(backend: str, tmp_path: Path) -> Iterator[str]:
    """Yield the URL of an empty, private database on ``backend``; drop it afterwards."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'reconcile.db'}"
        return
    if backend == "postgresql":
        admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{name}"'))
        url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={name}"})
        try:
            yield url.render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
            admin.dispose()
        return
    admin = create_engine(MYSQL_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
    try:
        yield make_url(MYSQL_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE `{name}`"))
        admin.dispose()


def engine_with_runs(url: str, commands: dict[int, str], failed: tuple[int, ...] = ()) -> Engine:
    """An upgraded database holding runs ``id: command`` (status DONE, FAILED for ``failed``):
    rows of a real table for tests of how selects are read."""
    from reconcile import db
    from reconcile.migrate import upgrade
    from reconcile.store import bulk_insert, make_engine

    engine = make_engine(url)
    upgrade(engine)
    with engine.begin() as conn:
        bulk_insert(
            conn,
            db.runs,
            [
                {"id": i, "started_at": datetime(2026, 3, 10, 9, 0, 0), "as_of": date(2026, 3, 10),
                 "command": command, "status": "FAILED" if i in failed else "DONE"}
                for i, command in commands.items()
            ],
        )  # fmt: skip
    return engine
