"""Which earlier open credits a run decides again (reconcile.affected), one test per reach."""

from __future__ import annotations

import numpy as np
import pandas as pd

from reconcile.affected import affected
from reconcile.calendar import BankingCalendar
from reconcile.config import Matching
from reconcile.matching import claimable_invoices, prepare_book
from tests.reconcile.test_matching import confirmation, credit, invoice

RULES = Matching()
CALENDAR = BankingCalendar(())


def _frames(
    credits: list[dict[str, object]],
    invoices: list[dict[str, object]],
    confirmations: list[dict[str, object]] | None = None,
    aliases: list[tuple[str, str]] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    cr = pd.DataFrame(credits)
    cr["candidates"] = [c.get("candidates", "") for c in credits]
    cr["invoice_nos"] = ""
    cf = pd.DataFrame(confirmations or [confirmation("1", "1", "x")])
    if not confirmations:
        cf = cf.iloc[:0]
    al = pd.DataFrame(aliases or [], columns=["sender_norm", "client_key"])
    return cr, pd.DataFrame(invoices), cf, al


def _selected(
    frames: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame],
    *,
    new: list[int],
    invoices: list[str] = (),  # type: ignore[assignment]
    tickets: list[str] = (),  # type: ignore[assignment]
    aliases: int = 0,
    learned: int = 0,
    settled: list[str] = (),  # type: ignore[assignment]
    stale: list[int] = (),  # type: ignore[assignment]
) -> list[int]:
    cr, inv, cf, al = frames
    new_lines = cr["line_id"].isin(new).to_numpy()
    decided = cr["line_id"].isin(stale).to_numpy()
    claimable = claimable_invoices(cr[new_lines], prepare_book(inv, cf), al, RULES)
    mask = affected(
        cr, inv, cf, al,
        new_lines=new_lines,
        changed_invoices=inv["invoice_no"].isin(invoices).to_numpy(),
        changed_confirmations=cf["ticket_id"].isin(tickets).to_numpy() if len(cf) else np.zeros(0, bool),
        changed_aliases=np.arange(len(al)) >= len(al) - aliases,
        settled_aliases=np.arange(len(al)) >= len(al) - learned,
        settled_invoices=list(settled),
        stale=decided,
        claimable=claimable.tolist(),
        rules=RULES, calendar=CALENDAR,
    )  # fmt: skip
    return cr.loc[mask, "line_id"].tolist()


# a settled book: three earlier open credits of unrelated payers and amounts
EARLIER = [
    credit(1, "2000000", "JOKO SUSILO", day="2026-03-02"),
    credit(2, "215000", "RINA WATI", day="2026-03-02"),
    credit(3, "777000", "", day="2026-03-03", message="titipan"),
]
BOOK = [
    invoice("20461", "165000", "Budi Santoso"),
    invoice("20462", "165000", "Budi Santoso"),
    invoice("20470", "450000", "Agus Prasetyo"),
]


def test_nothing_changed_decides_only_the_new_line() -> None:
    frames = _frames([*EARLIER, credit(9, "450000", "AGUS PRASETYO")], BOOK)
    assert _selected(frames, new=[9]) == [9]


def test_no_new_line_and_no_change_decides_nothing() -> None:
    assert _selected(_frames(EARLIER, BOOK), new=[]) == []


def test_new_payment_of_the_same_payer_brings_back_the_earlier_one_in_review() -> None:
    earlier = credit(4, "165000", "BUDI SANTOSO", day="2026-03-02") | {
        "candidates": "20461;20462"  # AMBIGUOUS so far
    }
    frames = _frames([*EARLIER, earlier, credit(9, "165000", "BUDI SANTOSO")], BOOK)
    assert _selected(frames, new=[9]) == [4, 9]


def test_new_payment_leaves_an_earlier_credit_of_that_payer_that_had_no_candidate() -> None:
    earlier = credit(4, "9000000", "BUDI SANTOSO", day="2026-03-02")  # UNMATCHED: nothing fits
    frames = _frames([*EARLIER, earlier, credit(9, "165000", "BUDI SANTOSO")], BOOK)
    assert _selected(frames, new=[9]) == [9]


def test_new_payment_of_a_name_no_invoice_can_reach_brings_back_nobody() -> None:
    earlier = credit(4, "165000", "PUTRI AYU", day="2026-03-02") | {"candidates": "20461;20462"}
    frames = _frames([*EARLIER, earlier, credit(9, "300000", "PUTRI AYU")], BOOK)
    assert _selected(frames, new=[9]) == [9]


def test_a_bank_cut_sender_name_shares_the_block_key_of_the_full_name() -> None:
    earlier = credit(4, "450000", "AGUS PRASETYO WIBO", day="2026-03-02") | {"candidates": "20470"}
    frames = _frames([*EARLIER, earlier, credit(9, "450000", "AGUS PRASETYO WIBOWO")], BOOK)
    assert _selected(frames, new=[9]) == [4, 9]


def test_new_invoice_of_the_client_brings_back_their_unidentified_credit() -> None:
    book = [*BOOK, invoice("20480", "2000000", "Joko Susilo")]
    assert _selected(_frames(EARLIER, book), new=[], invoices=["20480"]) == [1]


def test_new_invoice_of_a_company_matches_on_the_company_name() -> None:
    earlier = credit(4, "990000", "PT MAJU JAYA ABADI", day="2026-03-02")
    book = [*BOOK, invoice("20481", "990000", "Dewi Lestari", company="PT Maju Jaya Abadi")]
    assert _selected(_frames([*EARLIER, earlier], book), new=[], invoices=["20481"]) == [4]


def test_rare_amount_of_a_new_invoice_brings_back_a_nameless_credit_in_its_window() -> None:
    book = [*BOOK, invoice("20490", "777000", "Sari Dewi", issued="2026-02-27")]
    assert _selected(_frames(EARLIER, book), new=[], invoices=["20490"]) == [3]


def test_rare_amount_less_a_transfer_fee_counts_as_the_same_amount() -> None:
    book = [*BOOK, invoice("20490", "783500", "Sari Dewi", issued="2026-02-27")]
    assert _selected(_frames(EARLIER, book), new=[], invoices=["20490"]) == [3]


def test_amount_of_an_invoice_issued_after_the_credit_reaches_nothing() -> None:
    book = [*BOOK, invoice("20490", "777000", "Sari Dewi", issued="2026-03-05")]
    assert _selected(_frames(EARLIER, book), new=[], invoices=["20490"]) == []


def test_crowded_amount_reaches_no_nameless_credit() -> None:
    crowd = [invoice(str(30000 + k), "777000", f"Klien {k}", issued="2026-02-27")
             for k in range(RULES.max_block_size + 1)]  # fmt: skip
    frames = _frames(EARLIER, [*BOOK, *crowd])
    assert _selected(frames, new=[], invoices=["30000"]) == []


def test_new_credit_of_a_rare_amount_competes_with_an_earlier_nameless_one() -> None:
    book = [*BOOK, invoice("20490", "777000", "Sari Dewi", issued="2026-02-27")]
    earlier = [*EARLIER[:2], EARLIER[2] | {"candidates": "20490"}]
    frames = _frames([*earlier, credit(9, "777000", "", day="2026-03-04")], book)
    assert _selected(frames, new=[9]) == [3, 9]


def test_new_confirmation_finds_its_earlier_money_by_amount_and_date() -> None:
    conf = confirmation("881", "2000000", "Joko Susilo", transfer="2026-03-02")
    conf |= {"account_name": "Sri Susilowati"}  # typed by the spouse: no name in common
    frames = _frames(EARLIER, BOOK, [conf])
    assert _selected(frames, new=[], tickets=["881"]) == [1]


def test_new_confirmation_dated_weeks_away_does_not_reach_the_credit() -> None:
    conf = confirmation("881", "2000000", "Sri Susilowati", transfer="2026-02-02")
    assert _selected(_frames(EARLIER, BOOK, [conf]), new=[], tickets=["881"]) == []


def test_new_confirmation_under_the_sender_name_reaches_it_whatever_the_amount() -> None:
    conf = confirmation("881", "1000000", "Rina Wati", transfer="2026-03-02")
    assert _selected(_frames(EARLIER, BOOK, [conf]), new=[], tickets=["881"]) == [2]


def test_learned_alias_brings_back_the_senders_open_credit() -> None:
    frames = _frames(EARLIER, BOOK, aliases=[("RINA WATI", "budi.santoso@example.com")])
    assert _selected(frames, new=[], aliases=1) == [2]


def test_changed_invoice_quoted_in_a_description_brings_the_credit_back() -> None:
    earlier = credit(4, "300000", "", day="2026-03-02", message="bayar inv 020470")
    assert _selected(_frames([*EARLIER, earlier], BOOK), new=[], invoices=["20470"]) == [4]


def test_new_credit_quoting_an_invoice_brings_back_the_earlier_one_quoting_it() -> None:
    earlier = credit(4, "100000", "", day="2026-03-02", message="INV 20470 dp") | {
        "candidates": "20470"
    }
    new = credit(9, "350000", "", message="#20470 pelunasan")
    assert _selected(_frames([*EARLIER, earlier, new], BOOK), new=[9]) == [4, 9]


def test_review_credit_proposing_a_changed_invoice_is_decided_again() -> None:
    earlier = credit(4, "123000", "X", day="2026-03-02") | {"candidates": "20461;20462"}
    assert _selected(_frames([*EARLIER, earlier], BOOK), new=[], invoices=["20462"]) == [4]


def test_namesake_paying_another_invoice_leaves_the_earlier_credit_alone() -> None:
    # same block key "BUDI SANTO", but the newcomer can only take Budi Santoso's invoices
    earlier = credit(4, "450000", "BUDI SANTOSA", day="2026-03-02") | {"candidates": "20470"}
    frames = _frames([*EARLIER, earlier, credit(9, "165000", "BUDI SANTOSO")], BOOK)
    assert _selected(frames, new=[9]) == [9]


def test_credit_decided_before_the_last_run_proposing_an_invoice_it_settled_comes_back() -> None:
    earlier = credit(4, "123000", "X", day="2026-03-02") | {"candidates": "20461;20462"}
    frames = _frames([*EARLIER, earlier], BOOK)
    assert _selected(frames, new=[], settled=["20462"], stale=[4]) == [4]


def test_credit_the_last_run_decided_already_saw_what_that_run_settled() -> None:
    earlier = credit(4, "123000", "X", day="2026-03-02") | {"candidates": "20461;20462"}
    frames = _frames([*EARLIER, earlier], BOOK)
    assert _selected(frames, new=[], settled=["20462"], stale=[]) == []


def test_alias_the_last_run_learned_brings_back_only_credits_decided_before_it() -> None:
    frames = _frames(EARLIER, BOOK, aliases=[("RINA WATI", "budi.santoso@example.com")])
    assert _selected(frames, new=[], learned=1, stale=[2]) == [2]
    assert _selected(frames, new=[], learned=1, stale=[]) == []
