"""Cancel a subscription: paid time ends now, and its unused value is credited or forfeited.

The unused value is prorated per second: for each paid row (``subscriptions``) still running,
``price_kes × unused seconds ÷ the row's seconds``, summed exactly and rounded down to whole
shillings at the end, so a customer is never credited more than was paid. Time given free
(``/extend``) is worth nothing. The rows are cut at the cancel instant (a row not yet started
to zero length), so the time cancelled is never counted again: not by a second cancel after a
new payment, nor by the period start job, nor by reports.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from fractions import Fraction
from math import floor

from sqlalchemy import select

from core import audit, ledger, lifecycle
from core.actors import Actor, Permission, require
from core.display import kes
from core.errors import InvalidInput, InvalidTransition
from core.lookup import get_customer
from core.models import Customer, Subscription
from core.unit_of_work import UnitOfWork
from core.usecases.renewal import mark_changed
from core.vocabulary import LedgerKind, Status, parse_choice


class Refund(StrEnum):
    """What happens to the unused value: credited to the balance, or forfeited."""

    CREDIT = "credit"
    FORFEIT = "forfeit"


@dataclass(frozen=True)
class Cancellation:
    """A cancel done (or, from ``quote_cancellation``, what one would do now)."""

    customer_id: int
    ended_at: datetime
    previous_expires_at: datetime
    unused_value_kes: int
    refund: Refund
    credited_kes: int
    balance_kes: int


def unused_value_kes(rows: Iterable[Subscription], now: datetime) -> int:
    """Whole shillings (rounded down) of the paid time in ``rows`` after ``now``."""
    total = Fraction(0)
    for row in rows:
        length = (row.ends_at - row.starts_at).total_seconds()
        if length <= 0 or row.ends_at <= now:
            continue
        unused = (row.ends_at - max(row.starts_at, now)).total_seconds()
        total += Fraction(row.price_kes) * Fraction(unused) / Fraction(length)
    return floor(total)


def quote_cancellation(uow: UnitOfWork, customer_id: int, refund: Refund | str) -> Cancellation:
    """What cancelling now would end and credit, without changing anything (a confirmation)."""
    refund = _refund(refund)
    customer = get_customer(uow, customer_id, for_update=False)
    now = uow.clock.now()
    _check_cancellable(customer, now)
    assert customer.expires_at is not None
    value = unused_value_kes(_running_rows(uow, customer.id, now), now)
    credited = value if refund is Refund.CREDIT else 0
    return Cancellation(
        customer.id,
        now,
        customer.expires_at,
        value,
        refund,
        credited,
        ledger.balance_kes(uow, customer.id) + credited,
    )


def cancel_subscription(
    uow: UnitOfWork, customer_id: int, actor: Actor, reason: str, refund: Refund | str
) -> Cancellation:
    """End the customer's paid time now, for ``reason``; credit its unused value or forfeit it.

    Refused without a reason, without paid time left, and for a suspended customer (lift the
    suspension first: a suspension is staff's hold, a cancel ends the service). The customer
    becomes expired, nothing renews on its own until they pay again, and a plan change waiting
    for the next renewal is dropped; afterwards the customer may be deleted.
    """
    require(actor, Permission.MANAGE_CUSTOMERS)
    refund = _refund(refund)
    reason = " ".join(reason.split())
    if not reason:
        raise InvalidInput("say why the subscription is cancelled")
    customer = get_customer(uow, customer_id)
    now = uow.clock.now()
    _check_cancellable(customer, now)
    assert customer.expires_at is not None
    previous_expires_at = customer.expires_at
    rows = _running_rows(uow, customer.id, now)
    value = unused_value_kes(rows, now)
    for row in rows:
        row.starts_at = max(row.starts_at, now)
        row.ends_at = now
    before = audit.snapshot(customer)
    credited = 0
    if refund is Refund.CREDIT and value > 0:
        ledger.post(
            uow,
            customer,
            LedgerKind.CANCEL_REFUND,
            value,
            f"unused time refunded on cancel: {reason}",
            actor,
        )
        credited = value
    customer.expires_at = now
    lifecycle.move(customer, "expire", Status.EXPIRED)
    customer.next_period_at = None
    customer.pending_plan_id = None
    customer.pending_plan = None
    mark_changed(uow, customer)
    after = audit.snapshot(customer)
    after.update(unused_value_kes=value, refund=refund.value, credited_kes=credited)
    audit.record(
        uow,
        actor,
        "customer.cancel",
        customer=customer,
        before=before,
        after=after,
        reason=f"{reason}; unused {kes(value)} {_refund_words(refund, value)}",
    )
    return Cancellation(
        customer.id,
        now,
        previous_expires_at,
        value,
        refund,
        credited,
        ledger.balance_kes(uow, customer.id),
    )


def _refund(refund: Refund | str) -> Refund:
    if isinstance(refund, Refund):
        return refund
    return parse_choice(Refund, refund, "the refund")


def _refund_words(refund: Refund, value: int) -> str:
    if value == 0:
        return "(nothing to refund)"
    return "credited" if refund is Refund.CREDIT else "forfeited"


def _check_cancellable(customer: Customer, now: datetime) -> None:
    if customer.status == Status.SUSPENDED:
        raise InvalidTransition("the customer is suspended: unsuspend first, then cancel")
    if (
        customer.status != Status.ACTIVE
        or customer.expires_at is None
        or customer.expires_at <= now
    ):
        raise InvalidTransition("the customer has no paid time left to cancel")


def _running_rows(uow: UnitOfWork, customer_id: int, now: datetime) -> list[Subscription]:
    return list(
        uow.session.scalars(
            select(Subscription)
            .where(Subscription.customer_id == customer_id, Subscription.ends_at > now)
            .order_by(Subscription.id)
        )
    )
