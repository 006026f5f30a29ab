"""Read models for staff: who expires soon, the numbers of past days, the routers at a glance.

Days are the ISP's local days (``uow.config.timezone``); instants are compared in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import case, func, select

from core import lifecycle
from core.display import kes
from core.errors import PlanNotFound, RouterNotFound
from core.models import Customer, Payment, Plan, Router, Subscription
from core.queries import needs_attention, stats
from core.unit_of_work import UnitOfWork
from core.usecases.network import transport_warning
from core.vocabulary import Status

EXPIRING_LIMIT = 50
SERIES_DAYS = 30


def expiring_within(uow: UnitOfWork, days: int, limit: int = EXPIRING_LIMIT) -> list[Customer]:
    """Active customers whose paid time ends in the next ``days`` days, soonest first."""
    return list(
        uow.session.scalars(
            select(Customer)
            .where(
                lifecycle.expiring_condition(uow.clock.now(), days),
                Customer.deleted_at.is_(None),
            )
            .order_by(Customer.expires_at, Customer.id)
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class DayFigures:
    """One local day: money received, and customers who had service at some time that day."""

    day: date
    revenue_kes: int
    active_subscribers: int


@dataclass(frozen=True)
class DailySummary:
    """Yesterday in numbers, today's outlook, and the last days as a series (oldest first)."""

    day: date
    revenue_kes: int
    payments: int
    new_customers: int
    customers_by_status: dict[str, int]
    expiring_today: int
    needs_attention: int
    unmatched_payments: int
    series: list[DayFigures]


def local_day_start(day: date, uow: UnitOfWork) -> datetime:
    """Midnight at the start of ``day`` in the ISP's time zone, as UTC."""
    return datetime.combine(day, time(0), tzinfo=uow.config.timezone).astimezone(UTC)


def daily_figures(uow: UnitOfWork, last_day: date, days: int = SERIES_DAYS) -> list[DayFigures]:
    """Revenue and active subscribers for the ``days`` local days ending with ``last_day``."""
    zone = uow.config.timezone
    first_day = last_day - timedelta(days=days - 1)
    window_start = local_day_start(first_day, uow)
    window_end = local_day_start(last_day + timedelta(days=1), uow)
    revenue: dict[date, int] = {}
    for received_at, amount in uow.session.execute(
        select(Payment.received_at, Payment.amount_kes).where(
            Payment.received_at >= window_start, Payment.received_at < window_end
        )
    ):
        day = received_at.astimezone(zone).date()
        revenue[day] = revenue.get(day, 0) + int(amount)
    figures = []
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        start = local_day_start(day, uow)
        end = local_day_start(day + timedelta(days=1), uow)
        active = uow.session.scalar(
            select(func.count(func.distinct(Subscription.customer_id))).where(
                Subscription.starts_at < end, Subscription.ends_at > start
            )
        )
        figures.append(DayFigures(day, revenue.get(day, 0), int(active or 0)))
    return figures


def daily_summary(uow: UnitOfWork, days: int = SERIES_DAYS) -> DailySummary:
    """The morning summary: yesterday's money and new customers, and what needs doing today."""
    session = uow.session
    now = uow.clock.now()
    today = now.astimezone(uow.config.timezone).date()
    yesterday = today - timedelta(days=1)
    start, end = local_day_start(yesterday, uow), local_day_start(today, uow)
    tomorrow = local_day_start(today + timedelta(days=1), uow)
    total, count = session.execute(
        select(func.coalesce(func.sum(Payment.amount_kes), 0), func.count(Payment.id)).where(
            Payment.received_at >= start, Payment.received_at < end
        )
    ).one()
    new_customers = session.scalar(
        select(func.count(Customer.id)).where(
            Customer.created_at >= start, Customer.created_at < end
        )
    )
    expiring_today = session.scalar(
        select(func.count(Customer.id)).where(
            Customer.status == Status.ACTIVE.value,
            Customer.expires_at >= now,
            Customer.expires_at < tomorrow,
            Customer.deleted_at.is_(None),
        )
    )
    numbers = stats(uow)
    return DailySummary(
        day=yesterday,
        revenue_kes=int(total),
        payments=int(count),
        new_customers=int(new_customers or 0),
        customers_by_status=numbers.customers_by_status,
        expiring_today=int(expiring_today or 0),
        needs_attention=len(needs_attention(uow)),
        unmatched_payments=numbers.unmatched_payments,
        series=daily_figures(uow, yesterday, days),
    )


def summary_text(summary: DailySummary) -> str:
    """The morning message for the staff chat."""
    by_status = summary.customers_by_status
    lines = [
        f"Good morning. Yesterday ({summary.day.strftime('%a %d %b')}):",
        f"• revenue {kes(summary.revenue_kes)} from {summary.payments} payment(s)",
        f"• {summary.new_customers} new customer(s)",
        "Customers now: " + ", ".join(f"{count} {status}" for status, count in by_status.items()),
        f"Today: {summary.expiring_today} expire (/expiring 1), {summary.needs_attention} need "
        f"attention (/attention), {summary.unmatched_payments} unmatched payment(s) (/unmatched)",
    ]
    return "\n".join(lines)


@dataclass(frozen=True)
class RouterLine:
    """One router as staff see it in a list."""

    name: str
    address: str
    status: str
    last_seen_at: datetime | None
    last_error: str | None
    customers: int
    sync_waiting: int
    sync_refused: int
    # "PLAIN API: password sent in clear" or "TLS NOT VERIFIED"; None when TLS is verified.
    api_warning: str | None = None


def router_overview(uow: UnitOfWork) -> list[RouterLine]:
    """Every router with its health and how many of its customers wait for, or failed, a sync."""
    counts = {
        router_id: (int(total), int(waiting or 0), int(refused or 0))
        for router_id, total, waiting, refused in uow.session.execute(
            select(
                Customer.router_id,
                func.count(Customer.id),
                func.sum(case((Customer.sync_pending.is_(True), 1), else_=0)),
                func.count(Customer.sync_error),
            )
            .where(Customer.deleted_at.is_(None))
            .group_by(Customer.router_id)
        )
    }
    lines = []
    in_use = select(Router).where(Router.removed_at.is_(None)).order_by(Router.name)
    for router in uow.session.scalars(in_use):
        total, waiting, refused = counts.get(router.id, (0, 0, 0))
        lines.append(
            RouterLine(
                router.name,
                f"{router.host}:{router.api_port}",
                router.status,
                router.last_seen_at,
                router.last_error,
                total,
                waiting,
                refused,
                transport_warning(router),
            )
        )
    return lines


def unmatched_payment(uow: UnitOfWork, reference: str) -> Payment | None:
    """The payment with ``reference`` (any method) that no customer has been credited with."""
    return uow.session.scalars(
        select(Payment)
        .where(Payment.reference == reference.strip().upper(), Payment.customer_id.is_(None))
        .order_by(Payment.id)
        .limit(1)
    ).first()


def plan_by_id(uow: UnitOfWork, plan_id: int) -> Plan:
    """The plan with ``plan_id`` (buttons carry ids; names may be too long for them)."""
    plan = uow.session.get(Plan, plan_id)
    if plan is None:
        raise PlanNotFound("that plan no longer exists")
    return plan


def router_by_id(uow: UnitOfWork, router_id: int) -> Router:
    router = uow.session.get(Router, router_id)
    if router is None:
        raise RouterNotFound("that router no longer exists")
    return router
