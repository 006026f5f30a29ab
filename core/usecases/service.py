"""Service state: suspend, unsuspend, disconnect, extend, change plan, expire."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import cast

from sqlalchemy import Table, func, select, update
from sqlalchemy.orm import selectinload

from core import audit, ledger, lifecycle
from core.actors import Actor, ActorKind, Permission, require
from core.errors import InvalidInput, InvalidTransition, PlanMismatch, PlanNotFound
from core.events import CustomerNeedsSync, ServiceExpired, SessionDropRequested
from core.lookup import get_customer
from core.models import Customer, ExpiryExtension, Plan
from core.unit_of_work import UnitOfWork
from core.usecases.notices import queue_renewed_from_credit, queue_suspended_notice
from core.usecases.plans import get_plan_by_name
from core.usecases.renewal import RenewalResult, mark_changed, renew_customer, renewal_plan
from core.vocabulary import Status

MAX_EXTENSION_DAYS = 3650


def suspend(uow: UnitOfWork, customer_id: int, actor: Actor, reason: str) -> Customer:
    """Cut the customer off until staff lift it; paid time keeps running."""
    require(actor, Permission.MANAGE_CUSTOMERS)
    reason = reason.strip()
    if not reason:
        raise InvalidInput("say why the customer is suspended")
    customer = get_customer(uow, customer_id)
    if customer.status == Status.SUSPENDED:
        raise InvalidTransition("the customer is already suspended")
    before = audit.snapshot(customer)
    lifecycle.move(customer, "suspend", Status.SUSPENDED)
    customer.suspended_reason = reason
    mark_changed(uow, customer)
    audit.record(
        uow,
        actor,
        "customer.suspend",
        customer=customer,
        before=before,
        after=audit.snapshot(customer),
        reason=reason,
    )
    queue_suspended_notice(uow, customer)
    return customer


@dataclass(frozen=True)
class UnsuspendResult:
    status: Status
    renewal: RenewalResult | None


def unsuspend(
    uow: UnitOfWork, customer_id: int, actor: Actor, reason: str | None = None
) -> UnsuspendResult:
    """Lift a suspension. Credit that arrived meanwhile renews an expired auto-renew customer."""
    require(actor, Permission.MANAGE_CUSTOMERS)
    customer = get_customer(uow, customer_id)
    now = uow.clock.now()
    before = audit.snapshot(customer)
    target = lifecycle.status_after_unsuspend(customer, now)
    lifecycle.move(customer, "unsuspend", target)
    customer.suspended_reason = None
    mark_changed(uow, customer)
    audit.record(
        uow,
        actor,
        "customer.unsuspend",
        customer=customer,
        before=before,
        after=audit.snapshot(customer),
        reason=reason,
    )
    renewal = None
    if target is not Status.ACTIVE and customer.auto_renew:
        renewal = renew_customer(uow, customer, actor)
    return UnsuspendResult(Status(customer.status), renewal)


def disconnect(
    uow: UnitOfWork, customer_id: int, actor: Actor, reason: str | None = None
) -> Customer:
    """Drop the live session only: the customer may dial in again at once if allowed."""
    require(actor, Permission.DISCONNECT)
    customer = get_customer(uow, customer_id)
    uow.publish(SessionDropRequested(customer.id))
    audit.record(uow, actor, "customer.disconnect", customer=customer, reason=reason)
    return customer


def extend(
    uow: UnitOfWork,
    customer_id: int,
    actor: Actor,
    *,
    days: int | None = None,
    until: date | None = None,
    reason: str | None = None,
) -> Customer:
    """Move expiry out by ``days`` (from the later of now and the current expiry) or to the end of
    ``until`` in local time; kept in the extension history. Later renewals build on it."""
    require(actor, Permission.MANAGE_CUSTOMERS)
    if (days is None) == (until is None):
        raise InvalidInput("give a number of days or a date (one of them)")
    customer = get_customer(uow, customer_id)
    now = uow.clock.now()
    if days is not None:
        if not 1 <= days <= MAX_EXTENSION_DAYS:
            raise InvalidInput(f"days must be 1 to {MAX_EXTENSION_DAYS}")
        start = max(now, customer.expires_at) if customer.expires_at else now
        new_expires_at = start + timedelta(days=days)
    else:
        assert until is not None
        new_expires_at = end_of_local_day(until, uow)
        if new_expires_at <= now:
            raise InvalidInput(f"{until.isoformat()} is not in the future")
    before = audit.snapshot(customer)
    uow.session.add(
        ExpiryExtension(
            customer_id=customer.id,
            previous_expires_at=customer.expires_at,
            new_expires_at=new_expires_at,
            reason=(reason or "").strip() or "no reason given",
            actor=actor.label,
            created_at=now,
        )
    )
    customer.expires_at = new_expires_at
    if customer.status in (Status.INACTIVE, Status.EXPIRED):
        lifecycle.move(customer, "activate", Status.ACTIVE)
    mark_changed(uow, customer)
    audit.record(
        uow,
        actor,
        "customer.extend",
        customer=customer,
        before=before,
        after=audit.snapshot(customer),
        reason=reason,
    )
    return customer


def parse_days_or_date(text: str) -> tuple[int | None, date | None]:
    """How staff say an extension: ``7`` → (7, None), ``2026-12-31`` → (None, that day); else
    InvalidInput (``-3`` is refused for its sign, not mistaken for a date)."""
    text = text.strip()
    digits = text.removeprefix("-")
    if digits.isascii() and digits.isdigit():
        days = int(text)
        if days < 1:
            raise InvalidInput(f"days must be 1 or more, not {days}")
        return days, None
    try:
        return None, date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{text!r} is neither a number of days nor a date YYYY-MM-DD") from None


def end_of_local_day(day: date, uow: UnitOfWork) -> datetime:
    """The last second of ``day`` in the ISP's time zone, as UTC."""
    local = datetime.combine(day, time(23, 59, 59), tzinfo=uow.config.timezone)
    return local.astimezone(UTC)


class PlanChangeTiming(StrEnum):
    NOW = "now"
    RENEWAL = "renewal"


@dataclass(frozen=True)
class PlanChange:
    """A plan change done: the customer, and the plan that was due at the next renewal and no
    longer is (another plan chosen, now or for the renewal), or None."""

    customer: Customer
    cancelled_pending_plan: str | None


def change_plan(
    uow: UnitOfWork,
    customer_id: int,
    actor: Actor,
    plan_name: str,
    when: PlanChangeTiming = PlanChangeTiming.RENEWAL,
) -> PlanChange:
    """Switch plan now (expiry unchanged, no proration) or at the next renewal.

    The plan must be active and of the customer's connection type. Subscribers may only change at
    renewal: they pay for a period at its price. Either change cancels a different plan pending
    for the next renewal; the answer and the audit name it.
    """
    if actor.kind is ActorKind.SUBSCRIBER:
        if when is not PlanChangeTiming.RENEWAL:
            raise InvalidInput("a plan you choose starts at your next renewal")
    else:
        require(actor, Permission.MANAGE_CUSTOMERS)
    customer = get_customer(uow, customer_id)
    plan = get_plan_by_name(uow, plan_name)
    _check_plan_fits(customer, plan)
    before = audit.snapshot(customer)
    if when is PlanChangeTiming.NOW and plan.id == customer.plan_id:
        raise InvalidInput(f"the customer is already on {plan.name}")
    cancelled = _pending_plan_cancelled_by(customer, plan)
    if when is PlanChangeTiming.NOW:
        customer.plan_id = plan.id
        customer.plan = plan
        customer.pending_plan_id = None
        customer.pending_plan = None
        mark_changed(uow, customer)
    else:
        if plan.id == customer.plan_id:
            customer.pending_plan_id = None
            customer.pending_plan = None
        else:
            customer.pending_plan_id = plan.id
            customer.pending_plan = plan
        customer.updated_at = uow.clock.now()
    reason = plan.name
    if cancelled is not None:
        reason += f"; cancels {cancelled} at the next renewal"
    audit.record(
        uow,
        actor,
        f"customer.plan.{when.value}",
        customer=customer,
        before=before,
        after=audit.snapshot(customer),
        reason=reason,
    )
    return PlanChange(customer, cancelled)


def plan_change_cancels(uow: UnitOfWork, customer_id: int, plan_name: str) -> str | None:
    """The plan pending for the customer's next renewal that a change to ``plan_name`` now would
    cancel, or None: what staff are told before they confirm."""
    customer = get_customer(uow, customer_id, for_update=False)
    return _pending_plan_cancelled_by(customer, get_plan_by_name(uow, plan_name))


def _pending_plan_cancelled_by(customer: Customer, plan: Plan) -> str | None:
    pending = customer.pending_plan
    if pending is None or pending.id == plan.id:
        return None
    return pending.name


def _check_plan_fits(customer: Customer, plan: Plan) -> None:
    if not plan.active:
        raise PlanNotFound(f"plan {plan.name!r} is retired")
    if plan.connection_type != customer.connection_type:
        raise PlanMismatch(
            f"plan is for {plan.connection_type}, customer is {customer.connection_type}"
        )


class ExpiryOutcome(StrEnum):
    NOT_DUE = "not_due"
    RENEWED = "renewed"
    EXPIRED = "expired"


def expire_if_due(uow: UnitOfWork, customer_id: int, actor: Actor | None = None) -> ExpiryOutcome:
    """At or after expiry: renew from balance if auto-renew allows, else mark expired.

    Idempotent, and safe to call early or twice: a renewed customer is simply not due.
    """
    actor = actor or Actor.system("expiry")
    customer = uow.session.scalars(
        select(Customer)
        .where(Customer.id == customer_id, Customer.deleted_at.is_(None))
        .with_for_update()
    ).first()
    now = uow.clock.now()
    if (
        customer is None
        or customer.status != Status.ACTIVE
        or customer.expires_at is None
        or customer.expires_at > now
    ):
        return ExpiryOutcome.NOT_DUE
    if (
        customer.auto_renew
        and ledger.balance_kes(uow, customer.id) >= renewal_plan(customer).price_kes
    ):
        renew_customer(uow, customer, actor, max_periods=1)
        queue_renewed_from_credit(uow, customer)
        return ExpiryOutcome.RENEWED
    before = audit.snapshot(customer)
    uow.publish(ServiceExpired(customer.id, customer.expires_at, now))
    lifecycle.move(customer, "expire", Status.EXPIRED)
    mark_changed(uow, customer)
    audit.record(
        uow,
        actor,
        "customer.expire",
        customer=customer,
        before=before,
        after=audit.snapshot(customer),
    )
    return ExpiryOutcome.EXPIRED


def due_for_expiry(uow: UnitOfWork, limit: int = 1000) -> list[int]:
    """Ids of active customers whose paid time has run out (the minute sweep's work list)."""
    return list(
        uow.session.scalars(
            select(Customer.id)
            .where(
                Customer.status == Status.ACTIVE.value,
                Customer.expires_at <= uow.clock.now(),
                Customer.deleted_at.is_(None),
            )
            .order_by(Customer.expires_at)
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class _Due:
    """What the batch expiry needs of a due customer (no ORM object: most simply lapse)."""

    id: int
    router_id: int | None
    auto_renew: bool
    plan_id: int
    pending_plan_id: int | None
    expires_at: datetime | None  # never None: the query asks for expires_at <= now


def expire_due_batch(
    uow: UnitOfWork, limit: int = 500, actor: Actor | None = None
) -> dict[ExpiryOutcome, int]:
    """``expire_if_due`` for up to ``limit`` due customers in this one transaction: the rule is
    the same (auto-renew from balance, else expired), the work is set-based. Customers whose
    credit renews them go through ``renew_customer`` one by one (the rare case); the rest are
    expired by one UPDATE, one audit INSERT and their sync requests. Locked rows are skipped on
    PostgreSQL (another worker has them); the next run takes them."""
    actor = actor or Actor.system("expiry")
    now = uow.clock.now()
    due = [
        _Due(*row)
        for row in uow.session.execute(
            select(
                Customer.id,
                Customer.router_id,
                Customer.auto_renew,
                Customer.plan_id,
                Customer.pending_plan_id,
                Customer.expires_at,
            )
            .where(
                Customer.status == Status.ACTIVE.value,
                Customer.expires_at <= now,
                Customer.deleted_at.is_(None),
            )
            .order_by(Customer.expires_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    ]
    renewing = _renewable_from_credit(uow, due)
    outcomes = dict.fromkeys(ExpiryOutcome, 0)
    if renewing:
        customers = uow.session.scalars(
            select(Customer)
            .options(selectinload(Customer.plan), selectinload(Customer.pending_plan))
            .where(Customer.id.in_(renewing))
            .order_by(Customer.expires_at)
        )
        for customer in customers:
            renew_customer(uow, customer, actor, max_periods=1)
            queue_renewed_from_credit(uow, customer)
            outcomes[ExpiryOutcome.RENEWED] += 1
    lapsed = [row for row in due if row.id not in renewing]
    _expire_lapsed(uow, lapsed, actor, now)
    outcomes[ExpiryOutcome.EXPIRED] = len(lapsed)
    return outcomes


def _renewable_from_credit(uow: UnitOfWork, due: Sequence[_Due]) -> set[int]:
    """Ids of the auto-renew customers whose balance buys one period of their renewal plan
    (the pending plan if one is set, as ``renewal_plan`` says)."""
    auto_renew = [row for row in due if row.auto_renew]
    if not auto_renew:
        return set()
    balances = ledger.balances_kes(uow, [row.id for row in auto_renew])
    plan_ids = {row.pending_plan_id or row.plan_id for row in auto_renew}
    prices = dict(
        uow.session.execute(select(Plan.id, Plan.price_kes).where(Plan.id.in_(plan_ids))).all()
    )
    return {
        row.id
        for row in auto_renew
        if balances.get(row.id, 0) >= prices[row.pending_plan_id or row.plan_id]
    }


def _expire_lapsed(uow: UnitOfWork, lapsed: Sequence[_Due], actor: Actor, now: datetime) -> None:
    """``lifecycle.move(…, "expire", EXPIRED)``, ``mark_changed`` and ``audit.record`` for
    every row, set-based: the rows are locked, active and due (the expire transition's only
    source), and the audited fields change alike (status only)."""
    if not lapsed:
        return
    ids = [row.id for row in lapsed]
    table = cast(Table, Customer.__table__)
    uow.session.execute(
        update(table)
        .where(table.c.id.in_(ids), table.c.status == Status.ACTIVE.value)
        .values(
            status=Status.EXPIRED.value,
            sync_pending=True,
            sync_error=None,
            sync_version=func.coalesce(table.c.sync_version, 0) + 1,
            updated_at=now,
        )
    )
    audit.record_alike(
        uow,
        actor,
        "customer.expire",
        ids,
        before={"status": Status.ACTIVE.value},
        after={"status": Status.EXPIRED.value},
    )
    # What mark_changed publishes for an expired customer (the commit asks each router once).
    for row in lapsed:
        uow.publish(CustomerNeedsSync(row.id, row.router_id))
        uow.publish(ServiceExpired(row.id, row.expires_at or now, now))
