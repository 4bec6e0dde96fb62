"""The benchmark data generator and the pipeline at the 10k size: correctness, never time.

The generator writes 10,000 bank lines in the four banks' real layouts plus invoices and
confirmations; the real pipeline (SQLite) must import every file without a rejection, store
exactly the lines written, and hold per account exactly the money the generator put there.
"""

from __future__ import annotations

import csv
import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from benchmarks.generate import (
    ACCOUNTS,
    DEFAULT_LAYOUTS,
    english,
    generate,
    indonesian,
    parse_size,
    plain,
)
from importers import by_name
from reconcile import db, store
from reconcile.config import Rules
from reconcile.pipeline import RunOptions, RunResult, run

SIZE = 10_000
SEED = 7


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


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("bench") / "10k"
    return out, generate(SIZE, SEED, out, increment=200)


@pytest.fixture(scope="module")
def pipeline_run(
    generated: tuple[Path, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory
) -> tuple[RunResult, str]:
    data, manifest = generated
    work = tmp_path_factory.mktemp("work")
    url = f"sqlite:///{work / 'reconcile.db'}"
    opts = RunOptions(
        rules=_rules(work),
        inbox=data / "inbox",
        out=work / "reports",
        db_url=url,
        as_of=date.fromisoformat(manifest["as_of"]),
        invoices=data / "invoices.csv",
        confirmations=data / "confirmations.csv",
        keep_inbox=True,
    )
    return run(opts), url


def test_every_default_layout_has_a_registered_importer() -> None:
    assert [by_name(layout).name for layout in DEFAULT_LAYOUTS] == list(DEFAULT_LAYOUTS)


def test_generator_writes_the_promised_sizes(generated: tuple[Path, dict[str, Any]]) -> None:
    data, manifest = generated
    assert manifest["lines"] == SIZE
    assert manifest["increment_lines"] == 200
    assert len([f for f in manifest["files"] if f["folder"] == "inbox"]) == 16
    assert sorted(p.name for p in (data / "inbox").iterdir()) == sorted(
        f["name"] for f in manifest["files"] if f["folder"] == "inbox"
    )
    assert manifest["invoices"]["open"] == SIZE // 2
    assert manifest["confirmations"]["rows"] == SIZE // 10
    with (data / "truth_lines.csv").open(encoding="utf-8", newline="") as fh:
        truth = list(csv.DictReader(fh))
    assert len(truth) == SIZE + 200


def test_generator_is_deterministic_by_seed(tmp_path: Path) -> None:
    first = generate(400, 11, tmp_path / "a")
    second = generate(400, 11, tmp_path / "b")
    assert first == second
    for f in first["files"]:
        a = (tmp_path / "a" / f["folder"] / f["name"]).read_bytes()
        assert a == (tmp_path / "b" / f["folder"] / f["name"]).read_bytes(), f["name"]
    for name in ("invoices.csv", "confirmations.csv", "truth_lines.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    other = generate(400, 12, tmp_path / "c")
    assert other["accounts"] != first["accounts"]


def test_truth_totals_equal_the_manifest_per_account(
    generated: tuple[Path, dict[str, Any]],
) -> None:
    data, manifest = generated
    credit: dict[str, Decimal] = {}
    debit: dict[str, Decimal] = {}
    with (data / "truth_lines.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["posted_on"] >= "2026-05-01":  # the next day's export (inbox_next/)
                continue
            book = credit if row["direction"] == "CR" else debit
            book[row["account_no"]] = book.get(row["account_no"], Decimal("0")) + Decimal(
                row["amount"]
            )
    for acct, expected in manifest["accounts"].items():
        assert credit[acct] == Decimal(expected["credit_total"]), acct
        assert debit[acct] == Decimal(expected["debit_total"]), acct
        closing = Decimal(expected["opening"]) + credit[acct] - debit[acct]
        assert closing == Decimal(expected["closing"]), acct


def test_paying_credits_carry_invoice_numbers_that_exist(
    generated: tuple[Path, dict[str, Any]],
) -> None:
    data, _ = generated
    with (data / "invoices.csv").open(encoding="utf-8", newline="") as fh:
        invoices = {r["invoice_no"]: r for r in csv.DictReader(fh)}
    with (data / "truth_lines.csv").open(encoding="utf-8", newline="") as fh:
        truth = list(csv.DictReader(fh))
    paid = [n for r in truth if r["invoice_nos"] for n in r["invoice_nos"].split(";")]
    assert paid and all(n in invoices for n in paid)
    exact = [r for r in truth if r["kind"] == "exact"]
    assert all(Decimal(r["amount"]) == Decimal(invoices[r["invoice_nos"]]["amount"]) for r in exact)
    assert all(r["direction"] == "DB" for r in truth if r["kind"] in ("fee", "transfer_out"))


def test_prices_repeat_like_a_hosting_business(generated: tuple[Path, dict[str, Any]]) -> None:
    data, _ = generated
    with (data / "invoices.csv").open(encoding="utf-8", newline="") as fh:
        amounts = [Decimal(r["amount"]) for r in csv.DictReader(fh) if r["status"] == "Unpaid"]
    share_165k = sum(1 for a in amounts if a == Decimal("165000")) / len(amounts)
    assert 0.08 < share_165k < 0.16  # MEASURED.md: the single most common price, ~14.5 %


def test_pipeline_imports_every_generated_file_without_rejection(
    generated: tuple[Path, dict[str, Any]], pipeline_run: tuple[RunResult, str]
) -> None:
    _, manifest = generated
    result, _ = pipeline_run
    assert [r.reason for r in result.rejections] == []
    assert result.counts["files_imported"] == 16
    assert result.counts["lines_new"] == SIZE
    assert result.counts["lines_duplicate"] == 0
    assert result.counts["invoices_new"] == manifest["invoices"]["rows"]
    assert result.counts["confirmations_new"] == manifest["confirmations"]["rows"]


def test_stored_lines_and_money_per_account_equal_the_generator_truth(
    generated: tuple[Path, dict[str, Any]], pipeline_run: tuple[RunResult, str]
) -> None:
    _, manifest = generated
    _, url = pipeline_run
    engine = store.make_engine(url)
    c = db.bank_lines.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(c.account_no, c.direction, func.count(), func.sum(c.amount)).group_by(
                c.account_no, c.direction
            )
        ).all()
        per_file = dict(
            conn.execute(
                select(db.statement_files.c.file_name, db.statement_files.c.line_count)
            ).all()
        )
    engine.dispose()
    stored = {(r[0], r[1]): (r[2], r[3]) for r in rows}
    for acct, expected in manifest["accounts"].items():
        n_cr, sum_cr = stored[(acct, "CR")]
        n_db, sum_db = stored[(acct, "DB")]
        assert n_cr + n_db == expected["lines"], acct
        assert n_cr == expected["credits"], acct
        # the Money type sums integer sen on SQLite and reads back exact Decimal rupiah
        assert sum_cr == Decimal(expected["credit_total"]), acct
        assert sum_db == Decimal(expected["debit_total"]), acct
    assert per_file == {f["name"]: f["lines"] for f in manifest["files"] if f["folder"] == "inbox"}


def test_the_run_decides_every_credit(
    generated: tuple[Path, dict[str, Any]], pipeline_run: tuple[RunResult, str]
) -> None:
    _, manifest = generated
    result, _ = pipeline_run
    credits = sum(a["credits"] for a in manifest["accounts"].values())
    decided = result.counts["matched"] + result.counts["review"] + result.counts["unmatched"]
    assert decided == credits


@pytest.mark.parametrize(
    ("sen", "plain_text", "english_text", "indonesian_text"),
    [
        (150_000_000, "1500000.00", "1,500,000.00", "1.500.000,00"),
        (0, "0.00", ".00", "0,00"),
        (5, "0.05", "0.05", "0,05"),
        (-5_000_000, "-50000.00", "-50,000.00", "-50.000,00"),
    ],
)
def test_amount_text_in_each_syntax(
    sen: int, plain_text: str, english_text: str, indonesian_text: str
) -> None:
    assert (plain(sen), english(sen), indonesian(sen)) == (
        plain_text,
        english_text,
        indonesian_text,
    )


@pytest.mark.parametrize(("text", "size"), [("10k", 10_000), ("1m", 1_000_000), ("2500", 2500)])
def test_sizes_are_read_with_suffixes(text: str, size: int) -> None:
    assert parse_size(text) == size


def test_manifest_on_disk_is_the_returned_one(generated: tuple[Path, dict[str, Any]]) -> None:
    data, manifest = generated
    assert json.loads((data / "manifest.json").read_text(encoding="utf-8")) == manifest
