"""routers: a pinned TLS certificate fingerprint or CA file, and soft removal

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 19:40:00

Existing routers keep working: a ``use_tls`` router gets neither pin nor CA and is shown as
"TLS NOT VERIFIED" until staff pin it; a plain one stays plain (``use_tls`` false is the plain-API
choice) and is shown as "PLAIN API".
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.models.base import UtcDateTime

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain nullable columns (no batch copy of routers, which customers and pools reference).
    op.add_column("routers", sa.Column("tls_fingerprint", sa.String(length=64), nullable=True))
    op.add_column("routers", sa.Column("tls_ca", sa.Text(), nullable=True))
    op.add_column("routers", sa.Column("removed_at", UtcDateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column("routers", "removed_at")
    op.drop_column("routers", "tls_ca")
    op.drop_column("routers", "tls_fingerprint")
