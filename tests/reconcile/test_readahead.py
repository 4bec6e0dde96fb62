"""Reading statement files in worker processes while the main process stores (stage 1).

The parallel path must store exactly what in-process reading stores (every column of every
line, ids included, on every database), hand files over in inbox order, reject a bad file alone
with its file, line and column, and leave no worker behind when the run is killed.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from benchmarks.generate import ACCOUNTS, generate
from importers import base
from reconcile import db, pipeline, readahead, store
from reconcile.config import Rules
from reconcile.pipeline import (
    RunOptions,
    RunResult,
    SeenLines,
    import_inbox,
    prepare_database,
)
from tests.dbutil import scratch_database

SIZE = 3000
SEED = 7
NOW = datetime(2026, 3, 10, 9, 0, 0)
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, date]:
    out = tmp_path_factory.mktemp("readahead") / "data"
    manifest = generate(SIZE, SEED, out)
    return out / "inbox", date.fromisoformat(manifest["as_of"])


def _rules(work: Path) -> Rules:
    return Rules.model_validate(
        {
            "accounts": [
                {"bank": bank, "account_no": acct, "holder": "Rina Wulandari"}
                for bank, acct in ACCOUNTS.items()
            ],
            "base_dir": str(work),
            "keep_inbox": True,
        }
    )


def _import(
    url: str, inbox: Path, as_of: date, work: Path, *, parallel: bool, mp: pytest.MonkeyPatch
) -> tuple[RunResult, list[tuple[Any, ...]], dict[str, list[tuple[Any, ...]]]]:
    """import_inbox twice (the second time every line is known); what it saw and stored."""
    with mp.context() as m:
        if parallel:
            m.setattr(readahead, "PARALLEL_MIN_BYTES", 0)
            m.setattr(readahead, "worker_count", lambda: 2)
        else:
            m.setattr(readahead, "worker_count", lambda: 0)
        rules = _rules(work)
        opts = RunOptions(
            rules=rules,
            inbox=inbox,
            out=work,
            db_url=url,
            as_of=as_of,
            keep_inbox=True,
            clock=lambda: NOW,
        )
        engine = store.make_engine(url)
        try:
            prepare_database(engine, rules)
            with engine.begin() as conn:
                run_id = store.start_run(conn, as_of=as_of, command="test", snapshot={}, now=NOW)
            result = RunResult(run_id=run_id, exit_code=0)
            seen = SeenLines.joined([import_inbox(engine, opts, run_id, result) for _ in range(2)])
            with engine.connect() as conn:
                tables = {
                    t.name: [tuple(r) for r in conn.execute(select(t).order_by(t.c.id))]
                    for t in (db.statement_files, db.bank_lines)
                }
        finally:
            engine.dispose()
    return (
        result,
        list(
            zip(
                seen.line_id.tolist(),
                seen.source_file.tolist(),
                seen.source_line.tolist(),
                seen.duplicate.tolist(),
                strict=True,
            )
        ),
        tables,
    )


def test_parallel_reading_stores_exactly_what_in_process_reading_stores(
    db_url: str, generated: tuple[Path, date], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox, as_of = generated
    seq_result, seq_seen, seq_tables = _import(
        db_url, inbox, as_of, tmp_path / "seq", parallel=False, mp=monkeypatch
    )
    backend = make_url(db_url).get_backend_name()
    with scratch_database("mariadb" if backend == "mysql" else backend, tmp_path / "b") as url:
        par_result, par_seen, par_tables = _import(
            url, inbox, as_of, tmp_path / "par", parallel=True, mp=monkeypatch
        )
    assert seq_result.counts == {
        "lines_new": SIZE,
        "lines_duplicate": SIZE,
        "files_imported": 32,
    }
    assert par_result.counts == seq_result.counts
    assert par_result.rejections == seq_result.rejections == []
    assert par_result.input_hashes == seq_result.input_hashes
    assert len(par_tables["bank_lines"]) == SIZE
    assert par_tables == seq_tables
    # inbox order: file after file, each in its own row order
    assert par_seen == seq_seen
    files = [name for _, name, _, _ in par_seen[:SIZE]]
    assert files == sorted(files)
    assert [d for *_, d in par_seen] == [False] * SIZE + [True] * SIZE


def test_a_bad_file_among_parallel_ones_is_rejected_alone_with_its_line_and_column(
    sqlite_url: str, generated: tuple[Path, date], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox, as_of = generated
    mine = tmp_path / "inbox"
    shutil.copytree(inbox, mine)
    bad = mine / "mutasi_bca_02_id.csv"
    lines = bad.read_text(encoding="utf-8").splitlines(keepends=True)
    row = next(i for i, line in enumerate(lines) if line.startswith("'") and i > 10)
    cells = lines[row].split(",")
    cells[3] = "12O000.00"  # a letter O typed for a zero
    lines[row] = ",".join(cells)
    bad.write_text("".join(lines), encoding="utf-8")
    result, seen, tables = _import(
        sqlite_url, mine, as_of, tmp_path / "w", parallel=True, mp=monkeypatch
    )
    reasons = [(r.file, r.reason) for r in result.rejections]
    assert len(reasons) == 2  # the same bytes refused in both passes
    assert reasons[0] == reasons[1]
    file, reason = reasons[0]
    assert file == bad.name
    assert reason.startswith(f"{bad.name}: line {row + 1}, column ")
    assert "'12O000.00'" in reason
    assert result.counts["files_imported"] == 30
    stored = {r[2] for r in tables["bank_lines"]}  # source_file
    assert bad.name not in stored
    assert len(stored) == 15
    statuses = [(r[2], r[4]) for r in tables["statement_files"]]  # file_name, status
    assert (bad.name, "REJECTED") in statuses
    assert sum(1 for _, s in statuses if s == "REJECTED") == 1  # recorded once
    assert bad.name not in {f for _, f, _, _ in seen}


def test_one_file_or_a_small_inbox_is_read_in_process(generated: tuple[Path, date]) -> None:
    inbox, _ = generated
    files = sorted(inbox.iterdir())
    size = sum(p.stat().st_size for p in files)
    assert size < readahead.PARALLEL_MIN_BYTES
    assert not readahead.use_pool(files, workers=2)
    assert not readahead.use_pool(files[:1], workers=2)
    assert not readahead.use_pool(files, workers=0)


def test_a_large_inbox_is_read_by_workers(
    generated: tuple[Path, date], monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox, _ = generated
    files = sorted(inbox.iterdir())
    monkeypatch.setattr(readahead, "PARALLEL_MIN_BYTES", files[0].stat().st_size + 1)
    assert readahead.use_pool(files, workers=1)
    assert not readahead.use_pool(files[:1], workers=1)
    assert not readahead.use_pool(files, workers=0)


def _two_files(generated: tuple[Path, date], inbox: Path) -> list[Path]:
    inbox.mkdir()
    for source in sorted(generated[0].iterdir())[:2]:
        shutil.copy(source, inbox / source.name)
    return sorted(inbox.iterdir())


@pytest.mark.parametrize("parallel", [False, True], ids=["in-process", "workers"])
def test_a_file_listed_but_gone_is_skipped_and_the_run_goes_on(
    sqlite_url: str,
    generated: tuple[Path, date],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    parallel: bool,
) -> None:
    """An Excel lock file (~$x.csv) or a sync temp file is listed, then gone before it is read."""
    real = _two_files(generated, tmp_path / "inbox")
    ghost = tmp_path / "inbox" / "~$mutasi_bca.csv"
    monkeypatch.setattr(pipeline, "inbox_files", lambda _inbox: sorted([*real, ghost]))
    result, _seen, tables = _import(
        sqlite_url,
        tmp_path / "inbox",
        generated[1],
        tmp_path / "w",
        parallel=parallel,
        mp=monkeypatch,
    )
    reason = (
        "~$mutasi_bca.csv: file vanished or unreadable: No such file or directory "
        "(FileNotFoundError); skipped, the next run reads it if it is still there"
    )
    assert [(r.file, r.reason) for r in result.rejections] == [(ghost.name, reason)] * 2
    assert result.counts["files_imported"] == 4  # both real files, in both passes
    assert {r[2] for r in tables["bank_lines"]} == {p.name for p in real}
    assert ghost.name not in {r[2] for r in tables["statement_files"]}
    assert ghost.name not in result.input_hashes


def test_a_file_removed_between_hashing_and_reading_is_skipped(
    sqlite_url: str, generated: tuple[Path, date], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = _two_files(generated, tmp_path / "inbox")
    hash_file = base.sha256_file

    def hash_then_remove(path: Path) -> str:
        sha = hash_file(path)
        if path == real[0]:
            path.unlink()  # the sync client takes it back
        return sha

    monkeypatch.setattr(base, "sha256_file", hash_then_remove)
    accounts = {acct: bank for bank, acct in ACCOUNTS.items()}
    read = readahead.read_file(real[0], generated[1], accounts, "sqlite")
    assert read.vanished and read.encoded is None and read.sha256 == ""
    assert read.reason == (
        f"{real[0].name}: file vanished or unreadable: No such file or directory "
        "(FileNotFoundError); skipped, the next run reads it if it is still there"
    )
    ok = readahead.read_file(real[1], generated[1], accounts, "sqlite")
    assert ok.encoded is not None and ok.reason is None


def test_a_file_gone_before_it_is_moved_aside_is_left_alone(tmp_path: Path) -> None:
    gone = tmp_path / "inbox" / "mutasi.csv"
    pipeline.move_aside(gone, tmp_path / "rejected", "ab" * 32, "mutasi.csv: a reason")
    assert not (tmp_path / "rejected" / "mutasi.csv").exists()
    assert (tmp_path / "rejected" / "mutasi.csv.reason.txt").read_text() == "mutasi.csv: a reason\n"


_KILLED_PARENT = """
import os, sys, time
from datetime import date
from pathlib import Path
from reconcile import readahead
from reconcile.lines import dialect_named

def main():
    readahead.PARALLEL_MIN_BYTES = 0
    files = sorted(Path(sys.argv[1]).iterdir())
    reads = readahead.read_in_order(
        files, as_of=date.fromisoformat(sys.argv[2]), accounts=eval(sys.argv[3]),
        dialect=dialect_named("sqlite"), workers=2,
    )
    next(reads)
    time.sleep(0.5)
    pids = [p.pid for p in reads.gi_frame.f_locals["pool"]._processes.values()]
    print(" ".join(map(str, pids)), flush=True)
    time.sleep(60)

if __name__ == "__main__":
    main()
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")
def test_workers_leave_when_the_run_is_killed(generated: tuple[Path, date], tmp_path: Path) -> None:
    inbox, as_of = generated
    script = tmp_path / "parent.py"
    script.write_text(_KILLED_PARENT, encoding="utf-8")
    proc = subprocess.Popen(
        [
            sys.executable,
            str(script),
            str(inbox),
            as_of.isoformat(),
            repr({a: b for b, a in ACCOUNTS.items()}),
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert proc.stdout is not None
    pids = [int(p) for p in proc.stdout.readline().split()]
    assert len(pids) == 2 and all(_alive(p) for p in pids)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 5
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(p) for p in pids)


def test_an_invoice_list_gone_since_the_run_started_is_a_rejection(tmp_path: Path) -> None:
    from importers.billing import load_invoices

    gone = tmp_path / "invoices.csv"
    result = RunResult(run_id=1, exit_code=0)
    assert pipeline._source_file("invoices", gone, _rules(tmp_path), result) is None
    frame = pipeline._load_source(result, gone.name, lambda: load_invoices(gone, _rules(tmp_path)))
    assert frame is None
    assert [(r.file, r.reason) for r in result.rejections] == [
        (
            "invoices.csv",
            "invoices.csv: file vanished or unreadable: No such file or directory "
            "(FileNotFoundError)",
        )
    ]
