"""Subscriber self-service: what a phone prefers, the problems it reports, the SMS it sends us."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, UtcDateTime


class PhonePreference(Base):
    """Per phone, not per account: one person with three accounts chose one language.

    A phone with no row speaks English and receives reminders.
    """

    __tablename__ = "phone_preferences"

    phone: Mapped[str] = mapped_column(String(20), primary_key=True)
    language: Mapped[str] = mapped_column(String(2), default="en")
    reminders_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Ticket(Base):
    """A problem a subscriber reported. ``category``: no_internet, slow, other; ``status``: open,
    closed. ``channel`` is where it came from (ussd, sms). Staff assign it to one of them, comment
    on it and close it with a ``resolution`` (the subscriber is texted that, never the comments).
    """

    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    phone: Mapped[str] = mapped_column(String(20))
    category: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), index=True)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    resolution: Mapped[str | None] = mapped_column(Text)
    # The actor label of whoever closed it ("staff:Otieno"), as the audit names them.
    closed_by: Mapped[str | None] = mapped_column(String(160))


class TicketComment(Base):
    """A note staff keep on a ticket for each other; the subscriber never sees it."""

    __tablename__ = "ticket_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    author: Mapped[str] = mapped_column(String(160))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class InboundSms(Base):
    """An SMS a subscriber sent us, as Africa's Talking delivered it.

    ``provider_id`` is unique, so a callback Africa's Talking repeats is answered once.
    Together with ``sms_messages`` this is the SMS history of a customer.
    """

    __tablename__ = "sms_inbound"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    phone: Mapped[str] = mapped_column(String(20), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    short_code: Mapped[str | None] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    command: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
