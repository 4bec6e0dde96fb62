"""Run outputs: the machine-readable CSVs (a stable interface, README "Output files") and the
Excel workbook accountants work in (reconcile/workbook.py).

CSV conventions: UTF-8, header row, amounts as plain decimals with two places (``1500000.00``),
multi-valued fields joined with ``;``, dates ``YYYY-MM-DD``. Files are written to a temporary
name and renamed into place, so a reader never sees half a file.
"""

from __future__ import annotations

import csv
import io
import logging
import multiprocessing
import os
import re
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import numpy.typing as npt
import pandas as pd
from sqlalchemy import Connection, Engine, and_, false, or_, select, true

from importers.base import gc_paused
from reconcile import db
from reconcile.sqlframes import (
    ID_CHUNK,
    chunks,
    column_arrays,
    frame_by_ids,
    iso_of,
    sen_of,
)

if TYPE_CHECKING:
    from reconcile.pipeline import Rejection, RunOptions, SeenLines

log = logging.getLogger("reconcile")

BANK_LINES_COLUMNS = [
    "line_id", "source_file", "source_line", "bank", "account_no", "posted_on", "direction",
    "amount", "counterparty", "status", "invoice_nos", "confirmation_ids", "codes", "score",
    "reason",
]  # fmt: skip
INVOICES_COLUMNS = [
    "invoice_no", "status", "amount_due", "amount_received", "codes", "line_ids",
    "confirmation_ids", "reason",
]  # fmt: skip
CONFIRMATIONS_COLUMNS = ["ticket_id", "invoice_no", "status", "codes", "line_ids", "reason"]
EXCEL_EPOCH = np.datetime64("1899-12-30", "D")
RANGE_SPAN = 2  # arrays_by_ids: a range scan reads at most this many rows per id wanted


# ---------------------------------------------------------------------------------------------
# exact values straight from SQL (no per-value Decimal or date objects)


def format_sen(sen: pd.Series) -> pd.Series:
    """Integer sen -> ``1500000.00`` (plain, two places, as money.format_amount), exact; a
    missing value becomes ``""``. Whole rupiah and sen are split by numpy, the text is one
    format per value (about three times faster than pandas string arithmetic)."""
    values = sen.astype("Int64")
    missing = values.isna().to_numpy()
    text = sen_texts(values.fillna(0).to_numpy(dtype=np.int64))
    if missing.any():
        text[missing] = ""
    return pd.Series(text, index=sen.index, dtype=object)


def sorted_unique(values: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """``np.unique`` of integer ids by one sort (numpy 2's hash-based unique took about 1 s
    per million ids; this takes 30 ms)."""
    ordered = np.sort(values)
    if len(ordered) == 0:
        return ordered
    return ordered[np.r_[True, ordered[1:] != ordered[:-1]]]


def joined_per_key(keys: pd.Series, values: pd.Series) -> pd.Series:
    """``values`` joined with ``;`` per key, in frame order, indexed by key (first appearance
    first); missing keys are dropped. Equal to ``groupby(keys, sort=False).agg(";".join)``
    without a Python call per group: a key with one value (most invoices) takes it as it is,
    only keys with several values are joined."""
    codes, uniques = pd.factorize(keys.to_numpy(dtype=object), use_na_sentinel=True)
    kept = np.flatnonzero(codes >= 0)
    order = kept[np.argsort(codes[kept], kind="stable")]
    grouped = codes[order]
    texts = values.to_numpy(dtype=object)[order]
    if len(order) == 0:
        return pd.Series([], index=pd.Index([], dtype=object), dtype=object)
    starts = np.flatnonzero(np.r_[True, grouped[1:] != grouped[:-1]])
    ends = np.r_[starts[1:], len(order)]
    joined = texts[starts]
    for k in np.flatnonzero(ends - starts > 1).tolist():
        joined[k] = ";".join(texts[starts[k] : ends[k]].tolist())
    return pd.Series(joined, index=pd.Index(uniques[grouped[starts]], dtype=object), dtype=object)


# ---------------------------------------------------------------------------------------------
# the frames behind the CSVs and the workbook

LINE_FIELDS = ("id", "stored_file", "stored_line", "bank", "account_no", "posted_on", "direction",
               "amount_sen", "counterparty", "line_status", "is_fee")  # fmt: skip
DECISION_FIELDS = ("line_id", "decision_id", "decision_run_id", "decided_by", "invoice_nos",
                   "confirmation_ids", "codes", "score", "reason")  # fmt: skip


def arrays_by_ids(
    conn: Connection,
    build: Callable[[Any], Any],
    ids: npt.NDArray[np.int64],
    columns: Sequence[str],
    key: Any,
    shared: Collection[str] = (),
    convert: Mapping[str, Callable[[npt.NDArray[Any]], npt.NDArray[Any]]] | None = None,
    integers: Collection[str] = (),
) -> dict[str, npt.NDArray[Any]]:
    """Columns (arrays, see sqlframes.column_arrays) of the rows whose integer ``key``
    (the first column) is one of the sorted unique ``ids`` (find each with ``positions_of``).
    Per ID_CHUNK ids one query: a range scan ``BETWEEN`` where at least half of the range is
    wanted (a run's lines), the other rows dropped as they are fetched; ``IN (...)`` where
    they are sparser (the lines a workbook shows, about every other one: each row a range
    scan brings costs more than a wanted id in ``IN``, 20,000 of which take SQLAlchemy some
    13 ms to compile). The ids stay bound parameters: ``IN`` lists of integer literals
    compiled three times faster, but each is a statement of its own that SQLite's statement
    cache keeps (85 MB more at 1M lines). ``build(condition)`` gives the select."""
    stmts = []
    for start in range(0, len(ids), ID_CHUNK):
        chunk = ids[start : start + ID_CHUNK]
        low, high = int(chunk[0]), int(chunk[-1])
        if high - low < RANGE_SPAN * len(chunk):
            stmts.append(build(key.between(low, high)))
        else:
            stmts.append(build(key.in_(chunk.tolist())))
    if not stmts:
        stmts.append(build(false()))

    def wanted(keys: npt.NDArray[Any]) -> npt.NDArray[np.bool_]:
        if len(ids) == 0:
            return np.zeros(len(keys), dtype=bool)
        keys = keys.astype(np.int64)
        return np.asarray(ids[np.minimum(np.searchsorted(ids, keys), len(ids) - 1)] == keys)

    return column_arrays(
        conn, stmts, columns, shared, keep=wanted, convert=convert, integers=integers
    )


def positions_of(
    keys: npt.NDArray[np.int64], wanted: npt.NDArray[np.int64]
) -> npt.NDArray[np.intp]:
    """The position in ``keys`` (unique) of each ``wanted`` value, -1 where it is absent."""
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    if len(ordered) == 0:
        return np.full(len(wanted), -1, dtype=np.intp)
    at = np.minimum(np.searchsorted(ordered, wanted), len(ordered) - 1)
    return np.where(ordered[at] == wanted, order[at], -1)


def taken(
    values: npt.NDArray[Any], at: npt.NDArray[np.intp], missing: Any = None
) -> npt.NDArray[Any]:
    """``values[at]``, ``missing`` where ``at`` is -1."""
    out = values[np.maximum(at, 0)] if len(values) else np.empty(len(at), dtype=values.dtype)
    absent = at < 0
    if absent.any():
        out = out.astype(object)
        out[absent] = missing
    return out


def _text(values: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """An object array of text with None (SQL NULL) as ``""``."""
    out = values.copy()
    out[pd.isna(values)] = ""
    return out


def sen_texts(sen: npt.NDArray[np.int64]) -> npt.NDArray[Any]:
    """Integer sen -> ``1500000.00`` (plain, two places, as money.format_amount), exact."""
    whole, cents = np.divmod(np.abs(sen), 100)
    text = np.array(
        [f"{w}.{c:02d}" for w, c in zip(whole.tolist(), cents.tolist(), strict=True)],
        dtype=object,
    )
    negative = sen < 0
    if negative.any():
        text[negative] = "-" + text[negative]
    return text


def _objects(values: npt.NDArray[Any]) -> pd.Series:
    """An object column as it is (assigning a numpy array would have pandas scan every value
    to infer a string dtype)."""
    return pd.Series(values, dtype=object, copy=False)


def line_frame(conn: Connection, seen: SeenLines, considered: Sequence[int]) -> pd.DataFrame:
    """One row per bank line this run saw (new or repeated, in file order), then the lines it
    reconsidered that it did not see (by id): the CSV columns, plus ``amount_sen``,
    ``decision_id``, ``decision_run_id`` and ``decided_by`` for the workbook. Columns are
    object arrays (text) and int64 (ids, source line, sen) built with numpy from the
    driver's values."""
    dialect = conn.dialect.name
    seen_ids, seen_duplicate = seen.line_id, seen.duplicate
    wanted = np.asarray(considered, dtype=np.int64)
    extra_ids = sorted_unique(wanted[~np.isin(wanted, seen_ids[~seen_duplicate])])
    line_id = np.concatenate([seen_ids, extra_ids])
    ids = sorted_unique(line_id)
    bl, d = db.bank_lines.c, db.decisions.c
    stored = arrays_by_ids(
        conn,
        lambda cond: select(
            bl.id, bl.source_file, bl.source_line, bl.bank, bl.account_no,
            iso_of(bl.posted_on, dialect), bl.direction, sen_of(bl.amount, dialect),
            bl.counterparty, bl.status, bl.is_fee,
        ).where(cond),
        ids,
        LINE_FIELDS,
        bl.id,
        shared=("stored_file", "bank", "account_no", "posted_on", "direction", "counterparty",
                "line_status"),
        integers=("id", "stored_line", "amount_sen"),
    )  # fmt: skip
    at = positions_of(stored["id"].astype(np.int64), line_id)
    if (at < 0).any():
        raise LookupError(f"bank line {int(line_id[np.argmax(at < 0)])} is not stored")
    ln = {name: values[at] for name, values in stored.items() if name != "id"}
    del stored
    decisions = arrays_by_ids(
        conn,
        lambda cond: select(
            d.bank_line_id, d.id, d.run_id, d.decided_by, d.invoice_nos, d.confirmation_ids,
            d.codes, d.score, d.reason,
        ).where(and_(cond, d.active.is_(True))),
        ids,
        DECISION_FIELDS,
        d.bank_line_id,
        shared=("decided_by", "codes"),
        integers=("line_id", "decision_id", "decision_run_id"),
    )  # fmt: skip
    # the latest active decision of each line
    dec_line = decisions["line_id"].astype(np.int64)
    order = np.lexsort((decisions["decision_id"].astype(np.int64), dec_line))
    last = order[np.r_[dec_line[order][1:] != dec_line[order][:-1], True]] if len(order) else order
    dat = positions_of(dec_line[last], line_id)
    dat = np.where(dat >= 0, last[np.maximum(dat, 0)] if len(last) else dat, -1)
    dec = {name: taken(values, dat) for name, values in decisions.items() if name != "line_id"}
    del decisions
    has_dec = dat >= 0
    duplicate = np.concatenate([seen_duplicate, np.zeros(len(extra_ids), dtype=bool)])
    line_status = ln["line_status"]
    # debits and fees a run ignores; a credit a person called no customer payment has that
    # decision, shown as any other
    ignored = (line_status == "IGNORED") & ~duplicate & ~has_dec
    plain = ~duplicate & ~ignored & has_dec
    amount_sen = ln["amount_sen"].astype(np.int64)
    out: dict[str, Any] = {
        "line_id": line_id,
        "source_file": _objects(
            np.concatenate(
                [seen.source_file, ln["stored_file"][len(seen):]]
            )
        ),
        "source_line": np.concatenate(
            [seen.source_line, ln["stored_line"][len(seen):].astype(np.int64)]
        ),
        "duplicate": duplicate,
        "bank": _objects(ln["bank"]),
        "account_no": _objects(ln["account_no"]),
        "direction": _objects(ln["direction"]),
        "posted_on": _objects(_text(ln["posted_on"])),
        "amount_sen": amount_sen,
        "amount": _objects(sen_texts(amount_sen)),
        "counterparty": _objects(_text(ln["counterparty"])),
        "status": _objects(np.where(duplicate, "DUPLICATE", line_status).astype(object)),
    }  # fmt: skip
    empty = np.full(len(line_id), "", dtype=object)
    for name in ("invoice_nos", "confirmation_ids", "codes", "reason"):
        text = _text(dec[name])
        text[~plain] = ""
        out[name] = text
    score = dec["score"]
    scored = plain & ~pd.isna(score)
    score_text = empty.copy()
    score_text[plain] = "<NA>"  # as Int64.astype(str) of a missing score
    texts: dict[int, str] = {}  # one text per distinct score (0-100), not one per line
    score_text[scored] = [
        texts.get(v) or texts.setdefault(v, str(v)) for v in score[scored].astype(np.int64).tolist()
    ]
    out["score"] = score_text
    reason = out["reason"]
    if duplicate.any():  # the text only for the repeats, not for every line
        reason[duplicate] = [
            f"repeats line {i} ({f} line {n})"
            for i, f, n in zip(
                line_id[duplicate].tolist(),
                ln["stored_file"][duplicate].tolist(),
                ln["stored_line"][duplicate].tolist(),
                strict=True,
            )
        ]
    fee = ln["is_fee"][ignored]
    reason[ignored] = np.where(
        ~pd.isna(fee) & fee.astype(bool),
        "bank fee or internal movement",
        "debit: money out never pays an invoice",
    )
    for name in ("invoice_nos", "confirmation_ids", "codes", "reason", "score"):
        out[name] = _objects(out[name])
    for name, source in (("decision_id", "decision_id"), ("decision_run_id", "decision_run_id")):
        values = dec[source]
        out[name] = pd.arrays.IntegerArray(np.where(has_dec, values, 0).astype(np.int64), ~has_dec)
    out["decided_by"] = _objects(_text(dec["decided_by"]))
    return pd.DataFrame(out)


def arrays_by_keys(
    conn: Connection,
    build: Callable[[Any], Any],
    keys: Sequence[str],
    columns: Sequence[str],
    key: Any,
) -> dict[str, npt.NDArray[Any]]:
    """Columns (object arrays) of the rows whose text ``key`` is one of ``keys``, and possibly
    of others (find the wanted rows by their key): few keys, ``IN (...)`` per ID_CHUNK; many,
    one scan of the table."""
    if len(keys) > ID_CHUNK:
        return column_arrays(conn, [build(true())], columns)
    stmts = [build(key.in_(list(chunk))) for chunk in chunks(keys)] or [build(false())]
    return column_arrays(conn, stmts, columns)


def invoice_frame(conn: Connection, invoice_nos: Sequence[str]) -> pd.DataFrame:
    """The invoices loaded this run (first-seen order) with their allocations and the
    confirmations that name them."""
    dialect = conn.dialect.name
    c, a, cf = db.invoices.c, db.allocations.c, db.confirmations.c
    nos = list(dict.fromkeys(invoice_nos))
    inv = arrays_by_keys(
        conn,
        lambda cond: select(
            c.invoice_no, c.status, sen_of(c.amount, dialect),
            sen_of(c.amount_received, dialect), c.codes, c.reason,
        ).where(cond),
        nos,
        ("invoice_no", "status", "due_sen", "received_sen", "codes", "reason"),
        c.invoice_no,
    )  # fmt: skip
    at = pd.Index(inv["invoice_no"]).get_indexer(nos)
    order = [no for no, k in zip(nos, at.tolist(), strict=True) if k >= 0]
    at = at[at >= 0]
    alloc = arrays_by_keys(
        conn,
        lambda cond: select(a.invoice_no, a.id, a.bank_line_id).where(
            and_(cond, a.active.is_(True))
        ),
        nos,
        ("invoice_no", "id", "bank_line_id"),
        a.invoice_no,
    )
    listed = pd.Index(order)
    mine = listed.get_indexer(alloc["invoice_no"]) >= 0
    by_id = np.argsort(alloc["id"][mine].astype(np.int64), kind="stable")
    line_ids = joined_per_key(
        _objects(alloc["invoice_no"][mine][by_id]),
        _objects(
            np.array(list(map(str, alloc["bank_line_id"][mine][by_id].tolist())), dtype=object)
        ),
    )
    del alloc
    tickets = column_arrays(
        conn, [select(cf.ticket_id, cf.invoice_nos)], ("ticket_id", "invoice_nos")
    )
    named = pd.DataFrame(
        {
            "ticket_id": _objects(tickets["ticket_id"]),
            "invoice_no": _objects(_text(tickets["invoice_nos"])).str.split(";"),
        }
    ).explode("invoice_no")
    named = named[listed.get_indexer(named["invoice_no"].to_numpy(dtype=object)) >= 0]
    confs = joined_per_key(named["invoice_no"], named["ticket_id"])
    return pd.DataFrame(
        {
            "invoice_no": _objects(np.array(order, dtype=object)),
            "status": _objects(inv["status"][at]),
            "amount_due": _objects(_sen_or_blank(inv["due_sen"][at])),
            "amount_received": _objects(_sen_or_blank(inv["received_sen"][at])),
            "codes": _objects(inv["codes"][at]),
            "line_ids": _objects(
                _text(taken(line_ids.to_numpy(dtype=object), line_ids.index.get_indexer(order)))
            ),
            "confirmation_ids": _objects(
                _text(taken(confs.to_numpy(dtype=object), confs.index.get_indexer(order)))
            ),
            "reason": _objects(inv["reason"][at]),
        }
    )


def _sen_or_blank(values: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Integer sen (objects, None for NULL) as ``1500000.00``, NULL as ``""``."""
    missing = pd.isna(values)
    text = sen_texts(np.where(missing, 0, values).astype(np.int64))
    text[missing] = ""
    return text


CONFIRMATION_FIELDS = ("ticket_id", "invoice_no", "status", "codes", "line_ids", "reason",
                       "intake_reason", "name", "account_name", "amount_sen", "transfer_date",
                       "destination")  # fmt: skip


def confirmation_frame(conn: Connection, ticket_ids: Sequence[str]) -> pd.DataFrame:
    """The confirmations loaded this run, in the given order: the CSV columns, plus what the
    workbook's no-funds sheet shows (name, amount, transfer date, destination)."""
    dialect = conn.dialect.name
    c = db.confirmations.c
    ids = list(dict.fromkeys(ticket_ids))
    rows = frame_by_ids(
        conn,
        lambda cond: select(
            c.ticket_id, c.invoice_nos, c.status, c.codes, c.line_ids, c.reason,
            c.intake_reason, c.name, c.account_name, sen_of(c.amount, dialect),
            iso_of(c.transfer_date, dialect), c.bank_destination_raw,
        ).where(cond),
        ids,
        CONFIRMATION_FIELDS,
        c.ticket_id,
    ).set_index("ticket_id")  # fmt: skip
    order = [t for t in ids if t in rows.index] if len(rows) != len(ids) else ids
    out = rows.reindex(order).reset_index()
    reason = out["reason"].fillna("")
    out["reason"] = reason.where(reason != "", out["intake_reason"].fillna(""))
    return out


CSV_CHUNK = 100_000  # rows joined and written at a time
_CSV_SPECIAL = (",", '"', "\n", "\r")  # a field holding one of these may need quoting
_CSV_SPECIAL_RE = re.compile('[,"\n\r]')


def _csv_quoted(values: list[str]) -> list[str]:
    """The fields as the csv module writes them (pandas ``to_csv`` uses it): it decides the
    quoting of each value that holds a special character."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    special = _CSV_SPECIAL_RE.search
    out = list(values)
    for k, value in enumerate(values):
        if special(value):
            buffer.seek(0)
            buffer.truncate()
            writer.writerow([value, ""])
            out[k] = buffer.getvalue()[:-2]  # the row is ``<field>,\n``
    return out


def _csv_texts(column: pd.Series) -> list[str] | None:
    """A column's CSV fields as ``to_csv`` writes them, or None when it is not plain integers
    or text (missing: ``""``)."""
    if column.dtype.kind in "iu":
        return list(map(str, column.tolist()))
    if column.dtype.kind not in "OU" and not isinstance(column.dtype, pd.StringDtype):
        return None
    values = column.to_numpy(dtype=object)
    if pd.api.types.infer_dtype(values, skipna=False) != "string":  # some missing, or not text
        if pd.api.types.infer_dtype(values, skipna=True) not in ("string", "empty"):
            return None
        missing = column.isna().to_numpy()
        if missing.any():
            values = values.copy()
            values[missing] = ""
    texts: list[str] = values.tolist()
    blob = "".join(texts)
    if any(c in blob for c in _CSV_SPECIAL):
        texts = _csv_quoted(texts)
    return texts


def write_csv(path: Path, columns: list[str], data: pd.DataFrame) -> Path:
    """The frame's ``columns`` as CSV (csv-module quoting, ``\\n`` line ends), atomically.
    Integer and text columns (all of ours) are joined row by row in chunks, the csv module
    quoting only the values that need it; the bytes are those of ``DataFrame.to_csv``, which
    still writes any other frame."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fields = [_csv_texts(data[c]) for c in columns] if len(columns) > 1 else [None]
    if any(f is None for f in fields):
        data.to_csv(tmp, columns=columns, index=False, lineterminator="\n", encoding="utf-8")
    else:
        with tmp.open("w", encoding="utf-8", newline="") as fh:
            csv.writer(fh, lineterminator="\n").writerow(columns)
            for start in range(0, len(data), CSV_CHUNK):
                chunk = [f[start : start + CSV_CHUNK] for f in fields if f is not None]
                fh.write("\n".join(map(",".join, zip(*chunk, strict=True))) + "\n")
    os.replace(tmp, path)
    return path


def rejection_frame(rejections: Sequence[Rejection]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "file": [r.file for r in rejections],
            "line": [str(r.line) if r.line else "" for r in rejections],
            "reason": [r.reason for r in rejections],
        },
        dtype=object,
    )


@dataclass
class _Frames:
    """What the outputs are written from; each frame is dropped once written."""

    lines: pd.DataFrame | None
    confirmations: pd.DataFrame | None


# A big run's report stage has a worker process (its own connection) for what can be read and
# written apart while this one reads the lines and builds the workbook: invoices.csv, and the
# details of the lines most of the workbook's sheets show. From this many invoices, or this
# many lines, on; below, starting the worker (about a second of the other CPU) would cost more
# than it takes off this process.
INVOICES_WORKER_MIN = 100_000
LINES_WORKER_MIN = 200_000

T = TypeVar("T")
# ``later(fn, *args)``: ``fn(engine or URL, *args)`` started now in the worker, or run here when
# its result is asked for; the call returned gives the result
Later = Callable[..., Callable[[], Any]]


@contextmanager
def engine_of(engine_or_url: Engine | str) -> Iterator[Engine]:
    """The engine given; for a URL (a call run in the report worker), an engine of its own,
    disposed of afterwards. The cyclic collector is paused meanwhile (as in this process)."""
    from reconcile.store import make_engine

    if not isinstance(engine_or_url, str):
        with gc_paused():
            yield engine_or_url
        return
    engine = make_engine(engine_or_url)
    try:
        with gc_paused():
            yield engine
    finally:
        engine.dispose()


def write_invoices_csv(engine_or_url: Engine | str, path: Path, invoice_nos: Sequence[str]) -> Path:
    """invoices.csv of ``invoice_nos``; a URL: with an engine of its own (a worker process)."""
    with engine_of(engine_or_url) as engine:
        with engine.connect() as conn:
            invs = invoice_frame(conn, invoice_nos)
        return write_csv(path, INVOICES_COLUMNS, invs)


def in_process(engine: Engine) -> Later:
    """``later`` without a worker: each call runs here when its result is asked for."""

    def later(fn: Callable[..., T], *args: Any) -> Callable[[], T]:
        return lambda: fn(engine, *args)

    return later


@contextmanager
def _report_worker(engine: Engine, db_url: str, big: bool) -> Iterator[Later]:
    """A worker process for a big run when another CPU is there (spawned, as
    reconcile/readahead.py's readers, and leaving if this process dies); yields ``later``,
    which starts a call there at once (with the database URL: the worker opens its own
    connection) and returns the call giving its result (run here instead should the worker
    have stopped). Without a worker, ``later`` runs each call here when its result is asked
    for. On leaving, the worker has finished."""
    from reconcile.readahead import _watch_parent, worker_count

    url = engine.url
    in_memory = url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")
    if not big or in_memory or worker_count() < 1:
        yield in_process(engine)
        return
    with ProcessPoolExecutor(
        max_workers=1,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_watch_parent,
        initargs=(os.getpid(),),
    ) as pool:

        def later(fn: Callable[..., T], *args: Any) -> Callable[[], T]:
            started = pool.submit(fn, db_url, *args)

            def result() -> T:
                try:
                    return started.result()
                except BrokenProcessPool:
                    log.warning("the report worker stopped; %s runs in-process", fn.__name__)
                    return fn(engine, *args)

            return result

        yield later


def write_run_reports(
    engine: Engine,
    opts: RunOptions,
    run_id: int,
    *,
    seen: SeenLines,
    considered: Sequence[int],
    invoice_nos: Sequence[str],
    ticket_ids: Sequence[str],
    rejections: Sequence[Rejection],
) -> list[Path]:
    """The run's CSVs and workbook. invoices.csv and confirmations.csv hold what this run
    loaded (README "Output files"), not the whole tables."""
    big = len(invoice_nos) >= INVOICES_WORKER_MIN or len(seen) + len(considered) >= LINES_WORKER_MIN
    with _report_worker(engine, opts.db_url, big) as later, gc_paused():
        invoices_csv = later(write_invoices_csv, opts.out / "invoices.csv", list(invoice_nos))
        with engine.connect() as conn:
            frames = _Frames(
                line_frame(conn, seen, considered), confirmation_frame(conn, ticket_ids)
            )
        return _write_all(engine, opts, run_id, opts.out, frames, invoices_csv, rejections, later)


def workbook_name(as_of: date, run_id: int, *, state: bool = False) -> str:
    """A run's workbook, ``reconcile_<as-of>_run<id>.xlsx``; the state report's (``reconcile
    report``, the scheduler's daily one), ``reconcile_<as-of>_state_run<id>.xlsx``, after the
    latest run: never the name of a run's workbook, which accountants may be filling in."""
    kind = "state_run" if state else "run"
    return f"reconcile_{as_of.isoformat()}_{kind}{run_id}.xlsx"


def unused_path(out: Path, name: str) -> Path:
    """``out / name``, or when a file of that name exists (an accountant may be filling it in:
    ``reconcile report`` twice with no run between names its workbook alike) the first free
    ``<stem>_2<suffix>``, ``<stem>_3<suffix>``, … : a workbook is never written over."""
    path = out / name
    n = 1
    while path.exists():
        n += 1
        path = out / f"{Path(name).stem}_{n}{Path(name).suffix}"
    return path


def _write_all(
    engine: Engine,
    opts: RunOptions,
    run_id: int,
    out: Path,
    frames: _Frames,
    invoices_csv: Callable[[], Path],
    rejections: Sequence[Rejection] | None,
    later: Later,
) -> list[Path]:
    """The workbook's sheets, then the rest of its packaging (workbook.build_workbook deflates
    each sheet as it is finished) in a second thread while the CSVs are written;
    ``rejections=None``: no rejections.csv (a state report, whose workbook has a name of its
    own). ``invoices_csv`` writes invoices.csv (or waits for the worker that does);
    ``later``: see _report_worker."""
    from reconcile import workbook

    assert frames.lines is not None and frames.confirmations is not None
    name = workbook_name(opts.as_of, run_id, state=rejections is None)
    book = workbook.build_workbook(
        unused_path(out, name),
        engine,
        opts,
        run_id,
        lines=frames.lines,
        invoices=None,
        confirmations=frames.confirmations,
        rejections=rejections or [],
        later=later,
    )
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="workbook") as pool:
        packaged = pool.submit(book.close)
        paths = [write_csv(out / "bank_lines.csv", BANK_LINES_COLUMNS, frames.lines)]
        frames.lines = None
        paths.append(
            write_csv(out / "confirmations.csv", CONFIRMATIONS_COLUMNS, frames.confirmations)
        )
        frames.confirmations = None
        paths.insert(1, invoices_csv())
        if rejections is not None:
            paths.append(
                write_csv(
                    out / "rejections.csv", ["file", "line", "reason"], rejection_frame(rejections)
                )
            )
        paths.append(packaged.result())
    return paths


def write_state_reports(opts: RunOptions) -> list[Path]:
    """`reconcile report`: outputs for the current state (every line still open or matched,
    and the credits a person called no customer payment: not the debits, fees and repeats a
    run ignores; every invoice and confirmation), without importing or matching."""
    from reconcile.pipeline import SeenLines
    from reconcile.store import make_engine

    engine = make_engine(opts.db_url)
    try:
        with gc_paused():
            with engine.connect() as conn:
                c = db.bank_lines.c
                # and the credits a person called no customer payment: with them the credits
                # per account add up to the statements'
                set_aside = and_(c.status == "IGNORED", c.direction == "CR", c.is_fee.is_(False))
                open_ids = [
                    int(r[0])
                    for r in conn.execute(
                        select(c.id)
                        .where(or_(c.status.in_(("REVIEW", "UNMATCHED", "MATCHED")), set_aside))
                        .order_by(c.id)
                    )
                ]
                run_id = int(
                    conn.execute(
                        select(db.runs.c.id).order_by(db.runs.c.id.desc()).limit(1)
                    ).scalar_one()
                )
                frames = _Frames(
                    line_frame(conn, SeenLines(), open_ids),
                    confirmation_frame(
                        conn, [r[0] for r in conn.execute(select(db.confirmations.c.ticket_id))]
                    ),
                )
                invoice_nos = [r[0] for r in conn.execute(select(db.invoices.c.invoice_no))]
            return _write_all(
                engine,
                opts,
                run_id,
                opts.out,
                frames,
                lambda: write_invoices_csv(engine, opts.out / "invoices.csv", invoice_nos),
                None,
                in_process(engine),
            )
    finally:
        engine.dispose()
