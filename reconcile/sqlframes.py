"""Query results as DataFrames without per-value Python objects.

SQLAlchemy's result processing builds a Decimal per money value and a date per date, then pandas
reads them back: at a million rows that costs seconds. Here a select names columns already in
their final form (integer sen, ISO date text) and the driver's plain tuples go straight into a
frame. Exact: money is integer sen all the way (SQLite stores it so; elsewhere ``NUMERIC * 100``
of a two-place number cast to an integer).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import BigInteger, Connection, String, cast, false, true, type_coerce

ID_CHUNK = 20_000  # ids bound per ``IN (...)`` query, below every driver's parameter limit
DENSE = 4  # a range scan reads at most this many rows per id wanted


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


def _chunks(ids: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for i in range(0, len(ids), ID_CHUNK):
        yield ids[i : i + ID_CHUNK]


def frame_by_ids(
    conn: Connection,
    build: Callable[[Any], Any],
    ids: Sequence[Any],
    columns: Sequence[str],
    key: Any,
) -> pd.DataFrame:
    """Rows whose ``key`` column is one of ``ids``; ``build(condition)`` gives the select, the
    first of ``columns`` is the key.

    Few ids, or integer ids scattered over a wide range (an incremental run's lines among a
    million): ``IN (...)`` per ID_CHUNK, index lookups. Many integer ids close together (a
    first run's lines): one range scan ``BETWEEN min AND max``, filtered here. Many text keys:
    one scan, filtered here.
    """
    integer = len(ids) > 0 and isinstance(ids[0], int | np.integer)
    span = int(max(ids)) - int(min(ids)) + 1 if integer else 0
    if len(ids) <= ID_CHUNK or (integer and span > DENSE * len(ids)):
        parts = [frame(conn, build(key.in_(chunk)), columns) for chunk in _chunks(ids)]
        return (
            pd.concat(parts, ignore_index=True) if parts else frame(conn, build(false()), columns)
        )
    if integer:
        found = frame(conn, build(key.between(int(min(ids)), int(max(ids)))), columns)
    else:
        found = frame(conn, build(true()), columns)
    return found[found[columns[0]].isin(ids).to_numpy()].reset_index(drop=True)
