"""Exit codes exactly as documented, through the real console script and ``python -m``.
(4, lock busy, is proved in test_lock.py.)"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.jobs.test_lock import child_env
from tests.jobs.workspace import make_workspace

CONSOLE_SCRIPT = str(Path(sys.executable).parent / "reconcile")


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(args), capture_output=True, text=True, env=child_env(), timeout=180, check=False
    )


def test_clean_run_exits_0_through_the_console_script(sqlite_url: str, tmp_path: Path) -> None:
    rules = make_workspace(tmp_path / "ws", sqlite_url, junk=False)
    done = run_cli(CONSOLE_SCRIPT, "run", "--rules", str(rules), "--quiet")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # --quiet: nothing for cron to mail
    assert "run 1: 15 bank lines imported (0 already known)" in done.stdout


def test_rejected_file_exits_3_through_python_m(sqlite_url: str, tmp_path: Path) -> None:
    rules = make_workspace(tmp_path / "ws", sqlite_url)
    done = run_cli(sys.executable, "-m", "reconcile", "run", "--rules", str(rules), "--quiet")
    assert done.returncode == 3, done.stderr
    assert "rejected: notes.txt: no importer recognises this file" in done.stderr
    reason = tmp_path / "ws" / "var" / "rejected" / "notes.txt.reason.txt"
    assert reason.read_text(encoding="utf-8").startswith(
        "notes.txt: no importer recognises this file"
    )


def test_broken_rules_exit_2_naming_the_key(sqlite_url: str, tmp_path: Path) -> None:
    rules = make_workspace(tmp_path / "ws", sqlite_url, extra_yaml="mail:\n  port: 0\n")
    done = run_cli(CONSOLE_SCRIPT, "run", "--rules", str(rules))
    assert done.returncode == 2
    assert "rules.yaml: line 21: mail.port: Input should be greater than or equal to 1 (got 0)" in (
        done.stderr
    )


def test_unreachable_database_exits_1_without_showing_the_password(tmp_path: Path) -> None:
    url = "postgresql+psycopg://finance:S3cret-Pw@127.0.0.1:9/reconcile"
    rules = make_workspace(tmp_path / "ws", url)
    done = run_cli(sys.executable, "-m", "reconcile", "run", "--rules", str(rules))
    assert done.returncode == 1
    assert "unexpected failure: OperationalError" in done.stderr
    log = (tmp_path / "ws" / "var" / "logs" / "reconcile.log").read_text(encoding="utf-8")
    assert "S3cret-Pw" not in done.stderr + done.stdout + log
    assert "Traceback" in log  # the cause is in the log, for whoever reads it
