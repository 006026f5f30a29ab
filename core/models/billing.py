"""Money: payments received, the ledger, and the service periods they bought."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models.base import Base, UtcDateTime
from core.models.customers import Customer


class Payment(Base):
    """Money received. ``customer_id`` is None for an unmatched payment waiting for staff.

    (method, reference) is unique, so the same M-Pesa receipt recorded twice is one payment.
    """

    __tablename__ = "payments"
    __table_args__ = (UniqueConstraint("method", "reference"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    method: Mapped[str] = mapped_column(String(16))
    amount_kes: Mapped[int] = mapped_column(Integer)
    reference: Mapped[str | None] = mapped_column(String(64))
    account_reference: Mapped[str | None] = mapped_column(String(64))
    payer_phone: Mapped[str | None] = mapped_column(String(32))
    payer_name: Mapped[str | None] = mapped_column(String(128))
    source: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    recorded_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    customer: Mapped[Customer | None] = relationship()


class LedgerEntry(Base):
    """One movement of a customer's money. Credits are positive, charges negative; balance = sum."""

    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    amount_kes: Mapped[int] = mapped_column(Integer)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"), unique=True)
    description: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class Subscription(Base):
    """Paid service: ``periods`` consecutive periods of a plan from ``starts_at`` to ``ends_at``,
    and how they were paid for. One renewal is one row however many periods it buys."""

    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"))
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ends_at: Mapped[datetime] = mapped_column(UtcDateTime)
    price_kes: Mapped[int] = mapped_column(Integer)
    """What the row's periods cost together."""
    periods: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    funded_by: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
