"""decision proposals: the invoices each open automatic decision proposes, one row each (an
incremental run selects the credits a new one contests by them); decisions and bank lines
indexed by run (an incremental run's earlier decisions and new lines), lines by what "waiting
for a decision" asks of them (counted from the index alone)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 22:20:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 10_000


def upgrade() -> None:
    """Upgrade schema; the proposals of the decisions already stored are written too."""
    op.create_table(
        "decision_proposals",
        sa.Column("decision_id", sa.Integer(), nullable=False),
        sa.Column("invoice_no", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["decisions.id"],
            name=op.f("fk_decision_proposals_decision_id_decisions"),
        ),
        sa.PrimaryKeyConstraint("decision_id", "invoice_no", name=op.f("pk_decision_proposals")),
    )
    op.create_index(
        "ix_decision_proposals_invoice_no", "decision_proposals", ["invoice_no"], unique=False
    )
    op.create_index("ix_decisions_run_id", "decisions", ["run_id"], unique=False)
    op.create_index("ix_bank_lines_first_run_id", "bank_lines", ["first_run_id"], unique=False)
    op.drop_index("ix_bank_lines_status", table_name="bank_lines")
    op.create_index(
        "ix_bank_lines_status_direction",
        "bank_lines",
        ["status", "direction", "is_fee"],
        unique=False,
    )
    # the same rows store.persist_match writes (store.proposal_rows), for the open lines'
    # automatic decisions made before this revision
    decisions = sa.table(
        "decisions",
        sa.column("id", sa.Integer),
        sa.column("status", sa.String),
        sa.column("decided_by", sa.String),
        sa.column("active", sa.Boolean),
        sa.column("candidates", sa.Text),
        sa.column("invoice_nos", sa.Text),
    )
    proposals = sa.table(
        "decision_proposals",
        sa.column("decision_id", sa.Integer),
        sa.column("invoice_no", sa.String),
    )
    d = decisions.c
    bind = op.get_bind()
    found = bind.execute(
        sa.select(d.id, d.candidates, d.invoice_nos).where(
            sa.and_(
                d.active.is_(True),
                d.decided_by == "auto",
                d.status != "MATCHED",
                sa.or_(d.candidates != "", d.invoice_nos != ""),
            )
        )
    ).all()
    rows = [
        {"decision_id": int(decision_id), "invoice_no": no}
        for decision_id, candidates, invoice_nos in found
        for no in sorted({*(candidates or "").split(";"), *(invoice_nos or "").split(";")} - {""})
    ]
    for i in range(0, len(rows), _BATCH):
        bind.execute(sa.insert(proposals), rows[i : i + _BATCH])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_bank_lines_status_direction", table_name="bank_lines")
    op.create_index("ix_bank_lines_status", "bank_lines", ["status"], unique=False)
    op.drop_index("ix_bank_lines_first_run_id", table_name="bank_lines")
    op.drop_index("ix_decisions_run_id", table_name="decisions")
    op.drop_index("ix_decision_proposals_invoice_no", table_name="decision_proposals")
    op.drop_table("decision_proposals")
