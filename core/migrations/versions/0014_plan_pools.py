"""plans name the pools their customers get addresses from: plan_pools

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A new table only: no table others reference is altered (see 0012/0013).
    op.create_table(
        "plan_pools",
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("pool_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plans.id"], name=op.f("fk_plan_pools_plan_id_plans")
        ),
        sa.ForeignKeyConstraint(
            ["pool_id"], ["ip_pools.id"], name=op.f("fk_plan_pools_pool_id_ip_pools")
        ),
        sa.PrimaryKeyConstraint("plan_id", "pool_id", name=op.f("pk_plan_pools")),
    )
    op.create_index(op.f("ix_plan_pools_pool_id"), "plan_pools", ["pool_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_plan_pools_pool_id"), table_name="plan_pools")
    op.drop_table("plan_pools")
