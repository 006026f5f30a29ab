"""customer details: an additional account number (a second paybill reference) per customer

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-08 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("account_number2", sa.String(length=20), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_customers_account_number2"), ["account_number2"]
        )


def downgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_customers_account_number2"), type_="unique")
        batch_op.drop_column("account_number2")
