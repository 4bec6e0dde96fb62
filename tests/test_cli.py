"""Every CLI command has help text and a README section; config errors exit 2 with key and line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer

from reconcile.cli import app, main

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands() -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []

    def walk(prefix: str, cmd: Any) -> None:
        if hasattr(cmd, "commands"):
            for name, sub in cmd.commands.items():
                walk(f"{prefix} {name}", sub)
        else:
            out.append((prefix, cmd))

    walk("reconcile", typer.main.get_command(app))
    return out


COMMANDS = _commands()


def test_the_fixed_commands_exist() -> None:
    names = {name for name, _ in COMMANDS}
    assert {
        "reconcile run",
        "reconcile import",
        "reconcile match",
        "reconcile report",
        "reconcile check-rules",
        "reconcile db upgrade",
        "reconcile status",
    } <= names


@pytest.mark.parametrize(("name", "cmd"), COMMANDS, ids=[n for n, _ in COMMANDS])
def test_command_has_help_text(name: str, cmd: Any) -> None:
    assert (cmd.help or "").strip(), f"{name} has no help text"


@pytest.mark.parametrize(("name", "cmd"), COMMANDS, ids=[n for n, _ in COMMANDS])
def test_command_is_documented_in_the_readme(name: str, cmd: Any) -> None:
    assert f"### `{name}" in README, f"README has no section for {name}"


def test_run_contract_flags_are_all_there() -> None:
    run = dict(COMMANDS)["reconcile run"]
    flags = {opt for p in run.params for opt in getattr(p, "opts", [])}
    assert {
        "--rules",
        "--inbox",
        "--invoices",
        "--confirmations",
        "--db",
        "--out",
        "--as-of",
        "--keep-inbox",
    } <= flags


def test_check_rules_ok_on_the_shipped_rules(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-rules", "--rules", str(ROOT / "rules.yaml")]) == 0
    assert "OK (4 accounts" in capsys.readouterr().out


def test_check_rules_names_key_line_and_expectation_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (ROOT / "rules.yaml").read_text(encoding="utf-8")
    bad = text.replace('account_no: "0372543386"', "account_no: 372543386").replace(
        "auto_threshold: 90", "auto_threshold: 140"
    )
    f = tmp_path / "rules.yaml"
    f.write_text(bad, encoding="utf-8")
    lines = bad.splitlines()
    acct_line = lines.index("    account_no: 372543386") + 1
    threshold_line = next(i for i, ln in enumerate(lines, 1) if "auto_threshold: 140" in ln)
    assert main(["check-rules", "--rules", str(f)]) == 2
    err = capsys.readouterr().err
    assert (
        f"rules.yaml: line {acct_line}: accounts.1.account_no: Value error, must be a quoted string so that "
        'leading zeros survive, e.g. "0372543386" (got 372543386)'
    ) in err
    assert (
        f"rules.yaml: line {threshold_line}: matching.auto_threshold: Input should be less than or equal to 100 (got 140)"
        in err
    )


def test_unknown_bank_in_rules_is_a_config_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "rules.yaml"
    f.write_text(
        'accounts:\n  - {bank: bsi, account_no: "7123456789", holder: X}\n', encoding="utf-8"
    )
    assert main(["check-rules", "--rules", str(f)]) == 2
    assert (
        "rules.yaml: line 2: accounts.0.bank: Input should be 'mandiri', 'bca', 'bni' or 'bri' (got 'bsi')"
        in capsys.readouterr().err
    )


def test_unknown_key_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (ROOT / "rules.yaml").read_text(encoding="utf-8").replace("keep_inbox:", "keep_inbx:")
    f = tmp_path / "rules.yaml"
    f.write_text(text, encoding="utf-8")
    assert main(["check-rules", "--rules", str(f)]) == 2
    assert "keep_inbx: unknown key" in capsys.readouterr().err


def test_missing_rules_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-rules", "--rules", str(tmp_path / "nope.yaml")]) == 2
    assert "nope.yaml: cannot read the file" in capsys.readouterr().err


def test_run_flags_take_the_inbox_sources_database_and_output_they_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every path from flags, none from rules.yaml's paths: the files stay (--keep-inbox)."""
    import shutil

    data = tmp_path / "exports"
    shutil.copytree(ROOT / "sample_data", data)
    before = sorted(p.name for p in (data / "inbox").iterdir())
    out, db = tmp_path / "reports", tmp_path / "books.db"
    code = main([
        "run", "--rules", str(ROOT / "rules.yaml"), "--inbox", str(data / "inbox"),
        "--invoices", str(data / "invoices.csv"), "--confirmations", str(data / "confirmations.csv"),
        "--db", f"sqlite:///{db}", "--out", str(out), "--as-of", "2026-03-10", "--keep-inbox",
        "--quiet",
    ])  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert printed.strip().endswith(
        "run 1: 17 bank lines imported (0 already known), 10 invoices paid, 3 items to review, "
        "1 credits unidentified, 0 rejected"
    )
    assert sorted(p.name for p in out.iterdir()) == [
        "bank_lines.csv", "confirmations.csv", "invoices.csv", "reconcile_2026-03-10_run1.xlsx",
        "rejections.csv",
    ]  # fmt: skip
    assert db.exists() and sorted(p.name for p in (data / "inbox").iterdir()) == before


def test_import_dry_run_shows_each_statement_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bca = ROOT / "sample_data" / "inbox" / "BCA_0372543386_2026-03-02_2026-03-09.csv"
    db = tmp_path / "books.db"
    args = ["import", str(bca), "--rules", str(ROOT / "rules.yaml"), "--db", f"sqlite:///{db}"]
    assert main([*args, "--dry-run"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1] == "dry run: nothing was written"
    # the period is that of its rows (this export prints none; its name is not read)
    assert lines[0] == (
        "BCA_0372543386_2026-03-02_2026-03-09.csv: bca_klikbca_individual account 0372543386 "
        "period 2026-03-02 .. 2026-03-06: 7 rows, 6 credits 7,208,500.00, "
        "1 debits 10,000.00; proof OK"
    )
    assert not db.exists()
