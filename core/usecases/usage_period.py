"""The data-cap period: the usage a plan's cap is measured on, started afresh by every paid period.

Kept apart from ``core.usecases.usage`` because renewal calls it, and usage imports renewal.
"""

from __future__ import annotations

from datetime import datetime

from core.models import Customer, UsagePeriod
from core.unit_of_work import UnitOfWork


def start_new_period(uow: UnitOfWork, customer: Customer, at: datetime | None = None) -> None:
    """A new paid period (from ``at``, default now): count data from zero again, allow the 80%
    SMS again, and lift the cap's throttle or block (the caller marks the customer for sync)."""
    now = at or uow.clock.now()
    period = uow.session.get(UsagePeriod, customer.id)
    if period is None:
        uow.session.add(
            UsagePeriod(customer_id=customer.id, started_at=now, download_bytes=0, upload_bytes=0)
        )
    else:
        period.started_at = now
        period.download_bytes = 0
        period.upload_bytes = 0
        period.warned_at = None
    customer.data_capped_at = None
