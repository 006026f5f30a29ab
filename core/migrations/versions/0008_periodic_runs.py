"""periodic task slots claimed once, however many schedulers run

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.models.base

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "periodic_runs",
        sa.Column("task_name", sa.String(length=64), nullable=False),
        sa.Column("slot_start", core.models.base.UtcDateTime(), nullable=False),
        sa.Column("claimed_at", core.models.base.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("task_name", "slot_start", name=op.f("pk_periodic_runs")),
    )


def downgrade() -> None:
    op.drop_table("periodic_runs")
