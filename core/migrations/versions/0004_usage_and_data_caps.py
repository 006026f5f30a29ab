"""usage samples, daily usage totals and data caps

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.models.base

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.add_column(sa.Column("throttle_download", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("throttle_upload", sa.String(length=16), nullable=True))

    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("data_capped_at", core.models.base.UtcDateTime(), nullable=True)
        )

    with op.batch_alter_table("routers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("usage_sampled_at", core.models.base.UtcDateTime(), nullable=True)
        )

    op.create_table(
        "usage_readings",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("router_id", sa.Integer(), nullable=False),
        sa.Column("session_key", sa.String(length=32), nullable=False),
        sa.Column("started_at", core.models.base.UtcDateTime(), nullable=False),
        sa.Column("address", sa.String(length=45), nullable=True),
        sa.Column("uptime_seconds", sa.Integer(), nullable=False),
        sa.Column("download_bytes", sa.BigInteger(), nullable=False),
        sa.Column("upload_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sampled_at", core.models.base.UtcDateTime(), nullable=False),
        sa.Column("previous_download_bytes", sa.BigInteger(), nullable=True),
        sa.Column("previous_upload_bytes", sa.BigInteger(), nullable=True),
        sa.Column("previous_sampled_at", core.models.base.UtcDateTime(), nullable=True),
        sa.Column("ended_at", core.models.base.UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_usage_readings_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["router_id"], ["routers.id"], name=op.f("fk_usage_readings_router_id_routers")
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_usage_readings")),
    )
    with op.batch_alter_table("usage_readings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_usage_readings_router_id"), ["router_id"], unique=False
        )

    op.create_table(
        "usage_daily",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("download_bytes", sa.BigInteger(), nullable=False),
        sa.Column("upload_bytes", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_usage_daily_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("customer_id", "day", name=op.f("pk_usage_daily")),
    )

    op.create_table(
        "usage_periods",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("started_at", core.models.base.UtcDateTime(), nullable=False),
        sa.Column("download_bytes", sa.BigInteger(), nullable=False),
        sa.Column("upload_bytes", sa.BigInteger(), nullable=False),
        sa.Column("warned_at", core.models.base.UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_usage_periods_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_usage_periods")),
    )


def downgrade() -> None:
    op.drop_table("usage_periods")
    op.drop_table("usage_daily")
    with op.batch_alter_table("usage_readings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_usage_readings_router_id"))

    op.drop_table("usage_readings")
    with op.batch_alter_table("routers", schema=None) as batch_op:
        batch_op.drop_column("usage_sampled_at")

    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_column("data_capped_at")

    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.drop_column("throttle_upload")
        batch_op.drop_column("throttle_download")
