"""Data usage: a router's session counters turned into daily and per-period totals, and the data
cap acting on them.

A sample is one read of every live session of one router (``routers.usage`` makes it), and of
every static customer's simple queue, which stands for their session (its ``.id`` the session
key, no uptime). For each customer mteja keeps the last reading of their session and adds only
what the counters grew:

- the same session (same router ``.id``, uptime not lower) adds each counter's growth;
- a new session (another ``.id``, or a lower uptime: the router reused an id after a reboot)
  counts from zero, so all its bytes are new;
- a counter lower than its last reading under a continuing session counts from zero too.

Nothing is ever subtracted, and no reading is counted twice: a sample is discarded if its router
already has a newer one recorded (the router row is locked while a sample is written). Traffic
between a session's last sample and its end is not seen. The first sample of a router only
records where the counters stand, so traffic from before mteja looked is not put on that day.
Usage lands on the local day (``uow.config.timezone``) of the sample that counted it.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Table, and_, bindparam, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from core import audit, messages
from core.actors import Actor
from core.batches import batched
from core.contacts import contact_values
from core.display import data_amount, local_time
from core.errors import RouterNotFound
from core.lookup import get_customer
from core.models import Customer, DailyUsage, Plan, Router, UsagePeriod, UsageReading
from core.unit_of_work import UnitOfWork
from core.usecases.preferences import language_of
from core.usecases.renewal import mark_changed
from core.usecases.sms import queue_sms
from core.vocabulary import ConnectionType

CAP_WARNING_PERCENT = 80
CAP_SMS_PREFIX = "datacap:"
_CHUNK = 500
UPSERT_BATCH = 5000


# Slotted, as _Counted: a sample holds one of each per live session (80,000 on a big router).
@dataclass(frozen=True, slots=True)
class SessionReading:
    """One live session as the router reported it, in the customer's terms.

    ``login`` is the username of a PPPoE or hotspot session; for a static customer, whose
    "session" is their simple queue, it is the account number the queue's comment carries.
    """

    login: str
    connection_type: str  # "pppoe", "hotspot" or "static"
    session_key: str
    address: str | None
    uptime_seconds: int
    download_bytes: int
    upload_bytes: int


@dataclass
class UsageSample:
    """What recording one sample did. ``cap_checks``: customers whose cap state may change."""

    router_id: int
    sessions: int = 0
    customers: int = 0
    new_sessions: int = 0
    counter_resets: int = 0
    ended_sessions: int = 0
    download_bytes: int = 0
    upload_bytes: int = 0
    baseline: bool = False
    stale: bool = False
    cap_checks: list[int] = field(default_factory=list)


class _Prior(NamedTuple):
    session_key: str
    started_at: datetime
    uptime_seconds: int
    download_bytes: int
    upload_bytes: int
    sampled_at: datetime
    ended_at: datetime | None


@dataclass(frozen=True, slots=True)
class _Counted:
    customer_id: int
    reading: SessionReading
    prior: _Prior | None
    continuing: bool
    download_bytes: int
    upload_bytes: int
    reset: bool


def record_usage(
    uow: UnitOfWork, router_id: int, read_at: datetime, readings: Sequence[SessionReading]
) -> UsageSample:
    """Record one sample of ``router_id``'s sessions, read at ``read_at``; the caller commits.

    Sessions of logins that are no customer of this router (the operator's own) are ignored.
    """
    sample = UsageSample(router_id, sessions=len(readings))
    router = uow.session.get(Router, router_id, with_for_update=True)
    if router is None:
        raise RouterNotFound(f"no router with id {router_id}")
    last = router.usage_sampled_at
    if last is not None and read_at <= last:
        sample.stale = True
        return sample
    sample.baseline = last is None
    customers = _customers_by_login(uow, router_id)
    priors = _priors(uow, router_id)
    counted: list[_Counted] = []
    for reading in readings:
        customer_id = customers.get((reading.connection_type, reading.login))
        if customer_id is not None:
            counted.append(_count(customer_id, reading, priors.get(customer_id), sample.baseline))
    sample.customers = len(counted)
    sample.new_sessions = sum(not item.continuing for item in counted)
    sample.counter_resets = sum(item.reset for item in counted)
    sample.download_bytes = sum(item.download_bytes for item in counted)
    sample.upload_bytes = sum(item.upload_bytes for item in counted)
    _write_readings(uow, router_id, read_at, counted)
    sample.ended_sessions = _end_sessions(
        uow, priors, {item.customer_id for item in counted}, read_at
    )
    grown = [item for item in counted if item.download_bytes or item.upload_bytes]
    day = read_at.astimezone(uow.config.timezone).date()
    _add_daily(uow, day, grown)
    _add_to_periods(uow, read_at, grown)
    router.usage_sampled_at = read_at
    uow.session.flush()
    sample.cap_checks = cap_checks(uow, router_id)
    return sample


def _count(
    customer_id: int, reading: SessionReading, prior: _Prior | None, baseline: bool
) -> _Counted:
    continuing = (
        prior is not None
        and prior.session_key == reading.session_key
        and reading.uptime_seconds >= prior.uptime_seconds
    )
    if baseline:
        return _Counted(customer_id, reading, prior, continuing, 0, 0, False)
    if not continuing or prior is None:
        return _Counted(
            customer_id,
            reading,
            prior,
            False,
            reading.download_bytes,
            reading.upload_bytes,
            False,
        )
    download = _growth(reading.download_bytes, prior.download_bytes)
    upload = _growth(reading.upload_bytes, prior.upload_bytes)
    reset = (
        reading.download_bytes < prior.download_bytes or reading.upload_bytes < prior.upload_bytes
    )
    return _Counted(customer_id, reading, prior, True, download, upload, reset)


def _growth(current: int, last: int) -> int:
    # A counter below its last reading was reset: what it shows now is all new.
    return current - last if current >= last else current


def _customers_by_login(uow: UnitOfWork, router_id: int) -> dict[tuple[str, str], int]:
    rows = uow.session.execute(
        select(
            Customer.connection_type, Customer.username, Customer.account_number, Customer.id
        ).where(Customer.router_id == router_id, Customer.deleted_at.is_(None))
    )
    # A static customer's queue names them by account number (see SessionReading).
    return {
        (kind, account if kind == ConnectionType.STATIC else login): customer_id
        for kind, login, account, customer_id in rows
    }


def _priors(uow: UnitOfWork, router_id: int) -> dict[int, _Prior]:
    """The last reading of each customer now on this router (wherever it was read)."""
    readings = UsageReading
    rows = uow.session.execute(
        select(
            readings.customer_id,
            readings.session_key,
            readings.started_at,
            readings.uptime_seconds,
            readings.download_bytes,
            readings.upload_bytes,
            readings.sampled_at,
            readings.ended_at,
        )
        .join(Customer, Customer.id == readings.customer_id)
        .where(Customer.router_id == router_id)
    )
    return {row[0]: _Prior(*row[1:]) for row in rows}


def _write_readings(
    uow: UnitOfWork, router_id: int, read_at: datetime, counted: Sequence[_Counted]
) -> None:
    _upsert(
        uow,
        UsageReading,
        (_reading_row(router_id, read_at, item) for item in counted),
        replace=_READING_REPLACED,
    )


_READING_REPLACED = (
    "router_id",
    "session_key",
    "started_at",
    "address",
    "uptime_seconds",
    "download_bytes",
    "upload_bytes",
    "sampled_at",
    "previous_download_bytes",
    "previous_upload_bytes",
    "previous_sampled_at",
    "ended_at",
)


def _reading_row(router_id: int, read_at: datetime, item: _Counted) -> dict[str, Any]:
    reading, prior = item.reading, item.prior
    same = item.continuing and prior is not None
    started = (
        prior.started_at
        if same and prior is not None
        else read_at - timedelta(seconds=reading.uptime_seconds)
    )
    return {
        "customer_id": item.customer_id,
        "router_id": router_id,
        "session_key": reading.session_key[:32],
        "started_at": started,
        "address": reading.address[:45] if reading.address else None,
        "uptime_seconds": reading.uptime_seconds,
        "download_bytes": reading.download_bytes,
        "upload_bytes": reading.upload_bytes,
        "sampled_at": read_at,
        "previous_download_bytes": prior.download_bytes if same and prior else None,
        "previous_upload_bytes": prior.upload_bytes if same and prior else None,
        "previous_sampled_at": prior.sampled_at if same and prior else None,
        "ended_at": None,
    }


def _end_sessions(
    uow: UnitOfWork, priors: Mapping[int, _Prior], seen: set[int], read_at: datetime
) -> int:
    """Mark the sessions this sample no longer finds as ended; returns how many."""
    gone = [
        {"b_customer": customer_id}
        for customer_id, prior in priors.items()
        if customer_id not in seen and prior.ended_at is None
    ]
    if gone:
        table = _table(UsageReading)
        uow.session.execute(
            update(table)
            .where(table.c.customer_id == bindparam("b_customer"))
            .values(ended_at=bindparam("b_ended", type_=table.c.ended_at.type)),
            [{**row, "b_ended": read_at} for row in gone],
        )
    return len(gone)


def _add_daily(uow: UnitOfWork, day: date, grown: Sequence[_Counted]) -> None:
    rows = (
        {
            "customer_id": item.customer_id,
            "day": day,
            "download_bytes": item.download_bytes,
            "upload_bytes": item.upload_bytes,
        }
        for item in grown
    )
    _upsert(uow, DailyUsage, rows, add=["download_bytes", "upload_bytes"])


def _add_to_periods(uow: UnitOfWork, read_at: datetime, grown: Sequence[_Counted]) -> None:
    # A customer with no period yet (none renewed since usage was first recorded) starts one now.
    rows = (
        {
            "customer_id": item.customer_id,
            "started_at": read_at,
            "download_bytes": item.download_bytes,
            "upload_bytes": item.upload_bytes,
            "warned_at": None,
        }
        for item in grown
    )
    _upsert(uow, UsagePeriod, rows, add=["download_bytes", "upload_bytes"])


def _table(model: type[Any]) -> Table:
    table: Table = model.__table__
    return table


def _upsert(
    uow: UnitOfWork,
    model: type[Any],
    rows: Iterable[dict[str, Any]],
    *,
    replace: Iterable[str] = (),
    add: Iterable[str] = (),
) -> None:
    """Insert ``rows``; where the primary key exists, set the ``replace`` columns and add to the
    ``add`` columns. One statement per ``UPSERT_BATCH`` rows, each batch built only when it is
    sent (a sample of 100,000 sessions never holds all its rows at once); ``add`` happens in the
    database, so a concurrent reset (a renewal) is never overwritten with a stale total."""
    table = _table(model)
    statement: postgresql.Insert | sqlite.Insert
    if uow.session.get_bind().dialect.name == "postgresql":
        statement = postgresql.insert(table)
    else:
        statement = sqlite.insert(table)
    changes: dict[str, Any] = {column: statement.excluded[column] for column in replace}
    changes.update({column: table.c[column] + statement.excluded[column] for column in add})
    keys = [column.name for column in table.primary_key.columns]
    upsert = statement.on_conflict_do_update(index_elements=keys, set_=changes)
    for batch in batched(rows, UPSERT_BATCH):
        uow.session.execute(upsert, batch)


def cap_checks(uow: UnitOfWork, router_id: int) -> list[int]:
    """Customers of ``router_id`` whose cap state is due to change: past 80% and not warned, past
    the cap and not capped, or capped while under the cap (or the plan lost its cap)."""
    used = UsagePeriod.download_bytes + UsagePeriod.upload_bytes
    cap = Plan.data_cap_mb * 1_000_000
    due = or_(
        and_(
            Plan.data_cap_mb.is_not(None),
            used * 100 >= cap * CAP_WARNING_PERCENT,
            UsagePeriod.warned_at.is_(None),
        ),
        and_(Plan.data_cap_mb.is_not(None), used >= cap, Customer.data_capped_at.is_(None)),
        and_(
            Customer.data_capped_at.is_not(None),
            or_(Plan.data_cap_mb.is_(None), UsagePeriod.customer_id.is_(None), used < cap),
        ),
    )
    query = (
        select(Customer.id)
        .join(Plan, Plan.id == Customer.plan_id)
        .outerjoin(UsagePeriod, UsagePeriod.customer_id == Customer.id)
        .where(Customer.router_id == router_id, Customer.deleted_at.is_(None), due)
        .order_by(Customer.id)
    )
    return list(uow.session.scalars(query))


# -- the data cap ---------------------------------------------------------------------------------


class CapOutcome(enum.StrEnum):
    UNCHANGED = "unchanged"
    WARNED = "warned"
    CAPPED = "capped"
    LIFTED = "lifted"


def enforce_data_cap(uow: UnitOfWork, customer_id: int) -> CapOutcome:
    """Apply the plan's data cap to the customer's usage this period; the caller commits.

    At 80% the subscriber gets one SMS per period. At the cap the customer is moved to the plan's
    throttled profile, or blocked when the plan has no throttle, until the next renewal, and is
    told by SMS. A capped customer whose plan no longer caps them (a bigger cap, or none, after a
    plan change) gets their speed back.
    """
    customer = get_customer(uow, customer_id)
    plan = customer.plan
    period = uow.session.get(UsagePeriod, customer.id)
    used = period.used_bytes if period is not None else 0
    cap = plan.data_cap_bytes
    now = uow.clock.now()
    actor = Actor.system("data cap")
    if customer.data_capped_at is not None and (cap is None or used < cap):
        customer.data_capped_at = None
        mark_changed(uow, customer)
        audit.record(
            uow,
            actor,
            "customer.data_cap_lifted",
            customer=customer,
            reason=f"{data_amount(used)} used is within the plan's cap ({_cap_text(plan)})",
        )
        return CapOutcome.LIFTED
    if cap is None or period is None:
        return CapOutcome.UNCHANGED
    if used >= cap and customer.data_capped_at is None:
        customer.data_capped_at = now
        period.warned_at = period.warned_at or now
        mark_changed(uow, customer)
        throttle = plan.throttle_rate_limit
        audit.record(
            uow,
            actor,
            "customer.data_capped",
            customer=customer,
            after={"throttle": throttle or "blocked"},
            reason=f"{data_amount(used)} used of {_cap_text(plan)} since "
            f"{local_time(period.started_at, uow.config.timezone)}",
        )
        template = "data_cap_throttled" if throttle else "data_cap_blocked"
        _tell(uow, customer, plan, period, template, "100")
        return CapOutcome.CAPPED
    if used * 100 >= cap * CAP_WARNING_PERCENT and period.warned_at is None:
        period.warned_at = now
        _tell(uow, customer, plan, period, "data_cap_warning", str(CAP_WARNING_PERCENT))
        return CapOutcome.WARNED
    return CapOutcome.UNCHANGED


def cap_sms_kind(percent: str, period: UsagePeriod) -> str:
    """The SMS kind of a cap notice: unique per customer, threshold and period."""
    return f"{CAP_SMS_PREFIX}{percent}:{int(period.started_at.timestamp())}"


def _cap_text(plan: Plan) -> str:
    cap = plan.data_cap_bytes
    return data_amount(cap) if cap is not None else "no cap"


def _tell(
    uow: UnitOfWork,
    customer: Customer,
    plan: Plan,
    period: UsagePeriod,
    template: str,
    percent: str,
) -> None:
    if not customer.phone:
        return
    config = uow.config
    body = messages.render(
        template,
        language_of(uow, customer.phone),
        isp=config.isp_name,
        account=customer.account_number,
        plan=plan.name,
        used=data_amount(period.used_bytes),
        cap=_cap_text(plan),
        speed=f"{plan.throttle_download}bps" if plan.throttle_download else "",
        **contact_values(config),
    )
    queue_sms(uow, customer.phone, body, cap_sms_kind(percent, period), customer.id)
