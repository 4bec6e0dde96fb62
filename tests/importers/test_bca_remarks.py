"""BCA descriptions (formats.md §8.2): one test per shape, exact extracted values."""

from __future__ import annotations

from importers.remarks.banks import bank_from_bic, bank_from_code, bank_from_name, is_wallet
from importers.remarks.bca import parse_bca_remarks, split_message_and_name
from reconcile.model import Remarks


def test_trsf_ebanking_with_amount_glued_to_the_message() -> None:
    r = parse_bca_remarks("TRSF E-BANKING CR 0203/FTSCY/WS95031 1500000.00INV 20431 BUDI SANTOSO")
    assert r == Remarks(
        channel="TRANSFER",
        sender_name="BUDI SANTOSO",
        sender_bank="BCA",
        message="INV 20431",
        initiated_ddmm="0203",
    )


def test_trsf_ebanking_message_with_comma_before_a_padded_name() -> None:
    r = parse_bca_remarks(
        "TRSF E-BANKING CR 0403/FTSCY/WS95031 350000.00hosting, bln maret     AGUS PRASETYO"
    )
    assert (r.sender_name, r.message, r.initiated_ddmm) == (
        "AGUS PRASETYO",
        "hosting, bln maret",
        "0403",
    )


def test_trsf_ebanking_name_recipe_takes_the_last_18_characters() -> None:
    r = parse_bca_remarks(
        "TRSF E-BANKING CR 1609/FTSCY/WS95031 455520.00  inv tgl 16-09-25 PANNA BERKAT MANDI  "
    )
    assert (r.sender_name, r.message) == ("PANNA BERKAT MANDI", "inv tgl 16-09-25")


def test_trsf_ebanking_invoice_token_cut_by_the_18_character_window_stays_in_the_message() -> None:
    r = parse_bca_remarks(
        "TRSF E-BANKING CR 0103/FTSCY/WS95031 1250000.00  INV20440 HENDRA WIJAYA  "
    )
    assert (r.sender_name, r.message) == ("HENDRA WIJAYA", "INV20440")


def test_trsf_ebanking_name_glued_to_the_amount_without_message() -> None:
    r = parse_bca_remarks("TRSF E-BANKING CR 2802/FTSCY/WS95031 400000.00BAMBANG SUTRISNO")
    assert (r.sender_name, r.message, r.initiated_ddmm) == ("BAMBANG SUTRISNO", None, "2802")


def test_trsf_ebanking_virtual_account_name_after_slash() -> None:
    r = parse_bca_remarks("TRSF E-BANKING CR 0503/FTFVA/WS95051 39358/HENDRA WIJAYA")
    assert r == Remarks(
        channel="VA",
        sender_name="HENDRA WIJAYA",
        sender_bank="BCA",
        initiated_ddmm="0503",
        bank_ref="39358",
    )


def test_kr_otomatis_virtual_account() -> None:
    r = parse_bca_remarks("KR OTOMATIS 0503/FTFVA/WS95051 39358/SITI RAHAYU     TOKO ABC")
    assert (r.channel, r.sender_name, r.sender_bank, r.message, r.initiated_ddmm) == (
        "VA",
        "SITI RAHAYU",
        "BCA",
        "TOKO ABC",
        "0503",
    )


def test_bifast_credit_maps_the_bank_code() -> None:
    r = parse_bca_remarks("BI-FAST CR TRANSFER   DR 008 SITI RAHAYU       ")
    assert r == Remarks(channel="BI-FAST", sender_name="SITI RAHAYU", sender_bank="MANDIRI")


def test_bifast_posted_later_carries_tanggal_as_initiation_day() -> None:
    r = parse_bca_remarks("BI-FAST CR TANGGAL :07/03 TRANSFER   DR 002 MUHAMMAD RIZKY PRA")
    assert (r.channel, r.sender_name, r.sender_bank, r.initiated_ddmm) == (
        "BI-FAST",
        "MUHAMMAD RIZKY PRA",
        "BRI",
        "0703",
    )


def test_bifast_unknown_bank_code_is_kept_as_the_code() -> None:
    r = parse_bca_remarks("BI-FAST CR TRANSFER   DR 547 LINDA KUSUMA      ")
    assert (r.sender_name, r.sender_bank) == ("LINDA KUSUMA", "547")


def test_switching_credit_csv_form_with_trailing_bank_name() -> None:
    r = parse_bca_remarks("SWITCHING CR TRANSFER  DR 009 DEWI ANGGRAINI  BNI")
    assert r == Remarks(channel="SWITCHING", sender_name="DEWI ANGGRAINI", sender_bank="BNI")


def test_switching_credit_slash_form() -> None:
    r = parse_bca_remarks("SWITCHING CR TRANSFER DR 009 DEWI ANGGRAINI /BNI")
    assert (r.sender_name, r.sender_bank) == ("DEWI ANGGRAINI", "BNI")


def test_old_switching_form_without_transfer_word() -> None:
    r = parse_bca_remarks("SWITCHING CR DR 013 RUDI HARTONO  PERMATA")
    assert (r.channel, r.sender_name, r.sender_bank) == ("SWITCHING", "RUDI HARTONO", "PERMATA")


def test_llg_bank_name_with_a_space_and_message_after_the_sender_field() -> None:
    r = parse_bca_remarks("KR OTOMATIS LLG-CIMB NIAGA PT MAJU JAYA ABADI  INV 20455")
    assert r == Remarks(
        channel="SKN/LLG",
        sender_name="PT MAJU JAYA ABADI",
        sender_bank="CIMB NIAGA",
        message="INV 20455",
    )


def test_llg_full_width_sender_followed_by_a_single_space() -> None:
    r = parse_bca_remarks("KR OTOMATIS LLG-DBS INDONESIA CV SINAR TERANG JA PEMBAYARAN, DOMAIN")
    assert (r.sender_name, r.sender_bank, r.message) == (
        "CV SINAR TERANG JA",
        "DBS",
        "PEMBAYARAN, DOMAIN",
    )


def test_llg_padded_sender_then_message() -> None:
    r = parse_bca_remarks("KR OTOMATIS LLG-DANAMON CV SUMBER REJEKI   PEMBAYARAN HOSTING")
    assert (r.sender_name, r.sender_bank, r.message) == (
        "CV SUMBER REJEKI",
        "DANAMON",
        "PEMBAYARAN HOSTING",
    )


def test_cash_deposit_keeps_its_message_and_has_no_sender() -> None:
    assert parse_bca_remarks("SETORAN TUNAI INV 20470") == Remarks(
        channel="CASH", message="INV 20470"
    )
    assert parse_bca_remarks("SETORAN VIA CDM") == Remarks(channel="CDM")
    assert parse_bca_remarks("SETORAN bayar hosting") == Remarks(
        channel="CASH", message="bayar hosting"
    )


def test_wallet_channel_name_before_the_channel_words() -> None:
    r = parse_bca_remarks("TRSF E-BANKING CR 0603/ADSCY/2603061 88120456 DEWI LESTARI Wallet User")
    assert r == Remarks(
        channel="WALLET", sender_name="DEWI LESTARI", initiated_ddmm="0603", bank_ref="88120456"
    )


def test_ewallet_as_sender_means_payer_unknown() -> None:
    r = parse_bca_remarks("TRSF E-BANKING CR 0203/FTSCY/WS95031 100000.00DANA")
    assert (r.sender_name, r.sender_bank) == (None, "DANA")


def test_gateway_settlement_names_the_gateway() -> None:
    r = parse_bca_remarks("KR OTOMATIS MIDTRANS STLM 260312 0012345")
    assert (r.channel, r.sender_name, r.message) == (
        "GATEWAY",
        "MIDTRANS",
        "MIDTRANS STLM 260312 0012345",
    )


def test_unknown_kr_otomatis_keeps_sender_unknown() -> None:
    r = parse_bca_remarks("KR OTOMATIS RTGS 0099123 PT ANEKA")
    assert (r.channel, r.sender_name, r.message) == ("KR OTOMATIS", None, "RTGS 0099123 PT ANEKA")


def test_old_klikbca_form() -> None:
    r = parse_bca_remarks("TRSF E-BANKING CR  03/02 95031 bayar inv 20431     BUDI SANTOSO")
    assert r == Remarks(
        channel="TRANSFER",
        sender_name="BUDI SANTOSO",
        sender_bank="BCA",
        message="bayar inv 20431",
        initiated_ddmm="0302",
        bank_ref="95031",
    )


def test_fees_are_flagged() -> None:
    for text in ("BIAYA ADM", "BI-FAST DB BIAYA TXN", "BIAYA TXN", "BY TRX BIFAST", "KARTU DEBIT"):
        assert parse_bca_remarks(text) == Remarks(channel="FEE", is_fee=True), text


def test_outgoing_transfer_has_no_sender() -> None:
    r = parse_bca_remarks(
        "TRSF E-BANKING DB 0903/FTSCY/WS95031 1000000.00 sewa server  AGUS PRASETYO"
    )
    assert r == Remarks(channel="TRANSFER", initiated_ddmm="0903")


def test_line_breaks_and_nbsp_read_as_spaces() -> None:
    r = parse_bca_remarks("BI-FAST CR TRANSFER\u00a0  DR 009\nNUR AINI          ")
    assert (r.sender_name, r.sender_bank) == ("NUR AINI", "BNI")


def test_unrecognised_description_yields_empty_remarks() -> None:
    assert parse_bca_remarks("KOREKSI SALDO 0403") == Remarks()


def test_name_recipe_on_short_and_empty_text() -> None:
    assert split_message_and_name("YUSUF HIDAYAT") == (None, "YUSUF HIDAYAT")
    assert split_message_and_name("   ") == (None, None)
    assert split_message_and_name("inv 20431") == ("inv 20431", None)


def test_bank_table_lookups() -> None:
    assert [bank_from_code(c) for c in ("002", "008", "009", "013", "014", "999")] == [
        "BRI",
        "MANDIRI",
        "BNI",
        "PERMATA",
        "BCA",
        None,
    ]
    assert bank_from_bic("BNIAIDJA") == "CIMB NIAGA"  # not BNI: BNI is BNINIDJA
    assert bank_from_bic("BNINIDJAXXX") == "BNI"
    assert bank_from_bic("DANAIDJ1") == "DANA"
    assert bank_from_name("CIMB NIAGA PT X") == ("CIMB NIAGA", "CIMB NIAGA")
    assert bank_from_name("BNIX") is None
    assert (is_wallet("DANA"), is_wallet("DANA-BUDI"), is_wallet("DANAR")) == (True, True, False)
