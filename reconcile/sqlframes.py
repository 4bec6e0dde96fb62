"""Query results as DataFrames without per-value Python objects.

SQLAlchemy's result processing builds a Decimal per money value and a date per date, then pandas
reads them back: at a million rows that costs seconds. Here a select names columns already in
their final form (integer sen, ISO date text) and the driver's plain tuples go straight into a
frame. Exact: money is integer sen all the way (SQLite stores it so; elsewhere ``NUMERIC * 100``
of a two-place number cast to an integer).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
from sqlalchemy import BigInteger, Connection, String, cast, type_coerce


def sen_of(column: Any, dialect: str) -> Any:
    """A Money column as exact integer sen."""
    if dialect == "sqlite":
        return type_coerce(column, BigInteger)
    return cast(column * 100, BigInteger)


def iso_of(column: Any, dialect: str) -> Any:
    """A Date or DateTime column as its ISO text (what SQLite stores; a cast elsewhere)."""
    if dialect == "sqlite":
        return type_coerce(column, String)
    return cast(column, String)


def driver_rows(conn: Connection, stmt: Any) -> list[Any]:
    """The rows of a Core select as the driver returns them (plain tuples), skipping
    SQLAlchemy's per-row result processing."""
    compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    params: Any = compiled.params  # a property that builds a new dict: read it once
    if compiled.positional:
        params = tuple(params[name] for name in compiled.positiontup or ())
    cursor = conn.connection.cursor()
    try:
        cursor.execute(str(compiled), params)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def frame(conn: Connection, stmt: Any, columns: Sequence[str]) -> pd.DataFrame:
    """A query's rows (driver tuples) as an object-column frame, no per-row inspection."""
    return pd.DataFrame.from_records(
        driver_rows(conn, stmt), columns=list(columns), coerce_float=False
    )
