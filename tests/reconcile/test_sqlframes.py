"""Selects run on the driver's cursor (sqlframes): lists bound value by value, as SQLAlchemy
itself would bind them, on every database."""

from __future__ import annotations

import pytest
from sqlalchemy import and_, select, tuple_, union_all
from sqlalchemy.dialects import mysql, postgresql, sqlite

from reconcile import db
from reconcile.sqlframes import driver_rows, driver_statement
from tests.dbutil import engine_with_runs

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
    commands = {i: f"c{i}" for i in range(1, 13)} | {3: "50% ?", 7: "%(x)s"}
    engine = engine_with_runs(db_url, commands, failed=(5,))
    with engine.connect() as conn:
        ours = driver_rows(conn, _statement())
        theirs = conn.execute(_statement()).all()
        empty = driver_rows(conn, select(RUNS.id).where(RUNS.id.in_([])))
    engine.dispose()
    assert [tuple(r) for r in ours] == [(2, "c2"), (3, "50% ?"), (7, "%(x)s")]
    assert [tuple(r) for r in ours] == [tuple(r) for r in theirs]
    assert empty == []


def test_a_list_of_tuples_and_a_list_used_twice_read_what_sqlalchemy_reads(db_url: str) -> None:
    engine = engine_with_runs(db_url, {i: f"c{i}" for i in range(1, 8)})
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
