"""The quick start, then the next runs: each decides its new lines and what new evidence reaches,
nothing else; a confirmation arriving later settles the credit it names."""

from __future__ import annotations

import csv
import shutil
from dataclasses import replace
from pathlib import Path

from sqlalchemy import select

from reconcile import db, store
from reconcile.config import load_rules
from reconcile.pipeline import RunOptions, run

ROOT = Path(__file__).resolve().parent.parent


def _options(tmp_path: Path) -> RunOptions:
    shutil.copy(ROOT / "rules.yaml", tmp_path / "rules.yaml")
    shutil.copytree(ROOT / "sample_data", tmp_path / "sample_data")
    rules = load_rules(tmp_path / "rules.yaml")
    assert rules.as_of is not None
    return RunOptions(
        rules=rules,
        inbox=tmp_path / "sample_data" / "inbox",
        out=tmp_path / "var" / "reports",
        db_url=f"sqlite:///{tmp_path / 'var' / 'reconcile.db'}",
        as_of=rules.as_of,
        invoices=tmp_path / "sample_data" / "invoices.csv",
        confirmations=tmp_path / "sample_data" / "confirmations.csv",
        keep_inbox=True,
    )


def _line(opts: RunOptions, line_id: int) -> dict[str, str]:
    """The line's row in bank_lines.csv: the decision when the run made one, else as it saw it."""
    with (opts.out / "bank_lines.csv").open(encoding="utf-8", newline="") as fh:
        return [r for r in csv.DictReader(fh) if r["line_id"] == str(line_id)][-1]


def _decision_runs(opts: RunOptions) -> dict[int, int]:
    engine = store.make_engine(opts.db_url)
    with engine.connect() as conn:
        d = db.decisions.c
        rows = conn.execute(select(d.bank_line_id, d.run_id).where(d.active.is_(True))).all()
    engine.dispose()
    return {int(line): int(run_id) for line, run_id in rows}


def test_second_run_over_unchanged_inputs_decides_nothing_again(tmp_path: Path) -> None:
    opts = _options(tmp_path)
    first = run(opts)
    second = run(opts)
    assert first.counts["lines_considered"] == 14  # the credits of the sample statements
    assert (second.counts["lines_considered"], second.counts["decisions_written"]) == (0, 0)
    assert second.counts["lines_left_as_decided"] == 4  # still open: REVIEW or UNMATCHED


def test_confirmation_arriving_later_settles_the_ambiguous_credit_and_only_that(
    tmp_path: Path,
) -> None:
    opts = _options(tmp_path)
    run(opts)
    ambiguous = _line(opts, 13)
    assert (ambiguous["status"], ambiguous["codes"]) == ("REVIEW", "AMBIGUOUS")
    before = _decision_runs(opts)
    with opts.confirmations.open("a", encoding="utf-8", newline="") as fh:  # type: ignore[union-attr]
        csv.writer(fh).writerow(
            ["481560", "2026-03-06 19:30:00", "Bambang Irawan", "bambang.irawan@example.com",
             "Konfirmasi", "Billing", "", "sudah tf", "#20462", "bca", "Rp 165.000",
             ambiguous["posted_on"], ambiguous["counterparty"], ""]
        )  # fmt: skip

    second = run(opts)

    assert second.counts["lines_considered"] == 1
    settled = _line(opts, 13)
    assert (settled["status"], settled["invoice_nos"], settled["confirmation_ids"]) == (
        "MATCHED", "20462", "481560")  # fmt: skip
    after = _decision_runs(opts)
    assert after[13] == second.run_id
    assert {k: v for k, v in after.items() if k != 13} == {
        k: v for k, v in before.items() if k != 13
    }


def test_changed_matching_rules_decide_every_open_credit_again(tmp_path: Path) -> None:
    opts = _options(tmp_path)
    run(opts)
    stricter = opts.rules.model_copy(
        update={"matching": opts.rules.matching.model_copy(update={"auto_threshold": 95})}
    )
    again = run(replace(opts, rules=stricter))
    assert again.counts["lines_considered"] == 4  # every credit still open
