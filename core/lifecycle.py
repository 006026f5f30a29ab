"""Customer status rules: the transition table and whether the router should let someone in."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import ColumnElement, and_

from core.errors import InvalidTransition
from core.models import Customer
from core.vocabulary import Status

# status -> the statuses each action may move it to (the table in docs/architecture.md).
TRANSITIONS: dict[str, dict[Status, frozenset[Status]]] = {
    "activate": {
        Status.INACTIVE: frozenset({Status.ACTIVE}),
        Status.EXPIRED: frozenset({Status.ACTIVE}),
        Status.ACTIVE: frozenset({Status.ACTIVE}),
    },
    "expire": {Status.ACTIVE: frozenset({Status.EXPIRED})},
    "suspend": {
        Status.INACTIVE: frozenset({Status.SUSPENDED}),
        Status.ACTIVE: frozenset({Status.SUSPENDED}),
        Status.EXPIRED: frozenset({Status.SUSPENDED}),
    },
    "unsuspend": {
        Status.SUSPENDED: frozenset({Status.ACTIVE, Status.EXPIRED, Status.INACTIVE}),
    },
}


class ServiceFacts(Protocol):
    """What ``allowed_in`` reads: a Customer, or a row of the same columns (router sync)."""

    @property
    def status(self) -> str: ...

    @property
    def expires_at(self) -> datetime | None: ...

    @property
    def deleted_at(self) -> datetime | None: ...


def allowed_in(customer: ServiceFacts, now: datetime) -> bool:
    """Whether the router should let this customer connect: the one place this is decided."""
    return (
        customer.deleted_at is None
        and customer.status == Status.ACTIVE
        and customer.expires_at is not None
        and customer.expires_at > now
    )


def expiring_until(now: datetime, days: int) -> datetime:
    """The end of the "expiring" window: paid time ending by then is ending soon."""
    return now + timedelta(days=days)


def is_expiring(customer: ServiceFacts, now: datetime, days: int) -> bool:
    """Whether the customer is "expiring": let in now, with paid time ending within ``days``.
    ``expiring_condition`` is the same rule in SQL, for lists."""
    return (
        allowed_in(customer, now)
        and customer.expires_at is not None
        and customer.expires_at <= expiring_until(now, days)
    )


def expiring_condition(now: datetime, days: int) -> ColumnElement[bool]:
    """``is_expiring`` as a condition on live customers' rows."""
    return and_(
        Customer.status == Status.ACTIVE.value,
        Customer.expires_at > now,
        Customer.expires_at <= expiring_until(now, days),
    )


def move(customer: Customer, action: str, target: Status) -> None:
    """Set ``customer.status`` to ``target`` if the table allows ``action`` from where it is."""
    current = Status(customer.status)
    allowed = TRANSITIONS[action].get(current, frozenset())
    if target not in allowed:
        raise InvalidTransition(f"cannot {action} a customer who is {current.value}")
    customer.status = target.value


def status_after_unsuspend(customer: Customer, now: datetime) -> Status:
    """Where a suspension lifts to: active with paid time left, expired after it, else inactive."""
    if customer.expires_at is None:
        return Status.INACTIVE
    return Status.ACTIVE if customer.expires_at > now else Status.EXPIRED


def period_containing(starts_at: datetime, period: timedelta, instant: datetime) -> datetime:
    """The start of the period, of back-to-back ``period``s from ``starts_at``, that holds
    ``instant`` (a subscription row holds several periods of its plan)."""
    return starts_at + period * ((instant - starts_at) // period)
