"""Query results as DataFrames without per-value Python objects.

SQLAlchemy's result processing builds a Decimal per money value and a date per date, then pandas
reads them back: at a million rows that costs seconds. Here a select names columns already in
their final form (integer sen, ISO date text) and the driver's plain tuples go straight into a
frame. Exact: money is integer sen all the way (SQLite stores it so; elsewhere ``NUMERIC * 100``
of a two-place number cast to an integer).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import numpy.typing as npt
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


# how each driver's paramstyle writes one bound value of an expanded list
_MARKS: dict[str, Callable[[str], str]] = {
    "qmark": lambda _name: "?",
    "format": lambda _name: "%s",
    "pyformat": lambda name: f"%({name})s",
}


def driver_statement(stmt: Any, dialect: Any) -> tuple[str, Any]:
    """A Core select as the driver's SQL text and parameters.

    ``column.in_(values)`` binds its list as one expanding parameter. SQLAlchemy's own
    expansion (``render_postcompile``) makes a bound-parameter object per value while it
    compiles: 20,000 ids cost ~50 ms, seconds over the chunks of a million-line workbook.
    Here the statement is compiled with the list as a placeholder and the placeholder
    replaced by one driver mark per value (values stay bound: the text of every chunk of the
    same size is the same statement to the driver's cache). Lists whose type converts values
    before binding, lists of tuples, empty lists and literal parameters take SQLAlchemy's
    expansion."""
    compiled = stmt.compile(dialect=dialect)
    late = compiled.post_compile_params
    mark = _MARKS.get(compiled.dialect.paramstyle)
    values = compiled.params  # a property that builds a new dict: read it once
    simple = mark is not None and all(
        p.expanding
        and not p.literal_execute
        and not p.type._is_tuple_type  # tuple_(a, b).in_(...): a mark per element
        and p.type._cached_bind_processor(dialect) is None
        and len(values[compiled.bind_names[p]]) > 0
        for p in late
    )
    if late and not simple:
        compiled = stmt.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
        values = compiled.params
    sql = compiled.string
    lists: dict[str, list[str]] = {}
    if late and simple:
        assert mark is not None
        for p in late:
            name = compiled.bind_names[p]
            names = [f"{name}_{k}" for k in range(1, len(values[name]) + 1)]
            lists[name] = names
            sql = sql.replace(f"__[POSTCOMPILE_{name}]", ", ".join(map(mark, names)))
    if compiled.positional:
        params: list[Any] = []
        for name in compiled.positiontup or ():
            if name in lists:
                params.extend(values[name])
            else:
                params.append(values[name])
        return sql, tuple(params)
    named = {k: v for k, v in values.items() if k not in lists}
    for name, names in lists.items():
        named.update(zip(names, values[name], strict=True))
    return sql, named


@contextmanager
def driver_cursor(conn: Connection, stmt: Any) -> Iterator[Any]:
    """A driver cursor that has executed a Core select, skipping SQLAlchemy's per-row result
    processing."""
    sql, params = driver_statement(stmt, conn.dialect)
    cursor = conn.connection.cursor()
    try:
        cursor.execute(sql, params)
        yield cursor
    finally:
        cursor.close()


def driver_rows(conn: Connection, stmt: Any) -> list[Any]:
    """The rows of a Core select as the driver returns them (plain tuples)."""
    with driver_cursor(conn, stmt) as cursor:
        return list(cursor.fetchall())


FETCH_CHUNK = 50_000  # rows turned into arrays at a time


def column_arrays(
    conn: Connection,
    stmts: Sequence[Any],
    columns: Sequence[str],
    shared: Collection[str] = (),
    keep: Callable[[npt.NDArray[Any]], npt.NDArray[np.bool_]] | None = None,
    convert: Mapping[str, Callable[[npt.NDArray[Any]], npt.NDArray[Any]]] | None = None,
    integers: Collection[str] = (),
) -> dict[str, npt.NDArray[Any]]:
    """The rows of one or more selects of the same ``columns``, as one object array per column
    (the driver's values: no pandas type inference, no per-value conversion). Rows are
    fetched FETCH_CHUNK at a time, so the driver's row tuples never all exist at once. The
    ``shared`` columns (a few distinct values: bank, status, date) hold one object per
    distinct value instead of one per row (the driver makes a new string for every value:
    about 55 bytes a row and column). ``keep``: a filter on the first column's values, and
    ``convert``: a function per column (say, long JSON into the short text shown), both
    applied to each chunk as it is fetched. ``integers``: columns made int64 chunk by chunk
    (object where a chunk holds a NULL), not left as a Python int per row and column."""
    convert = convert or {}
    pieces: list[list[npt.NDArray[Any]]] = [[] for _ in columns]
    # per shared column, the one object kept for each value (the others are dropped chunk by
    # chunk, so their memory is taken again by the next chunk instead of left in holes)
    kept: dict[str, dict[Any, Any]] = {name: {} for name in columns if name in shared}
    for stmt in stmts:
        with driver_cursor(conn, stmt) as cursor:
            while rows := cursor.fetchmany(FETCH_CHUNK):
                part = np.empty((len(rows), len(columns)), dtype=object)
                part[:] = rows
                del rows
                if keep is not None:
                    part = part[keep(part[:, 0])]
                for k, name in enumerate(columns):
                    values = part[:, k]
                    if name in integers:
                        try:  # a NULL (None) raises: the chunk's column stays object
                            values = values.astype(np.int64)
                        except (TypeError, ValueError):
                            values = values.copy()
                    elif name in kept and len(values):
                        # NULL: code -1, the NaN appended (as factorize's own NA value; asking
                        # factorize to keep NA as a value costs an isna pass over the chunk)
                        codes, distinct = pd.factorize(values)
                        first = kept[name].setdefault
                        shared_values = [first(v, v) for v in distinct]
                        values = np.array([*shared_values, np.nan], dtype=object)[codes]
                    else:
                        values = values.copy()
                    pieces[k].append(convert[name](values) if name in convert else values)
                del part
    out = {}
    for k, name in enumerate(columns):
        out[name] = np.concatenate(pieces[k]) if pieces[k] else np.empty(0, dtype=object)
        pieces[k] = []
    return out


def frame(
    conn: Connection,
    stmt: Any,
    columns: Sequence[str],
    shared: Collection[str] = (),
    integers: Collection[str] = (),
) -> pd.DataFrame:
    """A query's rows (driver tuples) as an object-column frame, no per-row inspection.

    ``shared``: columns of few distinct values (a status, a date, an account) holding one
    object per distinct value instead of one per row (columns of many, such as names, cost
    more to read so than they save), and ``integers``: columns made int64 where they hold no NULL (see
    :func:`column_arrays`). Less memory for frames kept through a match, and for the forked
    halves of it fewer pages to copy: a process that merely reads a value writes its
    reference count."""
    if not shared and not integers:
        return pd.DataFrame.from_records(
            driver_rows(conn, stmt), columns=list(columns), coerce_float=False
        )
    arrays = column_arrays(conn, [stmt], columns, shared, integers=integers)
    return pd.DataFrame(
        {name: pd.Series(arrays[name], dtype=None if name in integers else object, copy=False)
         for name in columns}
    )  # fmt: skip


def chunks(ids: Sequence[Any]) -> Iterable[Sequence[Any]]:
    """``ids`` in slices of at most ID_CHUNK (one ``IN (...)`` query each)."""
    for i in range(0, len(ids), ID_CHUNK):
        yield ids[i : i + ID_CHUNK]


def frame_by_ids(
    conn: Connection,
    build: Callable[[Any], Any],
    ids: Sequence[Any],
    columns: Sequence[str],
    key: Any,
    shared: Collection[str] = (),
    integers: Collection[str] = (),
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
    more = {"shared": shared, "integers": integers}
    if len(ids) <= ID_CHUNK or (integer and span > DENSE * len(ids)):
        parts = [frame(conn, build(key.in_(chunk)), columns, **more) for chunk in chunks(ids)]
        if not parts:
            return frame(conn, build(false()), columns, **more)
        return pd.concat(parts, ignore_index=True)
    if integer:
        found = frame(conn, build(key.between(int(min(ids)), int(max(ids)))), columns, **more)
    else:
        found = frame(conn, build(true()), columns, **more)
    return found[found[columns[0]].isin(ids).to_numpy()].reset_index(drop=True)
