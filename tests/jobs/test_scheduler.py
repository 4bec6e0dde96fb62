"""The scheduler loop: a failing job is logged and the loop goes on; jobs get ``as_of`` passed
in; SIGTERM stops it after the current step."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import pytest

from jobs.scheduler import JobLoop
from reconcile.config import parse_rules

RULES = """accounts:
  - bank: bca
    account_no: "0372543386"
    holder: RINA WULANDARI
schedule:
  every_minutes: 5
  daily_report_at: "06:30"
"""


def test_failing_run_is_logged_with_traceback_and_the_loop_goes_on(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logging.getLogger("reconcile"), "propagate", True)
    calls: list[date] = []

    def flaky_run(as_of: date) -> int:
        calls.append(as_of)
        if len(calls) == 1:
            raise RuntimeError("disk full while writing reports")
        return 0

    loop = JobLoop(
        parse_rules(RULES),
        reconcile_job=flaky_run,
        report_job=lambda as_of: 0,
        today=lambda: date(2026, 3, 10),
    )
    with caplog.at_level(logging.INFO, logger="reconcile"):
        loop.guarded("run", flaky_run)
        loop.guarded("run", flaky_run)
    assert loop.outcomes == [("run", date(2026, 3, 10), None), ("run", date(2026, 3, 10), 0)]
    failed = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert failed[0].getMessage() == "run as of 2026-03-10 failed; the scheduler goes on"
    assert "RuntimeError: disk full while writing reports" in caplog.text


def test_jobs_are_scheduled_from_rules_yaml() -> None:
    loop = JobLoop(parse_rules(RULES), reconcile_job=lambda d: 0, report_job=lambda d: 0)
    jobs = sorted(loop.scheduler.get_jobs(), key=lambda j: str(j.unit))
    assert [(j.interval, j.unit) for j in jobs] == [(1, "days"), (5, "minutes")]
    assert str(jobs[0].at_time) == "06:30:00"


def test_as_of_from_rules_wins_over_today() -> None:
    rules = parse_rules(RULES + "as_of: 2026-02-27\n")
    seen: list[date] = []
    loop = JobLoop(
        rules,
        reconcile_job=lambda d: seen.append(d) or 0,
        report_job=lambda d: 0,
        today=lambda: date(2026, 3, 10),
    )
    loop.scheduler.run_all()
    assert seen == [date(2026, 2, 27)]
    assert [o[0] for o in loop.outcomes] == ["run", "daily report"]


def test_stop_request_skips_jobs_not_yet_started() -> None:
    ran: list[date] = []
    loop = JobLoop(
        parse_rules(RULES), reconcile_job=lambda d: ran.append(d) or 0, report_job=lambda d: 0
    )
    loop.request_stop(15)
    assert loop.serve(install_signals=False) == 0
    assert ran == [] and loop.outcomes == []


def test_sigterm_lets_the_current_run_finish_then_exits_0(sqlite_url: str, tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys

    from sqlalchemy import create_engine, text

    from tests.jobs.test_lock import child_env, wait_for_log
    from tests.jobs.workspace import AS_OF, STATEMENTS, make_workspace

    rules = make_workspace(tmp_path / "ws", sqlite_url, junk=False)
    proc = subprocess.Popen(
        [sys.executable, "-m", "reconcile", "schedule", "--rules", str(rules)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(),
    )
    log_file = tmp_path / "ws" / "var" / "logs" / "reconcile.log"
    wait_for_log(log_file, f"run starting: as_of {AS_OF.isoformat()}", proc)
    proc.send_signal(signal.SIGTERM)
    _out, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, err
    log = log_file.read_text(encoding="utf-8")
    assert "SIGTERM received: stopping after the current step" in log
    assert log.rstrip().endswith('msg="scheduler stopped"')
    engine = create_engine(sqlite_url)
    with engine.connect() as conn:
        runs = conn.execute(text("SELECT status, exit_code FROM runs")).all()
    engine.dispose()
    assert [tuple(r) for r in runs] == [("COMPLETED", 0)]
    archived = sorted(p.name for p in (tmp_path / "ws" / "var" / "archive").iterdir())
    assert archived == sorted(STATEMENTS)


def test_daily_report_job_writes_the_state_report_and_skips_while_a_run_holds_the_lock(
    tmp_path: Path,
) -> None:
    """The scheduler's own report job (not a stand-in): after the quick-start run it writes the
    state workbook and CSVs; while another run holds the lock it writes nothing, exit 4."""
    import shutil

    from jobs.scheduler import make_report_job
    from reconcile.cli import main
    from reconcile.config import load_rules
    from reconcile.lock import run_lock

    repo = Path(__file__).resolve().parents[2]
    shutil.copytree(repo / "sample_data", tmp_path / "sample_data")
    shutil.copy2(repo / "rules.yaml", tmp_path / "rules.yaml")
    rules_path = tmp_path / "rules.yaml"
    assert main(["run", "--rules", str(rules_path), "--quiet"]) == 0
    reports = tmp_path / "var" / "reports"
    job = make_report_job(rules_path)
    rules = load_rules(rules_path)
    with run_lock(rules, rules.resolved_db_url(None), wait_seconds=0):
        assert job(date(2026, 3, 11)) == 4
    assert not (reports / "reconcile_2026-03-11_state_run1.xlsx").exists()
    assert job(date(2026, 3, 11)) == 0
    assert sorted(p.name for p in reports.iterdir()) == [
        "bank_lines.csv", "confirmations.csv", "invoices.csv", "reconcile_2026-03-10_run1.xlsx",
        "reconcile_2026-03-11_state_run1.xlsx", "rejections.csv",
    ]  # fmt: skip
