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
    # The speed a customer drops to once the cap is reached (until renewal); None = blocked.
    throttle_download: Mapped[str | None] = mapped_column(String(16))
    throttle_upload: Mapped[str | None] = mapped_column(String(16))
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
    def throttle_rate_limit(self) -> str | None:
        """The ``rate-limit`` (upload/download) of a customer over the data cap, or None."""
        if self.throttle_download is None or self.throttle_upload is None:
            return None
        return f"{self.throttle_upload}/{self.throttle_download}"

    @property
    def data_cap_bytes(self) -> int | None:
        """The data cap in bytes (1 MB = 1,000,000 bytes), or None without a cap."""
        return self.data_cap_mb * 1_000_000 if self.data_cap_mb else None

    @property
    def validity_text(self) -> str:
        if self.validity_hours % 24 == 0:
            days = self.validity_hours // 24
            return f"{days} day" + ("" if days == 1 else "s")
        return f"{self.validity_hours} hour" + ("" if self.validity_hours == 1 else "s")
