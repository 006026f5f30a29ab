"""the console's one-time form tokens: a form sent twice does its work once

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.models.base import UtcDateTime

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "staff_form_submissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_staff_form_submissions_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_form_submissions")),
        sa.UniqueConstraint("token", name=op.f("uq_staff_form_submissions_token")),
    )
    op.create_index(
        op.f("ix_staff_form_submissions_staff_id"), "staff_form_submissions", ["staff_id"]
    )
    op.create_index(op.f("ix_staff_form_submissions_at"), "staff_form_submissions", ["at"])


def downgrade() -> None:
    op.drop_table("staff_form_submissions")
