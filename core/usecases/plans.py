"""Plans: create, list, look up."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select

from core import audit, ledger
from core.actors import Actor, Permission, require
from core.errors import Conflict, InvalidInput, PlanNotFound
from core.models import Plan
from core.unit_of_work import UnitOfWork
from core.vocabulary import ConnectionType, parse_choice

_SPEED = re.compile(r"^(\d+(?:\.\d+)?)([kmg]?)$", re.IGNORECASE)


def parse_speed(text: str) -> str:
    """A RouterOS speed like ``10M``, ``512k`` or ``1G`` in canonical case, or InvalidInput."""
    match = _SPEED.match(text.strip())
    if not match or float(match.group(1)) <= 0:
        raise InvalidInput(f"speed must look like 10M, 512k or 1G, not {text!r}")
    number, unit = match.groups()
    unit = {"k": "k", "m": "M", "g": "G"}.get(unit.lower(), "")
    return f"{number}{unit}"


@dataclass(frozen=True)
class PlanSpec:
    """What staff type to create a plan."""

    name: str
    connection_type: str
    price_kes: int
    download: str
    upload: str
    validity_days: int | None = None
    validity_hours: int | None = None
    data_cap_mb: int | None = None
    throttle: str | None = None
    """Speed over the cap: ``1M`` (both ways) or ``2M/512k`` (download/upload); None blocks."""


def parse_throttle(text: str) -> tuple[str, str]:
    """``1M`` → (1M, 1M); ``2M/512k`` → (download, upload); InvalidInput otherwise."""
    download, slash, upload = text.strip().partition("/")
    return parse_speed(download), parse_speed(upload if slash else download)


def add_plan(uow: UnitOfWork, actor: Actor, spec: PlanSpec) -> Plan:
    """Create a plan; validity is days, or hours for hotspot plans."""
    require(actor, Permission.MANAGE_NETWORK)
    name = plan_name(spec.name)
    if not name:
        raise InvalidInput("a plan needs a name")
    if len(name) > 64:
        raise InvalidInput("a plan name has at most 64 characters")
    connection_type = parse_choice(ConnectionType, spec.connection_type, "connection type")
    ledger.require_not_negative(spec.price_kes, "the price")
    hours = _validity_hours(connection_type, spec.validity_days, spec.validity_hours)
    if spec.data_cap_mb is not None and spec.data_cap_mb <= 0:
        raise InvalidInput("a data cap must be above 0 MB")
    throttle = None
    if spec.throttle is not None and spec.throttle.strip():
        if spec.data_cap_mb is None:
            raise InvalidInput("a throttle speed applies over a data cap: give the cap too")
        throttle = parse_throttle(spec.throttle)
    if uow.session.scalar(select(Plan.id).where(func.lower(Plan.name) == name.lower())):
        raise Conflict(f"a plan named {name!r} already exists")
    plan = Plan(
        name=name,
        connection_type=connection_type.value,
        price_kes=spec.price_kes,
        download=parse_speed(spec.download),
        upload=parse_speed(spec.upload),
        validity_hours=hours,
        data_cap_mb=spec.data_cap_mb,
        throttle_download=throttle[0] if throttle else None,
        throttle_upload=throttle[1] if throttle else None,
        active=True,
        created_at=uow.clock.now(),
    )
    uow.session.add(plan)
    uow.session.flush()
    audit.record(
        uow,
        actor,
        "plan.create",
        entity_type="plan",
        entity_id=plan.id,
        after=_audited(plan),
    )
    return plan


def _audited(plan: Plan) -> dict[str, object]:
    values: dict[str, object] = {
        "name": plan.name,
        "price_kes": plan.price_kes,
        "rate_limit": plan.rate_limit,
    }
    if plan.data_cap_mb is not None:
        values["data_cap_mb"] = plan.data_cap_mb
        values["throttle_rate_limit"] = plan.throttle_rate_limit
    return values


def _validity_hours(connection_type: ConnectionType, days: int | None, hours: int | None) -> int:
    if (days is None) == (hours is None):
        raise InvalidInput("give the validity in days or in hours (one of them)")
    if hours is not None:
        if connection_type is not ConnectionType.HOTSPOT:
            raise InvalidInput("validity in hours is for hotspot plans; use days")
        if hours <= 0:
            raise InvalidInput("validity must be at least 1 hour")
        return hours
    assert days is not None
    if days <= 0:
        raise InvalidInput("validity must be at least 1 day")
    return days * 24


def list_plans(
    uow: UnitOfWork, connection_type: str | None = None, include_inactive: bool = False
) -> list[Plan]:
    """Plans ordered by type and price, optionally of one connection type."""
    query = select(Plan).order_by(Plan.connection_type, Plan.price_kes, Plan.name)
    if connection_type is not None:
        query = query.where(Plan.connection_type == connection_type)
    if not include_inactive:
        query = query.where(Plan.active.is_(True))
    return list(uow.session.scalars(query))


# Quotes a name may be typed in: straight, and the curly ones phones put in.
_QUOTE_PAIRS = ('""', "''", "\u201c\u201d", "\u2018\u2019")


def plan_name(text: str) -> str:
    """A plan name as typed, without spaces or one pair of quotes around it: ``"Home 10M"``."""
    name = text.strip()
    if len(name) >= 2 and name[0] + name[-1] in _QUOTE_PAIRS:
        name = name[1:-1].strip()
    return name


def get_plan_by_name(uow: UnitOfWork, name: str) -> Plan:
    """The plan called ``name`` (any case, quotes around it or not), or PlanNotFound."""
    name = plan_name(name)
    plan = uow.session.scalars(select(Plan).where(func.lower(Plan.name) == name.lower())).first()
    if plan is None:
        raise PlanNotFound(f"plan not found: {name!r}")
    return plan


def set_plan_active(uow: UnitOfWork, actor: Actor, name: str, active: bool) -> Plan:
    """Retire a plan (or bring it back); customers already on it keep it."""
    require(actor, Permission.MANAGE_NETWORK)
    plan = get_plan_by_name(uow, name)
    before = {"active": plan.active}
    plan.active = active
    audit.record(
        uow,
        actor,
        "plan.activate" if active else "plan.retire",
        entity_type="plan",
        entity_id=plan.id,
        before=before,
        after={"active": active},
    )
    return plan
