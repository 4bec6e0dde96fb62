"""Database schema (SQLAlchemy Core). Alembic migrations in reconcile/migrations/ create it.

Money columns are ``Numeric(18, 2)`` (exact); account, invoice and ticket numbers are strings.
Idempotency lives here: a bank line is unique on ``(account_no, dedup_key, occurrence)``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from reconcile.money import CENT


class Money(TypeDecorator[Decimal]):
    """Exact rupiah: ``NUMERIC(18, 2)`` on PostgreSQL/MariaDB, integer sen on SQLite.

    SQLite has no exact decimal type (NUMERIC affinity stores REAL, a float), so there the
    value is kept as a 64-bit integer number of sen. Python always sees ``Decimal``.
    """

    impl = Numeric(18, 2, asdecimal=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(18, 2, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        q = Decimal(value).quantize(CENT)
        if q != Decimal(value):
            raise ValueError(f"money with more than two decimals: {value}")
        return int(q * 100) if dialect.name == "sqlite" else q

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return (Decimal(int(value)) / 100).quantize(CENT)
        return Decimal(value).quantize(CENT)


MONEY = Money()

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

accounts = Table(
    "accounts",
    metadata,
    Column("account_no", String(20), primary_key=True),
    Column("bank", String(10), nullable=False),
    Column("holder", String(100), nullable=False),
)

runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("started_at", DateTime, nullable=False),
    Column("finished_at", DateTime),
    Column("as_of", Date, nullable=False),
    Column("command", String(40), nullable=False, default="run"),
    Column("status", String(12), nullable=False),  # RUNNING | COMPLETED | FAILED
    Column("exit_code", Integer),
    Column("input_hashes", Text),  # JSON: {file name: sha256}
    Column("config_snapshot", Text),  # JSON of rules.yaml as loaded (no secrets)
    Column("counts", Text),  # JSON summary
    Column("message", Text),
)

statement_files = Table(
    "statement_files",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=False),
    Column("file_name", String(255), nullable=False),
    Column("sha256", String(64), nullable=False, index=True),
    Column("status", String(12), nullable=False),  # IMPORTED | REJECTED
    Column("reason", Text),
    Column("bank", String(10)),
    Column("layout", String(60)),
    Column("account_no", String(20)),
    Column("period_start", Date),
    Column("period_end", Date),
    Column("opening_balance", MONEY),
    Column("closing_balance", MONEY),
    Column("line_count", Integer, nullable=False, default=0),
    Column("new_lines", Integer, nullable=False, default=0),
    Column("duplicate_lines", Integer, nullable=False, default=0),
    Column("warnings", Text),
    Column("recorded_at", DateTime, nullable=False),
)

bank_lines = Table(
    "bank_lines",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("statement_file_id", Integer, ForeignKey("statement_files.id"), nullable=False),
    Column("source_file", String(255), nullable=False),
    Column("source_line", Integer, nullable=False),
    Column("bank", String(10), nullable=False),
    Column("layout", String(60), nullable=False),
    Column("account_no", String(20), nullable=False),
    Column("posted_on", Date),
    Column("posted_time", Time),
    Column("value_on", Date),
    Column("initiated_on", Date),
    Column("pending", Boolean, nullable=False, default=False),
    Column("direction", String(2), nullable=False),
    Column("amount", MONEY, nullable=False),
    Column("balance", MONEY),
    Column("description", Text, nullable=False),
    Column("channel", String(30)),
    Column("counterparty", String(200)),
    Column("sender_bank", String(60)),
    Column("sender_account", String(40)),
    Column("message", Text),
    Column("bank_ref", String(100)),
    Column("is_fee", Boolean, nullable=False, default=False),
    Column("dedup_key", String(64), nullable=False),
    Column("occurrence", Integer, nullable=False),
    Column("status", String(12), nullable=False),  # MATCHED | REVIEW | UNMATCHED | IGNORED
    Column("first_run_id", Integer, ForeignKey("runs.id"), nullable=False),
    UniqueConstraint("account_no", "dedup_key", "occurrence"),
    Index("ix_bank_lines_account_posted", "account_no", "posted_on"),
    # what "waiting for a decision" asks of a line, so that counting them reads the index alone
    Index("ix_bank_lines_status_direction", "status", "direction", "is_fee"),
    Index("ix_bank_lines_first_run_id", "first_run_id"),
)

invoices = Table(
    "invoices",
    metadata,
    Column("invoice_no", String(40), primary_key=True),
    Column("client_name", String(200), nullable=False, default=""),
    Column("company_name", String(200), nullable=False, default=""),
    Column("email", String(200), nullable=False, default=""),
    Column("issued_on", Date),
    Column("due_on", Date),
    Column("amount", MONEY, nullable=False),
    Column("source_status", String(30), nullable=False),  # as the billing system says
    Column("status", String(12), nullable=False),  # OPEN | PARTIAL | PAID | CANCELLED
    Column("amount_received", MONEY, nullable=False),
    Column("codes", String(300), nullable=False, default=""),
    Column("reason", Text, nullable=False, default=""),
    Column("first_run_id", Integer, ForeignKey("runs.id")),
    Column("updated_run_id", Integer, ForeignKey("runs.id"), index=True),
    # the number's digits without leading zeros (candidates.invoice_key): how credits and
    # confirmations name an invoice, looked up without reading every number ("" when none)
    Column("number_key", String(40), index=True),
)

invoice_history = Table(
    "invoice_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("invoice_no", String(40), nullable=False, index=True),
    Column("run_id", Integer, ForeignKey("runs.id")),
    Column("field", String(40), nullable=False),
    Column("old_value", Text),
    Column("new_value", Text),
    Column("changed_at", DateTime, nullable=False),
)

confirmations = Table(
    "confirmations",
    metadata,
    Column("ticket_id", String(40), primary_key=True),
    Column("submitted_at", DateTime),
    Column("name", String(200), nullable=False, default=""),
    Column("email", String(200), nullable=False, default=""),
    Column("subject", Text),
    Column("message", Text),
    Column("related_service", String(200)),
    Column("attachment", String(400)),
    Column("invoice_no_raw", String(200)),
    Column("bank_destination_raw", String(200)),
    Column("amount_raw", String(100)),
    Column("transfer_date_raw", String(100)),
    Column("account_name", String(200)),
    Column("invoice_nos", String(300), nullable=False, default=""),
    Column("dest_account_no", String(20), nullable=False, default=""),
    Column("dest_not_ours", Boolean, nullable=False, default=False),
    Column("amount", MONEY),
    Column("transfer_date", Date),
    Column("intake_status", String(10), nullable=False),  # VALID | INVALID
    Column("intake_reason", Text, nullable=False, default=""),
    # MATCHED | AWAITING_FUNDS | NO_FUNDS | REVIEW | INVALID
    Column("status", String(16), nullable=False),
    Column("codes", String(300), nullable=False, default=""),
    Column("line_ids", String(300), nullable=False, default=""),
    Column("reason", Text, nullable=False, default=""),
    Column("first_run_id", Integer, ForeignKey("runs.id")),
    Column("updated_run_id", Integer, ForeignKey("runs.id"), index=True),
)

# What each load of a source read, so that the next run can tell whether it may skip it: the
# latest row per kind describes what the invoices / confirmations tables hold from that source
# (it commits in the same transaction as the rows it loaded).
source_loads = Table(
    "source_loads",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=False),
    Column("kind", String(20), nullable=False),  # invoices | confirmations
    Column("origin", Text, nullable=False),  # the file's resolved path, or whmcs
    Column("sha256", String(64), nullable=False),  # of the file; "" for WHMCS
    Column("settings", String(64), nullable=False),  # sha256 of the rules the reader uses
    # confirmations: the intake's run date (the run's as-of, or the latest submission if
    # earlier: later run dates read every typed date alike), the latest submission, and how
    # many invoice numbers were known
    Column("intake_as_of", Date),
    Column("latest_submitted_on", Date),
    Column("known_invoices", Integer),
    Column("row_count", Integer, nullable=False),
    Column("new_rows", Integer, nullable=False),
    Column("changed_rows", Integer, nullable=False),
    Column("rejected_rows", Text, nullable=False),  # JSON [[file, line, reason], ...]
    Column("loaded_at", DateTime, nullable=False),
    Index("ix_source_loads_kind_id", "kind", "id"),
)

decisions = Table(
    "decisions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=False),
    Column("bank_line_id", Integer, ForeignKey("bank_lines.id"), index=True),
    Column("status", String(12), nullable=False),
    Column("rule", String(40), nullable=False),
    Column("score", Integer, nullable=False, default=0),
    Column("signals", Text, nullable=False, default="[]"),  # JSON per-signal breakdown
    Column("reason", Text, nullable=False, default=""),
    Column("codes", String(300), nullable=False, default=""),
    Column("invoice_nos", Text, nullable=False, default=""),
    Column("confirmation_ids", Text, nullable=False, default=""),
    Column("candidates", Text, nullable=False, default=""),
    Column("decided_by", String(80), nullable=False, default="auto"),
    Column("note", Text),
    Column("active", Boolean, nullable=False, default=True),
    Column("reverses_decision_id", Integer, ForeignKey("decisions.id")),
    Column("created_at", DateTime, nullable=False),
    Index("ix_decisions_run_id", "run_id"),
)

# The invoices an automatic decision that leaves its line open (REVIEW, UNMATCHED) proposes: its
# ``candidates`` and ``invoice_nos``, one row each. An incremental run finds through them the
# earlier credits a new one contests, without reading every open credit (reconcile.affected).
decision_proposals = Table(
    "decision_proposals",
    metadata,
    Column("decision_id", Integer, ForeignKey("decisions.id"), primary_key=True),
    Column("invoice_no", String(40), primary_key=True),
    Index("ix_decision_proposals_invoice_no", "invoice_no"),
)

allocations = Table(
    "allocations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("bank_line_id", Integer, ForeignKey("bank_lines.id"), nullable=False, index=True),
    Column("invoice_no", String(40), nullable=False, index=True),
    Column("amount", MONEY, nullable=False),
    Column("decision_id", Integer, ForeignKey("decisions.id"), nullable=False),
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    UniqueConstraint("bank_line_id", "invoice_no", "decision_id"),
)

payer_aliases = Table(
    "payer_aliases",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("sender_norm", String(200), nullable=False),
    Column("client_key", String(200), nullable=False),
    Column("source", String(40), nullable=False),  # review | confirmation | manual
    Column("created_by", String(80), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("removed_at", DateTime),
    UniqueConstraint("sender_norm", "client_key"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False),
    Column("actor", String(80), nullable=False),
    Column("action", String(40), nullable=False),
    Column("entity", String(40), nullable=False),
    Column("entity_id", String(60), nullable=False),
    Column("detail", Text, nullable=False, default="{}"),
    Column("run_id", Integer, ForeignKey("runs.id")),
)
