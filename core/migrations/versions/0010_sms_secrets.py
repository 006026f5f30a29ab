"""sms secrets: a welcome SMS keeps its password encrypted until sent; erase old ones

Before this revision the welcome SMS stored the PPPoE password in its body, and a deleted
customer's messages kept their text and phone number. Messages already sent lose the body of a
welcome (the login cannot be recovered from it any more; staff reset a password to send a new
one); a deleted customer's messages, inbound texts and tickets lose text and phone number.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ERASED = "[erased]"
WELCOME_KEPT = "[welcome SMS with the login; its text is not kept]"


def upgrade() -> None:
    with op.batch_alter_table("sms_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("secret_encrypted", sa.Text(), nullable=True))
    # Sent (or failed) welcomes: drop the clear password with the text. Queued ones are left to
    # be sent as they are.
    op.execute(
        sa.text(
            "UPDATE sms_messages SET body = :kept "
            "WHERE kind LIKE 'welcome:%' AND status NOT IN ('queued', 'sending')"
        ).bindparams(kept=WELCOME_KEPT)
    )
    deleted = "SELECT id FROM customers WHERE deleted_at IS NOT NULL"
    op.execute(
        sa.text(
            f"UPDATE sms_messages SET body = :erased, phone = '' WHERE customer_id IN ({deleted})"
        ).bindparams(erased=ERASED)
    )
    op.execute(
        sa.text(
            f"UPDATE sms_inbound SET text = :erased, phone = '' WHERE customer_id IN ({deleted})"
        ).bindparams(erased=ERASED)
    )
    op.execute(
        sa.text(f"UPDATE tickets SET phone = '', note = NULL WHERE customer_id IN ({deleted})")
    )


def downgrade() -> None:
    with op.batch_alter_table("sms_messages", schema=None) as batch_op:
        batch_op.drop_column("secret_encrypted")
