"""Invoices and payment confirmations read straight from the WHMCS database (formats.md §9.2).

Read-only: the session is switched to ``READ ONLY`` before any query, and only ``SELECT``
statements are sent. The frames are the same as :mod:`importers.billing` produces; the
source position (``source_row``, and the line of a :class:`RowError`) is the WHMCS row id,
the "file" is ``whmcs:<table>``.

* invoices: unpaid ``tblinvoices`` with their ``tblclients``; ``invoicenum`` is the number
  the customer sees when it is filled, else ``id``; MySQL zero dates mean empty;
* confirmations: ``tbltickets`` of the Billing department (``tblticketdepartments``) whose
  subject looks like a payment confirmation; the form fields come from the ticket custom
  fields (``tblcustomfields`` / ``tblcustomfieldsvalues``), else from ``Label: value``
  lines of the message body.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.exc import SQLAlchemyError

from importers.billing import (
    CONFIRMATION_OPTIONAL,
    CONFIRMATION_REQUIRED,
    INVOICE_OPTIONAL,
    INVOICE_REQUIRED,
    SourceResult,
    SourceRow,
    SourceTable,
    confirmations_from_table,
    invoices_from_table,
)
from reconcile.config import Rules
from reconcile.errors import FileRejected

CONFIRMATION_SUBJECT = re.compile(
    r"konfirm|pembayaran|\bbayar|\btransfer|\btf\b|payment|\bpaid\b|\blunas\b|bukti",
    re.IGNORECASE,
)
# WHMCS custom-field names (case/space-insensitive; "key|Label" uses either part) -> our column
FORM_FIELDS = {
    "no. invoice": "invoice_no",
    "no invoice": "invoice_no",
    "nomor invoice": "invoice_no",
    "invoice": "invoice_no",
    "invoice_no": "invoice_no",
    "tujuan transfer": "bank_destination",
    "bank tujuan": "bank_destination",
    "bank_destination": "bank_destination",
    "jumlah transfer": "amount",
    "jumlah": "amount",
    "nominal": "amount",
    "amount": "amount",
    "tanggal transfer": "transfer_date",
    "tgl transfer": "transfer_date",
    "transfer_date": "transfer_date",
    "nama di rekening": "account_name",
    "nama rekening": "account_name",
    "atas nama": "account_name",
    "account_name": "account_name",
}
_BODY_FIELD = re.compile(r"^\s*([A-Za-z][A-Za-z. _]{1,30}?)\s*[:=]\s*(.*?)\s*$", re.MULTILINE)

INVOICES_SQL = text(
    """
    SELECT i.id, i.invoicenum, CAST(i.date AS CHAR) AS issued, CAST(i.duedate AS CHAR) AS due,
           CAST(i.total AS CHAR) AS total, i.status,
           c.firstname, c.lastname, c.companyname, c.email
    FROM tblinvoices i
    LEFT JOIN tblclients c ON c.id = i.userid
    WHERE i.status = 'Unpaid'
    ORDER BY i.id
    """
)
TICKETS_SQL = text(
    """
    SELECT t.id, t.tid, CAST(t.date AS CHAR) AS submitted, t.name, t.email, t.title, t.message,
           t.service, t.attachment, d.name AS department,
           c.firstname, c.lastname, c.email AS client_email
    FROM tbltickets t
    JOIN tblticketdepartments d ON d.id = t.did
    LEFT JOIN tblclients c ON c.id = t.userid AND t.userid <> 0
    WHERE LOWER(d.name) = LOWER(:department)
    ORDER BY t.id
    """
)
CUSTOM_FIELDS_SQL = text(
    """
    SELECT v.relid, f.fieldname, v.value
    FROM tblcustomfieldsvalues v
    JOIN tblcustomfields f ON f.id = v.fieldid
    JOIN tbltickets t ON t.id = v.relid
    JOIN tblticketdepartments d ON d.id = t.did
    WHERE f.type = 'support' AND LOWER(d.name) = LOWER(:department)
    """
)


@contextmanager
def read_only(url: str) -> Iterator[Connection]:
    """A connection that cannot write: READ ONLY transaction on MySQL/MariaDB."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            if conn.dialect.name in ("mysql", "mariadb"):
                conn.exec_driver_sql("SET SESSION TRANSACTION READ ONLY")
            yield conn
            conn.rollback()
    except SQLAlchemyError as exc:
        raise FileRejected("whmcs", f"cannot read the WHMCS database: {exc.__class__.__name__}: "
                           f"{str(exc).splitlines()[0]}") from exc  # fmt: skip
    finally:
        engine.dispose()


def _name(first: Any, last: Any) -> str:
    return " ".join(f"{first or ''} {last or ''}".split())


def invoice_rows(conn: Connection) -> list[SourceRow]:
    rows: list[SourceRow] = []
    for r in conn.execute(INVOICES_SQL).mappings():
        number = str(r["invoicenum"] or "").strip() or str(r["id"])
        cells = {
            "invoice_no": number,
            "client_name": _name(r["firstname"], r["lastname"]),
            "company_name": r["companyname"] or "",
            "email": r["email"] or "",
            "issued_on": r["issued"] or "",
            "due_on": r["due"] or "",
            "amount": r["total"] or "",
            "status": r["status"] or "",
        }
        rows.append(SourceRow("whmcs:tblinvoices", int(r["id"]), cells))
    return rows


def load_whmcs_invoices(url: str, rules: Rules) -> SourceResult:
    """Unpaid WHMCS invoices as the invoice frame (same checks as the file)."""
    with read_only(url) as conn:
        rows = invoice_rows(conn)
    columns = [*INVOICE_REQUIRED, *INVOICE_OPTIONAL]
    return invoices_from_table(SourceTable.from_rows("whmcs:tblinvoices", rows, columns))


def _form_field(fieldname: str) -> str | None:
    for part in fieldname.split("|"):
        key = " ".join(part.split()).lower().rstrip(":")
        if key in FORM_FIELDS:
            return FORM_FIELDS[key]
    return None


def fields_from_message(message: str) -> dict[str, str]:
    """'No. Invoice: 20431' / 'Jumlah Transfer: Rp 1.500.000' lines of a message body."""
    found: dict[str, str] = {}
    for m in _BODY_FIELD.finditer(message):
        column = _form_field(m[1])
        if column and m[2] and column not in found:
            found[column] = m[2]
    return found


def ticket_rows(conn: Connection, department: str) -> list[SourceRow]:
    custom: dict[int, dict[str, str]] = {}
    for r in conn.execute(CUSTOM_FIELDS_SQL, {"department": department}).mappings():
        column = _form_field(str(r["fieldname"]))
        value = str(r["value"] or "").strip()
        if column and value:
            custom.setdefault(int(r["relid"]), {})[column] = value
    rows: list[SourceRow] = []
    for r in conn.execute(TICKETS_SQL, {"department": department}).mappings():
        subject = str(r["title"] or "")
        if not CONFIRMATION_SUBJECT.search(subject):
            continue
        message = str(r["message"] or "")
        fields = {**fields_from_message(message), **custom.get(int(r["id"]), {})}
        cells = {
            "ticket_id": str(r["tid"] or ""),
            "submitted_at": r["submitted"] or "",
            "name": r["name"] or _name(r["firstname"], r["lastname"]),
            "email": r["email"] or r["client_email"] or "",
            "subject": subject,
            "department": r["department"] or "",
            "related_service": r["service"] or "",
            "message": message,
            "attachment": r["attachment"] or "",
            "invoice_no": fields.get("invoice_no", ""),
            "bank_destination": fields.get("bank_destination", ""),
            "amount": fields.get("amount", ""),
            "transfer_date": fields.get("transfer_date", ""),
            "account_name": fields.get("account_name", ""),
        }
        rows.append(SourceRow("whmcs:tbltickets", int(r["id"]), cells))
    return rows


def load_whmcs_confirmations(
    url: str, rules: Rules, known_invoice_nos: Iterable[str], as_of: date
) -> SourceResult:
    """Billing-department confirmation tickets as the confirmation frame."""
    with read_only(url) as conn:
        rows = ticket_rows(conn, rules.sources.whmcs_billing_department)
    table = SourceTable.from_rows(
        "whmcs:tbltickets", rows, [*CONFIRMATION_REQUIRED, *CONFIRMATION_OPTIONAL]
    )
    return confirmations_from_table(table, rules, known_invoice_nos, as_of)
