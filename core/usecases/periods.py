"""Beginning paid periods at their instant: the plan a period was bought for takes over, and the
data-cap count starts again.

Renewal extends paid time from the current expiry, so a period paid early starts later: an
upgrade paid ten days before the end of a cheap period must not get its speed for those ten
days, and three periods paid at once are three allowances, not one. ``renewal`` notes when the
next one starts (``Customer.next_period_at``) and publishes PeriodStartScheduled; the job begins
it at that second, and the minute sweep catches any run that was lost.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from core import audit
from core.actors import Actor
from core.models import Customer, Plan, Subscription
from core.unit_of_work import UnitOfWork
from core.usecases.renewal import mark_changed, schedule_next_period, switch_to_plan
from core.usecases.usage_period import start_new_period


def begin_due_periods(uow: UnitOfWork, limit: int = 500, actor: Actor | None = None) -> int:
    """Begin every period due by now for up to ``limit`` customers; returns how many began.

    Each customer is locked (rows another worker holds are skipped on PostgreSQL; the next run
    takes them), then re-read, so a payment or plan change in between is never undone.
    """
    actor = actor or Actor.system("periods")
    now = uow.clock.now()
    due = list(
        uow.session.scalars(
            select(Customer)
            .where(Customer.next_period_at <= now, Customer.deleted_at.is_(None))
            .order_by(Customer.next_period_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        )
    )
    for customer in due:
        assert customer.next_period_at is not None
        # A run that comes late (workers down across several boundaries) begins the period
        # running now: beginning the first one due would leave a later one's plan unapplied.
        latest = _latest_start(uow, customer.id, customer.next_period_at, now)
        _begin(
            uow, customer, max(customer.next_period_at, latest or customer.next_period_at), actor
        )
    return len(due)


def _begin(uow: UnitOfWork, customer: Customer, starts_at: datetime, actor: Actor) -> None:
    if customer.expires_at is None or customer.expires_at <= starts_at:
        customer.next_period_at = None  # no longer paid for: expiry's business, not ours
        return
    # A suspended customer's period starts too: paid time runs on during a suspension, and
    # the router, which keeps the login disabled, learns the plan for when it is lifted.
    plan = _plan_paid_for(uow, customer.id, starts_at)
    # Only a period bought for another plan than the one before it switches: another period
    # of the same plan must not undo a staff change "now" (expiry unchanged) made meanwhile.
    ending = _plan_paid_for(uow, customer.id, starts_at - _INSTANT)
    if plan is not None and ending is not None and ending.id == plan.id:
        plan = None
    before = audit.snapshot(customer)
    previous = customer.plan
    changes = plan is not None and plan.id != customer.plan_id
    lifts_cap = customer.data_capped_at is not None
    if plan is not None and changes:
        switch_to_plan(customer, plan)
    start_new_period(uow, customer, starts_at)
    schedule_next_period(uow, customer)
    if changes or lifts_cap:
        mark_changed(uow, customer)  # a new profile, or the plan's own speed back
    if changes:
        assert plan is not None
        audit.record(
            uow,
            actor,
            "customer.period_start",
            customer=customer,
            before=before,
            after=audit.snapshot(customer),
            reason=f"{plan.name} from {previous.name}",
        )


_INSTANT = timedelta(microseconds=1)


def _latest_start(
    uow: UnitOfWork, customer_id: int, due_at: datetime, now: datetime
) -> datetime | None:
    """The latest start of a paid period at or before ``now`` among the periods not over by
    ``due_at`` (a subscription row holds back-to-back periods of its plan)."""
    rows = uow.session.execute(
        select(Subscription.starts_at, Subscription.ends_at, Plan.validity_hours)
        .join(Plan, Plan.id == Subscription.plan_id)
        .where(
            Subscription.customer_id == customer_id,
            Subscription.starts_at <= now,
            Subscription.ends_at > due_at,
        )
    )
    latest: datetime | None = None
    for starts_at, ends_at, validity_hours in rows:
        period = timedelta(hours=validity_hours)
        last_in_row = starts_at + period * ((ends_at - _INSTANT - starts_at) // period)
        start = min(starts_at + period * ((now - starts_at) // period), last_in_row)
        latest = start if latest is None else max(latest, start)
    return latest


def _plan_paid_for(uow: UnitOfWork, customer_id: int, instant: datetime) -> Plan | None:
    """The plan of the paid period running at ``instant`` (the latest bought, if several)."""
    return uow.session.scalars(
        select(Plan)
        .join(Subscription, Subscription.plan_id == Plan.id)
        .where(
            Subscription.customer_id == customer_id,
            Subscription.starts_at <= instant,
            Subscription.ends_at > instant,
        )
        .order_by(Subscription.id.desc())
        .limit(1)
    ).first()
