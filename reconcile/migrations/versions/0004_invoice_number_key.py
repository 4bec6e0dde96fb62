"""invoice number keys: each invoice's number as credits and confirmations name it (digits
without leading zeros), indexed, so that a run looks up the invoices a few texts name instead
of reading every number

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 06:10:00.000000

"""

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 10_000
_NOT_DIGIT = re.compile(r"\D")


def _key(invoice_no: str) -> str:
    """candidates.invoice_key of one number, as it was when this revision was written."""
    return _NOT_DIGIT.sub("", invoice_no).lstrip("0")


def upgrade() -> None:
    """Upgrade schema; the keys of the invoices already stored are written too."""
    op.add_column("invoices", sa.Column("number_key", sa.String(length=40), nullable=True))
    invoices = sa.table(
        "invoices", sa.column("invoice_no", sa.String), sa.column("number_key", sa.String)
    )
    bind = op.get_bind()
    numbers = [r[0] for r in bind.execute(sa.select(invoices.c.invoice_no))]
    update = (
        sa.update(invoices)
        .where(invoices.c.invoice_no == sa.bindparam("no"))
        .values(number_key=sa.bindparam("key"))
    )
    for i in range(0, len(numbers), _BATCH):
        batch = numbers[i : i + _BATCH]
        bind.execute(update, [{"no": no, "key": _key(no)} for no in batch])
    op.create_index(op.f("ix_invoices_number_key"), "invoices", ["number_key"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f("ix_invoices_number_key"), table_name="invoices")
    with op.batch_alter_table("invoices") as batch:
        batch.drop_column("number_key")
