"""trigram indexes for name search on PostgreSQL

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 09:00:02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The expressions are those core.lookup.find compares on PostgreSQL (lower(full_name) LIKE …,
# username LIKE …); a different expression would leave the index unused.
INDEX = "ix_customers_name_trgm"


def upgrade() -> None:
    # SQLite has no trigram indexes: there the name search reads every row.
    if op.get_bind().dialect.name != "postgresql":
        return
    # Needs the right to create the extension (a superuser, or pg_trgm allowed on a managed
    # server); see docs/operations.md.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(
        f"CREATE INDEX {INDEX} ON customers "
        "USING gin (lower(full_name) gin_trgm_ops, username gin_trgm_ops)"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # The extension stays: other objects in the database may use it, and dropping it needs its
    # owner.
    op.execute(f"DROP INDEX IF EXISTS {INDEX}")
