"""BRI description shapes (formats.md §8.5, §11A): sender name, bank, channel and message."""

from __future__ import annotations

from importers.remarks.bri import parse_bri_remarks, split_sender_receiver
from reconcile.model import Remarks


def test_brimo_transfer_names_the_sender_before_to():
    r = parse_bri_remarks("NBMB BUDI SANTOSO TO RINA WULANDARI ESB:NBMB:0001500F:260302812345")
    assert r == Remarks(
        channel="TRANSFER", sender_name="BUDI SANTOSO", sender_bank="BRI", bank_ref="260302812345"
    )


def test_truncated_sender_name_is_kept_as_printed():
    r = parse_bri_remarks("NBMB MUHAMMAD RIZKY P TO RINA WULANDARI ESB:NBMB:0001500F:260302447120")
    assert (r.sender_name, r.bank_ref) == ("MUHAMMAD RIZKY P", "260302447120")


def test_corporate_internet_banking_transfer():
    r = parse_bri_remarks("IBIZ CV SUMBER REJEK TO RINA WULANDARI ESB:IBIZ:0001500F:260303990812")
    assert (r.channel, r.sender_name, r.sender_bank) == ("TRANSFER", "CV SUMBER REJEK", "BRI")


def test_sender_containing_to_is_cut_at_the_known_truncated_receiver():
    r = parse_bri_remarks("NBMB PT TOKO TO BARU TO RINA WULANDA ESB:NBMB:0001500F:260304220481")
    assert r.sender_name == "PT TOKO TO BARU"


def test_outgoing_transfer_to_someone_else_has_no_sender():
    r = parse_bri_remarks("NBMB RINA WULANDARI TO HENDRA WIJAYA ESB:NBMB:0001500F:260304301777")
    assert (r.channel, r.sender_name, r.bank_ref) == ("TRANSFER", None, "260304301777")


def test_other_receiver_prefixes_are_honoured():
    r = parse_bri_remarks(
        "NBMB BUDI SANTOSO TO PT AWAN DATA ESB:NBMB:0001500F:260302812345",
        receiver_prefixes=("PT AWAN DATA NUSANTARA",),
    )
    assert r.sender_name == "BUDI SANTOSO"


def test_atm_prima_transfer_has_no_name():
    r = parse_bri_remarks("ATMSTRPRM 6011 004471 0029011242 ESB:NBMB:0005T00F:260304004471")
    assert r == Remarks(channel="SWITCHING", bank_ref="260304004471")


def test_bifast_with_nbmb_bic_names_nobody():
    r = parse_bri_remarks("BFST0517353155 NBMB:BNINIDJA ESB:NBMB:0008G00F:260304405512")
    assert r == Remarks(channel="BI-FAST", bank_ref="260304405512")


def test_incoming_bifast_naming_sender_and_bic():
    r = parse_bri_remarks("BFST1234567890 DEWI ANGGRAINI:CENAIDJA")
    assert (r.channel, r.sender_name, r.sender_bank, r.sender_account) == (
        "BI-FAST",
        "DEWI ANGGRAINI",
        "BCA",
        "1234567890",
    )


def test_incoming_bifast_read_from_remark_custom_with_bank_and_account():
    r = parse_bri_remarks(
        "BFST0517353155 ESB:BFST:0008N00F:260306000101",
        "Transfer BI-Fast dari BNI - 0517353155 - Bonar Nasution",
    )
    assert r == Remarks(
        channel="BI-FAST",
        sender_name="Bonar Nasution",
        sender_bank="BNI",
        sender_account="0517353155",
        message="Transfer BI-Fast dari BNI - 0517353155 - Bonar Nasution",
        bank_ref="260306000101",
    )


def test_incoming_bifast_remark_custom_with_name_only():
    r = parse_bri_remarks("BFST9876543210 ESB:BFST:0008N", "Transfer BI-Fast - Dewi Anggraini")
    assert (r.channel, r.sender_name, r.sender_bank, r.message) == (
        "BI-FAST",
        "Dewi Anggraini",
        None,
        "Transfer BI-Fast - Dewi Anggraini",
    )


def test_free_remark_custom_becomes_the_message():
    r = parse_bri_remarks(
        "NBMB AGUS PRASETYO TO RINA WULANDARI ESB:NBMB:0001500F:260306000300",
        "bayar INV20431 hosting",
    )
    assert (r.sender_name, r.message) == ("AGUS PRASETYO", "bayar INV20431 hosting")


def test_wallet_sender_means_unknown_payer():
    r = parse_bri_remarks("NBMB DANA TO RINA WULANDARI ESB:NBMB:0001500F:260302812399")
    assert (r.channel, r.sender_name) == ("TRANSFER", None)


def test_transaction_fee_is_a_fee():
    assert parse_bri_remarks("BIAYA TXN") == Remarks(channel="FEE", is_fee=True)


def test_cash_deposit():
    assert parse_bri_remarks("SETORAN TUNAI 0302") == Remarks(channel="CASH")


def test_split_without_a_known_receiver_gives_none():
    assert split_sender_receiver("BUDI TO SITI", ("RINA WULANDARI",)) is None
