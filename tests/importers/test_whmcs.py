"""WHMCS as a source, against the real MariaDB on 127.0.0.1 (a scratch database per test)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import DBAPIError, OperationalError

from importers.whmcs import (
    fields_from_message,
    load_whmcs_confirmations,
    load_whmcs_invoices,
    read_only,
)
from reconcile.config import parse_rules
from reconcile.errors import FileRejected

SERVER = "mysql+pymysql://root@127.0.0.1:3306"
RULES = parse_rules(
    """
accounts:
  - {bank: mandiri, account_no: "1370010136428", holder: RINA WULANDARI}
  - {bank: bca, account_no: "0372543386", holder: RINA WULANDARI}
  - {bank: bni, account_no: "0495227030", holder: RINA WULANDARI}
  - {bank: bri, account_no: "002901124296507", holder: RINA WULANDARI}
"""
)
AS_OF = date(2026, 3, 10)

SCHEMA = [
    """CREATE TABLE tblclients (id INT PRIMARY KEY, firstname VARCHAR(100), lastname VARCHAR(100),
       companyname VARCHAR(200), email VARCHAR(200))""",
    """CREATE TABLE tblinvoices (id INT PRIMARY KEY, userid INT, invoicenum VARCHAR(50) NOT NULL
       DEFAULT '', date DATE, duedate DATE, datepaid DATETIME, total DECIMAL(16,2),
       status VARCHAR(30))""",
    "CREATE TABLE tblticketdepartments (id INT PRIMARY KEY, name VARCHAR(100))",
    """CREATE TABLE tbltickets (id INT PRIMARY KEY, tid VARCHAR(20), did INT, userid INT,
       name VARCHAR(100), email VARCHAR(200), title VARCHAR(255), message TEXT, date DATETIME,
       status VARCHAR(30), service VARCHAR(50), attachment TEXT)""",
    """CREATE TABLE tblcustomfields (id INT PRIMARY KEY, type VARCHAR(20), relid INT,
       fieldname VARCHAR(100))""",
    "CREATE TABLE tblcustomfieldsvalues (fieldid INT, relid INT, value TEXT)",
]
ROWS = [
    """INSERT INTO tblclients VALUES
       (1, 'Budi', 'Santoso', '', 'Budi.Santoso@example.com'),
       (2, 'Hendra', 'Wijaya', 'PT Wijaya Niaga Sentosa', 'finance@wijayaniaga.example')""",
    """INSERT INTO tblinvoices VALUES
       (20431, 1, '', '2026-02-25', '2026-03-04', '0000-00-00 00:00:00', 1500000.00, 'Unpaid'),
       (20440, 2, 'INV-0020440', '2026-02-27', '0000-00-00', '0000-00-00 00:00:00',
        1250000.00, 'Unpaid'),
       (20442, 2, '', '2026-02-28', '2026-03-07', '0000-00-00 00:00:00', 250000.00, 'Unpaid'),
       (20410, 1, '', '2026-02-10', '2026-02-17', '0000-00-00 00:00:00', 450000.00, 'Cancelled')""",
    "INSERT INTO tblticketdepartments VALUES (1, 'Billing'), (2, 'Technical Support')",
    """INSERT INTO tbltickets VALUES
       (7001, '481516', 1, 1, '', '', 'Konfirmasi Pembayaran Invoice #20431',
        'Sudah transfer ya min', '2026-03-02 21:05:11', 'Open', 'S12', 'bukti-tf.jpg'),
       (7002, '481522', 1, 0, 'Hendra Wijaya', 'finance@wijayaniaga.example',
        'Konfirmasi Pembayaran Invoice #20440 dan #20442',
        'No. Invoice: 20440, 20442\nTujuan Transfer: BNI 46\nJumlah Transfer: 1,5 jt\n'
        'Tanggal Transfer: 3 Maret 2026\nNama di Rekening: PT WIJAYA NIAGA SENTOSA',
        '2026-03-03 09:30:02', 'Open', '', ''),
       (7003, '481530', 1, 1, '', '', 'Pertanyaan paket hosting', 'Apakah bisa upgrade?',
        '2026-03-03 10:00:00', 'Open', '', ''),
       (7004, '481531', 2, 1, '', '', 'Konfirmasi transfer', 'salah departemen',
        '2026-03-03 11:00:00', 'Open', '', ''),
       (7005, '481540', 1, 1, '', '', 'konfirmasi bayar', 'tf dr bri ke mandiri',
        '2026-03-03 07:12:40', 'Open', '', '')""",
    """INSERT INTO tblcustomfields VALUES
       (1, 'support', 1, 'No. Invoice'), (2, 'support', 1, 'Tujuan Transfer'),
       (3, 'support', 1, 'Jumlah Transfer'), (4, 'support', 1, 'Tanggal Transfer'),
       (5, 'support', 1, 'nama|Nama di Rekening'), (6, 'product', 1, 'No. Invoice')""",
    """INSERT INTO tblcustomfieldsvalues VALUES
       (1, 7001, '#20431'), (2, 7001, 'bca'), (3, 7001, 'Rp 1.500.000'),
       (4, 7001, '02/03/2026 21.00'), (5, 7001, 'BUDI SANTOSO'), (6, 7001, '99999'),
       (1, 7005, 'INV 20442'), (3, 7005, '250rb'), (4, 7005, 'kemarin'),
       (5, 7005, 'Sdri Siti Rahayu')""",
]


@pytest.fixture
def whmcs_url() -> Iterator[str]:
    name = f"whmcs_test_{secrets.token_hex(4)}"
    server = create_engine(f"{SERVER}/test")
    try:
        with server.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {name}")
    except OperationalError as exc:
        server.dispose()
        pytest.skip(f"MariaDB at 127.0.0.1:3306 is unreachable: {exc.orig}")
    url = f"{SERVER}/{name}"
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("SET SESSION sql_mode = ''")  # WHMCS stores zero dates
            for statement in SCHEMA + ROWS:
                conn.exec_driver_sql(statement)
        yield url
    finally:
        engine.dispose()
        with server.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE {name}")
        server.dispose()


def test_unpaid_invoices_with_their_clients(whmcs_url: str) -> None:
    result = load_whmcs_invoices(whmcs_url, RULES)
    assert result.rejected_rows == []
    frame = result.frame
    assert frame["invoice_no"].tolist() == ["20431", "INV-0020440", "20442"]
    assert frame["client_name"].tolist() == ["Budi Santoso", "Hendra Wijaya", "Hendra Wijaya"]
    assert frame["company_name"].tolist() == [
        "",
        "PT Wijaya Niaga Sentosa",
        "PT Wijaya Niaga Sentosa",
    ]
    assert frame["email"].tolist() == [
        "budi.santoso@example.com",
        "finance@wijayaniaga.example",
        "finance@wijayaniaga.example",
    ]
    assert frame["amount_sen"].tolist() == [150000000, 125000000, 25000000]
    assert frame["issued_on"].tolist() == [
        pd.Timestamp("2026-02-25"),
        pd.Timestamp("2026-02-27"),
        pd.Timestamp("2026-02-28"),
    ]
    assert pd.isna(frame["due_on"].iloc[1])  # MySQL zero date means empty
    assert frame["source_status"].tolist() == ["Unpaid"] * 3
    assert frame["source_row"].tolist() == [20431, 20440, 20442]
    assert frame["amount_sen"].dtype == "int64"


def test_confirmation_tickets_of_the_billing_department(whmcs_url: str) -> None:
    known = ["20431", "20440", "20442"]
    result = load_whmcs_confirmations(whmcs_url, RULES, known, AS_OF)
    assert result.rejected_rows == []
    frame = result.frame.set_index("ticket_id")
    assert frame.index.tolist() == ["481516", "481522", "481540"]
    budi = frame.loc["481516"]
    assert (budi["name"], budi["email"]) == ("Budi Santoso", "budi.santoso@example.com")
    assert (budi["invoice_nos"], budi["dest_account_no"], budi["amount_sen"]) == (
        "20431",
        "0372543386",
        150000000,
    )
    assert budi["transfer_date"] == pd.Timestamp("2026-03-02")
    assert (budi["related_service"], budi["attachment"]) == ("S12", "bukti-tf.jpg")
    assert (budi["intake_status"], budi["intake_reason"]) == ("VALID", "")
    # no custom fields: read from the "Label: value" lines of the message
    hendra = frame.loc["481522"]
    assert (hendra["invoice_nos"], hendra["dest_account_no"], hendra["amount_sen"]) == (
        "20440;20442",
        "0495227030",
        150000000,
    )
    assert hendra["account_name"] == "PT WIJAYA NIAGA SENTOSA"
    assert hendra["intake_status"] == "VALID"
    siti = frame.loc["481540"]
    assert siti["intake_status"] == "INVALID"
    assert siti["intake_reason"] == (
        "transfer_date: 'kemarin' is a relative date; expected a transfer date such as "
        "02/03/2026, 2 Maret 2026 or 2026-03-02"
    )
    assert siti["dest_account_no"] == "1370010136428"  # "tf dr bri ke mandiri" in the message
    assert siti["submitted_at"] == pd.Timestamp("2026-03-03 07:12:40")


def test_whmcs_connection_refuses_writes(whmcs_url: str) -> None:
    with read_only(whmcs_url) as conn, pytest.raises(DBAPIError) as info:
        conn.execute(text("UPDATE tblinvoices SET status = 'Paid' WHERE id = 20431"))
    assert "READ ONLY" in str(info.value).upper()
    result = load_whmcs_invoices(whmcs_url, RULES)
    assert "20431" in result.frame["invoice_no"].tolist()


def test_unreachable_whmcs_is_a_rejected_source() -> None:
    with pytest.raises(FileRejected) as info:
        load_whmcs_invoices("mysql+pymysql://root@127.0.0.1:1/none", RULES)
    assert str(info.value).startswith("whmcs: cannot read the WHMCS database: OperationalError")


def test_form_fields_from_message_body() -> None:
    assert fields_from_message(
        "Halo admin\nNo. Invoice : #20431\nJumlah Transfer= Rp 1.500.000\nTujuan: bca\n"
    ) == {"invoice_no": "#20431", "amount": "Rp 1.500.000"}


def test_whmcs_rows_read_in_bulk_equal_row_by_row(whmcs_url: str) -> None:
    from importers.billing import collect_confirmations, collect_invoices
    from importers.whmcs import invoice_rows, ticket_rows

    with read_only(whmcs_url) as conn:
        invoices = invoice_rows(conn)
        tickets = ticket_rows(conn, RULES.sources.whmcs_billing_department)
    bulk = load_whmcs_invoices(whmcs_url, RULES)
    by_row = collect_invoices(invoices)
    pd.testing.assert_frame_equal(bulk.frame, by_row.frame)
    assert [str(e) for e in bulk.rejected_rows] == [str(e) for e in by_row.rejected_rows]
    known = list(bulk.frame["invoice_no"])
    bulk = load_whmcs_confirmations(whmcs_url, RULES, known, AS_OF)
    by_row = collect_confirmations(tickets, RULES, known, AS_OF)
    pd.testing.assert_frame_equal(bulk.frame, by_row.frame)
    assert [str(e) for e in bulk.rejected_rows] == [str(e) for e in by_row.rejected_rows]
    assert len(bulk.frame) > 0


def test_whmcs_sources_are_diffed_set_based_across_runs(whmcs_url: str, tmp_path: Path) -> None:
    """No file to hash: every run reads WHMCS and writes only what differs from the store."""
    from reconcile import db, pipeline, store
    from reconcile.pipeline import RunOptions

    rules = parse_rules(
        f"""
accounts:
  - {{bank: bca, account_no: "0372543386", holder: RINA WULANDARI}}
  - {{bank: bni, account_no: "0495227030", holder: RINA WULANDARI}}
sources:
  invoices: whmcs
  confirmations: whmcs
  whmcs_url: "{whmcs_url}"
"""
    )
    url = f"sqlite:///{tmp_path / 'reconcile.db'}"

    def run() -> dict[str, int]:
        opts = RunOptions(
            rules=rules,
            inbox=tmp_path / "no-inbox",
            out=tmp_path / "reports",
            db_url=url,
            as_of=AS_OF,
            keep_inbox=True,
            match=False,
            write_reports=False,
        )
        counts = pipeline.run(opts).counts
        return {k: v for k, v in counts.items() if k.startswith(("invoices", "confirmations"))}

    assert run() == {
        "invoices_new": 3,
        "invoices_changed": 0,
        "confirmations_new": 3,
        "confirmations_changed": 0,
    }
    assert run() == {
        "invoices_new": 0,
        "invoices_changed": 0,
        "confirmations_new": 0,
        "confirmations_changed": 0,
    }
    engine = create_engine(whmcs_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE tblinvoices SET total = 1650000.00 WHERE id = 20431")
    engine.dispose()

    assert run() == {
        "invoices_new": 0,
        "invoices_changed": 1,
        "confirmations_new": 0,
        "confirmations_changed": 0,
    }
    ours = store.make_engine(url)
    with ours.connect() as conn:
        h = db.invoice_history.c
        history = conn.execute(select(h.invoice_no, h.field, h.old_value, h.new_value)).all()
    ours.dispose()
    assert [tuple(r) for r in history] == [("20431", "amount", "1500000.00", "1650000.00")]
