"""The numbers staff look at first: customers by where they stand, who is online, the money of
today and this month, and payments day by day. Every number is one SQL aggregate, however many
customers there are."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import case, func, select

from core import lifecycle
from core.models import Customer, Payment, UsageReading
from core.queries import needs_attention, stats
from core.reports import SERIES_DAYS, local_day_start
from core.unit_of_work import UnitOfWork


def today(uow: UnitOfWork) -> date:
    """Today, in the ISP's time zone."""
    return uow.clock.now().astimezone(uow.config.timezone).date()


@dataclass(frozen=True)
class Online:
    """Customers whose session the last usage sample still saw, and when that sample was."""

    customers: int
    as_of: datetime | None


def online_now(uow: UnitOfWork) -> Online:
    """Live customers with a session the usage sampler saw and has not yet seen end."""
    count, as_of = uow.session.execute(
        select(func.count(UsageReading.customer_id), func.max(UsageReading.sampled_at))
        .join(Customer, Customer.id == UsageReading.customer_id)
        .where(UsageReading.ended_at.is_(None), Customer.deleted_at.is_(None))
    ).one()
    return Online(int(count or 0), as_of)


@dataclass(frozen=True)
class DashboardNumbers:
    customers_by_status: dict[str, int]
    expiring: int  # active with paid time ending within ``expiring_days`` (core.lifecycle)
    expiring_days: int
    online: Online
    revenue_today_kes: int
    payments_today: int
    revenue_month_kes: int
    unmatched_payments: int
    needs_attention: int


def dashboard_numbers(uow: UnitOfWork) -> DashboardNumbers:
    """The dashboard's quick numbers, in the ISP's time zone."""
    days = uow.config.expiring_days
    expiring = uow.session.scalar(
        select(func.count(Customer.id)).where(
            lifecycle.expiring_condition(uow.clock.now(), days), Customer.deleted_at.is_(None)
        )
    )
    numbers = stats(uow)
    return DashboardNumbers(
        customers_by_status=numbers.customers_by_status,
        expiring=int(expiring or 0),
        expiring_days=days,
        online=online_now(uow),
        revenue_today_kes=numbers.revenue_today_kes,
        payments_today=numbers.payments_today,
        revenue_month_kes=numbers.revenue_month_kes,
        unmatched_payments=numbers.unmatched_payments,
        # The attention list is bounded (at most 50 of each kind), so its length is cheap.
        needs_attention=len(needs_attention(uow)),
    )


@dataclass(frozen=True)
class DayPayments:
    day: date
    amount_kes: int
    payments: int


def daily_payments(uow: UnitOfWork, last_day: date, days: int = SERIES_DAYS) -> list[DayPayments]:
    """Money received on each of the ``days`` local days ending with ``last_day``, oldest first,
    days without payments included: one grouped query."""
    first_day = last_day - timedelta(days=days - 1)
    ends = [local_day_start(first_day + timedelta(days=n + 1), uow) for n in range(days)]
    # The index of the local day a payment fell on (instants compare in UTC on every database).
    bucket = case(*[(Payment.received_at < end, index) for index, end in enumerate(ends)])
    sums = {
        int(index): (int(amount), int(count))
        for index, amount, count in uow.session.execute(
            select(bucket, func.sum(Payment.amount_kes), func.count(Payment.id))
            .where(
                Payment.received_at >= local_day_start(first_day, uow),
                Payment.received_at < ends[-1],
            )
            .group_by(bucket)
        )
    }
    return [DayPayments(first_day + timedelta(days=n), *sums.get(n, (0, 0))) for n in range(days)]
