"""early SMS delivery reports wait for their message

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 09:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.models.base

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sms_pending_delivery_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_message_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("received_at", core.models.base.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_pending_delivery_reports")),
    )
    with op.batch_alter_table("sms_pending_delivery_reports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sms_pending_delivery_reports_provider_message_id"),
            ["provider_message_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_sms_pending_delivery_reports_received_at"),
            ["received_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("sms_pending_delivery_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sms_pending_delivery_reports_received_at"))
        batch_op.drop_index(batch_op.f("ix_sms_pending_delivery_reports_provider_message_id"))
    op.drop_table("sms_pending_delivery_reports")
