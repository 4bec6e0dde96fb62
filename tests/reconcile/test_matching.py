"""The matching core, one named test per business situation (exact sen, codes, reasons)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from reconcile.config import Matching
from reconcile.matching import MatchResult, decide
from reconcile.money import from_sen, to_sen

RULES = Matching()
AS_OF = date(2026, 3, 10)
BCA = "0372543386"
MANDIRI = "1370010136428"


def credit(line_id: int, amount: str, sender: str = "", *, day: str = "2026-03-03",
           message: str = "", account: str = BCA) -> dict[str, object]:  # fmt: skip
    return {
        "line_id": line_id, "bank": "bca", "account_no": account,
        "posted_on": pd.Timestamp(day), "initiated_on": pd.NaT,
        "amount_sen": to_sen(Decimal(amount)), "counterparty": sender, "sender_bank": "",
        "message": message, "description": f"TRSF E-BANKING CR {message} {sender}".strip(),
        "channel": "TRANSFER",
    }  # fmt: skip


def invoice(no: str, amount: str, client: str, *, company: str = "", issued: str = "2026-02-25",
            due: str = "2026-03-04", status: str = "OPEN", received: str = "0") -> dict[str, object]:  # fmt: skip
    email = client.lower().replace(" ", ".") + "@example.com"
    return {
        "invoice_no": no, "client_name": client, "company_name": company, "email": email,
        "issued_on": pd.Timestamp(issued), "due_on": pd.Timestamp(due),
        "amount_sen": to_sen(Decimal(amount)), "source_status": "Unpaid", "source_row": 2,
        "received_sen": to_sen(Decimal(received)), "status": status, "client_key": email,
    }  # fmt: skip


def confirmation(ticket: str, amount: str | None, account_name: str, *, invoices: str = "",
                 dest: str = BCA, transfer: str | None = "2026-03-03",
                 email: str = "") -> dict[str, object]:  # fmt: skip
    return {
        "ticket_id": ticket, "submitted_at": pd.Timestamp("2026-03-03 21:00"), "name": account_name,
        "email": email, "subject": "Konfirmasi Pembayaran", "message": "", "related_service": "",
        "attachment": "", "invoice_no_raw": invoices, "bank_destination_raw": dest,
        "amount_raw": amount or "", "transfer_date_raw": transfer or "", "account_name": account_name,
        "invoice_nos": invoices, "dest_account_no": dest, "dest_not_ours": False,
        "amount_sen": to_sen(Decimal(amount)) if amount else pd.NA,
        "transfer_date": pd.Timestamp(transfer) if transfer else pd.NaT,
        "intake_status": "VALID", "intake_reason": "", "source_row": 2, "status": "OPEN",
        "codes": "", "line_ids": "", "reason": "",
    }  # fmt: skip


def run(credits: list[dict[str, object]], invoices: list[dict[str, object]],
        confirmations: list[dict[str, object]] = (), aliases: list[tuple[str, str]] = (),
        rules: Matching = RULES) -> MatchResult:  # fmt: skip
    conf_columns = list(confirmation("0", "1", "x").keys())
    return decide(
        pd.DataFrame(credits, columns=list(credit(0, "1").keys())),
        pd.DataFrame(invoices),
        pd.DataFrame(list(confirmations), columns=conf_columns),
        pd.DataFrame(list(aliases), columns=["sender_norm", "client_key"]),
        rules,
        AS_OF,
    )


def line(result: MatchResult, line_id: int) -> dict[str, object]:
    return result.lines.set_index("line_id").loc[line_id].to_dict()


def test_name_and_exact_amount_marks_invoice_paid_with_readable_reason() -> None:
    r = run(
        [credit(1, "1500000", "BPK BUDI SANTOSO")], [invoice("20431", "1500000", "Budi Santoso")]
    )
    got = line(r, 1)
    assert (got["status"], got["rule"], got["score"], got["invoice_nos"]) == (
        "MATCHED", "name_amount", 93, "20431")  # fmt: skip
    assert got["reason"] == "amount exact; name 'BPK BUDI SANTOSO' ~ client 'Budi Santoso' 100"
    assert json.loads(str(got["signals"]))["name"] == {
        "level": "client",
        "similarity": 100,
        "weight": 38,
    }
    assert r.allocations.to_dict("records") == [
        {"line_id": 1, "invoice_no": "20431", "amount_sen": 150_000_000}
    ]
    assert r.invoices.to_dict("records") == [
        {
            "invoice_no": "20431",
            "status": "PAID",
            "received_sen": 150_000_000,
            "codes": "",
            "reason": "paid",
        }
    ]


def test_invoice_number_in_message_matches_even_from_an_unknown_sender() -> None:
    r = run(
        [credit(1, "750000", "DANA", message="INV 20432")],
        [invoice("20432", "750000", "Siti Rahayu")],
    )
    got = line(r, 1)
    assert (got["status"], got["rule"], got["codes"]) == ("MATCHED", "invoice_ref", "")
    assert got["reason"] == "amount exact; invoice #20432 in description"


def test_credit_quoting_another_invoice_than_its_amount_and_name_fit_goes_to_review() -> None:
    # "INV 20501" is Andi's invoice; the amount and the name fit Joko's 20502: the evidence
    # conflicts, so neither is paid automatically
    invoices = [
        invoice("20501", "500000", "Andi Pratama"),
        invoice("20502", "750000", "Joko Widodo"),
    ]
    r = run([credit(1, "750000", "JOKO WIDODO", message="INV 20501")], invoices)
    got = line(r, 1)
    assert (got["status"], got["codes"], got["invoice_nos"], got["candidates"]) == (
        "REVIEW", "AMBIGUOUS", "20502", "20501;20502")  # fmt: skip
    assert got["reason"] == (
        "quotes invoice #20501, not #20502; amount exact; name 'JOKO WIDODO' ~ client 'Joko Widodo' 100"
    )
    assert r.allocations.empty


def test_nameless_credit_quoting_another_invoice_than_its_unique_code_goes_to_review() -> None:
    invoices = [
        invoice("20501", "500000", "Andi Pratama"),
        invoice("20502", "1500123", "Rudi Hartono"),
    ]
    r = run([credit(1, "1500123", "DANA", message="INV 20501")], invoices)
    got = line(r, 1)
    assert (got["status"], got["score"], got["codes"], got["candidates"]) == (
        "REVIEW", 95, "AMBIGUOUS", "20501;20502")  # fmt: skip
    assert got["reason"] == "quotes invoice #20501, not #20502; amount exact with unique code"
    assert r.allocations.empty


def test_combined_payment_quoting_an_invoice_outside_the_set_goes_to_review() -> None:
    invoices = [
        invoice("20440", "1250000", "Hendra Wijaya", company="PT Wijaya Niaga Sentosa"),
        invoice("20442", "250000", "Hendra Wijaya", company="PT Wijaya Niaga Sentosa"),
        invoice("20443", "400000", "Hendra Wijaya", company="PT Wijaya Niaga Sentosa"),
    ]
    # the sum fits 20440 + 20442, but the transfer says it pays 20443
    r = run([credit(1, "1500000", "PT WIJAYA NIAGA SEN", message="INV 20443")], invoices)
    got = line(r, 1)
    assert (got["status"], got["rule"], got["codes"], got["invoice_nos"]) == (
        "REVIEW", "combined", "COMBINED_PAYMENT;AMBIGUOUS", "20440;20442")  # fmt: skip
    assert got["reason"] == (
        "quotes invoice #20443, not among them; "
        "sum of 2 open invoices of one client: #20440 Rp 1.250.000, #20442 Rp 250.000"
    )
    assert r.allocations.empty


@pytest.mark.parametrize(
    ("sender", "client", "company", "reason", "level"),
    [
        # the sender is the longer name: a bank cuts the sender, never the client's name
        ("BUDI SANTOSO WIJAYA", "Budi Santoso", "",
         "amount exact; name 'BUDI SANTOSO WIJAYA' ~ client 'Budi Santoso' 80", "weak"),
        ("PT MAJU JAYA ABADI", "Hendra", "PT Maju Jaya",
         "amount exact; name 'PT MAJU JAYA ABADI' ~ company 'PT Maju Jaya' 80", "weak"),
        # printed 12 characters: shorter than any bank's cut, so the whole name
        ("MUHAMMAD ALI", "Muhammad Alimin", "",
         "amount exact; name 'MUHAMMAD ALI' ~ client 'Muhammad Alimin' 89", "fuzzy"),
    ],
)  # fmt: skip
def test_a_name_is_a_bank_cut_only_when_the_sender_is_the_shorter_and_long_enough(
    sender: str, client: str, company: str, reason: str, level: str
) -> None:
    r = run([credit(1, "500000", sender)], [invoice("20501", "500000", client, company=company)])
    got = line(r, 1)
    assert (got["status"], got["invoice_nos"]) == ("REVIEW", "20501")
    assert got["codes"] == ("NAME_MISMATCH" if level == "weak" else "")
    assert got["reason"] == reason
    assert json.loads(str(got["signals"]))["name"]["level"] == level
    assert r.allocations.empty


def test_a_sender_cut_by_the_bank_still_matches_the_full_client_name() -> None:
    r = run(
        [credit(1, "500000", "BPK BUDI SANTOSO WI")],
        [invoice("20501", "500000", "Budi Santoso Wijaya")],
    )
    got = line(r, 1)
    assert (got["status"], got["score"], got["invoice_nos"]) == ("MATCHED", 93, "20501")
    assert (
        got["reason"]
        == "amount exact; name 'BPK BUDI SANTOSO WI' ~ client 'Budi Santoso Wijaya' 100"
    )


def test_two_invoices_same_amount_without_other_evidence_goes_to_review() -> None:
    invoices = [
        invoice("20501", "165000", "Andi Pratama"),
        invoice("20502", "165000", "Rudi Hartono"),
    ]
    got = line(run([credit(1, "165000", "")], invoices), 1)
    assert (got["status"], got["codes"], got["candidates"]) == (
        "REVIEW",
        "AMBIGUOUS",
        "20501;20502",
    )
    assert got["reason"] == "2 invoices fit equally well (score 55): #20501, #20502"


def test_two_open_invoices_of_one_client_with_same_amount_are_not_guessed() -> None:
    invoices = [
        invoice("20501", "165000", "Andi Pratama"),
        invoice("20502", "165000", "Andi Pratama"),
    ]
    got = line(run([credit(1, "165000", "ANDI PRATAMA")], invoices), 1)
    assert (got["status"], got["codes"], got["candidates"]) == (
        "REVIEW",
        "AMBIGUOUS",
        "20501;20502",
    )


def test_same_client_same_amount_older_overdue_invoice_is_not_guessed_by_the_date() -> None:
    # the newer invoice would win by the date signal alone (93 to 88): which one Budi pays,
    # the overdue or the current, is for a person to say
    invoices = [
        invoice("20401", "500000", "Budi Santoso", issued="2026-01-05", due="2026-01-12"),
        invoice("20501", "500000", "Budi Santoso"),
    ]
    r = run([credit(1, "500000", "BUDI SANTOSO")], invoices)
    got = line(r, 1)
    assert (got["status"], got["codes"], got["invoice_nos"], got["candidates"]) == (
        "REVIEW", "AMBIGUOUS", "20501", "20401;20501")  # fmt: skip
    assert got["reason"] == (
        "2 invoices fit the sender's name and amount: #20401, #20501; "
        "amount exact; name 'BUDI SANTOSO' ~ client 'Budi Santoso' 100"
    )
    assert r.allocations.empty
    # a confirmation naming one of them singles it out
    r = run([credit(1, "500000", "BUDI SANTOSO")], invoices,
            [confirmation("T1", "500000", "Budi Santoso", invoices="20401")])  # fmt: skip
    got = line(r, 1)
    assert (got["status"], got["invoice_nos"], got["codes"]) == (
        "MATCHED",
        "20401",
        "PAID_AFTER_DUE",
    )


def test_amount_alone_with_sole_unique_code_is_matched() -> None:
    invoices = [invoice("20600", "1500217", "Yusuf Maulana"), invoice("20601", "1500000", "Joko")]
    got = line(run([credit(1, "1500217", "")], invoices), 1)
    assert (got["status"], got["rule"], got["score"], got["invoice_nos"]) == (
        "MATCHED", "unique_amount", 95, "20600")  # fmt: skip


def test_unique_code_shared_with_an_older_open_invoice_is_not_unique() -> None:
    # Andi's 20401 was issued two months before the credit, far outside the amount window,
    # and is still open with the same coded amount: the code no longer identifies Rudi's
    invoices = [
        invoice("20401", "1500123", "Andi Pratama", issued="2026-01-05", due="2026-01-12"),
        invoice("20501", "1500123", "Rudi Hartono"),
    ]
    r = run([credit(1, "1500123", "DANA")], invoices)
    got = line(r, 1)
    assert (got["status"], got["rule"], got["score"], got["codes"], got["invoice_nos"]) == (
        "REVIEW", "amount_only", 65, "", "20501")  # fmt: skip
    assert (
        got["reason"] == "amount exact with unique code; another open invoice has the same amount"
    )
    assert json.loads(str(got["signals"]))["rarity"] == {"level": "else", "weight": 0}
    assert r.allocations.empty


def test_amount_alone_without_code_goes_to_review() -> None:
    got = line(run([credit(1, "1500000", "")], [invoice("20601", "1500000", "Joko Susilo")]), 1)
    assert (got["status"], got["rule"], got["score"], got["invoice_nos"]) == (
        "REVIEW", "amount_only", 55, "20601")  # fmt: skip


def test_transfer_fee_deducted_within_tolerance_marks_paid_with_underpaid() -> None:
    r = run([credit(1, "1493500", "BUDI SANTOSO", message="INV-2026-20431")],
            [invoice("20431", "1500000", "Budi Santoso")])  # fmt: skip
    got = line(r, 1)
    assert (got["status"], got["codes"]) == ("MATCHED", "UNDERPAID")
    assert got["reason"].startswith("amount Rp 6.500 short (fee shortfall)")
    [inv] = r.invoices.to_dict("records")
    assert (inv["status"], from_sen(inv["received_sen"]), inv["reason"]) == (
        "PAID", Decimal("1493500.00"), "paid; Rp 6.500 short within tolerance")  # fmt: skip


def test_underpayment_beyond_tolerance_leaves_invoice_partial_with_balance() -> None:
    r = run([credit(1, "1000000", "BUDI SANTOSO", message="#20431")],
            [invoice("20431", "1500000", "Budi Santoso")])  # fmt: skip
    assert (line(r, 1)["status"], line(r, 1)["codes"]) == ("MATCHED", "UNDERPAID")
    [inv] = r.invoices.to_dict("records")
    assert (inv["status"], inv["received_sen"], inv["reason"]) == (
        "PARTIAL", 100_000_000, "partly paid; Rp 500.000 outstanding")  # fmt: skip


def test_overpayment_goes_to_review_with_overpaid() -> None:
    r = run([credit(1, "1600000", "BUDI SANTOSO", message="#20431")],
            [invoice("20431", "1500000", "Budi Santoso")])  # fmt: skip
    got = line(r, 1)
    assert (got["status"], got["codes"], got["invoice_nos"]) == ("REVIEW", "OVERPAID", "20431")
    assert r.allocations.empty


def test_overpayment_within_configured_tolerance_is_paid_with_overpaid() -> None:
    rules = Matching(overpaid_tolerance={"absolute": Decimal("1000"), "percent": Decimal("0")})
    r = run([credit(1, "1500500", "BUDI SANTOSO", message="#20431")],
            [invoice("20431", "1500000", "Budi Santoso")], rules=rules)  # fmt: skip
    assert (line(r, 1)["status"], line(r, 1)["codes"]) == ("MATCHED", "OVERPAID")
    assert r.invoices["status"].tolist() == ["PAID"]


def test_one_transfer_paying_two_invoices_of_one_client_is_combined() -> None:
    invoices = [
        invoice("20440", "1250000", "Hendra Wijaya", company="PT Wijaya Niaga Sentosa"),
        invoice("20442", "250000", "Hendra Wijaya", company="PT Wijaya Niaga Sentosa"),
        invoice("20443", "400000", "Hendra Wijaya", company="PT Wijaya Niaga Sentosa"),
    ]
    r = run([credit(1, "1500000", "PT WIJAYA NIAGA SEN")], invoices)
    got = line(r, 1)
    assert (got["status"], got["rule"], got["codes"], got["invoice_nos"]) == (
        "MATCHED", "combined", "COMBINED_PAYMENT", "20440;20442")  # fmt: skip
    assert got["reason"] == (
        "sum of 2 open invoices of one client: #20440 Rp 1.250.000, #20442 Rp 250.000"
    )
    assert r.allocations["amount_sen"].tolist() == [125_000_000, 25_000_000]
    assert r.invoices[["invoice_no", "status"]].values.tolist() == [
        ["20440", "PAID"],
        ["20442", "PAID"],
    ]


def test_combined_payment_leaves_out_an_invoice_issued_after_the_money_arrived() -> None:
    # 20502 was issued on 9 March, six days after the transfer: 1.000.000 cannot have paid
    # it, so it is no "sum of two open invoices"; what is left is an overpayment of 20501
    invoices = [
        invoice("20501", "500000", "Andi Pratama"),
        invoice("20502", "500000", "Andi Pratama", issued="2026-03-09", due="2026-03-16"),
    ]
    r = run([credit(1, "1000000", "ANDI PRATAMA")], invoices)
    got = line(r, 1)
    assert (got["status"], got["rule"], got["codes"], got["invoice_nos"]) == (
        "REVIEW", "name_amount", "OVERPAID", "20501")  # fmt: skip
    assert got["reason"] == (
        "amount Rp 500.000 over (over); name 'ANDI PRATAMA' ~ client 'Andi Pratama' 100"
    )
    assert r.allocations.empty
    # issued on the posting day: part of it
    invoices[1] = invoice("20502", "500000", "Andi Pratama", issued="2026-03-03", due="2026-03-10")
    got = line(run([credit(1, "1000000", "ANDI PRATAMA")], invoices), 1)
    assert (got["status"], got["rule"], got["invoice_nos"]) == (
        "MATCHED",
        "combined",
        "20501;20502",
    )


def test_two_instalments_of_one_payer_complete_an_invoice_as_split_payment() -> None:
    credits = [
        credit(1, "1000000", "BUDI SANTOSO", message="INV 20431", day="2026-03-02"),
        credit(2, "500000", "BUDI SANTOSO", message="INV 20431", day="2026-03-05"),
    ]
    r = run(credits, [invoice("20431", "1500000", "Budi Santoso")])
    assert r.lines[["status", "rule", "codes"]].values.tolist() == [
        ["MATCHED", "split", "SPLIT_PAYMENT"], ["MATCHED", "split", "SPLIT_PAYMENT"]]  # fmt: skip
    assert r.invoices[["status", "received_sen"]].values.tolist() == [["PAID", 150_000_000]]


def test_instalments_known_only_by_a_look_alike_name_go_to_review_as_split_payment() -> None:
    # BUDI SANTOSA is only similar to Budi Santoso (fuzzy, 30): one transfer of the whole
    # 1.000.000 from him scores 85 and goes to review; two halves must not do better
    invoices = [invoice("20501", "1000000", "Budi Santoso")]
    single = line(run([credit(1, "1000000", "BUDI SANTOSA")], invoices), 1)
    assert (single["status"], single["score"]) == ("REVIEW", 85)
    credits = [credit(1, "500000", "BUDI SANTOSA"),
               credit(2, "500000", "BUDI SANTOSA", day="2026-03-04")]  # fmt: skip
    r = run(credits, invoices)
    assert r.lines[["status", "rule", "codes", "invoice_nos", "score"]].values.tolist() == [
        ["REVIEW", "split", "SPLIT_PAYMENT", "20501", 75],
        ["REVIEW", "split", "SPLIT_PAYMENT", "20501", 75],
    ]
    assert line(r, 1)["reason"] == (
        "instalment of invoice #20501; amount Rp 500.000 short (partial); "
        "name 'BUDI SANTOSA' ~ client 'Budi Santoso' 92; "
        "the payer is not identified well enough to apply it"
    )
    assert r.allocations.empty
    assert r.invoices.empty
    # the client's own name: as one transfer 93, so the instalments are applied
    credits = [credit(1, "500000", "BUDI SANTOSO"),
               credit(2, "500000", "BUDI SANTOSO", day="2026-03-04")]  # fmt: skip
    r = run(credits, invoices)
    assert r.lines["status"].tolist() == ["MATCHED", "MATCHED"]
    assert r.invoices[["status", "received_sen"]].values.tolist() == [["PAID", 100_000_000]]


def test_last_instalment_on_a_partial_invoice_is_split_payment() -> None:
    inv = invoice("20431", "1500000", "Budi Santoso", status="PARTIAL", received="1000000")
    r = run([credit(1, "500000", "BUDI SANTOSO", message="#20431")], [inv])
    assert (line(r, 1)["status"], line(r, 1)["codes"]) == ("MATCHED", "SPLIT_PAYMENT")
    assert r.invoices[["status", "received_sen"]].values.tolist() == [["PAID", 150_000_000]]


def test_money_for_an_invoice_already_paid_is_duplicate_payment() -> None:
    r = run([credit(1, "1500000", "BUDI SANTOSO", message="#20431")],
            [invoice("20431", "1500000", "Budi Santoso", status="PAID", received="1500000")])  # fmt: skip
    got = line(r, 1)
    assert (got["status"], got["codes"], got["invoice_nos"]) == (
        "REVIEW", "DUPLICATE_PAYMENT", "20431")  # fmt: skip
    assert got["reason"] == (
        "invoice #20431 is already paid; amount exact; invoice #20431 in description; "
        "name 'BUDI SANTOSO' ~ client 'Budi Santoso' 100"
    )
    # the invoice keeps what it had received (no second allocation); the code is recorded
    assert r.invoices.to_dict("records") == [
        {"invoice_no": "20431", "status": "PAID", "received_sen": 150_000_000,
         "codes": "DUPLICATE_PAYMENT", "reason": "money received for an invoice that is paid"}
    ]  # fmt: skip
    assert r.allocations.empty


def test_same_payment_sent_twice_in_one_run_flags_the_second_as_duplicate() -> None:
    credits = [credit(7, "750000", "SITI RAHAYU", message="INV 20432"),
               credit(3, "750000", "SITI RAHAYU", message="INV 20432")]  # fmt: skip
    r = run(credits, [invoice("20432", "750000", "Siti Rahayu")])
    assert (line(r, 3)["status"], line(r, 3)["codes"]) == ("MATCHED", "")
    assert (line(r, 7)["status"], line(r, 7)["codes"]) == ("REVIEW", "DUPLICATE_PAYMENT")


def test_two_payers_tied_on_one_invoice_are_both_reviewed_whatever_their_line_ids() -> None:
    # Dewi and Siti each send 750.000; the one open invoice of that amount is Andi's. Neither
    # is "the same payment sent twice": which one is flagged must not hang on the line ids
    invoices = [invoice("20501", "750000", "Andi Pratama")]
    for first, second in (("DEWI LESTARI", "SITI RAHAYU"), ("SITI RAHAYU", "DEWI LESTARI")):
        r = run([credit(1, "750000", first), credit(2, "750000", second)], invoices)
        for line_id in (1, 2):
            got = line(r, line_id)
            assert (got["status"], got["codes"], got["invoice_nos"]) == (
                "REVIEW", "NAME_MISMATCH;AMBIGUOUS", "20501")  # fmt: skip
            assert got["reason"].startswith(
                "2 credits from different senders fit invoice #20501 equally: lines 1, 2; "
                "amount exact; name "
            )
        assert r.allocations.empty


@pytest.mark.parametrize(
    ("second", "message", "score", "name"),
    [("BUDI SANTOSO", "", 93, "name 'BUDI SANTOSO' ~ client 'Budi Santoso' 100"),
     ("BUDI SANTOSA", "", 85, "name 'BUDI SANTOSA' ~ client 'Budi Santoso' 92")],
)  # fmt: skip
def test_a_payers_second_payment_for_an_invoice_the_first_takes_is_duplicate_payment(
    second: str, message: str, score: int, name: str
) -> None:
    # Budi pays 20501 quoting it, then again without the number (or as BUDI SANTOSA): the
    # second fits the same invoice less well, and is money for an invoice this run pays, not
    # an unidentified credit
    r = run([credit(1, "500000", "BUDI SANTOSO", message="INV 20501"),
             credit(2, "500000", second, day="2026-03-04", message=message)],
            [invoice("20501", "500000", "Budi Santoso")])  # fmt: skip
    assert (line(r, 1)["status"], line(r, 1)["invoice_nos"]) == ("MATCHED", "20501")
    got = line(r, 2)
    assert (got["status"], got["codes"], got["invoice_nos"], got["score"]) == (
        "REVIEW", "DUPLICATE_PAYMENT", "20501", score)  # fmt: skip
    assert got["reason"] == f"line 1 fits invoice #20501 better; amount exact; {name}"
    assert r.allocations["line_id"].tolist() == [1]


def test_payment_for_a_cancelled_invoice_is_payment_on_closed_invoice() -> None:
    r = run([credit(1, "450000", "DEWI ANGGRAINI", message="#20410")],
            [invoice("20410", "450000", "Dewi Anggraini", status="CANCELLED")])  # fmt: skip
    assert (line(r, 1)["status"], line(r, 1)["codes"]) == ("REVIEW", "PAYMENT_ON_CLOSED_INVOICE")
    assert line(r, 1)["reason"].startswith("invoice #20410 is cancelled; amount exact; ")


def test_invoice_reference_with_another_payer_name_is_flagged_name_mismatch() -> None:
    r = run([credit(1, "750000", "AGUS SETIAWAN", message="INV 20432")],
            [invoice("20432", "750000", "Siti Rahayu")])  # fmt: skip
    assert (line(r, 1)["status"], line(r, 1)["codes"]) == ("MATCHED", "NAME_MISMATCH")


def test_payment_after_due_date_window_is_flagged_paid_after_due() -> None:
    r = run([credit(1, "750000", "SITI RAHAYU", message="INV 20432", day="2026-03-09")],
            [invoice("20432", "750000", "Siti Rahayu")])  # fmt: skip
    assert (line(r, 1)["status"], line(r, 1)["codes"]) == ("MATCHED", "PAID_AFTER_DUE")
    assert line(r, 1)["reason"].endswith("3 banking days after due")


def test_agreeing_confirmation_matches_a_payer_with_another_name() -> None:
    r = run([credit(1, "1500000", "ERNA SUSANTI")], [invoice("20431", "1500000", "Budi Santoso")],
            [confirmation("881", "1500000", "Erna Susanti", invoices="20431")])  # fmt: skip
    got = line(r, 1)
    assert (got["status"], got["rule"], got["confirmation_ids"]) == (
        "MATCHED",
        "confirmation",
        "881",
    )
    assert got["reason"] == (
        "amount exact; name 'ERNA SUSANTI' ~ confirmation name 100; confirmation #881 agrees"
    )
    assert r.confirmations.to_dict("records") == [
        {
            "ticket_id": "881",
            "status": "MATCHED",
            "codes": "",
            "line_ids": "1",
            "reason": "funds on line 1",
        }
    ]


def test_confirmation_naming_another_destination_is_wrong_account() -> None:
    r = run([credit(1, "1500000", "BUDI SANTOSO", message="#20431")],
            [invoice("20431", "1500000", "Budi Santoso")],
            [confirmation("882", "1500000", "Budi Santoso", invoices="20431", dest=MANDIRI)])  # fmt: skip
    # the money and the invoice number agree: paid, flagged for the confirmation's account
    got = line(r, 1)
    assert (got["status"], got["codes"], got["score"], got["confirmation_ids"]) == (
        "MATCHED", "WRONG_ACCOUNT", 100, "882")  # fmt: skip
    assert got["reason"].endswith("; confirmation #882 disagrees")
    assert r.invoices[["invoice_no", "status", "received_sen", "codes"]].values.tolist() == [
        ["20431", "PAID", 150_000_000, "WRONG_ACCOUNT"]
    ]
    assert r.confirmations.to_dict("records") == [
        {"ticket_id": "882", "status": "MATCHED", "codes": "WRONG_ACCOUNT", "line_ids": "1",
         "reason": "funds on line 1"}
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("amount", "dest", "code"),
    [("750000", BCA, "CONFIRMATION_AMOUNT_MISMATCH"), ("500000", MANDIRI, "WRONG_ACCOUNT")],
)
def test_disagreeing_confirmation_naming_a_third_party_payer_is_not_applied_nor_learned(
    amount: str, dest: str, code: str
) -> None:
    # Siti pays Budi's invoice; only her confirmation ties her to it, and it disagrees with
    # the transfer (another amount, another account): a person decides, no alias is learned
    r = run([credit(1, "500000", "SITI AMINAH")], [invoice("20501", "500000", "Budi Santoso")],
            [confirmation("T1", amount, "Siti Aminah", invoices="20501", dest=dest)])  # fmt: skip
    got = line(r, 1)
    assert (got["status"], got["codes"], got["invoice_nos"], got["confirmation_ids"]) == (
        "REVIEW", code, "20501", "T1")  # fmt: skip
    assert got["reason"] == (
        "amount exact; name 'SITI AMINAH' ~ confirmation name 100; confirmation #T1 disagrees; "
        "a confirmation that disagrees is not enough to apply it"
    )
    assert r.allocations.empty
    assert r.aliases.empty
    assert r.confirmations[["ticket_id", "status", "codes"]].values.tolist() == [
        ["T1", "REVIEW", code]
    ]


def test_confirmation_with_another_amount_is_confirmation_amount_mismatch() -> None:
    r = run([credit(1, "1500000", "BUDI SANTOSO", message="#20431")],
            [invoice("20431", "1500000", "Budi Santoso")],
            [confirmation("883", "1550000", "Budi Santoso", invoices="20431")])  # fmt: skip
    assert (line(r, 1)["status"], line(r, 1)["codes"]) == (
        "MATCHED",
        "CONFIRMATION_AMOUNT_MISMATCH",
    )
    assert r.confirmations["codes"].tolist() == ["CONFIRMATION_AMOUNT_MISMATCH"]


def test_confirmation_without_money_after_the_wait_is_no_funds() -> None:
    r = run([], [invoice("20431", "1500000", "Budi Santoso")],
            [confirmation("884", "1500000", "Budi Santoso", invoices="20431", transfer="2026-03-03"),
             confirmation("885", "1500000", "Budi Santoso", invoices="20431", transfer="2026-03-09")])  # fmt: skip
    assert r.confirmations[["ticket_id", "status", "codes"]].values.tolist() == [
        ["884", "NO_FUNDS", "CONFIRMATION_WITHOUT_FUNDS"], ["885", "AWAITING_FUNDS", ""]]  # fmt: skip


def test_credit_nothing_fits_is_unmatched_unidentified() -> None:
    got = line(run([credit(1, "123000", "AGUS")], [invoice("20431", "1500000", "Budi Santoso")]), 1)
    assert (got["status"], got["codes"], got["rule"]) == (
        "UNMATCHED",
        "UNIDENTIFIED_CREDIT",
        "none",
    )


def test_amount_shared_by_more_invoices_than_the_block_cap_is_ambiguous() -> None:
    rules = Matching(max_block_size=3)
    invoices = [invoice(str(30000 + k), "165000", f"Klien {k}") for k in range(4)]
    got = line(run([credit(1, "165000", "")], invoices, rules=rules), 1)
    assert (got["status"], got["codes"]) == ("REVIEW", "AMBIGUOUS")
    assert (
        got["reason"]
        == "amount Rp 165.000 fits more than 3 open invoices; nothing else identifies the payer"
    )


def test_learned_alias_makes_the_next_payment_match() -> None:
    inv = invoice("20431", "1500000", "Budi Santoso")
    before = line(run([credit(1, "1500000", "ERNA SUSANTI")], [inv]), 1)
    after = run([credit(1, "1500000", "ERNA SUSANTI")], [inv],
                aliases=[("ERNA SUSANTI", "budi.santoso@example.com")])  # fmt: skip
    assert (before["status"], before["rule"]) == ("REVIEW", "amount_only")
    assert (line(after, 1)["status"], line(after, 1)["rule"], line(after, 1)["score"]) == (
        "MATCHED", "name_amount", 95)  # fmt: skip


def test_alias_pointing_elsewhere_does_not_outrank_the_senders_own_invoice() -> None:
    # SITI AMINAH was learned as a payer for Budi, but she is a client herself with an open
    # invoice of the same amount: her own payment or Budi's? A person decides
    invoices = [
        invoice("20501", "500000", "Budi Santoso"),
        invoice("20601", "500000", "Siti Aminah"),
    ]
    r = run([credit(1, "500000", "SITI AMINAH")], invoices,
            aliases=[("SITI AMINAH", "budi.santoso@example.com")])  # fmt: skip
    got = line(r, 1)
    assert (got["status"], got["codes"], got["invoice_nos"], got["candidates"]) == (
        "REVIEW", "AMBIGUOUS", "20501", "20501;20601")  # fmt: skip
    assert got["reason"] == (
        "2 invoices fit the sender's name and amount: #20501, #20601; amount exact; "
        "sender 'SITI AMINAH' is a learned alias of 'Budi Santoso'"
    )
    assert r.allocations.empty
    # her own invoice of another amount: the alias decides
    invoices[1] = invoice("20601", "400000", "Siti Aminah")
    r = run([credit(1, "500000", "SITI AMINAH")], invoices,
            aliases=[("SITI AMINAH", "budi.santoso@example.com")])  # fmt: skip
    assert (line(r, 1)["status"], line(r, 1)["invoice_nos"]) == ("MATCHED", "20501")


def test_a_credit_does_not_take_the_invoice_another_credit_fits_better() -> None:
    invoices = [
        invoice("20501", "165000", "Andi Pratama"),
        invoice("20502", "165000", "Rudi Hartono"),
    ]
    credits = [credit(1, "165000", ""), credit(2, "165000", "ANDI PRATAMA")]
    r = run(credits, invoices)
    assert (line(r, 2)["status"], line(r, 2)["invoice_nos"]) == ("MATCHED", "20501")
    assert (line(r, 1)["status"], line(r, 1)["invoice_nos"]) == ("REVIEW", "20502")


def test_truncated_sender_name_matches_the_full_client_name() -> None:
    r = run([credit(1, "300000", "MUHAMMAD RIZKY FAD")],
            [invoice("20700", "300000", "M. Rizky Fadillah"), invoice("20701", "300000", "Rina Lestari")])  # fmt: skip
    assert (line(r, 1)["status"], line(r, 1)["invoice_nos"]) == ("MATCHED", "20700")


def test_holidays_count_in_banking_day_window() -> None:
    inv = invoice("20431", "1500000", "Budi Santoso", issued="2026-03-02", due="2026-03-06")
    # 19 and 20 March closed (Nyepi, cuti bersama), 21-22 weekend: 25 March is 12 banking days
    # after 6 March without the extra holiday, 11 with it.
    rules = Matching(date_window_days=11, extra_holidays=[date(2026, 3, 20)])
    late = run([credit(1, "1500000", "BUDI SANTOSO", day="2026-03-25")], [inv])
    inside = run([credit(1, "1500000", "BUDI SANTOSO", day="2026-03-25")], [inv], rules=rules)
    assert json.loads(str(line(late, 1)["signals"]))["date"]["level"] == "late"
    assert json.loads(str(line(inside, 1)["signals"]))["date"]["level"] == "in_window"


def _scenario() -> tuple[list[dict[str, object]], list[dict[str, object]], list[dict[str, object]]]:
    invoices = [
        invoice("20431", "1500000", "Budi Santoso"), invoice("20432", "750000", "Siti Rahayu"),
        invoice("20440", "1250000", "Hendra Wijaya", company="PT Wijaya Niaga Sentosa"),
        invoice("20442", "250000", "Hendra Wijaya", company="PT Wijaya Niaga Sentosa"),
        invoice("20501", "165000", "Andi Pratama"), invoice("20502", "165000", "Rudi Hartono"),
    ]  # fmt: skip
    credits = [
        credit(1, "1500000", "BPK BUDI SANTOSO"), credit(2, "744000", "DANA", message="INV 20432"),
        credit(3, "1500000", "PT WIJAYA NIAGA SEN"), credit(4, "165000", ""),
        credit(5, "165000", "ANDI PRATAMA"), credit(6, "99000", "AGUS"),
    ]  # fmt: skip
    confirmations = [confirmation("881", "1500000", "Budi Santoso", invoices="20431")]
    return credits, invoices, confirmations


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_result_does_not_depend_on_row_order(seed: int) -> None:
    credits, invoices, confirmations = _scenario()
    base = run(credits, invoices, confirmations)
    shuffled = run(
        pd.DataFrame(credits).sample(frac=1, random_state=seed).to_dict("records"),
        pd.DataFrame(invoices).sample(frac=1, random_state=seed).to_dict("records"),
        confirmations,
    )
    for name in ("lines", "allocations", "invoices", "confirmations"):
        pd.testing.assert_frame_equal(getattr(base, name), getattr(shuffled, name))
    assert base.lines["status"].tolist() == [
        "MATCHED",
        "MATCHED",
        "MATCHED",
        "REVIEW",
        "MATCHED",
        "UNMATCHED",
    ]


def test_same_inputs_give_the_same_result_frames() -> None:
    credits, invoices, confirmations = _scenario()
    first, second = run(credits, invoices, confirmations), run(credits, invoices, confirmations)
    for name in ("lines", "allocations", "invoices", "confirmations"):
        pd.testing.assert_frame_equal(getattr(first, name), getattr(second, name))


def test_missing_column_is_reported_by_name() -> None:
    from reconcile.errors import ReconcileError

    with pytest.raises(ReconcileError, match=r"the credits frame lacks column\(s\) amount_sen"):
        decide(pd.DataFrame({"line_id": [1]}).assign(account_no="", posted_on=pd.NaT,
               counterparty="", message="", description=""), pd.DataFrame(columns=[]),
               pd.DataFrame(), pd.DataFrame(), RULES, AS_OF)  # fmt: skip


def test_combined_payment_funds_the_confirmation_naming_its_invoices() -> None:
    invoices = [
        invoice("20440", "1250000", "Hendra Wijaya", company="PT Wijaya Niaga Sentosa"),
        invoice("20442", "250000", "Hendra Wijaya", company="PT Wijaya Niaga Sentosa"),
    ]
    conf = confirmation("481522", "1500000", "PT WIJAYA NIAGA SENTOSA", invoices="20440;20442",
                        dest="0495227030", transfer="2026-03-03")  # fmt: skip
    r = run(
        [credit(1, "1500000", "PT WIJAYA NIAGA SENTOSA", account="0495227030")], invoices, [conf]
    )
    got = line(r, 1)
    assert (got["status"], got["codes"], got["invoice_nos"], got["confirmation_ids"]) == (
        "MATCHED", "COMBINED_PAYMENT", "20440;20442", "481522")  # fmt: skip
    assert r.confirmations.to_dict("records") == [
        {"ticket_id": "481522", "status": "MATCHED", "codes": "", "line_ids": "1",
         "reason": "funds on line 1"}
    ]  # fmt: skip


def test_instalments_that_fund_a_confirmation_list_it() -> None:
    credits = [
        credit(1, "1000000", "BUDI SANTOSO", message="INV 20431", day="2026-03-03"),
        credit(2, "500000", "BUDI SANTOSO", message="INV 20431", day="2026-03-05"),
    ]
    conf = confirmation("890", "1000000", "Budi Santoso", invoices="20431", transfer="2026-03-03")
    r = run(credits, [invoice("20431", "1500000", "Budi Santoso")], [conf])
    assert r.lines[["line_id", "confirmation_ids"]].values.tolist() == [[1, "890"], [2, ""]]
    assert r.confirmations[["status", "line_ids"]].values.tolist() == [["MATCHED", "1"]]


def _settle(
    credits: list[dict[str, object]],
    invoices: list[dict[str, object]],
    confirmations: list[dict[str, object]],
    r: MatchResult,
) -> tuple[list[dict[str, object]], list[dict[str, object]], list[dict[str, object]]]:
    """The next run's inputs as reconcile.store.persist_match leaves them."""
    matched = set(r.lines.loc[r.lines["status"] == "MATCHED", "line_id"])
    inv_out = r.invoices.set_index("invoice_no")
    conf_out = r.confirmations.set_index("ticket_id")
    new_invoices = []
    for inv in invoices:
        if inv["invoice_no"] in inv_out.index:
            row = inv_out.loc[inv["invoice_no"]]
            inv = inv | {"status": row["status"], "received_sen": int(row["received_sen"])}
        new_invoices.append(inv)
    new_confs = [
        c | {k: conf_out.loc[c["ticket_id"], k] for k in ("status", "codes", "line_ids", "reason")}
        for c in confirmations
    ]
    return [c for c in credits if c["line_id"] not in matched], new_invoices, new_confs


def test_second_run_over_the_settled_state_keeps_earlier_outcomes_and_is_stable() -> None:
    credits, invoices, confirmations = _scenario()
    confirmations = [*confirmations,
                     confirmation("884", "125000", "Agus", transfer="2026-03-02", email="x@example.com")]  # fmt: skip
    first = run(credits, invoices, confirmations)
    state = _settle(credits, invoices, confirmations, first)
    second = run(*state)
    third = run(*_settle(*state, second))
    for name in ("lines", "allocations", "invoices", "confirmations", "aliases"):
        pd.testing.assert_frame_equal(getattr(second, name), getattr(third, name))
    assert second.confirmations.to_dict("records") == [
        {"ticket_id": "881", "status": "MATCHED", "codes": "", "line_ids": "1",
         "reason": "funds on line 1"},
        {"ticket_id": "884", "status": "NO_FUNDS", "codes": "CONFIRMATION_WITHOUT_FUNDS",
         "line_ids": "", "reason": "no money 2 banking days after the confirmed date"},
    ]  # fmt: skip
    assert first.confirmations.to_dict("records") == second.confirmations.to_dict("records")
    # only the undecided credits come back, with the same decision as before
    assert second.lines["line_id"].tolist() == [4, 6]
    pd.testing.assert_frame_equal(
        second.lines, first.lines[first.lines["line_id"].isin([4, 6])].reset_index(drop=True)
    )
    assert second.allocations.empty


def test_confirmation_invalid_at_intake_keeps_its_intake_reason() -> None:
    conf = confirmation("481519", "750000", "Sdri Siti Rahayu", invoices="20432", transfer=None)
    reason = ("transfer_date: 'kemarin' is a relative date; expected a transfer date such as "
              "02/03/2026, 2 Maret 2026 or 2026-03-02")  # fmt: skip
    conf |= {"intake_status": "INVALID", "intake_reason": reason, "status": "INVALID"}
    r = run([], [invoice("20432", "750000", "Siti Rahayu")], [conf])
    assert r.confirmations.to_dict("records") == [
        {"ticket_id": "481519", "status": "INVALID", "codes": "", "line_ids": "", "reason": reason}
    ]


def test_payment_on_the_banking_day_after_a_sunday_due_date_is_not_paid_after_due() -> None:
    inv = invoice("20450", "350000", "Agus Prasetyo", issued="2026-03-01", due="2026-03-08")
    on_time = run([credit(1, "350000", "AGUS PRASETYO", day="2026-03-09")], [inv])
    late = run([credit(1, "350000", "AGUS PRASETYO", day="2026-03-10")], [inv])
    assert (line(on_time, 1)["status"], line(on_time, 1)["codes"]) == ("MATCHED", "")
    assert (
        line(on_time, 1)["reason"]
        == "amount exact; name 'AGUS PRASETYO' ~ client 'Agus Prasetyo' 100"
    )
    assert (line(late, 1)["status"], line(late, 1)["codes"]) == ("MATCHED", "PAID_AFTER_DUE")
    assert line(late, 1)["reason"].endswith("; 1 banking days after due")


def test_two_instalments_that_do_not_yet_add_up_are_both_applied_and_leave_a_balance() -> None:
    credits = [
        credit(1, "500000", "BUDI SANTOSO", message="INV 20431", day="2026-03-02"),
        credit(2, "400000", "BUDI SANTOSO", message="INV 20431", day="2026-03-05"),
    ]
    r = run(credits, [invoice("20431", "1500000", "Budi Santoso")])
    assert r.lines[["status", "rule", "codes", "invoice_nos"]].values.tolist() == [
        ["MATCHED", "split", "SPLIT_PAYMENT", "20431"], ["MATCHED", "split", "SPLIT_PAYMENT", "20431"]]  # fmt: skip
    assert line(r, 1)["reason"].startswith(
        "instalment of invoice #20431 (Rp 600.000 still outstanding); amount Rp 1.000.000 short"
    )
    assert r.allocations["amount_sen"].tolist() == [50_000_000, 40_000_000]
    assert r.invoices.to_dict("records") == [
        {"invoice_no": "20431", "status": "PARTIAL", "received_sen": 90_000_000,
         "codes": "SPLIT_PAYMENT", "reason": "partly paid; Rp 600.000 outstanding"}
    ]  # fmt: skip


def test_confirmation_linking_another_payer_name_teaches_an_alias() -> None:
    r = run([credit(1, "1500000", "ERNA SUSANTI")], [invoice("20431", "1500000", "Budi Santoso")],
            [confirmation("881", "1500000", "Erna Susanti", invoices="20431")])  # fmt: skip
    assert r.aliases.to_dict("records") == [
        {"sender_norm": "ERNA SUSANTI", "client_key": "budi.santoso@example.com"}
    ]
    again = run([credit(1, "1500000", "ERNA SUSANTI")], [invoice("20431", "1500000", "Budi Santoso")],
                [confirmation("881", "1500000", "Erna Susanti", invoices="20431")],
                aliases=[("ERNA SUSANTI", "budi.santoso@example.com")])  # fmt: skip
    assert again.aliases.empty


def test_own_name_payment_with_a_confirmation_teaches_no_alias() -> None:
    r = run([credit(1, "1500000", "BUDI SANTOSO")], [invoice("20431", "1500000", "Budi Santoso")],
            [confirmation("881", "1500000", "Budi Santoso", invoices="20431")])  # fmt: skip
    assert line(r, 1)["status"] == "MATCHED"
    assert r.aliases.empty


def test_sender_sharing_only_middle_and_family_name_is_a_name_mismatch() -> None:
    # token-sorted similarity of the two names is 85: the given names DIAN / NUR differ
    invoices = [invoice("20431", "250000", "Nur Dewa Santoso")]
    quoted = line(run([credit(1, "250000", "DIAN DEWA SANTOSO", message="#20431")], invoices), 1)
    assert (quoted["status"], quoted["invoice_nos"], quoted["codes"]) == (
        "MATCHED", "20431", "NAME_MISMATCH")  # fmt: skip
    assert json.loads(str(quoted["signals"]))["name"] == {
        "level": "weak", "similarity": 85, "weight": 10}  # fmt: skip
    unquoted = line(run([credit(1, "250000", "DIAN DEWA SANTOSO")], invoices), 1)
    assert (unquoted["status"], unquoted["score"], unquoted["codes"]) == (
        "REVIEW", 65, "NAME_MISMATCH")  # fmt: skip


def test_bank_cut_name_beats_a_look_alike_client_with_the_same_amount() -> None:
    santoso = invoice("20601", "350000", "Wahyu Arif Santoso")
    setiawan = invoice("20602", "350000", "Wahyu Arif Setiawan")
    got = line(run([credit(1, "350000", "BPK WAHYU ARIF SAN")], [santoso, setiawan]), 1)
    assert (got["status"], got["invoice_nos"], got["score"]) == ("MATCHED", "20601", 93)
    alone = line(run([credit(1, "350000", "BPK WAHYU ARIF SAN")], [setiawan]), 1)
    assert (alone["status"], alone["invoice_nos"], alone["score"]) == ("REVIEW", "20602", 85)
    assert (
        alone["reason"]
        == "amount exact; name 'BPK WAHYU ARIF SAN' ~ client 'Wahyu Arif Setiawan' 85"
    )
    assert json.loads(str(alone["signals"]))["name"]["level"] == "fuzzy"


def test_confirmation_under_a_similar_but_other_name_is_not_evidence() -> None:
    r = run(
        [credit(1, "250000", "FAJAR DWI RAHAYU")],
        [invoice("20701", "250000", "Ayu Dwi Wijaya")],
        [confirmation("881", "250000", "Fajar Dwi Wijaya", invoices="20701")],
    )
    got = line(r, 1)
    assert (got["status"], got["score"], got["confirmation_ids"]) == ("REVIEW", 55, "")
    assert json.loads(str(got["signals"]))["confirmation"] == {"level": "none", "weight": 0}
    assert r.confirmations[["ticket_id", "status", "codes"]].to_dict("records") == [
        {"ticket_id": "881", "status": "NO_FUNDS", "codes": "CONFIRMATION_WITHOUT_FUNDS"}
    ]


def test_sender_cut_at_a_degree_like_stub_still_matches_the_client() -> None:
    # the bank cut SETIAWAN to SE, which alone reads as the degree Sarjana Ekonomi
    r = run(
        [credit(1, "750000", "IBU TEGUH PUTRA SE", message="INV 20801")],
        [invoice("20801", "750000", "Teguh Putra Setiawan")],
    )
    got = line(r, 1)
    assert (got["status"], got["codes"]) == ("MATCHED", "")
    assert got["reason"] == (
        "amount exact; invoice #20801 in description; "
        "name 'IBU TEGUH PUTRA SE' ~ client 'Teguh Putra Setiawan' 100"
    )


def test_combined_payment_is_found_among_look_alike_companies() -> None:
    def company_invoices(first: str, nos: tuple[str, str]) -> list[dict[str, object]]:
        client, company = f"{first} Citra Santoso", f"PT Santoso Citra {first} Niaga"
        return [
            invoice(nos[0], "1250000", client, company=company),
            invoice(nos[1], "250000", client, company=company),
        ]

    invoices = company_invoices("Rudi", ("20440", "20442")) + company_invoices(
        "Budi", ("20450", "20451")
    )
    got = line(run([credit(1, "1500000", "PT SANTOSO CITRA RUDI NI")], invoices), 1)
    assert (got["status"], got["invoice_nos"], got["codes"]) == (
        "MATCHED", "20440;20442", "COMBINED_PAYMENT")  # fmt: skip


def test_crowded_company_name_prefix_still_finds_the_company() -> None:
    # "PT SUSILO " is shared by more companies than the block cap; the 14-character key is not
    rules = Matching(max_block_size=2)
    invoices = [
        invoice(no, amount, f"{first} Susilo", company=f"PT Susilo {first} Niaga")
        for no, amount, first in (
            ("20460", "1250000", "Cahya Nur"), ("20461", "250000", "Cahya Nur"),
            ("20462", "1250000", "Dwi Wahyu"), ("20463", "1250000", "Arif Agus"),
        )
    ]  # fmt: skip
    got = line(run([credit(1, "1500000", "PT SUSILO CAHYA NUR NIAG")], invoices, rules=rules), 1)
    assert (got["status"], got["invoice_nos"], got["codes"]) == (
        "MATCHED", "20460;20461", "COMBINED_PAYMENT")  # fmt: skip


def test_longer_agreeing_name_takes_the_invoice_and_the_shorter_one_the_rest() -> None:
    invoices = [
        invoice("20901", "350000", "Bambang Dharma Lestari"),
        invoice("20902", "350000", "Bambang Dharma Wijaya"),
    ]
    credits = [credit(1, "350000", "IBU BAMBANG DHARMA"), credit(2, "350000", "BAMBANG DHARMA LES")]
    r = run(credits, invoices)
    assert (line(r, 2)["status"], line(r, 2)["invoice_nos"]) == ("MATCHED", "20901")
    assert (line(r, 1)["status"], line(r, 1)["invoice_nos"]) == ("MATCHED", "20902")
    alone = line(run(credits[:1], invoices), 1)
    assert (alone["status"], alone["codes"], alone["candidates"]) == (
        "REVIEW", "AMBIGUOUS", "20901;20902")  # fmt: skip


def test_second_payment_of_a_client_pays_the_next_open_invoice_not_a_duplicate() -> None:
    invoices = [
        invoice("21001", "500000", "Budi Santoso"),
        invoice("21002", "506500", "Budi Santoso"),
    ]
    r = run([credit(1, "500000", "BUDI SANTOSO"), credit(2, "500000", "BUDI SANTOSO")], invoices)
    assert (line(r, 1)["status"], line(r, 1)["invoice_nos"], line(r, 1)["codes"]) == (
        "MATCHED", "21001", "")  # fmt: skip
    assert (line(r, 2)["status"], line(r, 2)["invoice_nos"], line(r, 2)["codes"]) == (
        "MATCHED", "21002", "UNDERPAID")  # fmt: skip
    assert r.invoices[["invoice_no", "status", "received_sen"]].to_dict("records") == [
        {"invoice_no": "21001", "status": "PAID", "received_sen": 50_000_000},
        {"invoice_no": "21002", "status": "PAID", "received_sen": 50_000_000},
    ]


def test_confirmation_of_an_ambiguous_credit_waits_in_review_not_without_funds() -> None:
    client = invoice("21101", "165000", "Andi Pratama")
    second = invoice("21102", "165000", "Andi Pratama", issued="2026-02-26")
    conf = confirmation("890", "165000", "Andi Pratama", email=str(client["email"]))
    r = run([credit(1, "165000", "ANDI PRATAMA")], [client, second], [conf])
    assert (line(r, 1)["status"], line(r, 1)["codes"]) == ("REVIEW", "AMBIGUOUS")
    assert r.confirmations[["ticket_id", "status", "codes", "line_ids"]].to_dict("records") == [
        {"ticket_id": "890", "status": "REVIEW", "codes": "", "line_ids": "1"}
    ]


def test_quoted_number_and_agreeing_confirmation_outrank_a_name_reaching_the_same_confirmation() -> (
    None
):
    # credit 1: 50 + 45 + 40 + 5 = 140; credit 2 reaches #20431 through the confirmation's
    # name (a bank-cut prefix of it): 50 + 38 + 40 + 5 = 133. Both show 100.
    invoices = [
        invoice("20431", "165000", "Bambang Mulya Anggraini"),
        invoice("20432", "165000", "Bambang Mulya Santoso"),
    ]
    conf = confirmation("881", "165000", "Bambang Mulya Anggraini", invoices="20431")
    credits = [
        credit(1, "165000", "DANA", message="INV 20431"),
        credit(2, "165000", "IBU BAMBANG MULYA "),
    ]
    r = run(credits, invoices, [conf])
    first, second = line(r, 1), line(r, 2)
    assert (first["status"], first["invoice_nos"], first["confirmation_ids"], first["score"]) == (
        "MATCHED", "20431", "881", 100)  # fmt: skip
    assert (second["status"], second["invoice_nos"], second["score"]) == ("MATCHED", "20432", 93)
    assert r.confirmations[["ticket_id", "status", "line_ids"]].to_dict("records") == [
        {"ticket_id": "881", "status": "MATCHED", "line_ids": "1"}
    ]


def test_e_wallet_transfer_quoting_the_invoice_funds_its_confirmation_on_a_busy_day() -> None:
    # 3 credits of the same price the same day exceed the amount block (cap 2): the
    # confirmation is linked through the invoice number both quote
    rules = Matching(max_block_size=2)
    invoices = [invoice(f"2050{k}", "250000", f"Klien Nomor {k}") for k in range(3)]
    credits = [credit(k + 1, "250000", "DANA", message=f"INV 2050{k}") for k in range(3)]
    conf = confirmation("882", "250000", "Klien Nomor 1", invoices="20501")
    r = run(credits, invoices, [conf], rules=rules)
    assert (line(r, 2)["status"], line(r, 2)["confirmation_ids"]) == ("MATCHED", "882")
    assert r.confirmations[["ticket_id", "status", "codes", "line_ids"]].to_dict("records") == [
        {"ticket_id": "882", "status": "MATCHED", "codes": "", "line_ids": "2"}
    ]


def test_confirmation_of_another_amount_does_not_make_a_part_payment_an_instalment() -> None:
    # two 165.000 credits from a bank-cut name; the client confirmed 550.000 for a 500.000
    # invoice: that confirmation is not theirs, so they are not instalments of it
    invoices = [
        invoice("21201", "500000", "Bambang Harsa Susilo"),
        invoice("21202", "165000", "Bambang Harsa Wibowo"),
        invoice("21203", "165000", "Bambang Harsa Saputra"),
    ]
    conf = confirmation("883", "550000", "Bambang Harsa Susilo", invoices="21201")
    credits = [credit(1, "165000", "BPK BAMBANG HARSA "), credit(2, "165000", "SDR BAMBANG HARSA ")]
    r = run(credits, invoices, [conf])
    for line_id in (1, 2):
        got = line(r, line_id)
        assert (got["status"], got["codes"], got["candidates"]) == (
            "REVIEW", "AMBIGUOUS", "21202;21203")  # fmt: skip
    assert r.allocations.empty


def test_part_payments_known_only_by_name_that_leave_a_balance_are_not_applied() -> None:
    # two of the client's invoices could be the one paid in part: a person decides
    credits = [
        credit(1, "324000", "AHMAD PANJAITAN", day="2026-03-02"),
        credit(2, "300000", "AHMAD PANJAITAN", day="2026-03-05"),
    ]
    invoices = [
        invoice("200471", "749000", "Ahmad Panjaitan"),
        invoice("200697", "324000", "Ahmad Panjaitan", status="PAID", received="324000"),
    ]
    r = run(credits, invoices)
    assert (line(r, 1)["status"], line(r, 1)["codes"], line(r, 1)["invoice_nos"]) == (
        "REVIEW", "UNDERPAID", "200471")  # fmt: skip
    assert (line(r, 2)["status"], line(r, 2)["codes"], line(r, 2)["reason"]) == (
        "UNMATCHED", "UNIDENTIFIED_CREDIT", "no invoice, confirmation or known payer fits this credit")  # fmt: skip
    assert r.allocations.empty


def test_invoice_marked_paid_by_hand_and_an_open_one_of_the_same_amount_make_a_name_payment_ambiguous() -> (
    None
):
    # staff marked February paid in the billing system (no bank line yet); March is open
    invoices = [
        invoice("20431", "165000", "Budi Santoso", issued="2026-02-27", status="PAID"),
        invoice("20432", "165000", "Budi Santoso", issued="2026-02-28"),
    ]
    got = line(run([credit(1, "165000", "BUDI SANTOSO")], invoices), 1)
    assert (got["status"], got["codes"], got["candidates"]) == (
        "REVIEW",
        "AMBIGUOUS",
        "20431;20432",
    )


def test_invoice_paid_by_an_earlier_bank_line_does_not_compete_with_the_open_one() -> None:
    invoices = [
        invoice("20431", "165000", "Budi Santoso", issued="2026-02-27", status="PAID",
                received="165000"),
        invoice("20432", "165000", "Budi Santoso", issued="2026-02-28"),
    ]  # fmt: skip
    got = line(run([credit(1, "165000", "BUDI SANTOSO")], invoices), 1)
    assert (got["status"], got["invoice_nos"], got["score"]) == ("MATCHED", "20432", 93)


def test_nameless_transfer_agreeing_with_a_confirmation_on_amount_and_date_only_goes_to_review() -> (
    None
):
    conf = confirmation("881", "165000", "Maya Kurnia", invoices="20431")
    r = run([credit(1, "165000", "")], [invoice("20431", "165000", "Maya Kurnia")], [conf])
    got = line(r, 1)
    assert (got["status"], got["invoice_nos"], got["score"]) == ("REVIEW", "20431", 75)
    assert got["reason"] == (
        "amount exact; confirmation #881 agrees on amount and date (no sender name to compare)"
    )
    assert json.loads(str(got["signals"]))["confirmation"] == {"level": "unnamed", "weight": 20}
    assert r.confirmations[["status", "line_ids"]].values.tolist() == [["REVIEW", "1"]]


def test_nameless_transfer_quoting_the_invoice_of_an_agreeing_confirmation_is_matched() -> None:
    conf = confirmation("881", "165000", "Maya Kurnia", invoices="20431")
    r = run(
        [credit(1, "165000", "", message="INV 20431")],
        [invoice("20431", "165000", "Maya Kurnia")],
        [conf],
    )
    got = line(r, 1)
    assert (got["status"], got["invoice_nos"], got["confirmation_ids"]) == (
        "MATCHED",
        "20431",
        "881",
    )
    assert json.loads(str(got["signals"]))["confirmation"] == {"level": "agrees", "weight": 40}


def test_closed_invoices_added_to_a_book_give_the_book_prepared_from_all() -> None:
    """An incremental run's book: the matchable invoices, then the closed ones its credits
    name, merged into key order (the same frame and name blocks as preparing them together)."""
    from reconcile.matching import prepare_book

    open_ones = [
        invoice("20410", "450000", "Dewi Anggraini"),
        invoice("20431", "1500000", "Budi Santoso"),
        invoice("20480", "300000", "Lina Marlina", company="PT Lina"),
        invoice("021000", "165000", "Putri Ayu"),
    ]
    closed = [
        invoice("20400", "450000", "Agus Salim", status="PAID", received="450000"),
        invoice("20435", "99000", "Budi Santoso", status="CANCELLED"),
        invoice("20999", "165000", "Joko Susilo", status="PAID", received="165000"),
    ]
    no_confirmations = pd.DataFrame(columns=list(confirmation("0", "1", "x").keys()))
    book = prepare_book(pd.DataFrame(open_ones), no_confirmations)
    sides = book.name_sides(RULES)

    grown = book.with_invoices(pd.DataFrame(closed))

    whole = prepare_book(pd.DataFrame(open_ones + closed), no_confirmations)
    assert grown.invoices["invoice_no"].tolist() == [
        "021000", "20400", "20410", "20431", "20435", "20480", "20999"]  # fmt: skip
    pd.testing.assert_frame_equal(grown.invoices, whole.invoices)
    moved = grown.name_sides(RULES)  # carried over, positions moved: no closed one joins a block
    expected = whole.name_sides(RULES)
    assert sides is not moved
    for (kind, got), (_, want) in zip(moved.keys, expected.keys, strict=True):
        pd.testing.assert_frame_equal(
            got.sort_values(["key", "iidx"]).reset_index(drop=True),
            want.sort_values(["key", "iidx"]).reset_index(drop=True),
            obj=kind,
        )


def test_funds_are_overdue_only_where_the_statements_cover_the_deadline() -> None:
    from reconcile.matching import funds_overdue

    deadline = np.array(["2026-03-11"] * 5, dtype="datetime64[D]")
    dest = np.array(["0372543386", "1370010136428", "", "", "9999999999"], dtype=object)
    not_ours = np.array([False, False, False, False, True])
    until = {"0372543386": date(2026, 3, 6), "1370010136428": date(2026, 3, 12)}
    overdue, unseen = funds_overdue(deadline, dest, not_ours, date(2026, 12, 1), until)
    # BCA stops on 6 March: waiting; Mandiri reaches 12 March: overdue; no account named: every
    # account must reach it (BCA does not); money sent elsewhere is never seen: overdue
    assert overdue.tolist() == [False, True, False, False, True]
    assert unseen.tolist() == [True, False, True, True, False]
    # before the deadline nothing is overdue or unseen; without coverage data, the date decides
    early = funds_overdue(deadline, dest, not_ours, date(2026, 3, 11), until)
    assert [a.tolist() for a in early] == [[False] * 5, [False] * 5]
    assert funds_overdue(deadline, dest, not_ours, date(2026, 12, 1), None)[0].all()
    assert funds_overdue(deadline, dest, not_ours, date(2026, 12, 1), {})[0].tolist() == [
        False, False, False, False, True]  # fmt: skip


def test_withdrawn_payment_is_named_in_its_new_decision() -> None:
    """Lines 5 and 6 paid invoices the billing system then cancelled: 5 fits nothing else and
    goes to review with its old invoices as candidates; 6 fits another invoice, and its reason
    says first what happened to the one it paid; line 7 is left as it is."""
    from reconcile.matching import note_withdrawn

    lines = pd.DataFrame(
        {
            "line_id": [5, 6, 7],
            "status": ["UNMATCHED", "MATCHED", "UNMATCHED"],
            "reason": ["no invoice, confirmation or known payer fits this credit",
                       "amount exact; invoice #20470 in description",
                       "no invoice, confirmation or known payer fits this credit"],
            "codes": ["UNIDENTIFIED_CREDIT", "", "UNIDENTIFIED_CREDIT"],
            "candidates": ["", "", ""],
        }
    )  # fmt: skip

    out = note_withdrawn(lines, {5: "20465", 6: "20431;20440"})

    assert out.to_dict("records") == [
        {"line_id": 5, "status": "REVIEW", "codes": "PAYMENT_ON_CLOSED_INVOICE",
         "candidates": "20465",
         "reason": "invoice #20465 it paid was cancelled in the billing system: refund it or "
                   "assign it to another invoice"},
        {"line_id": 6, "status": "MATCHED", "codes": "", "candidates": "",
         "reason": "invoices #20431, #20440 it paid were cancelled in the billing system; amount "
                   "exact; invoice #20470 in description"},
        {"line_id": 7, "status": "UNMATCHED", "codes": "UNIDENTIFIED_CREDIT", "candidates": "",
         "reason": "no invoice, confirmation or known payer fits this credit"},
    ]  # fmt: skip


def test_a_lonely_credit_of_a_paid_invoices_client_and_amount_is_a_duplicate_payment() -> None:
    """Line 5 (BUDI SANTOSO, Rp 1.500.000) fits no open invoice, but Budi's 20431 of that
    amount is paid; line 6 (CV Sumber Rejeki's company, Rp 3.300.000) likewise, by company
    name; line 7's amount and line 8's sender fit no paid invoice; line 9 was placed."""
    from reconcile.matching import note_repeat_payments

    lonely = "no invoice, confirmation or known payer fits this credit"
    lines = pd.DataFrame(
        {
            "line_id": [5, 6, 7, 8, 9],
            "status": ["UNMATCHED", "UNMATCHED", "UNMATCHED", "UNMATCHED", "MATCHED"],
            "codes": ["UNIDENTIFIED_CREDIT"] * 4 + [""],
            "reason": [lonely] * 4 + ["amount exact"],
            "candidates": [""] * 5,
        }
    )
    credits = pd.DataFrame(
        {
            "line_id": [5, 6, 7, 8, 9],
            "amount_sen": [150_000_000, 330_000_000, 150_000_100, 150_000_000, 150_000_000],
            "counterparty": ["BUDI SANTOSO", "CV SUMBER REJEKI ABADI JAYA", "BUDI SANTOSO",
                             "AGUS PRASETYO", "BUDI SANTOSO"],
        }
    )  # fmt: skip
    paid = pd.DataFrame(
        {
            "invoice_no": ["20431", "20465"],
            "client_name": ["Budi Santoso", "Slamet Riyadi"],
            "company_name": ["", "CV Sumber Rejeki Abadi Jaya"],
            "amount_sen": [150_000_000, 330_000_000],
        }
    )

    out = note_repeat_payments(lines, credits, paid)

    assert out[["line_id", "status", "codes", "candidates"]].to_dict("records") == [
        {"line_id": 5, "status": "REVIEW", "codes": "DUPLICATE_PAYMENT", "candidates": "20431"},
        {"line_id": 6, "status": "REVIEW", "codes": "DUPLICATE_PAYMENT", "candidates": "20465"},
        {"line_id": 7, "status": "UNMATCHED", "codes": "UNIDENTIFIED_CREDIT", "candidates": ""},
        {"line_id": 8, "status": "UNMATCHED", "codes": "UNIDENTIFIED_CREDIT", "candidates": ""},
        {"line_id": 9, "status": "MATCHED", "codes": "", "candidates": ""},
    ]
    assert out["reason"].tolist()[:2] == [
        "the sender's invoice #20431 of this amount is already paid: a second payment to "
        "refund, or another invoice",
        "the sender's invoice #20465 of this amount is already paid: a second payment to "
        "refund, or another invoice",
    ]
