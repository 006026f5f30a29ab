"""Plans: a speed and a validity at a price."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import BigInteger, Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, UtcDateTime


class Plan(Base):
    """A prepaid package. Validity is exact: a 24-hour plan bought at 00:26 ends at 00:26."""

    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    connection_type: Mapped[str] = mapped_column(String(16))
    price_kes: Mapped[int] = mapped_column(Integer)
    download: Mapped[str] = mapped_column(String(16))
    upload: Mapped[str] = mapped_column(String(16))
    validity_hours: Mapped[int] = mapped_column(Integer)
    data_cap_mb: Mapped[int | None] = mapped_column(BigInteger)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    @property
    def period(self) -> timedelta:
        return timedelta(hours=self.validity_hours)

    @property
    def rate_limit(self) -> str:
        """RouterOS ``rate-limit``: rx/tx from the router's side, i.e. upload/download."""
        return f"{self.upload}/{self.download}"

    @property
    def validity_text(self) -> str:
        if self.validity_hours % 24 == 0:
            days = self.validity_hours // 24
            return f"{days} day" + ("" if days == 1 else "s")
        return f"{self.validity_hours} hour" + ("" if self.validity_hours == 1 else "s")
