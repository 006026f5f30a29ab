"""router restarts: the uptime the health check last read, and when a restart was noticed

Revision ID: 0019
Revises: 0016
Create Date: 2026-12-07 19:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.models.base import UtcDateTime

revision: str = "0019"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain nullable columns: no batch copy of routers, which customers and pools reference.
    op.add_column("routers", sa.Column("last_uptime_seconds", sa.Integer(), nullable=True))
    op.add_column("routers", sa.Column("restarted_at", UtcDateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column("routers", "restarted_at")
    op.drop_column("routers", "last_uptime_seconds")
