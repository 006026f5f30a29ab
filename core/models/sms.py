"""Text messages to subscribers: the outbox and each message's delivery history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, UtcDateTime


class SmsMessage(Base):
    """One SMS. ``status``: queued → sent → delivered / failed (provider reports)."""

    __tablename__ = "sms_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    phone: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    """The text as staff may see it: a secret in it (a login password) is SECRET_MASK here."""
    secret_encrypted: Mapped[str | None] = mapped_column(Text)
    """The secret the mask stands for, encrypted, until the message is sent (then None)."""
    status: Mapped[str] = mapped_column(String(16), index=True)
    provider_message_id: Mapped[str | None] = mapped_column(String(64), index=True)
    cost: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class PendingDeliveryReport(Base):
    """A delivery report that arrived before the send job stored the provider's id.

    Africa's Talking can report a delivery within milliseconds of accepting a message, before our
    job has written the id it got back; the report waits here and is applied when the id is
    stored (or purged after two days, when it was about someone else's message).
    """

    __tablename__ = "sms_pending_delivery_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_message_id: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
