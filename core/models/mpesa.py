"""M-Pesa: every callback as it arrived, and the STK pushes we asked for."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, UtcDateTime


class MpesaCallback(Base):
    """A callback stored before it is parsed, so no payment is lost to a parsing bug.

    ``raw`` is the body exactly as it came (up to 64 KiB); ``body`` is its text for people to
    read (undecodable bytes and NULs replaced).

    ``status``: received (stored, not yet handled, or waiting for its next try), processed,
    rejected (validation said no), malformed (could not be parsed), flagged (parsed, but not
    believed or matched: staff decide), failed (its handling kept raising; staff decide),
    resolved (staff dealt with it; the audit log says how).
    ``attempts`` counts handlings that raised; ``next_attempt_at`` is when the replay may try
    again, so one bad row never holds back the others.
    """

    __tablename__ = "mpesa_callbacks"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    remote_address: Mapped[str | None] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    raw: Mapped[bytes | None] = mapped_column(LargeBinary)
    truncated: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(16), index=True)
    error: Mapped[str | None] = mapped_column(Text)
    reference: Mapped[str | None] = mapped_column(String(64), index=True)
    processed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)


class StkRequest(Base):
    """An STK push: queued → sending (one worker owns the send) → pending (Safaricom accepted
    it) → paid / failed; error when it could not be sent; unconfirmed when Safaricom may have
    prompted the phone but its answer never reached us (a callback may still settle it).
    """

    __tablename__ = "stk_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    phone: Mapped[str] = mapped_column(String(20))
    amount_kes: Mapped[int] = mapped_column(Integer)
    account_reference: Mapped[str] = mapped_column(String(12))
    channel: Mapped[str] = mapped_column(String(16))
    requested_by: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), index=True)
    merchant_request_id: Mapped[str | None] = mapped_column(String(64))
    checkout_request_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    result_code: Mapped[int | None] = mapped_column(Integer)
    result_description: Mapped[str | None] = mapped_column(Text)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    settled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
