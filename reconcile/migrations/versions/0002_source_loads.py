"""source loads: what each load of invoices / confirmations read, so that unchanged sources are
skipped; indexes on updated_run_id for the rows a run changed

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 14:05:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "source_loads",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("origin", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("settings", sa.String(length=64), nullable=False),
        sa.Column("intake_as_of", sa.Date(), nullable=True),
        sa.Column("latest_submitted_on", sa.Date(), nullable=True),
        sa.Column("known_invoices", sa.Integer(), nullable=True),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("new_rows", sa.Integer(), nullable=False),
        sa.Column("changed_rows", sa.Integer(), nullable=False),
        sa.Column("rejected_rows", sa.Text(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_source_loads_run_id_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source_loads")),
    )
    op.create_index("ix_source_loads_kind_id", "source_loads", ["kind", "id"], unique=False)
    op.create_index(
        op.f("ix_invoices_updated_run_id"), "invoices", ["updated_run_id"], unique=False
    )
    op.create_index(
        op.f("ix_confirmations_updated_run_id"), "confirmations", ["updated_run_id"], unique=False
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f("ix_confirmations_updated_run_id"), table_name="confirmations")
    op.drop_index(op.f("ix_invoices_updated_run_id"), table_name="invoices")
    op.drop_index("ix_source_loads_kind_id", table_name="source_loads")
    op.drop_table("source_loads")
