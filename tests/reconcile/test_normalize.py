"""What customers type in confirmations (formats.md §10.2-10.5): exact values, exact reasons."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconcile.config import Account
from reconcile.errors import ValueFormatError
from reconcile.money import format_amount_en, format_amount_id
from reconcile.normalize import (
    Destination,
    TypedDate,
    find_invoice_numbers,
    find_typed_amount,
    find_typed_date,
    invoice_key,
    known_invoice_index,
    parse_typed_amount,
    parse_typed_date,
    resolve_destination,
)

ACCOUNTS = [
    Account(bank="mandiri", account_no="1370010136428", holder="RINA WULANDARI"),
    Account(bank="bca", account_no="0372543386", holder="RINA WULANDARI"),
    Account(bank="bni", account_no="0495227030", holder="RINA WULANDARI"),
    Account(bank="bri", account_no="002901124296507", holder="RINA WULANDARI"),
]
KNOWN = known_invoice_index(["20431", "20432", "20440", "20442", "20410"])
DIGITS = (4, 8)
SUBMITTED = datetime(2026, 3, 12, 22, 0, 5)
AS_OF = date(2026, 3, 31)

# ---------------------------------------------------------------------------------------------
# amounts

AMOUNTS = [
    ("Rp 1.500.000", "1500000.00"),
    ("1.500.000,00", "1500000.00"),
    ("Rp1,500,000.-", "1500000.00"),
    ("1500000", "1500000.00"),
    ("1,5 jt", "1500000.00"),
    ("1.5jt", "1500000.00"),
    ("1,5 juta", "1500000.00"),
    ("150rb", "150000.00"),
    ("150 ribu", "150000.00"),
    ("150k", "150000.00"),
    ("IDR 1.5 juta", "1500000.00"),
    ("Rp 150.000,-", "150000.00"),
    ("Rp. 750.000", "750000.00"),
    ("rp750.000", "750000.00"),
    ("750rb", "750000.00"),
    ("1500000.00", "1500000.00"),
    ("1,500,000.00", "1500000.00"),
    ("1.500.000,17", "1500000.17"),
    ("Rp 1.500.217", "1500217.00"),
    ("IDR 2,250,000", "2250000.00"),
    ("2.500.000,-", "2500000.00"),
    ("Rp 99.000.-", "99000.00"),
    ("  Rp\u00a01.250.000  ", "1250000.00"),
    ("1 jt", "1000000.00"),
    ("2,75 juta", "2750000.00"),
    ("12.500", "12500.00"),
    ("12,500", "12500.00"),
    ("Rp 10.000", "10000.00"),
    ("1500000,50", "1500000.50"),
    ("150000 rupiah", "150000.00"),
    ("Rp 1 250 000", "1250000.00"),
]


@pytest.mark.parametrize(("typed", "value"), AMOUNTS)
def test_typed_amount_is_read_exactly(typed: str, value: str) -> None:
    assert parse_typed_amount(typed) == Decimal(value)


AMOUNT_REFUSALS = [
    (
        "Rp 1.500.000 + 2.500 (biaya)",
        "'Rp 1.500.000 + 2.500 (biaya)' holds more than one amount; "
        "expected the one amount transferred",
    ),
    (
        "1,5M",
        "'1,5M' uses M or T, which may mean juta or miliar; expected the amount in full digits",
    ),
    (
        "satu juta lima ratus ribu",
        "'satu juta lima ratus ribu' is spelled out in words; expected the amount in digits",
    ),
    ("1.500", "'1.500' is below Rp 10.000; expected the amount transferred in full"),
    ("Rp 5.000", "'Rp 5.000' is below Rp 10.000; expected the amount transferred in full"),
    ("0", "'0' is below Rp 10.000; expected the amount transferred in full"),
    (
        "12,345678 rb",
        "'12,345678 rb' has more than two decimal places; expected one amount in rupiah such as "
        "Rp 1.500.000, 1.500.000,00, 1,5 jt or 150rb",
    ),
    (
        "lunas",
        "cannot read 'lunas'; expected one amount in rupiah such as Rp 1.500.000, "
        "1.500.000,00, 1,5 jt or 150rb",
    ),
    (
        "",
        "cannot read ''; expected one amount in rupiah such as Rp 1.500.000, 1.500.000,00, "
        "1,5 jt or 150rb",
    ),
    (
        "1.50.000",
        "cannot read '1.50.000'; expected one amount in rupiah such as Rp 1.500.000, "
        "1.500.000,00, 1,5 jt or 150rb",
    ),
    (
        "500.000 dan 250.000",
        "'500.000 dan 250.000' holds more than one amount; expected the one amount transferred",
    ),
    ("2T", "'2T' uses M or T, which may mean juta or miliar; expected the amount in full digits"),
]


@pytest.mark.parametrize(("typed", "reason"), AMOUNT_REFUSALS)
def test_typed_amount_refused_with_reason(typed: str, reason: str) -> None:
    with pytest.raises(ValueFormatError) as info:
        parse_typed_amount(typed)
    assert str(info.value) == reason


def test_amount_in_message_is_found_only_when_marked() -> None:
    assert find_typed_amount("tf dr bri ke mandiri 750rb utk inv 20432") == Decimal("750000.00")
    assert find_typed_amount("sudah bayar Rp 1.500.000 ya") == Decimal("1500000.00")
    assert find_typed_amount("invoice 20431 sudah dibayar") is None


def test_two_different_amounts_in_message_are_reported() -> None:
    with pytest.raises(ValueFormatError) as info:
        find_typed_amount("Rp 500.000 kemarin, Rp 250.000 hari ini")
    assert str(info.value) == (
        "'Rp 500.000 kemarin, Rp 250.000 hari ini' mentions more than one amount; "
        "expected one amount"
    )


amounts_in_sen = st.integers(min_value=1_000_000, max_value=10**13)


@given(amounts_in_sen)
def test_indonesian_amount_round_trips(sen: int) -> None:
    amount = Decimal(sen) / 100
    assert parse_typed_amount(format_amount_id(amount)) == amount
    assert parse_typed_amount("Rp " + format_amount_id(amount)) == amount


@given(amounts_in_sen)
def test_english_amount_round_trips(sen: int) -> None:
    amount = Decimal(sen) / 100
    assert parse_typed_amount(format_amount_en(amount)) == amount
    assert parse_typed_amount("IDR " + format_amount_en(amount)) == amount


@given(st.integers(min_value=10_000, max_value=10**10))
def test_whole_rupiah_with_dash_round_trips(rupiah: int) -> None:
    whole = format_amount_id(Decimal(rupiah)).split(",")[0]
    assert parse_typed_amount(f"Rp {whole},-") == Decimal(rupiah)


@given(st.text(max_size=30))
def test_any_text_gives_an_amount_or_our_error(text: str) -> None:
    try:
        value = parse_typed_amount(text)
    except ValueFormatError:
        return
    assert value >= Decimal("10000")


# ---------------------------------------------------------------------------------------------
# dates

DATES = [
    ("12/03/2026", date(2026, 3, 12), None),
    ("12.03.2026", date(2026, 3, 12), None),
    ("12.3.26", date(2026, 3, 12), None),
    ("12-3-26", date(2026, 3, 12), None),
    ("12 Maret 2026", date(2026, 3, 12), None),
    ("12 Mar 2026", date(2026, 3, 12), None),
    ("12 maret 2026", date(2026, 3, 12), None),
    ("12-Mar-2026", date(2026, 3, 12), None),
    ("2026-03-12", date(2026, 3, 12), None),
    ("12/03/2026 21.30", date(2026, 3, 12), time(21, 30)),
    ("12 Maret 2026 jam 21:30", date(2026, 3, 12), time(21, 30)),
    ("Kamis, 12 Maret 2026", date(2026, 3, 12), None),
    ("2026-03-12 21:30:05", date(2026, 3, 12), time(21, 30, 5)),
    ("12/03", date(2026, 3, 12), None),
    ("12 Maret", date(2026, 3, 12), None),
    ("12 mei", date(2025, 5, 12), None),
    ("25/12", date(2025, 12, 25), None),
    ("tgl 12/3/2026", date(2026, 3, 12), None),
    ("1 Pebruari 2026", date(2026, 2, 1), None),
    ("17 Agt 2025", date(2025, 8, 17), None),
    ("17 Agustus 2025", date(2025, 8, 17), None),
    ("3 Nop 2025", date(2025, 11, 3), None),
    ("24 Des 2025", date(2025, 12, 24), None),
    ("5 Okt 2025 pukul 08.15 WIB", date(2025, 10, 5), time(8, 15)),
    ("Jum'at, 6 Maret 2026", date(2026, 3, 6), None),
    ("06/03/2026, 19:45", date(2026, 3, 6), time(19, 45)),
    ("12 March 2026", date(2026, 3, 12), None),
    ("29/02/2024", date(2024, 2, 29), None),
    ("Senin 9 Maret 2026 10:00 WITA", date(2026, 3, 9), time(10, 0)),
    ("01-01-2026", date(2026, 1, 1), None),
    ("12/03/2026 22:00", date(2026, 3, 12), time(22, 0)),
]


@pytest.mark.parametrize(("typed", "on", "at"), DATES)
def test_typed_date_is_read_day_first(typed: str, on: date, at: time | None) -> None:
    assert parse_typed_date(typed, SUBMITTED, AS_OF) == TypedDate(on, at)


DATE_REFUSALS = [
    (
        "kemarin",
        "'kemarin' is a relative date; expected a transfer date such as 02/03/2026, "
        "2 Maret 2026 or 2026-03-02",
    ),
    (
        "hari ini",
        "'hari ini' is a relative date; expected a transfer date such as 02/03/2026, "
        "2 Maret 2026 or 2026-03-02",
    ),
    (
        "tadi malam",
        "'tadi malam' is a relative date; expected a transfer date such as 02/03/2026, "
        "2 Maret 2026 or 2026-03-02",
    ),
    (
        "minggu lalu",
        "'minggu lalu' is a relative date; expected a transfer date such as 02/03/2026, "
        "2 Maret 2026 or 2026-03-02",
    ),
    ("03/25/2026", "'03/25/2026' is not a real date read day first; expected dd/mm/yyyy"),
    ("31/02/2026", "'31/02/2026' is not a real date read day first; expected dd/mm/yyyy"),
    ("29/02/2025", "'29/02/2025' is not a real date read day first; expected dd/mm/yyyy"),
    (
        "13/03/2026",
        "'13/03/2026' is after the confirmation was submitted (2026-03-12 22:00); "
        "expected the date the money was sent",
    ),
    (
        "12/03/2026 25:00",
        "'12/03/2026 25:00' has an impossible time of day; expected a time such as 21:30",
    ),
    (
        "sudah transfer",
        "cannot read 'sudah transfer'; expected a transfer date such as 02/03/2026, "
        "2 Maret 2026 or 2026-03-02",
    ),
    (
        "",
        "cannot read ''; expected a transfer date such as 02/03/2026, 2 Maret 2026 or 2026-03-02",
    ),
    (
        "12 Maretz 2026",
        "cannot read '12 Maretz 2026'; expected a transfer date such as 02/03/2026, "
        "2 Maret 2026 or 2026-03-02",
    ),
]


@pytest.mark.parametrize(("typed", "reason"), DATE_REFUSALS)
def test_typed_date_refused_with_reason(typed: str, reason: str) -> None:
    with pytest.raises(ValueFormatError) as info:
        parse_typed_date(typed, SUBMITTED, AS_OF)
    assert str(info.value) == reason


def test_date_after_run_date_is_refused() -> None:
    late_ticket = datetime(2026, 4, 2, 9, 0)
    with pytest.raises(ValueFormatError) as info:
        parse_typed_date("01/04/2026", late_ticket, AS_OF)
    assert str(info.value) == (
        "'01/04/2026' is after the run date (2026-03-31); expected the date the money was sent"
    )


def test_year_less_date_in_january_ticket_is_last_december() -> None:
    assert parse_typed_date("30/12", datetime(2026, 1, 2, 8, 0), AS_OF) == TypedDate(
        date(2025, 12, 30)
    )


def test_date_in_message_is_found() -> None:
    found = find_typed_date("sudah tf tanggal 10/03/2026 via atm", SUBMITTED, AS_OF)
    assert found == TypedDate(date(2026, 3, 10))
    assert find_typed_date("mohon dicek ya", SUBMITTED, AS_OF) is None


DATE_STYLES = [
    lambda d: d.strftime("%d/%m/%Y"),
    lambda d: f"{d.day}/{d.month}/{d.year}",
    lambda d: d.strftime("%d.%m.%Y"),
    lambda d: f"{d.day}.{d.month}.{d.year % 100:02d}",
    lambda d: f"{d.day}-{d.month}-{d.year % 100:02d}",
    lambda d: d.isoformat(),
    lambda d: f"{d.day} {MONTH_ID[d.month]} {d.year}",
    lambda d: f"{d.day} {MONTH_ID[d.month][:3]} {d.year}",
    lambda d: f"Senin, {d.day} {MONTH_ID[d.month]} {d.year} jam 10:15",
]
MONTH_ID = {
    1: "Januari", 2: "Februari", 3: "Maret", 4: "April", 5: "Mei", 6: "Juni", 7: "Juli",
    8: "Agustus", 9: "September", 10: "Oktober", 11: "November", 12: "Desember",
}  # fmt: skip


@given(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
    st.sampled_from(range(len(DATE_STYLES))),
)
def test_date_round_trips_in_each_accepted_style(day: date, style: int) -> None:
    submitted = datetime.combine(day + timedelta(days=1), time(9, 0))
    typed = DATE_STYLES[style](day)
    assert parse_typed_date(typed, submitted, date(2100, 1, 1)).on == day


@given(st.dates(min_value=date(2001, 1, 1), max_value=date(2099, 12, 31)))
def test_year_less_date_round_trips_within_a_year(day: date) -> None:
    submitted = datetime.combine(day + timedelta(days=200), time(9, 0))
    expected = day
    if (day.month, day.day) == (2, 29):
        return  # a year-less 29/02 takes the latest leap year; covered by dates.py tests
    assert parse_typed_date(f"{day.day:02d}/{day.month:02d}", submitted, date(2100, 1, 1)).on == (
        expected
    )


@given(st.text(max_size=30))
def test_any_text_gives_a_date_or_our_error(text: str) -> None:
    try:
        parse_typed_date(text, SUBMITTED, AS_OF)
    except ValueFormatError:
        return


# ---------------------------------------------------------------------------------------------
# invoice numbers

INVOICE_FIELDS = [
    ("#20431", ("20431",)),
    ("INV 20431", ("20431",)),
    ("inv-20431", ("20431",)),
    ("INV/20431", ("20431",)),
    ("Invoice #20431", ("20431",)),
    ("no invoice 20431", ("20431",)),
    ("No. Inv: 20431", ("20431",)),
    ("20431", ("20431",)),
    ("020431", ("20431",)),
    ("20431.0", ("20431",)),
    ("#20440, #20442", ("20440", "20442")),
    ("20440 & 20442", ("20440", "20442")),
    ("20440 dan 20442", ("20440", "20442")),
    ("INV 20440;INV 20442", ("20440", "20442")),
    ("20440 / 20442", ("20440", "20442")),
    ("inv-20440, 20442", ("20440", "20442")),
    ("20440,20442", ("20440", "20442")),
    ("20440 20442", ("20440", "20442")),
    ("#20431 #20431", ("20431",)),
    ("INV20432", ("20432",)),
]


@pytest.mark.parametrize(("typed", "numbers"), INVOICE_FIELDS)
def test_invoice_numbers_from_the_field(typed: str, numbers: tuple[str, ...]) -> None:
    found = find_invoice_numbers(typed, "", "", KNOWN, DIGITS)
    assert (found.numbers, found.source, found.unknown, found.notes) == (
        numbers,
        "invoice_no",
        (),
        (),
    )


FROM_TEXT = [
    ("Konfirmasi Pembayaran Invoice #20431", "", ("20431",), "subject"),
    ("Konfirmasi Pembayaran Invoice #20440 dan #20442", "", ("20440", "20442"), "subject"),
    ("konfirmasi bayar", "tf dr bri ke mandiri 750rb utk inv 20432", ("20432",), "message"),
    ("Konfirmasi", "transfer tgl 12/03/2026 Rp 1.500.000 untuk 20431", ("20431",), "message"),
    ("bayar", "hubungi 0812-2043-1000 atau 081220431000 untuk 20432", ("20432",), "message"),
    ("bayar", "rekening 037-254-3386 dan 1370010136428, inv 20410", ("20410",), "message"),
    ("bayar", "jam 20.43 sudah transfer 1.204.310 invoice 20440", ("20440",), "message"),
    ("konfirmasi", "12 Maret 2026, 20442", ("20442",), "message"),
]


@pytest.mark.parametrize(("subject", "message", "numbers", "source"), FROM_TEXT)
def test_invoice_numbers_from_subject_then_message(
    subject: str, message: str, numbers: tuple[str, ...], source: str
) -> None:
    found = find_invoice_numbers("", subject, message, KNOWN, DIGITS)
    assert (found.numbers, found.source, found.notes) == (numbers, source, ())


def test_dates_amounts_phones_and_accounts_are_not_invoice_numbers() -> None:
    message = (
        "tf 12/03/2026 21:30 Rp 1.500.000 (1,5 jt) dari 0812 3456 7890 ke 037 254 3386 "
        "BNI 46 0495227030 kode 2026-03-12"
    )
    found = find_invoice_numbers("", "", message, KNOWN, DIGITS)
    assert (found.numbers, found.source, found.unknown, found.notes) == ((), "", (), ())


def test_invoice_number_not_in_the_list_is_reported() -> None:
    found = find_invoice_numbers("#99999", "", "", KNOWN, DIGITS)
    assert (found.numbers, found.unknown, found.notes) == (
        (),
        ("99999",),
        ("invoice_no: invoice 99999 in '#99999' is not in the invoice list",),
    )


def test_field_disagreeing_with_subject_is_reported_and_field_wins() -> None:
    found = find_invoice_numbers(
        "#20431", "Konfirmasi Pembayaran Invoice #20432", "", KNOWN, DIGITS
    )
    assert found.numbers == ("20431",)
    assert found.notes == (
        "invoice_no: '#20431' names other invoices than the subject "
        "'Konfirmasi Pembayaran Invoice #20432'; the field is used",
    )


def test_field_without_a_number_is_reported_and_subject_used() -> None:
    found = find_invoice_numbers("lunas", "Invoice #20431", "", KNOWN, DIGITS)
    assert (found.numbers, found.source, found.notes) == (
        ("20431",),
        "subject",
        ("invoice_no: no invoice number of 4-8 digits in 'lunas'",),
    )


def test_bare_unknown_number_in_message_is_not_a_claim() -> None:
    found = find_invoice_numbers("", "bayar", "kode booking 55555", KNOWN, DIGITS)
    assert (found.numbers, found.unknown, found.notes) == ((), (), ())


def test_invoice_number_length_comes_from_the_rules() -> None:
    known = known_invoice_index(["123"])
    assert find_invoice_numbers("#123", "", "", known, (3, 8)).numbers == ("123",)
    assert find_invoice_numbers("#123", "", "", known, (4, 8)).numbers == ()


def test_invoice_key_drops_hash_prefix_and_leading_zeros() -> None:
    assert [invoice_key(x) for x in ("#020431", "INV-20431", "20431")] == ["20431"] * 3


@given(st.integers(min_value=1000, max_value=99_999_999), st.sampled_from(["#", "INV ", "inv-"]))
def test_marked_invoice_number_round_trips(number: int, prefix: str) -> None:
    known = known_invoice_index([str(number)])
    found = find_invoice_numbers(f"{prefix}{number}", "", "", known, DIGITS)
    assert found.numbers == (str(number),)


# ---------------------------------------------------------------------------------------------
# bank destination

BCA = Destination("0372543386", "bca", False, "")
MANDIRI = Destination("1370010136428", "mandiri", False, "")
BNI = Destination("0495227030", "bni", False, "")
BRI = Destination("002901124296507", "bri", False, "")

DESTINATIONS = [
    ("bca", BCA),
    ("BCA", BCA),
    ("Bank Central Asia", BCA),
    ("klikbca", BCA),
    ("m-bca", BCA),
    ("mybca", BCA),
    ("0372543386", BCA),
    ("037 254 3386", BCA),
    ("037-254-3386", BCA),
    ("BCA a.n. RINA WULANDARI", BCA),
    ("mandiri", MANDIRI),
    ("Bank Mandiri", MANDIRI),
    ("livin", MANDIRI),
    ("1370010136428", MANDIRI),
    ("137-00-1013642-8", MANDIRI),
    ("Mandiri 1370010136428", MANDIRI),
    ("tf dr bri ke mandiri", MANDIRI),
    ("dari BCA ke rek mandiri", MANDIRI),
    ("bni", BNI),
    ("BNI 46", BNI),
    ("Bank Negara Indonesia", BNI),
    ("0495227030", BNI),
    ("bni46 0495227030", BNI),
    ("bri", BRI),
    ("Bank Rakyat Indonesia", BRI),
    ("brimo", BRI),
    ("BRI 0029-01-124296-50-7", BRI),
    ("002901124296507", BRI),
    ("via brimo ke bca", BCA),
    ("", Destination("", "", False, "")),
]


@pytest.mark.parametrize(("typed", "destination"), DESTINATIONS)
def test_destination_maps_to_a_company_account(typed: str, destination: Destination) -> None:
    assert resolve_destination(typed, ACCOUNTS) == destination


NOT_OURS = [
    ("BSI", "bank_destination: 'BSI' is not one of the company's banks"),
    ("BCA Syariah", "bank_destination: 'BCA Syariah' is not one of the company's banks"),
    ("BNI Syariah", "bank_destination: 'BNI Syariah' is not one of the company's banks"),
    ("Mandiri Syariah", "bank_destination: 'Mandiri Syariah' is not one of the company's banks"),
    ("CIMB Niaga", "bank_destination: 'CIMB Niaga' is not one of the company's banks"),
    ("BCA 1234567890", "bank_destination: account 1234567890 in 'BCA 1234567890' is not ours"),
]


@pytest.mark.parametrize(("typed", "note"), NOT_OURS)
def test_destination_not_ours_is_flagged(typed: str, note: str) -> None:
    assert resolve_destination(typed, ACCOUNTS) == Destination("", "", True, note)


def test_number_wins_over_bank_name() -> None:
    assert resolve_destination("mandiri 0372543386", ACCOUNTS) == Destination(
        "0372543386",
        "bca",
        False,
        "bank_destination: 'mandiri 0372543386' names MANDIRI but the account number is "
        "BCA's; the number is used",
    )


def test_number_without_its_leading_zeros_is_still_ours() -> None:
    assert resolve_destination("372543386", ACCOUNTS) == BCA


def test_bank_the_company_does_not_hold_is_not_ours() -> None:
    only_bca = [ACCOUNTS[1]]
    assert resolve_destination("bri", only_bca) == Destination(
        "", "", True, "bank_destination: the company has no BRI account ('bri')"
    )


DESTINATION_REFUSALS = [
    (
        "transfer",
        "cannot read 'transfer'; expected one of the company's banks (BCA, Mandiri, BNI, BRI) "
        "or account numbers",
    ),
    (
        "bca / mandiri",
        "'bca / mandiri' names more than one of the company's banks; expected one of the "
        "company's banks (BCA, Mandiri, BNI, BRI) or account numbers",
    ),
    (
        "0372543386 / 1370010136428",
        "'0372543386 / 1370010136428' names two of the company's accounts; expected one account",
    ),
]


@pytest.mark.parametrize(("typed", "reason"), DESTINATION_REFUSALS)
def test_destination_refused_with_reason(typed: str, reason: str) -> None:
    with pytest.raises(ValueFormatError) as info:
        resolve_destination(typed, ACCOUNTS)
    assert str(info.value) == reason


@given(st.sampled_from(ACCOUNTS), st.sampled_from(["", "-", " ", "."]))
def test_company_account_number_round_trips_with_separators(account: Account, sep: str) -> None:
    typed = sep.join([account.account_no[:3], account.account_no[3:6], account.account_no[6:]])
    assert resolve_destination(typed, ACCOUNTS).account_no == account.account_no


def test_amount_of_a_triliun_or_more_is_refused() -> None:
    with pytest.raises(ValueFormatError) as info:
        parse_typed_amount("100000000000000000000000000")
    assert str(info.value) == (
        "'100000000000000000000000000' is Rp 1 triliun or more; expected the amount transferred"
    )


# ---------------------------------------------------------------------------------------------
# bulk readers of the common forms agree with the one-value readers

INVOICE_MARKS = ["", "#", "INV ", "inv-", "Invoice #", "invoice ", "No. Inv: ", "no. inv ", "no ",
                 "inv", "Rp ", "+", "bni "]  # fmt: skip
REF_SEPARATORS = [", ", ",", " & ", "&", " dan ", " / ", "/", ";", " ", "-", ".", ":"]
PREFIXES = ["", "Konfirmasi Pembayaran ", "Pembayaran ", "bayar rp ", "tgl ", "x\n"]


@given(
    st.sampled_from(PREFIXES),
    st.lists(
        st.tuples(
            st.sampled_from(INVOICE_MARKS),
            st.one_of(
                st.integers(1, 10**16).map(str),
                st.sampled_from(["6281234567890", "628123", "0812345678", "46", "12", "2026"]),
            ),
        ),
        min_size=1,
        max_size=3,
    ),
    st.sampled_from(REF_SEPARATORS),
)
def test_number_runs_of_common_forms_equal_the_long_way(
    prefix: str, refs: list[tuple[str, str]], separator: str
) -> None:
    from reconcile.normalize import number_runs, scanned_number_runs

    text = prefix + separator.join(mark + digits for mark, digits in refs)
    assert number_runs(text) == scanned_number_runs(text)


@given(st.text(alphabet=st.sampled_from(list("0123456789 #,&/;-.:invoINVOdanrp\n٣")), max_size=25))
def test_number_runs_of_any_text_equal_the_long_way(text: str) -> None:
    from reconcile.normalize import number_runs, scanned_number_runs

    assert number_runs(text) == scanned_number_runs(text)


def test_number_runs_of_a_subject_and_a_field() -> None:
    from reconcile.normalize import number_runs

    assert number_runs("Konfirmasi Pembayaran Invoice #20431") == ((True, "20431"),)
    assert number_runs("inv-20440, 20442") == ((True, "20440"), (False, "20442"))
    assert number_runs("hub 6281234567890") == ()
    assert number_runs("mohon dicek") == ()


def reference_amount_sen(text: str) -> int | None:
    try:
        return int(parse_typed_amount(text) * 100)
    except ValueFormatError:
        return None


AMOUNT_PREFIXES = ["", "Rp ", "Rp", "rp. ", "Rp.", "IDR ", "idr", "idr.", "IDR. ", "rupiah ", " "]
AMOUNT_ENDINGS = ["", ",00", ".00", ",-", ".-", ",5", ",50", " ", "rb", " jt", "M"]


@given(
    st.sampled_from(AMOUNT_PREFIXES),
    st.integers(0, 10**13),
    st.sampled_from(["id", "en", "plain"]),
    st.sampled_from(AMOUNT_ENDINGS),
)
def test_typed_amounts_in_bulk_equal_parse_typed_amount(
    prefix: str, rupiah: int, layout: str, ending: str
) -> None:
    from reconcile.normalize import typed_amounts_sen

    grouped = f"{rupiah:,}"
    body = {"id": grouped.replace(",", "."), "en": grouped, "plain": str(rupiah)}[layout]
    texts = [prefix + body + ending, "1,5 jt", "Rp 1.500.000"]
    sen, read = typed_amounts_sen(pd.Series(texts, dtype=object))
    for text, value, was_read in zip(texts, sen.tolist(), read.tolist(), strict=True):
        if was_read:
            assert value == reference_amount_sen(text)
    assert (sen[2], read[1], read[2]) == (150000000, False, True)


def test_typed_amounts_in_bulk_leave_the_odd_ones() -> None:
    from reconcile.normalize import typed_amounts_sen

    texts = ["Rp 1.500.000", "1.500.000,00", "Rp1,500,000.-", "165000", "Rp 1.500", "1,5M",
             "idr1.500.000", "150rb", ""]  # fmt: skip
    sen, read = typed_amounts_sen(pd.Series(texts, dtype=object))
    assert read.tolist() == [True, True, True, True, False, False, False, False, False]
    assert sen[:4].tolist() == [150000000, 150000000, 150000000, 16500000]


@given(
    st.dates(date(1960, 1, 1), date(2030, 12, 31)),
    st.sampled_from(
        ["{d:02d}/{m:02d}/{y}", "{d}.{m}.{yy:02d}", "{d} {month} {y}", "{y}-{m:02d}-{d:02d}",
         "{d}-{m}-{yy:02d}", "{d}/{m}", "{d} {month}", "{m:02d}/{d:02d}/{y}", "{d} {month} jam 21:30",
         "Senin, {d} {month} {y}", "{d}/{m}/{y} 25:00"]
    ),
    st.sampled_from(["Maret", "mar", "MARET", "Agt", "Pebruari"]),
)  # fmt: skip
def test_typed_dates_in_bulk_equal_parse_typed_date(on: date, form: str, month: str) -> None:
    from reconcile.normalize import MONTHS, typed_dates_with_year

    text = form.format(d=on.day, m=on.month, y=on.year, yy=on.year % 100, month=month)
    [day] = typed_dates_with_year(pd.Series([text], dtype=object)).tolist()
    if day is None:
        return
    submitted = SUBMITTED if day <= SUBMITTED.date() else datetime.combine(day, time(23, 59))
    assert parse_typed_date(text, submitted, max(AS_OF, day)).on == day
    assert "{month}" not in form or MONTHS[month.lower()] == day.month


def test_typed_dates_in_bulk_leave_the_odd_ones() -> None:
    from reconcile.normalize import typed_dates_with_year

    texts = ["12/03/2026", "12.3.26", "12 Maret 2026", "2026-03-12", "12-3-26", "kemarin", "12/03",
             "30/02/2026", "03/25/2026", "12 Maret 2026 jam 21:30", "01/01/1960", ""]  # fmt: skip
    days = typed_dates_with_year(pd.Series(texts, dtype=object)).tolist()
    assert days == [date(2026, 3, 12)] * 5 + [None] * 7


def test_known_invoice_index_keys_each_number_by_its_digits() -> None:
    assert known_invoice_index(["020431", "#20432", "INV-20433", "abc", "00", "20431"]) == {
        "20431": "20431",
        "20432": "#20432",
        "20433": "INV-20433",
        "00": "00",
    }
