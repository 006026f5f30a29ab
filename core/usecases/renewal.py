"""Renewal: turn the customer's balance into paid time, as many whole periods as it covers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from core import audit, invoicing, ledger, lifecycle
from core.actors import Actor, Permission, require
from core.events import CustomerNeedsSync, ExpiryScheduled, PeriodStartScheduled
from core.lookup import get_customer
from core.models import Customer, Plan, Subscription
from core.unit_of_work import UnitOfWork
from core.usecases.usage_period import start_new_period
from core.vocabulary import Status


@dataclass(frozen=True)
class RenewalResult:
    """What a renewal did. ``shortfall_kes`` is what more would buy one period (0 if renewed)."""

    periods: int
    charged_kes: int
    expires_at: datetime | None
    balance_kes: int
    shortfall_kes: int
    plan_name: str
    plan_changed: bool
    blocked_by_suspension: bool = False

    @property
    def renewed(self) -> bool:
        return self.periods > 0


def renewal_plan(customer: Customer) -> Plan:
    """The plan the next renewal buys: a pending change applies at renewal."""
    return customer.pending_plan or customer.plan


def amount_to_renew(uow: UnitOfWork, customer: Customer) -> int:
    """Shillings to pay now to buy one period of the renewal plan, after credit and debt."""
    price = renewal_plan(customer).price_kes
    return max(0, price - ledger.balance_kes(uow, customer.id))


def renew(uow: UnitOfWork, customer_id: int, actor: Actor) -> RenewalResult:
    """Renew as many whole periods as the balance covers (a use case of its own, e.g. 'renew')."""
    require(actor, Permission.RECORD_PAYMENT)
    return renew_customer(uow, get_customer(uow, customer_id), actor)


def renew_customer(
    uow: UnitOfWork,
    customer: Customer,
    actor: Actor,
    *,
    max_periods: int | None = None,
    first_period_price_kes: int | None = None,
) -> RenewalResult:
    """Charge the ledger and extend the subscription for a customer already locked by the caller.

    Periods extend from the later of now and the current expiry, so paying early (or a manual
    extension) loses no paid time. A staff-suspended customer is never renewed: the money stays
    as credit until the suspension is lifted. ``first_period_price_kes`` buys exactly one
    period at that price (a sign-up's prorated or discounted first period).
    """
    if first_period_price_kes is not None:
        # A negative price would post a credit as a charge: more money than was paid.
        ledger.require_not_negative(first_period_price_kes, "the first period's price")
    now = uow.clock.now()
    plan = renewal_plan(customer)
    balance = ledger.balance_kes(uow, customer.id)
    if customer.status == Status.SUSPENDED:
        return RenewalResult(
            0, 0, customer.expires_at, balance, 0, plan.name, False, blocked_by_suspension=True
        )
    price = plan.price_kes if first_period_price_kes is None else first_period_price_kes
    periods = _affordable_periods(balance, price)
    if max_periods is not None:
        periods = min(periods, max_periods)
    if first_period_price_kes is not None:
        periods = min(periods, 1)
    if periods == 0:
        shortfall = price - balance
        return RenewalResult(0, 0, customer.expires_at, balance, shortfall, plan.name, False)

    before = audit.snapshot(customer)
    plan_changed = (
        customer.pending_plan_id is not None and customer.pending_plan_id != customer.plan_id
    )
    start = max(now, customer.expires_at) if customer.expires_at else now
    starts_now = start <= now
    if starts_now:
        switch_to_plan(customer, plan)
    charged = periods * price
    # One row for every period bought: a year of an hourly plan is one row, not 8,760.
    period_end = start + plan.period * periods
    uow.session.add(
        Subscription(
            customer_id=customer.id,
            plan_id=plan.id,
            starts_at=start,
            ends_at=period_end,
            price_kes=charged,
            periods=periods,
            funded_by="balance",
            created_at=now,
        )
    )
    invoicing.bill_renewal(uow, customer, plan, start, periods, actor, charged, balance_kes=balance)
    customer.expires_at = period_end
    lifecycle.move(customer, "activate", Status.ACTIVE)
    if starts_now or customer.data_capped_at is not None:
        # The bought period starts now; or, paid ahead while capped, the money lifts the cap
        # at once (the cap's SMS promises as much). Otherwise the count goes on until the
        # paid-for period starts (schedule_next_period).
        start_new_period(uow, customer)
    due = customer.next_period_at
    if not starts_now and due is not None and due <= now:
        # A period paid earlier has come and is not begun yet (the job skipped this customer
        # while we held its lock, or runs late). The job begins it, its plan and a new allowance,
        # then schedules the next; scheduling past it here would skip it for good.
        uow.publish(PeriodStartScheduled(customer.id, due))
    else:
        schedule_next_period(uow, customer)
    mark_changed(uow, customer)
    audit.record(
        uow,
        actor,
        "customer.renew",
        customer=customer,
        before=before,
        after=audit.snapshot(customer),
        reason=f"{periods} period(s) of {plan.name}",
    )
    return RenewalResult(
        periods, charged, customer.expires_at, balance - charged, 0, plan.name, plan_changed
    )


def switch_to_plan(customer: Customer, plan: Plan) -> None:
    """``plan`` is the customer's from now on; a pending change to it is done."""
    customer.plan_id = plan.id
    customer.plan = plan
    if customer.pending_plan_id == plan.id:
        customer.pending_plan_id = None
        customer.pending_plan = None


def schedule_next_period(uow: UnitOfWork, customer: Customer) -> None:
    """Note when the customer's next paid period starts, and have a job begin it then."""
    customer.next_period_at = next_period_start(uow, customer.id, uow.clock.now())
    if customer.next_period_at is not None:
        uow.publish(PeriodStartScheduled(customer.id, customer.next_period_at))


def next_period_start(uow: UnitOfWork, customer_id: int, after: datetime) -> datetime | None:
    """The first instant after ``after`` at which one of the customer's paid periods starts.

    A subscription row holds ``periods`` back-to-back periods of its plan, so its starts are
    ``starts_at + k × period``; the row of the next renewal starts where the last one ends.
    """
    rows = uow.session.execute(
        select(Subscription.starts_at, Subscription.ends_at, Plan.validity_hours)
        .join(Plan, Plan.id == Subscription.plan_id)
        .where(Subscription.customer_id == customer_id, Subscription.ends_at > after)
    )
    starts: list[datetime] = []
    for starts_at, ends_at, validity_hours in rows:
        if starts_at > after:
            starts.append(starts_at)
            continue
        period = timedelta(hours=validity_hours)
        following = starts_at + period * ((after - starts_at) // period + 1)
        if following < ends_at:
            starts.append(following)
    return min(starts, default=None)


def _affordable_periods(balance_kes: int, price_kes: int) -> int:
    if price_kes == 0:
        # A free plan renews one period at a time, never an unbounded number.
        return 1
    return max(0, balance_kes // price_kes)


def mark_changed(uow: UnitOfWork, customer: Customer) -> None:
    """Record that the router must learn of this customer's change, in this transaction."""
    customer.sync_pending = True
    customer.sync_error = None
    customer.sync_version = (customer.sync_version or 0) + 1
    customer.updated_at = uow.clock.now()
    uow.publish(CustomerNeedsSync(customer.id, customer.router_id))
    if customer.expires_at is not None and customer.status == Status.ACTIVE:
        uow.publish(ExpiryScheduled(customer.id, customer.expires_at))
