"""Writing the audit log, with before/after snapshots of what changed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import JSON, Table, Text, insert, literal, select

from core.actors import Actor
from core.models import AuditEvent, Customer
from core.models.base import UtcDateTime
from core.unit_of_work import UnitOfWork

# Fields whose change matters to staff; the password is recorded as changed, never its value.
_CUSTOMER_FIELDS = (
    "account_number2",
    "full_name",
    "phone",
    "email",
    "physical_address",
    "connection_type",
    "username",
    "plan_id",
    "pending_plan_id",
    "router_id",
    "ip_address",
    "status",
    "suspended_reason",
    "expires_at",
    "auto_renew",
    "notes",
    "parent_id",
)


def snapshot(customer: Customer) -> dict[str, Any]:
    """The audited fields of ``customer`` as JSON-ready values."""
    values: dict[str, Any] = {}
    for name in _CUSTOMER_FIELDS:
        value = getattr(customer, name)
        values[name] = value.isoformat() if isinstance(value, datetime) else value
    values["password_set"] = customer.password_encrypted is not None
    return values


def changed(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the keys whose values differ (or that one side lacks), from each side."""
    keys = [
        key
        for key in {**before, **after}
        if key not in before or key not in after or before[key] != after[key]
    ]
    return (
        {key: before[key] for key in keys if key in before},
        {key: after[key] for key in keys if key in after},
    )


def record(
    uow: UnitOfWork,
    actor: Actor,
    action: str,
    *,
    customer: Customer | None = None,
    entity_type: str = "customer",
    entity_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str | None = None,
) -> AuditEvent:
    """Add one audit event in the use case's transaction."""
    if before is not None and after is not None:
        before, after = changed(before, after)
    event = AuditEvent(
        at=uow.clock.now(),
        actor_kind=actor.kind.value,
        actor_id=actor.id,
        actor_name=actor.name,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id if entity_id is not None else (customer.id if customer else None),
        customer_id=customer.id if customer else None,
        before=before,
        after=after,
        reason=reason,
    )
    uow.session.add(event)
    return event


def record_alike(
    uow: UnitOfWork,
    actor: Actor,
    action: str,
    customer_ids: Sequence[int],
    *,
    before: dict[str, Any],
    after: dict[str, Any],
    reason: str | None = None,
) -> None:
    """``record`` for many customers whose audited fields changed the same way (a batch expiry):
    the rows ``record`` would add one by one, made by one INSERT … SELECT over the customers."""
    if not customer_ids:
        return
    before, after = changed(before, after)
    customers = cast(Table, Customer.__table__)
    rows = (
        select(
            literal(uow.clock.now(), UtcDateTime()),
            literal(actor.kind.value),
            literal(actor.id),
            literal(actor.name),
            literal(action),
            literal("customer"),
            customers.c.id,
            customers.c.id,
            literal(before, JSON()),
            literal(after, JSON()),
            literal(reason, Text()),
        )
        .where(customers.c.id.in_(customer_ids))
        .order_by(customers.c.id)
    )
    columns = [
        "at",
        "actor_kind",
        "actor_id",
        "actor_name",
        "action",
        "entity_type",
        "entity_id",
        "customer_id",
        "before",
        "after",
        "reason",
    ]
    uow.session.execute(insert(cast(Table, AuditEvent.__table__)).from_select(columns, rows))
