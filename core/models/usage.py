"""Data usage: the last counters read of each live session, daily totals, and the cap period.

Byte counts are the customer's: ``download`` is what reached the customer (the router's bytes
out), ``upload`` what the customer sent (the router's bytes in).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, UtcDateTime


class UsageReading(Base):
    """The counters of a customer's session as last read, and the reading before it.

    ``session_key`` is the router's ``.id`` of the session entry; together with the uptime it
    tells a continuing session from a new one (a reconnect starts new counters at zero). The
    previous reading is kept for the rate shown by ``/usage``; ``ended_at`` is set by the first
    sample that no longer sees the session.
    """

    __tablename__ = "usage_readings"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    router_id: Mapped[int] = mapped_column(ForeignKey("routers.id"), index=True)
    session_key: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    address: Mapped[str | None] = mapped_column(String(45))
    uptime_seconds: Mapped[int] = mapped_column(Integer)
    download_bytes: Mapped[int] = mapped_column(BigInteger)
    upload_bytes: Mapped[int] = mapped_column(BigInteger)
    sampled_at: Mapped[datetime] = mapped_column(UtcDateTime)
    previous_download_bytes: Mapped[int | None] = mapped_column(BigInteger)
    previous_upload_bytes: Mapped[int | None] = mapped_column(BigInteger)
    previous_sampled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class DailyUsage(Base):
    """Bytes a customer moved on one local day (``MTEJA_TIMEZONE``)."""

    __tablename__ = "usage_daily"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    download_bytes: Mapped[int] = mapped_column(BigInteger)
    upload_bytes: Mapped[int] = mapped_column(BigInteger)


class UsagePeriod(Base):
    """Data used since the customer's last renewal, which the plan's data cap is measured on.

    ``warned_at`` is when the 80% SMS was queued for this period (at most once).
    """

    __tablename__ = "usage_periods"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    download_bytes: Mapped[int] = mapped_column(BigInteger)
    upload_bytes: Mapped[int] = mapped_column(BigInteger)
    warned_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    @property
    def used_bytes(self) -> int:
        return self.download_bytes + self.upload_bytes
