"""Single instance, with real processes: a run finding the lock held exits 4 having done nothing,
a waiting run proceeds once it is free, and two runs started together never both import."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine, select

from reconcile import db
from reconcile.config import load_rules
from reconcile.lock import run_lock
from tests.jobs.workspace import STATEMENTS, make_workspace

PYTHON = sys.executable


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECONCILE_")}
    env["COLUMNS"] = "200"
    return env


def start_run(rules: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [PYTHON, "-m", "reconcile", "run", "--rules", str(rules)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(),
    )


def wait_for_log(
    log_file: Path, text: str, proc: subprocess.Popen[str], timeout: float = 90
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log_file.exists() and text in log_file.read_text(encoding="utf-8"):
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.1)
    raise AssertionError(f"{text!r} never appeared in {log_file}")


def test_run_exits_4_and_touches_nothing_while_another_holds_the_lock(
    db_url: str, tmp_path: Path
) -> None:
    rules_path = make_workspace(tmp_path / "ws", db_url)
    rules = load_rules(rules_path)
    with run_lock(rules, db_url, wait_seconds=0):
        proc = start_run(rules_path)
        _out, err = proc.communicate(timeout=120)
    assert proc.returncode == 4, err
    assert "another reconcile run is in progress on" in err
    assert "(waited 0 s for it); this run did nothing." in err
    assert sorted(p.name for p in (tmp_path / "ws" / "inbox").iterdir()) == sorted(
        [*STATEMENTS, "notes.txt"]
    )
    assert not (tmp_path / "ws" / "var" / "archive").exists()


def test_waiting_run_proceeds_when_the_lock_is_released(sqlite_url: str, tmp_path: Path) -> None:
    rules_path = make_workspace(tmp_path / "ws", sqlite_url, lock_wait_seconds=120, junk=False)
    rules = load_rules(rules_path)
    log_file = tmp_path / "ws" / "var" / "logs" / "reconcile.log"
    archive = tmp_path / "ws" / "var" / "archive"
    with run_lock(rules, sqlite_url, wait_seconds=0):
        proc = start_run(rules_path)
        wait_for_log(log_file, "waiting up to 120 s", proc)
        time.sleep(1.0)
        # while the lock is held the run waits: still alive, nothing imported or moved
        assert proc.poll() is None
        assert not archive.exists()
    _out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert sorted(p.name for p in (tmp_path / "ws" / "var" / "archive").iterdir()) == sorted(
        STATEMENTS
    )


def test_two_runs_started_together_never_both_import_or_match(db_url: str, tmp_path: Path) -> None:
    rules_path = make_workspace(tmp_path / "ws", db_url, lock_wait_seconds=240)
    first, second = start_run(rules_path), start_run(rules_path)
    codes = sorted(p.wait(timeout=240) for p in (first, second))
    assert codes == [0, 3], (first.communicate(), second.communicate())  # junk rejected once
    engine = create_engine(db_url)
    with engine.connect() as conn:
        runs = conn.execute(select(db.runs).order_by(db.runs.c.id)).all()
        lines = conn.execute(select(db.bank_lines.c.id)).all()
        per_line = conn.execute(
            select(db.decisions.c.bank_line_id).where(db.decisions.c.active.is_(True))
        ).all()
    engine.dispose()
    assert [r.status for r in runs] == ["COMPLETED", "COMPLETED"]
    assert runs[0].finished_at <= runs[1].started_at  # one after the other, never overlapping
    new_lines = [json.loads(r.counts).get("lines_new", 0) for r in runs]
    assert len(lines) == 15  # 4 + 2 + 9 lines in the three statements
    assert new_lines == [15, 0]  # imported once, by the first run only
    ids = [r.bank_line_id for r in per_line]
    assert len(ids) == len(set(ids))  # no bank line carries two active decisions
