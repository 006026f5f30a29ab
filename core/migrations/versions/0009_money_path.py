"""money path: raw callback bytes and per-row replay backoff, STK send claims, one subscription
row per renewal

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.models.base

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("mpesa_callbacks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("raw", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(
            sa.Column("next_attempt_at", core.models.base.UtcDateTime(), nullable=True)
        )
        batch_op.create_index(
            batch_op.f("ix_mpesa_callbacks_next_attempt_at"), ["next_attempt_at"], unique=False
        )
    with op.batch_alter_table("stk_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_at", core.models.base.UtcDateTime(), nullable=True))
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("periods", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.drop_column("periods")
    with op.batch_alter_table("stk_requests", schema=None) as batch_op:
        batch_op.drop_column("claimed_at")
    with op.batch_alter_table("mpesa_callbacks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mpesa_callbacks_next_attempt_at"))
        batch_op.drop_column("next_attempt_at")
        batch_op.drop_column("attempts")
        batch_op.drop_column("raw")
