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
    # A unique index, not a constraint: SQLite adds both the column and the index in place,
    # where a constraint would copy the customers table, which the foreign keys of every table
    # referencing it refuse once there are rows.
    op.add_column("customers", sa.Column("account_number2", sa.String(length=20), nullable=True))
    op.create_index(
        op.f("ix_customers_account_number2"), "customers", ["account_number2"], unique=True
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_customers_account_number2"), table_name="customers")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE customers DROP COLUMN account_number2")  # in place (3.35+)
    else:
        op.drop_column("customers", "account_number2")
