"""The README quick start on the sample data, run twice: the outcomes a reader is promised,
and a second run over the settled state that changes nothing (and so reports no invoice as
touched)."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

from reconcile.cli import main

ROOT = Path(__file__).resolve().parent.parent


def _rows(path: Path, key: str) -> dict[str, dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return {row[key]: row for row in csv.DictReader(fh)}


def _lines(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_quick_start_twice_gives_the_sample_outcomes_and_identical_reports(tmp_path: Path) -> None:
    shutil.copy(ROOT / "rules.yaml", tmp_path / "rules.yaml")
    shutil.copytree(ROOT / "sample_data", tmp_path / "sample_data")
    reports = tmp_path / "var" / "reports"
    assert main(["run", "--rules", str(tmp_path / "rules.yaml")]) == 0
    inv = _rows(reports / "invoices.csv", "invoice_no")
    conf = _rows(reports / "confirmations.csv", "ticket_id")
    lines = _lines(reports / "bank_lines.csv")

    def outcome(no: str) -> tuple[str, str, str, str]:
        row = inv[no]
        return row["status"], row["amount_received"], row["codes"], row["line_ids"]

    assert outcome("20431") == ("PAID", "1500000.00", "", "8")
    assert inv["20431"]["confirmation_ids"] == "481516"
    assert conf["481516"]["status"] == "MATCHED"
    assert outcome("20460") == ("PAID", "443500.00", "UNDERPAID", "9")
    assert inv["20460"]["reason"] == "paid; Rp 6.500 short within tolerance"
    assert outcome("20440") == ("PAID", "1250000.00", "COMBINED_PAYMENT", "1")
    assert outcome("20442") == ("PAID", "250000.00", "COMBINED_PAYMENT", "1")
    assert (conf["481522"]["status"], conf["481522"]["codes"], conf["481522"]["line_ids"]) == (
        "MATCHED", "", "1")  # fmt: skip
    assert outcome("20470") == ("PAID", "1200000.00", "SPLIT_PAYMENT", "15;17")
    assert {r["bank"] for r in lines if r["line_id"] in ("15", "17")} == {"bri"}
    assert outcome("20410") == ("CANCELLED", "0.00", "PAYMENT_ON_CLOSED_INVOICE", "")
    assert outcome("20450") == ("PAID", "350000.00", "", "14")  # PEND 09/03, due Sunday 08/03
    assert outcome("20461")[0] == outcome("20462")[0] == "OPEN"
    by_id = {r["line_id"]: r for r in lines}
    assert (by_id["1"]["status"], by_id["1"]["confirmation_ids"]) == ("MATCHED", "481522")
    assert (by_id["13"]["status"], by_id["13"]["codes"], by_id["13"]["amount"]) == (
        "REVIEW", "AMBIGUOUS", "165000.00")  # fmt: skip
    assert by_id["13"]["reason"] == "2 invoices fit equally well (score 55): #20461, #20462"
    assert (by_id["12"]["counterparty"], by_id["12"]["amount"]) == ("JOKO SUSILO", "2000000.00")
    assert (by_id["12"]["status"], by_id["12"]["codes"]) == ("UNMATCHED", "UNIDENTIFIED_CREDIT")
    assert (by_id["2"]["status"], by_id["2"]["codes"]) == ("REVIEW", "PAYMENT_ON_CLOSED_INVOICE")
    assert conf["481519"]["status"] == "INVALID"
    assert conf["481519"]["reason"] == (
        "transfer_date: 'kemarin' is a relative date; expected a transfer date such as "
        "02/03/2026, 2 Maret 2026 or 2026-03-02"
    )
    assert (conf["481530"]["status"], conf["481530"]["codes"]) == ("AWAITING_FUNDS", "")
    assert (conf["481531"]["status"], conf["481531"]["codes"]) == (
        "NO_FUNDS", "CONFIRMATION_WITHOUT_FUNDS")  # fmt: skip
    assert (conf["481540"]["status"], conf["481540"]["codes"], conf["481540"]["line_ids"]) == (
        "MATCHED", "WRONG_ACCOUNT", "16")  # fmt: skip
    assert (conf["481545"]["status"], conf["481545"]["codes"]) == (
        "REVIEW", "CONFIRMATION_AMOUNT_MISMATCH")  # fmt: skip
    assert (by_id["7"]["status"], by_id["7"]["codes"]) == (
        "REVIEW", "OVERPAID;CONFIRMATION_AMOUNT_MISMATCH")  # fmt: skip

    # the second run changes nothing: its report lists no invoice and only the confirmation
    # still without funds (it lists what the run touched, and that exception list in full);
    # the state report still gives every row as the first run did
    assert main(["run", "--rules", str(tmp_path / "rules.yaml")]) == 0
    assert _lines(reports / "invoices.csv") == []
    assert _rows(reports / "confirmations.csv", "ticket_id") == {"481531": conf["481531"]}
    assert main(["report", "--rules", str(tmp_path / "rules.yaml")]) == 0
    assert _rows(reports / "invoices.csv", "invoice_no") == inv
    assert _rows(reports / "confirmations.csv", "ticket_id") == conf
