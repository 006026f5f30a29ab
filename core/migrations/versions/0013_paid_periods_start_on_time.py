"""paid periods start on time: customers.next_period_at

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.models.base

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "customers", sa.Column("next_period_at", core.models.base.UtcDateTime(), nullable=True)
    )
    op.create_index(
        op.f("ix_customers_next_period_at"), "customers", ["next_period_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_customers_next_period_at"), table_name="customers")
    if op.get_bind().dialect.name == "sqlite":
        # SQLite (3.35+) drops the column in place; a batch copy of customers would trip the
        # foreign keys of every table that references it once there are rows.
        op.execute("ALTER TABLE customers DROP COLUMN next_period_at")
    else:
        op.drop_column("customers", "next_period_at")
