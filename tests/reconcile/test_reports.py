"""Report frames: the pieces the CSVs are built from, with real values."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconcile import reports
from reconcile.reports import joined_per_key


def test_values_are_joined_per_key_in_frame_order_with_keys_in_first_seen_order() -> None:
    keys = pd.Series(["20432", "20431", "20432", None, "20440", "20431", "20432"], dtype=object)
    values = pd.Series(["7", "3", "9", "1", "12", "4", "15"], dtype=object)
    joined = joined_per_key(keys, values)
    assert joined.index.tolist() == ["20432", "20431", "20440"]
    assert joined.tolist() == ["7;9;15", "3;4", "12"]


def test_no_values_join_to_an_empty_series() -> None:
    joined = joined_per_key(pd.Series([], dtype=object), pd.Series([], dtype=object))
    assert joined.to_dict() == {}


@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c", "20431"]), st.text(max_size=4))))
def test_joined_per_key_equals_a_groupby_join(pairs: list[tuple[str, str]]) -> None:
    frame = pd.DataFrame(pairs, columns=["key", "value"], dtype=object)
    expected = frame.groupby("key", sort=False)["value"].agg(";".join).to_dict()
    assert joined_per_key(frame["key"], frame["value"]).to_dict() == expected


def test_a_run_leaves_only_its_outputs_in_the_report_folder(tmp_path: Path) -> None:
    from tests.reconcile.test_workbook import run_march

    r = run_march(tmp_path)
    assert sorted(p.name for p in r.out.iterdir()) == [
        "bank_lines.csv",
        "confirmations.csv",
        "invoices.csv",
        "reconcile_2026-03-10_run1.xlsx",
        "rejections.csv",
    ]


def test_a_state_report_never_replaces_the_workbook_of_the_run_before_it(tmp_path: Path) -> None:
    """Accountants fill in a run's workbook (review decisions) and apply it later: the daily
    state report, written after that run, takes a name of its own."""
    from reconcile.pipeline import RunOptions
    from tests.reconcile.test_workbook import AS_OF, make_rules, run_march

    r = run_march(tmp_path)
    before = r.book.read_bytes()
    opts = RunOptions(
        rules=make_rules("id", ""), inbox=tmp_path / "inbox", out=r.out, db_url=r.db_url,
        as_of=AS_OF, command="report",
    )  # fmt: skip
    written = reports.write_state_reports(opts)
    names = sorted(p.name for p in r.out.iterdir())
    assert [p.name for p in written if p.suffix == ".xlsx"] == [
        "reconcile_2026-03-10_state_run1.xlsx"
    ]
    assert names == [
        "bank_lines.csv",
        "confirmations.csv",
        "invoices.csv",
        "reconcile_2026-03-10_run1.xlsx",
        "reconcile_2026-03-10_state_run1.xlsx",
        "rejections.csv",
    ]
    assert (r.out / "reconcile_2026-03-10_run1.xlsx").read_bytes() == before


def test_a_second_state_report_with_no_run_between_takes_the_next_free_name(
    tmp_path: Path,
) -> None:
    """`reconcile report` twice with no run between: the second used to write over the first
    state workbook, losing the decisions an accountant had typed into it."""
    from openpyxl import load_workbook

    from reconcile.pipeline import RunOptions
    from tests.reconcile.test_workbook import AS_OF, make_rules, run_march

    r = run_march(tmp_path)
    opts = RunOptions(
        rules=make_rules("id", ""), inbox=tmp_path / "inbox", out=r.out, db_url=r.db_url,
        as_of=AS_OF, command="report",
    )  # fmt: skip
    [first] = [p for p in reports.write_state_reports(opts) if p.suffix == ".xlsx"]
    assert first.name == "reconcile_2026-03-10_state_run1.xlsx"
    wb = load_workbook(first)
    wb["Perlu Review"]["A2"] = "Setujui usulan"  # the accountant's decision
    wb.save(first)
    filled = first.read_bytes()
    written = [p.name for p in reports.write_state_reports(opts) if p.suffix == ".xlsx"]
    third = [p.name for p in reports.write_state_reports(opts) if p.suffix == ".xlsx"]
    assert (written, third) == (
        ["reconcile_2026-03-10_state_run1_2.xlsx"], ["reconcile_2026-03-10_state_run1_3.xlsx"],
    )  # fmt: skip
    assert first.read_bytes() == filled
    assert load_workbook(first)["Perlu Review"]["A2"].value == "Setujui usulan"
    assert load_workbook(r.out / written[0])["Perlu Review"]["A2"].value is None


def test_a_csv_that_cannot_be_written_fails_the_report_stage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.reconcile.test_workbook import run_march

    def disk_full(path: Path, columns: list[str], data: pd.DataFrame) -> Path:
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(reports, "write_csv", disk_full)
    with pytest.raises(OSError, match="No space left on device"):
        run_march(tmp_path)


def _to_csv_bytes(path: Path, columns: list[str], data: pd.DataFrame) -> bytes:
    data.to_csv(path, columns=columns, index=False, lineterminator="\n", encoding="utf-8")
    return path.read_bytes()


_FIELD = st.one_of(
    st.none(),
    st.text(alphabet=st.sampled_from(list("ab ,\"\n\r\t;'=é\u2028")), max_size=6),
)


@given(st.lists(st.tuples(st.integers(-(10**12), 10**12), _FIELD, _FIELD), max_size=12))
def test_csv_bytes_equal_those_pandas_writes(
    rows: list[tuple[int, str | None, str | None]],
) -> None:
    import tempfile

    data = pd.DataFrame(
        {
            "line_id": pd.Series([r[0] for r in rows], dtype="int64"),
            "counterparty": pd.Series([r[1] for r in rows], dtype=object),
            "reason": pd.Series([r[2] for r in rows], dtype="str"),
        }
    )
    columns = ["line_id", "counterparty", "reason"]
    with tempfile.TemporaryDirectory() as tmp:
        written = reports.write_csv(Path(tmp) / "out.csv", columns, data).read_bytes()
        assert written == _to_csv_bytes(Path(tmp) / "pandas.csv", columns, data)


def test_a_sender_with_a_comma_and_quotes_is_quoted_in_the_csv(tmp_path: Path) -> None:
    data = pd.DataFrame({"line_id": [7, 8], "counterparty": ['PT "MAJU", TBK', None]})
    path = reports.write_csv(tmp_path / "lines.csv", ["line_id", "counterparty"], data)
    assert path.read_text(encoding="utf-8") == 'line_id,counterparty\n7,"PT ""MAJU"", TBK"\n8,\n'


def test_columns_that_are_not_integers_or_text_are_written_by_pandas(tmp_path: Path) -> None:
    data = pd.DataFrame({"a": [1.5, None], "b": [True, False], "c": ["x", 3]})
    path = reports.write_csv(tmp_path / "mixed.csv", ["a", "b", "c"], data)
    assert path.read_bytes() == _to_csv_bytes(tmp_path / "pandas.csv", ["a", "b", "c"], data)
    assert path.read_text(encoding="utf-8") == "a,b,c\n1.5,True,x\n,False,3\n"


@given(st.lists(st.integers(min_value=-(2**62), max_value=2**62), max_size=30))
def test_sorted_unique_equals_numpy_unique(values: list[int]) -> None:
    import numpy as np

    array = np.array(values, dtype=np.int64)
    assert reports.sorted_unique(array).tolist() == np.unique(array).tolist()


def test_outputs_written_with_a_worker_process_are_those_written_in_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker writes invoices.csv and reads the details of the later sheets' lines."""
    from reconcile import readahead
    from tests.reconcile.test_workbook import entries, run_march

    (tmp_path / "here").mkdir()
    (tmp_path / "worker").mkdir()
    here = run_march(tmp_path / "here")
    pools: list[object] = []

    class RecordedPool(reports.ProcessPoolExecutor):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]
            pools.append(self)

    monkeypatch.setattr(reports, "INVOICES_WORKER_MIN", 1)
    monkeypatch.setattr(readahead, "worker_count", lambda: 1)
    monkeypatch.setattr(reports, "ProcessPoolExecutor", RecordedPool)
    worker = run_march(tmp_path / "worker")
    assert len(pools) == 1
    assert (
        (worker.out / "invoices.csv")
        .read_text(encoding="utf-8")
        .startswith(
            "invoice_no,status,amount_due,amount_received,codes,line_ids,confirmation_ids,reason\n"
        )
    )
    for name in ("invoices.csv", "bank_lines.csv", "confirmations.csv", "rejections.csv"):
        assert (worker.out / name).read_bytes() == (here.out / name).read_bytes()
    assert entries(worker.book) == entries(here.book)


def test_rows_by_ids_are_those_asked_for_whether_ranged_or_listed(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Dense ids are read by a range scan (the rows between dropped), sparse ones by a list of
    integer literals; both give exactly the rows asked for, on every database."""
    import numpy as np
    from sqlalchemy import select

    from reconcile import db
    from tests.dbutil import engine_with_runs

    engine = engine_with_runs(db_url, {i: f"c{i}" for i in range(1, 301)})
    monkeypatch.setattr(reports, "ID_CHUNK", 40)
    r = db.runs.c
    dense = np.arange(10, 200, dtype=np.int64)
    sparse = np.array([3, 50, 51, 97, 180, 181, 250, 299, 300], dtype=np.int64)
    mixed = np.concatenate([np.arange(1, 41), np.arange(41, 300, 7)]).astype(np.int64)
    with engine.connect() as conn:
        for ids in (dense, sparse, mixed, np.array([], dtype=np.int64)):
            got = reports.arrays_by_ids(
                conn,
                lambda cond: select(r.id, r.command).where(cond),
                ids,
                ("id", "command"),
                r.id,
                integers=("id",),
            )
            assert sorted(got["id"].tolist()) == ids.tolist()
            assert all(
                c == f"c{i}" for i, c in zip(got["id"].tolist(), got["command"], strict=True)
            )
    engine.dispose()


def test_a_credit_a_person_set_aside_stays_in_the_state_report_with_their_reason(
    tmp_path: Path,
) -> None:
    """Line 5 (Rp 300.000) is called no customer payment in review: the state report still
    lists it, with the person's reason, so the credits per account add up to the statement."""
    import csv

    from reconcile.pipeline import RunOptions
    from reconcile.store import make_engine
    from tests.reconcile.test_review import apply, fill
    from tests.reconcile.test_workbook import AS_OF, make_rules, run_march

    r = run_march(tmp_path)
    reviewed = fill(r.book, "Perlu Review", {5: ("Bukan pembayaran pelanggan", None, None,
                                                  "setoran pemilik")}, tmp_path / "rev.xlsx")  # fmt: skip
    engine = make_engine(r.db_url)
    assert apply(engine, reviewed).applied == ["'Perlu Review' row 3 (line 5)"]
    engine.dispose()
    opts = RunOptions(
        rules=make_rules("id", ""), inbox=tmp_path / "inbox", out=tmp_path / "state",
        db_url=r.db_url, as_of=AS_OF, command="report",
    )  # fmt: skip

    reports.write_state_reports(opts)

    with (opts.out / "bank_lines.csv").open(encoding="utf-8", newline="") as fh:
        rows = {row["line_id"]: row for row in csv.DictReader(fh)}
    with (r.out / "bank_lines.csv").open(encoding="utf-8", newline="") as fh:
        credits = [row for row in csv.DictReader(fh) if row["direction"] == "CR"]
    line = rows["5"]
    assert (line["status"], line["amount"], line["reason"]) == (
        "IGNORED",
        "300000.00",
        "not a customer payment (decided by rina): setoran pemilik",
    )
    assert sorted(k for k, row in rows.items() if row["direction"] == "CR") == sorted(
        row["line_id"] for row in credits)  # fmt: skip
