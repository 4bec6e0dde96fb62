"""Invoice list and confirmation export, CSV and XLSX (formats.md §9.1, §10.1)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest
import xlsxwriter
from hypothesis import given, settings
from hypothesis import strategies as st

from importers.billing import (
    CONFIRMATION_COLUMNS,
    INVOICE_COLUMNS,
    load_confirmations,
    load_invoices,
    read_invoice_amount,
)
from reconcile.config import Rules, parse_rules
from reconcile.errors import FileRejected, ValueFormatError

SAMPLES = Path(__file__).parent / "billing_samples"
AS_OF = date(2026, 3, 10)
RULES_YAML = """
accounts:
  - {bank: mandiri, account_no: "1370010136428", holder: RINA WULANDARI}
  - {bank: bca, account_no: "0372543386", holder: RINA WULANDARI}
  - {bank: bni, account_no: "0495227030", holder: RINA WULANDARI}
  - {bank: bri, account_no: "002901124296507", holder: RINA WULANDARI}
"""
RULES = parse_rules(RULES_YAML)
KNOWN = ["20431", "20432", "20440", "20442", "20410"]
INVOICE_HEADER = "invoice_no,client_name,company_name,email,issued_on,due_on,amount,status\n"
CONFIRMATION_HEADER = (
    "ticket_id,submitted_at,name,email,subject,department,related_service,message,invoice_no,"
    "bank_destination,amount,transfer_date,account_name,attachment\n"
)


def rules_with(**sources: object) -> Rules:
    return Rules.model_validate({**RULES.model_dump(), "sources": sources})


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def write_xlsx(tmp_path: Path, name: str, rows: list[list[object]]) -> Path:
    path = tmp_path / name
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Sheet1")
    dates = book.add_format({"num_format": "yyyy-mm-dd"})
    stamps = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, datetime):
                sheet.write_datetime(r, c, value, stamps)
            elif isinstance(value, date):
                sheet.write_datetime(r, c, datetime.combine(value, datetime.min.time()), dates)
            elif value is None:
                continue
            else:
                sheet.write(r, c, value)
    book.close()
    return path


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


# ---------------------------------------------------------------------------------------------
# invoices

FORMATS_INVOICES = pd.DataFrame(
    {
        "invoice_no": ["20431", "20432", "20440", "20442", "20410"],
        "client_name": [
            "Budi Santoso",
            "Siti Rahayu",
            "Hendra Wijaya",
            "Hendra Wijaya",
            "Dewi Anggraini",
        ],
        "company_name": [
            "",
            "CV Rahayu Grafika",
            "PT Wijaya Niaga Sentosa",
            "PT Wijaya Niaga Sentosa",
            "",
        ],
        "email": [
            "budi.santoso@example.com",
            "siti@rahayugrafika.example",
            "finance@wijayaniaga.example",
            "finance@wijayaniaga.example",
            "dewi.anggraini@example.com",
        ],
        "issued_on": pd.to_datetime(
            ["2026-02-25", "2026-02-26", "2026-02-27", "2026-02-28", "2026-02-10"]
        ).astype("datetime64[ns]"),
        "due_on": pd.to_datetime(
            ["2026-03-04", "2026-03-05", "2026-03-06", "2026-03-07", "2026-02-17"]
        ).astype("datetime64[ns]"),
        "amount_sen": pd.array([150000000, 75000000, 125000000, 25000000, 45000000], "int64"),
        "source_status": ["Unpaid", "Unpaid", "Unpaid", "Unpaid", "Cancelled"],
        "source_row": pd.array([2, 3, 4, 5, 6], "int64"),
    }
).astype({c: object for c in ("invoice_no", "client_name", "company_name", "email")})
FORMATS_INVOICES["source_status"] = FORMATS_INVOICES["source_status"].astype(object)


def test_formats_example_invoice_csv_gives_exact_frame() -> None:
    result = load_invoices(SAMPLES / "invoices_formats_9_1.csv", RULES)
    assert result.rejected_rows == []
    pd.testing.assert_frame_equal(result.frame, FORMATS_INVOICES)


# an XLSX saved (or renamed) as .xls or .csv is told by its content, not by its name
@pytest.mark.parametrize("name", ["invoices.xlsx", "invoices.xls", "invoices.csv", "invoices"])
def test_formats_example_invoices_as_xlsx_give_the_same_frame(tmp_path: Path, name: str) -> None:
    rows: list[list[object]] = [
        ["Invoice_No", " Client_Name ", "COMPANY_NAME", "Email", "issued_on", "due_on", "Amount",
         "Status"],
        [20431.0, "Budi Santoso", None, "Budi.Santoso@example.com", date(2026, 2, 25),
         46085, 1500000.0, "unpaid"],
        [20432, "Siti Rahayu", "CV Rahayu Grafika", "siti@rahayugrafika.example",
         "2026-02-26", "05/03/2026", 750000, "Unpaid"],
        [20440, "Hendra Wijaya", "PT Wijaya Niaga Sentosa", "finance@wijayaniaga.example",
         date(2026, 2, 27), date(2026, 3, 6), 1250000.0000001, "UNPAID"],
        [20442, "Hendra Wijaya", "PT Wijaya Niaga Sentosa", "finance@wijayaniaga.example",
         date(2026, 2, 28), date(2026, 3, 7), "250000.00", "Unpaid"],
        [20410, "Dewi Anggraini", None, "dewi.anggraini@example.com", date(2026, 2, 10),
         date(2026, 2, 17), 450000, "cancelled"],
    ]  # fmt: skip
    result = load_invoices(write_xlsx(tmp_path, name, rows), RULES)
    assert result.rejected_rows == []
    pd.testing.assert_frame_equal(result.frame, FORMATS_INVOICES)


def test_bad_invoice_rows_are_reported_and_the_others_load(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "invoices.csv",
        INVOICE_HEADER
        + "20431,Budi Santoso,,budi@example.com,2026-02-25,2026-03-04,1.500.000,Unpaid\n"
        + "20432,Siti Rahayu,,siti@example.com,2026-02-26,2026-03-05,tujuh ratus,Unpaid\n"
        + "20433,Agus Salim,,agus@example.com,2026-02-30,2026-03-05,500000,Unpaid\n"
        + "20434,Maya Putri,,maya@example.com,2026-02-26,2026-03-05,500000,Lunas\n"
        + "20431,Budi Santoso,,budi@example.com,2026-02-25,2026-03-04,1500000,Unpaid\n"
        + ",Tono,,tono@example.com,2026-02-26,2026-03-05,500000,Unpaid\n"
        + "20435,,,x@example.com,2026-02-26,2026-03-05,500000,Unpaid\n"
        + "\n"
        + '20436,Rudi Hartono,,RUDI@Example.com,2026-02-26,,"1,250,000.00",Paid\n',
    )
    result = load_invoices(path, RULES)
    assert [str(e) for e in result.rejected_rows] == [
        "invoices.csv: line 3, column 'amount': cannot read 'tujuh ratus'; "
        "expected an amount such as 1500000.00 or 1.500.000",
        "invoices.csv: line 4, column 'issued_on': cannot read '2026-02-30'; "
        "expected a date yyyy-mm-dd",
        "invoices.csv: line 5, column 'status': cannot read 'Lunas'; "
        "expected a status Unpaid, Paid or Cancelled",
        "invoices.csv: line 6, column 'invoice_no': cannot read '20431'; "
        "expected a unique invoice number (already on line 2)",
        "invoices.csv: line 7, column 'invoice_no': cannot read ''; "
        "expected an invoice number such as 20431",
        "invoices.csv: line 8, column 'client_name': cannot read ''; expected the client's name",
    ]
    first = result.rejected_rows[0]
    assert (first.line, first.column, first.value) == (
        3,
        "amount",
        "tujuh ratus",
    )
    frame = result.frame
    assert frame["invoice_no"].tolist() == ["20431", "20436"]
    assert frame["amount_sen"].tolist() == [150000000, 125000000]
    assert frame["email"].tolist() == ["budi@example.com", "rudi@example.com"]
    assert frame["source_row"].tolist() == [2, 10]
    assert pd.isna(frame["due_on"].iloc[1])


def test_invoice_column_mapping_from_rules(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "export.csv",
        "Invoice #,Client,Company,E-mail,Date,Due Date,Total,Status\n"
        "020431,Budi Santoso,,budi@example.com,25/02/2026,04/03/2026,Rp 1.500.000,Unpaid\n",
    )
    rules = rules_with(
        invoice_columns={
            "Invoice #": "invoice_no",
            "client": "client_name",
            "Company": "company_name",
            "E-MAIL": "email",
            "Date": "issued_on",
            "Due Date": "due_on",
            "Total": "amount",
        }
    )
    result = load_invoices(path, rules)
    assert result.rejected_rows == []
    row = result.frame.iloc[0]
    assert (row["invoice_no"], row["client_name"], row["amount_sen"]) == (
        "020431",
        "Budi Santoso",
        150000000,
    )
    assert (row["issued_on"], row["due_on"]) == (ts("2026-02-25"), ts("2026-03-04"))


def test_missing_invoice_column_rejects_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "invoices.csv", "invoice_no,client_name,issued_on,due_on,status\n")
    with pytest.raises(FileRejected) as info:
        load_invoices(path, RULES)
    assert str(info.value) == (
        "invoices.csv: missing required column 'amount' (header on line 1: 'invoice_no', "
        "'client_name', 'issued_on', 'due_on', 'status'); "
        "name other headers in rules.yaml sources.invoice_columns"
    )


def test_invoice_file_with_bom_and_crlf_is_read(tmp_path: Path) -> None:
    path = tmp_path / "invoices.csv"
    path.write_bytes(
        b"\xef\xbb\xbf"
        + INVOICE_HEADER.encode().replace(b"\n", b"\r\n")
        + b"20431,Budi Santoso,,budi@example.com,2026-02-25,2026-03-04,1500000.00,Unpaid\r\n"
    )
    result = load_invoices(path, RULES)
    assert result.frame["invoice_no"].tolist() == ["20431"]
    assert result.frame["amount_sen"].tolist() == [150000000]


def test_pdf_is_not_an_invoice_list(tmp_path: Path) -> None:
    path = tmp_path / "invoices.csv"
    path.write_bytes(b"%PDF-1.4\n")
    with pytest.raises(FileRejected) as info:
        load_invoices(path, RULES)
    assert str(info.value) == "invoices.csv: expected a CSV or XLSX file (this one is pdf)"


def test_empty_invoice_list_gives_an_empty_frame_with_the_columns(tmp_path: Path) -> None:
    result = load_invoices(write(tmp_path, "invoices.csv", INVOICE_HEADER), RULES)
    assert list(result.frame.columns) == INVOICE_COLUMNS
    assert len(result.frame) == 0
    assert result.frame["amount_sen"].dtype == "int64"


@settings(max_examples=200)
@given(st.integers(min_value=0, max_value=10**13))
def test_invoice_amount_text_round_trips(sen: int) -> None:
    from decimal import Decimal

    from reconcile.money import format_amount, format_amount_en, format_amount_id

    amount = Decimal(sen) / 100
    for text in (format_amount(amount), format_amount_en(amount), format_amount_id(amount)):
        assert read_invoice_amount(text) == amount


def test_negative_invoice_amount_is_refused() -> None:
    with pytest.raises(ValueFormatError) as info:
        read_invoice_amount(-5.0)
    assert str(info.value) == "cannot read '-5'; expected an amount of zero or more"


# ---------------------------------------------------------------------------------------------
# confirmations


def test_formats_example_confirmations_give_exact_frame() -> None:
    result = load_confirmations(SAMPLES / "confirmations_formats_10_1.csv", RULES, KNOWN, AS_OF)
    assert result.rejected_rows == []
    frame = result.frame
    assert list(frame.columns) == CONFIRMATION_COLUMNS
    assert frame["ticket_id"].tolist() == ["481516", "481519", "481522"]
    assert frame["submitted_at"].tolist() == [
        ts("2026-03-02 21:05:11"),
        ts("2026-03-03 07:12:40"),
        ts("2026-03-03 09:30:02"),
    ]
    assert frame["invoice_nos"].tolist() == ["20431", "20432", "20440;20442"]
    assert frame["dest_account_no"].tolist() == ["0372543386", "1370010136428", "0495227030"]
    assert frame["dest_not_ours"].tolist() == [False, False, False]
    assert frame["amount_sen"].tolist() == [150000000, 75000000, 150000000]
    assert frame["transfer_date"].iloc[0] == ts("2026-03-02")
    assert pd.isna(frame["transfer_date"].iloc[1])
    assert frame["transfer_date"].iloc[2] == ts("2026-03-03")
    assert frame["intake_status"].tolist() == ["VALID", "INVALID", "VALID"]
    assert frame["intake_reason"].tolist() == [
        "",
        "transfer_date: 'kemarin' is a relative date; expected a transfer date such as "
        "02/03/2026, 2 Maret 2026 or 2026-03-02",
        "",
    ]
    assert frame["account_name"].tolist() == [
        "BUDI SANTOSO",
        "Sdri Siti Rahayu",
        "PT WIJAYA NIAGA SENTOSA",
    ]
    assert frame["amount_raw"].tolist() == ["Rp 1.500.000", "750rb", "1,5 jt"]
    assert frame["invoice_no_raw"].tolist() == ["#20431", "INV 20432", "inv-20440, 20442"]
    assert frame["attachment"].tolist() == ["bukti-tf.jpg", "", "transfer.pdf"]
    assert frame["source_row"].tolist() == [2, 3, 4]
    assert frame["amount_sen"].dtype == "Int64"


def confirmation_csv(tmp_path: Path, *rows: str) -> Path:
    return write(tmp_path, "confirmations.csv", CONFIRMATION_HEADER + "".join(rows))


def test_messy_confirmations_are_invalid_with_exact_reasons(tmp_path: Path) -> None:
    path = confirmation_csv(
        tmp_path,
        "500001,2026-03-04 10:00:00,Agus,agus@example.com,Konfirmasi #20431,Billing,,"
        '"Rp 1.500.000 + 2.500 (biaya)",#20431,bca,"Rp 1.500.000 + 2.500 (biaya)",'
        "03/25/2026,AGUS,\n",
        "500002,2026-03-04 10:05:00,Budi,budi@example.com,bayar,Sales,,,#99999,BSI,"
        '"1,5M",04/03/2026,BUDI,\n',
        "500003,2026-03-04 10:10:00,Citra,citra@example.com,Konfirmasi,Billing,,"
        '"sudah tf 1,25 jt tgl 03/03/2026 ke mandiri",20440,,,,CITRA,\n',
        "500004,2026-03-04 10:15:00,Dedi,dedi@example.com,Konfirmasi,Billing,,mohon dicek,"
        "20442,transfer,satu juta,05/03/2026,DEDI,\n",
        ",2026-03-04 10:20:00,Eka,eka@example.com,Konfirmasi,Billing,,,20442,bca,250rb,"
        "03/03/2026,EKA,\n",
        "500006,04/03/2026,Fajar,fajar@example.com,Konfirmasi,Billing,,,20442,bca,250rb,"
        "03/03/2026,FAJAR,\n",
    )
    result = load_confirmations(path, RULES, KNOWN, AS_OF)
    assert [str(e) for e in result.rejected_rows] == [
        "confirmations.csv: line 6, column 'ticket_id': cannot read ''; expected the ticket number",
        "confirmations.csv: line 7, column 'submitted_at': cannot read '04/03/2026'; "
        "expected a time stamp YYYY-MM-DD HH:MM:SS",
    ]
    frame = result.frame.set_index("ticket_id")
    assert frame.loc["500001", "intake_status"] == "INVALID"
    assert frame.loc["500001", "intake_reason"] == (
        "amount: 'Rp 1.500.000 + 2.500 (biaya)' holds more than one amount; "
        "expected the one amount transferred; "
        "transfer_date: '03/25/2026' is not a real date read day first; expected dd/mm/yyyy"
    )
    assert frame.loc["500002", "intake_status"] == "INVALID"
    assert frame.loc["500002", "intake_reason"] == (
        "amount: '1,5M' uses M or T, which may mean juta or miliar; "
        "expected the amount in full digits; "
        "invoice_no: invoice 99999 in '#99999' is not in the invoice list; "
        "bank_destination: 'BSI' is not one of the company's banks; "
        "department: filed under 'Sales', not Billing"
    )
    assert bool(frame.loc["500002", "dest_not_ours"]) is True
    assert frame.loc["500002", "invoice_nos"] == ""
    # fields missing from the form are found in the message
    assert frame.loc["500003", "intake_status"] == "VALID"
    assert frame.loc["500003", "amount_sen"] == 125000000
    assert frame.loc["500003", "transfer_date"] == ts("2026-03-03")
    assert frame.loc["500003", "dest_account_no"] == "1370010136428"
    assert frame.loc["500004", "intake_reason"] == (
        "bank_destination: cannot read 'transfer'; expected one of the company's banks "
        "(BCA, Mandiri, BNI, BRI) or account numbers; "
        "amount: 'satu juta' is spelled out in words; expected the amount in digits; "
        "transfer_date: '05/03/2026' is after the confirmation was submitted "
        "(2026-03-04 10:15); expected the date the money was sent"
    )
    assert pd.isna(frame.loc["500004", "amount_sen"])


def test_confirmation_without_amount_anywhere_is_invalid(tmp_path: Path) -> None:
    path = confirmation_csv(
        tmp_path,
        "500010,2026-03-04 10:00:00,Gita,gita@example.com,Konfirmasi #20431,Billing,,"
        "sudah transfer,,bca,,04/03/2026,GITA,\n",
    )
    frame = load_confirmations(path, RULES, KNOWN, AS_OF).frame
    assert frame["intake_status"].tolist() == ["INVALID"]
    assert frame["intake_reason"].tolist() == [
        "amount: empty, and no amount (Rp …, …rb, …jt) in the subject or message"
    ]
    assert frame["invoice_nos"].tolist() == ["20431"]


def test_confirmation_xlsx_with_typed_cells(tmp_path: Path) -> None:
    header = CONFIRMATION_HEADER.strip().split(",")
    rows: list[list[object]] = [
        header,
        [481516, datetime(2026, 3, 2, 21, 5, 11), "Budi Santoso", "Budi.Santoso@example.com",
         "Konfirmasi Pembayaran Invoice #20431", "Billing", "tokobudi.example",
         "Sudah transfer ya min", 20431.0, "bca", 1500000.0, date(2026, 3, 2),
         "BUDI SANTOSO", "bukti-tf.jpg"],
        [481523, "2026-03-03 11:00:00", "Rina Lestari", "rina@example.com",
         "Konfirmasi", "Billing", "", "", "20432", "002901124296507", 5000, "2026-03-11",
         "RINA LESTARI", ""],
    ]  # fmt: skip
    result = load_confirmations(write_xlsx(tmp_path, "tickets.xlsx", rows), RULES, KNOWN, AS_OF)
    assert result.rejected_rows == []
    frame = result.frame
    assert frame["ticket_id"].tolist() == ["481516", "481523"]
    assert frame["invoice_no_raw"].tolist() == ["20431", "20432"]
    assert frame["invoice_nos"].tolist() == ["20431", "20432"]
    assert frame["amount_sen"].tolist()[0] == 150000000
    assert frame["email"].tolist()[0] == "budi.santoso@example.com"
    assert frame["transfer_date"].tolist()[0] == ts("2026-03-02")
    assert frame["dest_account_no"].tolist() == ["0372543386", "002901124296507"]
    assert frame["intake_status"].tolist() == ["VALID", "INVALID"]
    assert frame["intake_reason"].tolist()[1] == (
        "amount: '5000.00' is below Rp 10.000; expected the amount transferred in full; "
        "transfer_date: '2026-03-11' is after the confirmation was submitted "
        "(2026-03-03 11:00); expected the date the money was sent"
    )
    assert frame["source_row"].tolist() == [2, 3]


def test_confirmation_column_mapping_from_rules(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "tickets.csv",
        "Ticket,Date,No. Invoice,Tujuan Transfer,Jumlah Transfer,Tanggal Transfer,"
        "Nama di Rekening\n"
        "481516,2026-03-02 21:05:11,#20431,BCA,Rp 1.500.000,02/03/2026,BUDI SANTOSO\n",
    )
    rules = rules_with(
        confirmation_columns={
            "ticket": "ticket_id",
            "date": "submitted_at",
            "No. Invoice": "invoice_no",
            "Tujuan Transfer": "bank_destination",
            "Jumlah Transfer": "amount",
            "Tanggal Transfer": "transfer_date",
            "Nama di Rekening": "account_name",
        }
    )
    frame = load_confirmations(path, rules, KNOWN, AS_OF).frame
    assert frame[
        ["ticket_id", "invoice_nos", "dest_account_no", "intake_status"]
    ].values.tolist() == [["481516", "20431", "0372543386", "VALID"]]
    assert frame["amount_sen"].tolist() == [150000000]
    assert frame["subject"].tolist() == [""]


def test_missing_confirmation_column_rejects_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "tickets.csv", "ticket_id,submitted_at,invoice_no,amount\n")
    with pytest.raises(FileRejected) as info:
        load_confirmations(path, RULES, KNOWN, AS_OF)
    assert str(info.value) == (
        "tickets.csv: missing required column 'bank_destination', 'transfer_date', "
        "'account_name' (header on line 1: 'ticket_id', 'submitted_at', 'invoice_no', "
        "'amount'); name other headers in rules.yaml sources.confirmation_columns"
    )


def test_message_with_line_breaks_keeps_the_next_row_line(tmp_path: Path) -> None:
    path = confirmation_csv(
        tmp_path,
        '500020,2026-03-04 10:00:00,Hana,hana@example.com,Konfirmasi,Billing,,"baris satu\n'
        'baris dua",#20431,bca,Rp 1.500.000,04/03/2026,HANA,\n',
        "500021,2026-03-04 10:00:00,Indra,indra@example.com,Konfirmasi,Billing,,,"
        "#20432,bca,Rp 750.000,04/03/2026,INDRA,\n",
    )
    frame = load_confirmations(path, RULES, KNOWN, AS_OF).frame
    assert frame["source_row"].tolist() == [2, 4]
    assert frame["message"].tolist()[0] == "baris satu\nbaris dua"


def test_duplicate_ticket_is_reported(tmp_path: Path) -> None:
    line = (
        "500030,2026-03-04 10:00:00,Joko,joko@example.com,Konfirmasi,Billing,,,#20431,bca,"
        "Rp 1.500.000,04/03/2026,JOKO,\n"
    )
    result = load_confirmations(confirmation_csv(tmp_path, line, line), RULES, KNOWN, AS_OF)
    assert [str(e) for e in result.rejected_rows] == [
        "confirmations.csv: line 3, column 'ticket_id': cannot read '500030'; "
        "expected a unique ticket number (already on line 2)"
    ]
    assert result.frame["ticket_id"].tolist() == ["500030"]


def test_absurd_invoice_amount_cell_is_refused() -> None:
    with pytest.raises(ValueFormatError) as info:
        read_invoice_amount(1e30)
    assert str(info.value) == "cannot read '1e+30'; expected an amount below Rp 1.000 triliun"


# ---------------------------------------------------------------------------------------------
# the bulk reading gives what the row-by-row reading gives

INVOICE_CELLS = {
    "invoice_no": ["20431", "20432", "020433", "#20434", "'20435", "20436.0", "", "abc", " 20437",
                   "٢٠٤٣٨", "20431"],
    "client_name": ["Budi Santoso", "  Siti  Rahayu ", "", "Hendra\u00a0Wijaya", "Dewi\tAnggraini"],
    "company_name": ["", "CV Rahayu Grafika", " PT  Wijaya "],
    "email": ["budi@example.com", "Siti@Example.COM", " dewi@example.com ", ""],
    "issued_on": ["2026-02-25", "25/02/2026", "2026-02-30", "", "0000-00-00", "2026-2-5",
                  "1/2/2026", "kemarin", "2026-02-25 10:00:00"],
    "due_on": ["2026-03-04", "", "04/03/2026", "31/02/2026"],
    "amount": ["1500000.00", "750000", "165000.5", "1,250,000.00", "Rp 1.500.000", "1.500.000,00",
               "tujuh ratus", "", "-5", "00000000000001.00", "1500000.001", "١٥٠٠٠٠٠"],
    "status": ["Unpaid", "unpaid", "PAID", " Cancelled ", "Lunas", "canceled", ""],
}  # fmt: skip
CONFIRMATION_CELLS = {
    "ticket_id": ["481516", "#481517", "", "481516", " 481518 "],
    "submitted_at": ["2026-03-04 10:00:00", "2026-03-03 07:12", "04/03/2026", "2026-02-30 10:00:00",
                     "2026-03-04T21:05:11"],
    "name": ["Budi Santoso", " Siti  Rahayu ", ""],
    "email": ["budi@example.com", "Siti@Example.COM", ""],
    "subject": ["Konfirmasi Pembayaran Invoice #20431", "konfirmasi bayar", "Pembayaran inv 20432",
                "Konfirmasi #20431 dan #99999", "bayar no 20440 Rp 1.250.000", "",
                "Konfirmasi Pembayaran Invoice #6281234567", "tf 1,5 jt"],
    "department": ["Billing", "billing", "Sales", ""],
    "message": ["Sudah transfer ya min", "", "tf dr bri ke mandiri 750rb utk inv 20432",
                "sudah tf 1,25 jt tgl 03/03/2026 ke mandiri", "baris satu\nbaris dua",
                "transfer 02/03/2026 dan 03/03/2026", "  mohon dicek  ", "hub 0812-3456-7890"],
    "invoice_no": ["#20431", "INV 20432", "inv-20440, 20442", "20440 & 20442", "No. Inv: 20431",
                   "", "99", "#99999", "020431", "Invoice #20431", "INV 20440;INV 20442",
                   "20440 / 20442", "inv20431", "6281234567890", "no 20431"],
    "bank_destination": ["bca", "BCA", "Bank Central Asia", "Mandiri 1370010136428", "BNI 46", "",
                         "BSI", "transfer", "bca / mandiri", "037 254 3386", "1234567890",
                         "tf dr bri ke mandiri"],
    "amount": ["Rp 1.500.000", "1.500.000,00", "Rp1,500,000.-", "1500000", "Rp. 750.000",
               "IDR 250.000", "750rb", "1,5 jt", "", "1,5M", "satu juta", "Rp 1.500", "5000",
               "Rp 1.500.000 + 2.500 (biaya)", "idr1.500.000", "1.500.000,50", "1000000000000",
               "Rp 1.500.000,-", " rp  1.500.000 "],
    "transfer_date": ["02/03/2026", "2.3.26", "2 Maret 2026", "2026-03-02", "2-3-26", "kemarin",
                      "", "03/25/2026", "05/03/2026", "12/03", "2 Maret jam 21:30",
                      "Senin, 2 Mar 2026", "30/02/2026", "2026-03-11", "01/01/1960",
                      "02/03/2026 25:00"],
    "account_name": ["BUDI SANTOSO", "a.n. Siti Rahayu", ""],
    "related_service": ["tokobudi.example", ""],
    "attachment": ["bukti-tf.jpg", ""],
}  # fmt: skip


def corpus_csv(path: Path, cells: dict[str, list[str]], picks: list[list[int]]) -> Path:
    """A CSV of the columns of cells, one record per row of picks (indexes into each list)."""
    import csv

    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh, lineterminator="\n")
        out.writerow(list(cells))
        for pick in picks:
            out.writerow(
                [values[k % len(values)] for values, k in zip(cells.values(), pick, strict=True)]
            )
    return path


def assert_same_result(fast: object, slow: object) -> None:
    from importers.billing import SourceResult

    assert isinstance(fast, SourceResult) and isinstance(slow, SourceResult)
    pd.testing.assert_frame_equal(fast.frame, slow.frame)
    assert [str(e) for e in fast.rejected_rows] == [str(e) for e in slow.rejected_rows]
    assert [(e.line, e.column, e.value) for e in fast.rejected_rows] == [
        (e.line, e.column, e.value) for e in slow.rejected_rows
    ]


def invoices_row_by_row(path: Path) -> object:
    from importers.billing import (
        INVOICE_OPTIONAL,
        INVOICE_REQUIRED,
        collect_invoices,
        read_source_rows,
    )

    rows = read_source_rows(path, INVOICE_REQUIRED, INVOICE_OPTIONAL, {}, "invoice_columns")
    return collect_invoices(rows)


def confirmations_row_by_row(path: Path) -> object:
    from importers.billing import (
        CONFIRMATION_OPTIONAL,
        CONFIRMATION_REQUIRED,
        collect_confirmations,
        read_source_rows,
    )

    rows = read_source_rows(
        path, CONFIRMATION_REQUIRED, CONFIRMATION_OPTIONAL, {}, "confirmation_columns"
    )
    return collect_confirmations(rows, RULES, KNOWN, AS_OF)


def every_value_once(cells: dict[str, list[str]]) -> list[list[int]]:
    """Rows that together show every value of every column, each beside varied neighbours."""
    longest = max(len(v) for v in cells.values())
    clean = [[0] * len(cells)]  # the first value of each column is a well-formed one
    return clean + [[k * (j + 1) + j for j in range(len(cells))] for k in range(longest * 3)]


def test_bulk_invoices_equal_row_by_row_on_every_listed_value(tmp_path: Path) -> None:
    path = corpus_csv(tmp_path / "invoices.csv", INVOICE_CELLS, every_value_once(INVOICE_CELLS))
    fast = load_invoices(path, RULES)
    assert_same_result(fast, invoices_row_by_row(path))
    assert len(fast.frame) > 0 and len(fast.rejected_rows) > 0


def test_bulk_confirmations_equal_row_by_row_on_every_listed_value(tmp_path: Path) -> None:
    picks = every_value_once(CONFIRMATION_CELLS)
    path = corpus_csv(tmp_path / "confirmations.csv", CONFIRMATION_CELLS, picks)
    fast = load_confirmations(path, RULES, KNOWN, AS_OF)
    assert_same_result(fast, confirmations_row_by_row(path))
    assert set(fast.frame["intake_status"]) == {"VALID", "INVALID"}


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.integers(0, 60), min_size=8, max_size=8), max_size=30))
def test_bulk_invoices_equal_row_by_row_on_mixed_samples(picks: list[list[int]]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        path = corpus_csv(Path(scratch) / "invoices.csv", INVOICE_CELLS, picks)
        assert_same_result(load_invoices(path, RULES), invoices_row_by_row(path))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.integers(0, 60), min_size=14, max_size=14), max_size=30))
def test_bulk_confirmations_equal_row_by_row_on_mixed_samples(picks: list[list[int]]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        path = corpus_csv(Path(scratch) / "confirmations.csv", CONFIRMATION_CELLS, picks)
        assert_same_result(
            load_confirmations(path, RULES, KNOWN, AS_OF), confirmations_row_by_row(path)
        )


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.lists(
            st.text(alphabet=st.sampled_from(list('ab1, "\n\r\t\u00a0#')), max_size=6),
            min_size=1,
            max_size=10,
        ),
        max_size=8,
    )
)
def test_bulk_reading_keeps_lines_of_any_csv_text(records: list[list[str]]) -> None:
    """Quoted line breaks, blank and short records: the same records on the same lines."""
    import csv
    import io
    import tempfile

    from importers.billing import SourceTable, read_source_rows, read_source_table

    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows([["invoice_no", "amount"], *records])
    with tempfile.TemporaryDirectory() as scratch:
        path = write(Path(scratch), "invoices.csv", text.getvalue())
        table = read_source_table(path, ["invoice_no"], ["amount"], {}, "invoice_columns")
        rows = read_source_rows(path, ["invoice_no"], ["amount"], {}, "invoice_columns")
    assert isinstance(table, SourceTable)
    assert [(r.line, {k: v or "" for k, v in r.cells.items()}) for r in table.rows()] == [
        (r.line, {k: v or "" for k, v in r.cells.items()}) for r in rows
    ]


def test_bulk_confirmations_with_typed_cells_equal_row_by_row(tmp_path: Path) -> None:
    from importers.billing import (
        CONFIRMATION_OPTIONAL,
        CONFIRMATION_REQUIRED,
        collect_confirmations,
        read_source_rows,
    )

    header = CONFIRMATION_HEADER.strip().split(",")
    rows: list[list[object]] = [
        header,
        [481516, datetime(2026, 3, 2, 21, 5, 11), "Budi Santoso", "Budi@example.com",
         "Konfirmasi Pembayaran Invoice #20431", "Billing", "", "", 20431.0, "bca", 1500000.0,
         date(2026, 3, 2), "BUDI SANTOSO", ""],
        [481523, "2026-03-03 11:00:00", "Rina Lestari", "rina@example.com", "Konfirmasi",
         "Billing", "", "", "20432", "002901124296507", 5000, "2026-03-11", "RINA LESTARI", ""],
        [481524, "2026-03-03 11:00:00", "Rina Lestari", "rina@example.com", "Konfirmasi",
         "Billing", "", "", "20432", "bri", "Rp 750.000", "02/03/2026", "RINA LESTARI", ""],
        [481516, "2026-03-03 11:00:00", "Rina Lestari", "", "", "", "", "", "", "", "", "", "", ""],
    ]  # fmt: skip
    path = write_xlsx(tmp_path, "tickets.xlsx", rows)
    fast = load_confirmations(path, RULES, KNOWN, AS_OF)
    slow = collect_confirmations(
        read_source_rows(path, CONFIRMATION_REQUIRED, CONFIRMATION_OPTIONAL, {}, "x"),
        RULES,
        KNOWN,
        AS_OF,
    )
    assert_same_result(fast, slow)
    assert fast.frame["amount_sen"].tolist() == [150000000, pd.NA, 75000000]


_LATER_HEADER = (
    "ticket_id,submitted_at,name,email,subject,department,related_service,message,invoice_no,"
    "bank_destination,amount,transfer_date,account_name,attachment\n"
)
_LATER_ROWS = [
    "481516,2026-03-02 21:05:11,Budi,budi@example.com,Konfirmasi #20431,Billing,,,#20431,bca,"
    "Rp 1.500.000,02/03/2026,BUDI,\n",
    "481525,2026-03-12 10:00:00,Siti,siti@example.com,Konfirmasi #20432,Billing,,,INV 20432,bca,"
    "750rb,12/03/2026,SITI,\n",
    "481526,kemarin sore,Agus,agus@example.com,Konfirmasi,Billing,,,,bca,300rb,01/03/2026,AGUS,\n",
]


def test_confirmations_submitted_after_a_day_read_as_the_whole_file_reads_them(
    tmp_path: Path,
) -> None:
    from importers.billing import load_confirmations_part

    path = tmp_path / "confirmations.csv"
    path.write_text(_LATER_HEADER + "".join(_LATER_ROWS), encoding="utf-8")
    as_of = date(2026, 3, 12)
    whole = load_confirmations(path, RULES, ["20431", "20432"], as_of)

    part = load_confirmations_part(
        path, RULES, lambda _keys: ["20431", "20432"], as_of, submitted_after=date(2026, 3, 10)
    )

    assert part is not None
    # 481525 was submitted after 10 March; 481526's submission is not a time stamp: read too
    # (and refused, as the whole file refuses it); 481516 is left out
    assert part.frame["ticket_id"].tolist() == ["481525"]
    pd.testing.assert_frame_equal(
        part.frame.reset_index(drop=True),
        whole.frame[whole.frame["ticket_id"] == "481525"].reset_index(drop=True),
    )
    assert [(e.line, e.column) for e in part.rejected_rows] == [(4, "submitted_at")]
    assert [(e.line, e.column) for e in whole.rejected_rows] == [(4, "submitted_at")]


def test_confirmations_submitted_after_a_day_need_the_whole_file_when_a_ticket_repeats(
    tmp_path: Path,
) -> None:
    from importers.billing import load_confirmations_part

    path = tmp_path / "confirmations.csv"
    repeat = _LATER_ROWS[1].replace("481525", "481516")
    path.write_text(_LATER_HEADER + _LATER_ROWS[0] + repeat, encoding="utf-8")

    assert (
        load_confirmations_part(
            path, RULES, lambda _keys: ["20431"], AS_OF, submitted_after=date(2026, 3, 10)
        )
        is None
    )


def test_confirmations_mentioning_added_invoice_numbers_read_as_the_whole_file_reads_them(
    tmp_path: Path,
) -> None:
    from importers.billing import load_confirmations_part

    path = tmp_path / "confirmations.csv"
    path.write_text(_LATER_HEADER + "".join(_LATER_ROWS), encoding="utf-8")
    known = ["20431", "020432"]  # 20432 was added, listed with a leading zero
    whole = load_confirmations(path, RULES, known, date(2026, 3, 12))

    part = load_confirmations_part(
        path, RULES, lambda _keys: known, date(2026, 3, 12), mentioning={"20432"}
    )

    assert part is not None
    assert part.frame["ticket_id"].tolist() == ["481525"]  # 'INV 20432'; 481516 names 20431
    pd.testing.assert_frame_equal(
        part.frame.reset_index(drop=True),
        whole.frame[whole.frame["ticket_id"] == "481525"].reset_index(drop=True),
    )
    assert part.frame["invoice_nos"].tolist() == ["020432"]


def test_only_invoice_numbers_a_ticket_could_name_are_indexed_for_a_partial_read() -> None:
    from importers.billing import SourceRow, SourceTable, _digit_sequences, _keyed_among

    row = SourceRow(
        "c.csv",
        2,
        {"invoice_no": "INV 20440", "subject": "bayar 2 tagihan", "message": "no 020431"},
    )
    table = SourceTable.from_rows("c.csv", [row], ["invoice_no", "subject", "message"])

    listed = ["20431", "INV-0020440", "20442", "9999", "0020431"]
    # keys 20431, 20440, 20442, 9999, 20431: only those inside '20440' or '020431' remain,
    # in their order (the last number of a key still wins in the index)
    nameable = _keyed_among(listed, _digit_sequences(table, (4, 8)))
    assert nameable == ["20431", "INV-0020440", "0020431"]
