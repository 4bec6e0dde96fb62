"""BNI description shapes (formats.md §8.4): sender name, bank, account, channel and message."""

from __future__ import annotations

from importers.remarks.bni import looks_like_name, parse_bni_remarks
from reconcile.model import Remarks


def test_transfer_from_bni_account_with_honorific_and_message():
    r = parse_bni_remarks("TRANSFER DARI | PEMINDAHAN DARI 0281234567 Bpk BUDI  SANTOSO | INV20431")
    assert r == Remarks(
        channel="TRANSFER",
        sender_name="Bpk BUDI SANTOSO",
        sender_bank="BNI",
        sender_account="0281234567",
        message="INV20431",
    )


def test_transfer_from_company_account_without_message():
    r = parse_bni_remarks("TRANSFER DARI | PEMINDAHAN DARI 0198765432 UD SIDO MULYO")
    assert (r.channel, r.sender_name, r.sender_bank, r.sender_account, r.message) == (
        "TRANSFER",
        "UD SIDO MULYO",
        "BNI",
        "0198765432",
        None,
    )


def test_message_containing_a_pipe_is_kept_whole():
    r = parse_bni_remarks(
        "TRANSFER DARI | PEMINDAHAN DARI 0281234567 Ibu DEWI | INV20450 | INV20451"
    )
    assert (r.sender_name, r.message) == ("Ibu DEWI", "INV20450 | INV20451")


def test_echannel_credit_with_a_name_in_the_last_field():
    r = parse_bni_remarks(
        "TRF/PAY/TOP-UP ECHANNEL | PEMINDAHAN DARI 0339876543 | 5264221234567890 | SITI RAHAYU"
    )
    assert (r.channel, r.sender_name, r.sender_bank, r.sender_account, r.message) == (
        "ECHANNEL",
        "SITI RAHAYU",
        "BNI",
        "0339876543",
        None,
    )


def test_echannel_terminal_code_is_not_a_name():
    r = parse_bni_remarks(
        "TRF/PAY/TOP-UP ECHANNEL | PEMINDAHAN DARI 0339876543 | 5264221234567890 "
        "| S1BNXA4417      2301"
    )
    assert (r.channel, r.sender_name, r.sender_account) == ("ECHANNEL", None, "0339876543")


def test_echannel_digits_only_has_no_name_and_keeps_the_reference():
    r = parse_bni_remarks("TRF/PAY/TOP-UP ECHANNEL | 5264221111222233 | 20260228164550123456")
    assert r == Remarks(channel="ECHANNEL", bank_ref="20260228164550123456")


def test_bifast_bizid_gives_initiation_day_and_reference_but_no_bank():
    r = parse_bni_remarks(
        "TRF/PAY/TOP-UP ECHANNEL KARTU 0000000000000000 BIZID 20260226BNINIDJA010 "
        "O0226778812 20260227554411"
    )
    assert r == Remarks(channel="BI-FAST", initiated_ddmm="2602", bank_ref="O0226778812")


def test_cash_deposit_message_then_name():
    r = parse_bni_remarks("SETOR TUNAI | HOSTING TOKO | AGUS PRASETYO")
    assert (r.channel, r.sender_name, r.message) == ("CASH", "AGUS PRASETYO", "HOSTING TOKO")


def test_cash_deposit_with_one_field_keeps_it_as_the_message():
    r = parse_bni_remarks("SETOR TUNAI | INV20460")
    assert (r.channel, r.sender_name, r.message) == ("CASH", None, "INV20460")


def test_payment_gateway_settlement_names_the_gateway():
    r = parse_bni_remarks("TRANSFER DARI MIDTRANS | SETTLEMENT 0403")
    assert (r.channel, r.sender_name, r.sender_bank, r.message) == (
        "GATEWAY",
        "MIDTRANS",
        None,
        "SETTLEMENT 0403",
    )


def test_admin_fee_is_a_fee():
    assert parse_bni_remarks("BIAYA ADM") == Remarks(channel="FEE", is_fee=True)


def test_bifast_transaction_fee_is_a_fee():
    assert parse_bni_remarks("BY TRX BIFAST") == Remarks(channel="FEE", is_fee=True)


def test_month_end_interest_and_tax_never_pay_an_invoice():
    assert parse_bni_remarks("BUNGA") == Remarks(channel="INTEREST", is_fee=True)
    assert parse_bni_remarks("PAJAK BUNGA") == Remarks(channel="TAX", is_fee=True)


def test_line_breaks_and_nbsp_inside_a_field_become_single_spaces():
    r = parse_bni_remarks("TRANSFER DARI |\nPEMINDAHAN DARI 0281234567\u00a0Bpk BUDI\r\nSANTOSO")
    assert (r.sender_name, r.sender_account) == ("Bpk BUDI SANTOSO", "0281234567")


def test_unknown_shape_yields_no_derived_fields():
    assert parse_bni_remarks("KOREKSI SALDO 0302") == Remarks()


def test_name_likeness():
    assert looks_like_name("SITI RAHAYU")
    assert looks_like_name("M. RIZKY")
    assert not looks_like_name("S1BNXA4417      2301")
    assert not looks_like_name("AB CD")
