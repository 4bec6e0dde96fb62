"""Selects run on the driver's cursor (sqlframes): lists bound value by value, as SQLAlchemy
itself would bind them, on every database."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import and_, select, tuple_, union_all
from sqlalchemy.dialects import mysql, postgresql, sqlite

from reconcile import db
from reconcile.migrate import upgrade
from reconcile.sqlframes import driver_rows, driver_statement
from reconcile.store import bulk_insert, make_engine

RUNS = db.runs.c


def _statement() -> object:
    # two lists (integers, texts with the characters paramstyles use) and a plain value
    return (
        select(RUNS.id, RUNS.command)
        .where(
            and_(
                RUNS.id.in_([2, 3, 5, 7, 11]),
                RUNS.command.in_(["c2", "50% ?", "c5", "c7", "%(x)s"]),
                RUNS.status == "DONE",
            )
        )
        .order_by(RUNS.id)
    )


@pytest.mark.parametrize(
    ("dialect", "marks"),
    [
        (sqlite.dialect(), "?, ?, ?, ?, ?"),
        (mysql.pymysql.dialect(), "%s, %s, %s, %s, %s"),
        (
            postgresql.psycopg.dialect(),
            ", ".join(f"%(id_1_{k})s" for k in range(1, 6)),
        ),
    ],
    ids=["qmark", "format", "pyformat"],
)
def test_a_list_becomes_one_driver_mark_per_value_in_order(dialect: object, marks: str) -> None:
    sql, params = driver_statement(_statement(), dialect)
    assert "POSTCOMPILE" not in sql
    assert f"runs.id IN ({marks})" in sql
    if isinstance(params, dict):
        assert [params[f"id_1_{k}"] for k in range(1, 6)] == [2, 3, 5, 7, 11]
        assert [params[f"command_1_{k}"] for k in range(1, 6)] == [
            "c2", "50% ?", "c5", "c7", "%(x)s",
        ]  # fmt: skip
        assert params["status_1"] == "DONE"
    else:
        assert params == (2, 3, 5, 7, 11, "c2", "50% ?", "c5", "c7", "%(x)s", "DONE")


def test_an_empty_list_is_left_to_sqlalchemy() -> None:
    sql, params = driver_statement(select(RUNS.id).where(RUNS.id.in_([])), sqlite.dialect())
    assert "POSTCOMPILE" not in sql
    assert "1!=1" in sql  # SQLAlchemy's empty IN: no row
    assert params == ()


def test_driver_rows_of_lists_are_what_sqlalchemy_returns(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    now = datetime(2026, 3, 10, 9, 0, 0)
    commands = {2: "c2", 3: "50% ?", 5: "c5", 7: "%(x)s", 11: "c11"}
    with engine.begin() as conn:
        bulk_insert(
            conn,
            db.runs,
            [
                {"id": i, "started_at": now, "as_of": date(2026, 3, 10),
                 "command": commands.get(i, f"c{i}"), "status": "DONE" if i != 5 else "FAILED"}
                for i in range(1, 13)
            ],
        )  # fmt: skip
    with engine.connect() as conn:
        ours = driver_rows(conn, _statement())
        theirs = conn.execute(_statement()).all()
        empty = driver_rows(conn, select(RUNS.id).where(RUNS.id.in_([])))
    engine.dispose()
    assert [tuple(r) for r in ours] == [(2, "c2"), (3, "50% ?"), (7, "%(x)s")]
    assert [tuple(r) for r in ours] == [tuple(r) for r in theirs]
    assert empty == []


def test_a_list_of_tuples_and_a_list_used_twice_read_what_sqlalchemy_reads(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    now = datetime(2026, 3, 10, 9, 0, 0)
    with engine.begin() as conn:
        bulk_insert(
            conn,
            db.runs,
            [
                {"id": i, "started_at": now, "as_of": date(2026, 3, 10), "command": f"c{i}",
                 "status": "DONE"}
                for i in range(1, 8)
            ],
        )  # fmt: skip
    pairs = select(RUNS.id).where(
        tuple_(RUNS.id, RUNS.command).in_([(2, "c2"), (3, "x"), (5, "c5")])
    )
    ids = [1, 4, 6]
    twice = union_all(
        select(RUNS.id).where(RUNS.id.in_(ids)), select(RUNS.id).where(RUNS.id.in_(ids[1:]))
    )
    with engine.connect() as conn:
        got = {
            name: sorted(r[0] for r in driver_rows(conn, stmt))
            for name, stmt in (("pairs", pairs), ("twice", twice))
        }
        expected = {
            name: sorted(r[0] for r in conn.execute(stmt))
            for name, stmt in (("pairs", pairs), ("twice", twice))
        }
    engine.dispose()
    assert got == expected == {"pairs": [2, 5], "twice": [1, 4, 4, 6, 6]}
