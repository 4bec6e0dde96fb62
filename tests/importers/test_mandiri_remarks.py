"""Mandiri descriptions (formats.md §8.3): one test per shape, exact fields asserted."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from importers.remarks.mandiri import parse_mandiri_remarks
from reconcile.model import Remarks


def _who(r: Remarks) -> tuple[str | None, str | None, str | None, str | None]:
    return r.sender_name, r.sender_bank, r.channel, r.message


def test_livin_transfer_from_mandiri_gives_name_and_account() -> None:
    r = parse_mandiri_remarks("Transfer dari BANK MANDIRI\nBUDI SANTOSO 1370098765432")
    assert _who(r) == ("BUDI SANTOSO", "MANDIRI", "TRANSFER", None)
    assert r.sender_account == "1370098765432"
    assert r.is_fee is False


def test_livin_transfer_from_another_bank_through_dana_strips_the_wallet_prefix() -> None:
    r = parse_mandiri_remarks("Transfer dari Bank lain BANK BCA DANA-RINA MARLINA 8812345678")
    assert _who(r) == ("RINA MARLINA", "BCA", "TRANSFER", None)
    assert r.bank_ref == "8812345678"


def test_livin_transfer_from_another_bank_with_account() -> None:
    r = parse_mandiri_remarks("Transfer dari Bank lain BANK CIMB NIAGA YULIA PUTRI 702112345600")
    assert _who(r) == ("YULIA PUTRI", "CIMB NIAGA", "TRANSFER", None)
    assert r.sender_account == "702112345600"


def test_livin_bifast_with_line_break_after_the_legal_bank_name() -> None:
    r = parse_mandiri_remarks(
        "Transfer BI Fast Dari BANK NEGARA INDONESIA\nMUHAMMAD RIZKY PRATAMA 0495123456 -"
    )
    assert _who(r) == ("MUHAMMAD RIZKY PRATAMA", "BNI", "BI-FAST", None)
    assert r.sender_account == "0495123456"


def test_livin_bifast_flattened_finds_the_bank_by_its_name() -> None:
    r = parse_mandiri_remarks("Transfer BI Fast Dari BANK BRI SITI RAHAYU 002101234567508 -")
    assert _who(r) == ("SITI RAHAYU", "BRI", "BI-FAST", None)
    assert r.sender_account == "002101234567508"


def test_livin_bifast_unknown_bank_on_its_own_line_is_kept_as_written() -> None:
    r = parse_mandiri_remarks("Transfer BI Fast Dari BANK JAGO\nANDI PRASETYO 100012345678 -")
    assert _who(r) == ("ANDI PRASETYO", "BANK JAGO", "BI-FAST", None)


def test_livin_bifast_from_dana_wallet_reads_phone_reference_and_day() -> None:
    r = parse_mandiri_remarks(
        "Transfer BI Fast Dari  AGUS SETIAWAN 081234567890 DANA20260303DANAIDJ1010O0211223344"
    )
    assert _who(r) == ("AGUS SETIAWAN", "DANA", "BI-FAST", None)
    assert (r.sender_account, r.initiated_ddmm, r.bank_ref) == (
        "081234567890",
        "0303",
        "20260303DANAIDJ1010O0211223344",
    )


def test_livin_antar_mandiri_takes_the_name_after_dari() -> None:
    r = parse_mandiri_remarks("Transfer antar Mandiri DARI HENDRA WIJAYA\n1370012345678")
    assert _who(r) == ("HENDRA WIJAYA", "MANDIRI", "TRANSFER", None)
    assert r.sender_account == "1370012345678"


def test_kopra_inhouse_with_transfer_fee_reads_the_full_message_and_drops_the_code() -> None:
    r = parse_mandiri_remarks(
        "INV 20431 hosting              MCM InhouseTrf  DARI BUDI SANTOSO Transfer Fee        "
        "INV 20431 hosting90417",
        "INV 20431 hosting MCM InhouseTrf",
    )
    assert _who(r) == ("BUDI SANTOSO", "MANDIRI", "TRANSFER", "INV 20431 hosting")


def test_kopra_inhouse_without_message_falls_back_to_the_ten_character_copy() -> None:
    r = parse_mandiri_remarks("MCM InhouseTrf DARI RUDI HARTONO 90417", "bayar tagiMCM InhouseTrf")
    assert _who(r) == ("RUDI HARTONO", "MANDIRI", "TRANSFER", "bayar tagi")


def test_kopra_bifast_reference_gives_bic_bank_day_and_message() -> None:
    r = parse_mandiri_remarks(
        "20260302CENAIDJA010O0212345678           CENAIDJA/SITI RAHAYU inv2043290417"
    )
    assert _who(r) == ("SITI RAHAYU", "BCA", "BI-FAST", "inv20432")
    assert (r.initiated_ddmm, r.bank_ref) == ("0203", "20260302CENAIDJA010O0212345678")


def test_kopra_bifast_bniaidja_is_cimb_niaga_not_bni() -> None:
    r = parse_mandiri_remarks(
        "20260305BNIAIDJA010O0298765432  BNIAIDJA/PT MAJU JAYA ABADI INV 20460 90417"
    )
    assert _who(r) == ("PT MAJU JAYA ABADI", "CIMB NIAGA", "BI-FAST", "INV 20460")


def test_kopra_bifast_name_followed_by_code_only_has_no_message() -> None:
    r = parse_mandiri_remarks("20260306BRINIDJA010O0233445566  BRINIDJA/DEWI LESTARI 11802")
    assert _who(r) == ("DEWI LESTARI", "BRI", "BI-FAST", None)


def test_kopra_inward_clearing_name_in_remarks_bank_in_additional() -> None:
    r = parse_mandiri_remarks("CV SUMBER REJEKI ABADI J", "Trf Inw CN BANK DANAMON")
    assert _who(r) == ("CV SUMBER REJEKI ABADI J", "DANAMON", "SKN/LLG", None)


def test_kopra_inward_clearing_inline_form_keeps_the_code_as_reference() -> None:
    r = parse_mandiri_remarks("CV KARYA MANDIRI SEJAHTERA - 0220305 Trf Inw CN BANK CIMB NIAGA")
    assert _who(r) == ("CV KARYA MANDIRI SEJAHTERA", "CIMB NIAGA", "SKN/LLG", None)
    assert r.bank_ref == "0220305"


def test_mcm_classic_overbooking_takes_the_message_from_the_second_description() -> None:
    r = parse_mandiri_remarks("SA OB CA No Book  DARI SITI RAHAYU", "PEMBAYARAN HOSTING ")
    assert _who(r) == ("SITI RAHAYU", "MANDIRI", "TRANSFER", "PEMBAYARAN HOSTING")


def test_mcm_classic_outgoing_overbooking_has_no_sender() -> None:
    r = parse_mandiri_remarks("SA OB CA No Book  KE HENDRA WIJAYA", "REFUND 20410 ")
    assert _who(r) == (None, None, "TRANSFER", "REFUND 20410")


def test_mcm_classic_inhouse_cs_cs() -> None:
    r = parse_mandiri_remarks("MCM InhouseTrf CS-CS DARI HENDRA WIJAYA", "INV 20431 ")
    assert _who(r) == ("HENDRA WIJAYA", "MANDIRI", "TRANSFER", "INV 20431")


def test_atm_prima_credit_has_no_sender_name() -> None:
    r = parse_mandiri_remarks("PRMA CR Transf 0081234567 6019001234567890 PRIMA")
    assert _who(r) == (None, None, "SWITCHING", None)
    assert r.sender_account == "0081234567"


def test_own_sweep_is_internal_and_never_pays_an_invoice() -> None:
    r = parse_mandiri_remarks("DARI 1370010136428 KE 1370077788899 AUTO TRANSFER")
    assert (r.channel, r.is_fee, r.sender_account) == ("INTERNAL", True, "1370010136428")
    assert parse_mandiri_remarks("Transfer Otomatis").is_fee is True


def test_bank_charges_interest_and_tax_are_flagged() -> None:
    assert parse_mandiri_remarks("Biaya Administrasi", "Biaya Adm") == Remarks(
        channel="FEE", is_fee=True
    )
    assert parse_mandiri_remarks("Biaya Transfer BI-FAST").channel == "FEE"
    assert parse_mandiri_remarks("Bunga") == Remarks(channel="INTEREST", is_fee=True)
    assert parse_mandiri_remarks("Pajak Bunga") == Remarks(channel="TAX", is_fee=True)


def test_a_clearing_sender_called_bunga_is_not_interest() -> None:
    r = parse_mandiri_remarks("BUNGA CITRA LESTARI", "Trf Inw CN BANK BRI")
    assert _who(r) == ("BUNGA CITRA LESTARI", "BRI", "SKN/LLG", None)
    assert r.is_fee is False


def test_unknown_shape_leaves_the_payer_unknown() -> None:
    assert parse_mandiri_remarks("Transfer ke BANK BCA\nDEWI ANGGRAINI 0123456789") == Remarks()


@given(st.text(), st.one_of(st.none(), st.text()))
def test_any_text_yields_remarks_and_never_raises(remarks: str, additional: str | None) -> None:
    r = parse_mandiri_remarks(remarks, additional)
    assert isinstance(r, Remarks)
    assert r.sender_name is None or r.sender_name == r.sender_name.strip() != ""
