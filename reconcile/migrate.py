"""Apply the Alembic migrations (on every `run`, and by `reconcile db upgrade`)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, func, inspect, select, table, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from reconcile.errors import ReconcileError

MIGRATIONS = Path(__file__).parent / "migrations"


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    try:
        _upgrade(engine, revision)
    except DBAPIError as exc:
        if engine.dialect.name not in ("mysql", "mariadb"):
            raise  # transactional DDL: a failed migration left nothing behind
        with engine.begin() as conn:
            holding = _drop_if_empty(conn)
        if holding:
            raise ReconcileError(
                f"the database schema could not be migrated to {revision} ({exc.orig}); "
                "MariaDB/MySQL cannot roll back a schema change, and an earlier migration may "
                f"have stopped half done. Tables holding rows: {', '.join(holding)}; nothing "
                "was dropped: restore the database from its backup, or finish the migration "
                "by hand"
            ) from exc
        _upgrade(engine, revision)


def _upgrade(engine: Engine, revision: str) -> None:
    cfg = _config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def _drop_if_empty(conn: Connection) -> list[str]:
    """MariaDB and MySQL commit every CREATE and ALTER at once: a first run killed while the
    schema was being created leaves some tables and no recorded revision, and every later
    migration stops at the first table that exists ("Table 'accounts' already exists"). When
    every table of ours is empty, nothing can be lost: they (and Alembic's own) are dropped
    so that the migrations start over; returns []. Otherwise drops nothing and returns the
    tables holding rows."""
    from reconcile import db

    present = set(inspect(conn).get_table_names())
    found = [t.name for t in db.metadata.sorted_tables if t.name in present]
    count = select(func.count())
    holding = [name for name in found if conn.execute(count.select_from(table(name))).scalar()]
    if holding:
        return holding
    for name in [*reversed(found), *(["alembic_version"] if "alembic_version" in present else [])]:
        conn.execute(text(f"DROP TABLE `{name}`"))
    return []


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_config()).get_current_head()
