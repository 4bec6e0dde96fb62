"""Log lines carry the run id and never a secret; `reconcile status` tells what happened."""

from __future__ import annotations

import io
import logging
import shutil
from pathlib import Path

from reconcile.cli import main
from reconcile.logs import add_secret, configure_logging, redact, safe_url, set_run_id
from reconcile.status import collect_status

REPO = Path(__file__).resolve().parents[2]


def test_database_password_is_hidden_in_urls_and_log_lines(tmp_path: Path) -> None:
    assert safe_url("postgresql+psycopg://reconcile:s3cret@db/reconcile") == (
        "postgresql+psycopg://reconcile:***@db/reconcile"
    )
    stream = io.StringIO()
    configure_logging(log_file=tmp_path / "r.log", stream=stream, progress=False)
    set_run_id(42)
    add_secret("smtp-pa55word")
    log = logging.getLogger("reconcile.test")
    log.error("cannot connect to mysql+pymysql://ro:hunter22@whmcs/whmcs with smtp-pa55word")
    for handler in logging.getLogger("reconcile").handlers:
        handler.flush()
    line = stream.getvalue().strip()
    in_file = (tmp_path / "r.log").read_text(encoding="utf-8").strip()
    for text in (line, in_file):
        assert "hunter22" not in text and "smtp-pa55word" not in text
        assert "run=42 " in text and "level=ERROR" in text
        assert 'msg="cannot connect to mysql+pymysql://ro:***@whmcs/whmcs with ***"' in text
    set_run_id("-")


def test_redact_leaves_ordinary_text_alone() -> None:
    assert redact("imported a.csv: 17 new lines") == "imported a.csv: 17 new lines"


def test_quiet_logging_shows_warnings_only(tmp_path: Path) -> None:
    stream = io.StringIO()
    configure_logging(log_file=None, quiet=True, stream=stream, progress=False)
    log = logging.getLogger("reconcile.test")
    log.info("routine")
    log.warning("rejected x.csv")
    assert "routine" not in stream.getvalue()
    assert "rejected x.csv" in stream.getvalue()


def test_status_on_an_empty_database_says_no_run_yet(tmp_path: Path) -> None:
    info = collect_status(f"sqlite:///{tmp_path / 'empty.db'}")
    assert info["runs"] == [] and info["note"] == "database is empty: no run yet"


def _sample_run(tmp_path: Path) -> str:
    """The quick start run in ``tmp_path`` (its rules.yaml's path returned)."""
    shutil.copytree(REPO / "sample_data", tmp_path / "sample_data")
    shutil.copy2(REPO / "rules.yaml", tmp_path / "rules.yaml")
    rules = str(tmp_path / "rules.yaml")
    assert main(["run", "--rules", rules, "--quiet"]) == 0
    return rules


def test_status_after_the_sample_run_shows_inputs_counts_review_and_oldest_credit(
    tmp_path: Path,
) -> None:
    _sample_run(tmp_path)
    info = collect_status(f"sqlite:///{tmp_path / 'var' / 'reconcile.db'}")
    [run] = info["runs"]
    assert (run["status"], run["exit_code"], run["command"]) == ("COMPLETED", 0, "run")
    assert set(run["inputs"]) >= {
        "BCA_0372543386_2026-03-02_2026-03-09.csv",
        "invoices.csv",
        "confirmations.csv",
    }
    assert all(len(h) == 64 for h in run["inputs"].values())
    assert run["counts"]["lines_new"] == 17
    assert info["open_review"] == 3
    assert info["unidentified"] == 1
    oldest = info["oldest_unidentified"]
    assert (oldest["amount"], oldest["counterparty"]) == ("2000000.00", "JOKO SUSILO")
    assert str(oldest["posted_on"]) == "2026-03-05"


def test_commands_that_change_the_database_log_to_the_log_file_like_a_run(
    tmp_path: Path,
) -> None:
    rules = _sample_run(tmp_path)
    log_file = tmp_path / "var" / "logs" / "reconcile.log"
    assert main(["sources", "--rules", rules, "--quiet"]) == 0
    for handler in logging.getLogger("reconcile").handlers:
        handler.flush()
    lines = log_file.read_text(encoding="utf-8").splitlines()
    assert any(
        "run=2 " in line and 'msg="invoices unchanged since run 1: not read again"' in line
        for line in lines
    ), lines
