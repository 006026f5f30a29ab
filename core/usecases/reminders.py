"""Expiry reminders and the expired notice: SMS nobody asked for, so sent with care.

- A reminder goes out when the time left drops below one of the policy's offsets (default 3 days
  and 1 day). If several are due (the customer renewed late, or the night held one back), only
  the nearest is sent. An offset as long as the plan's validity is skipped: a daily hotspot
  plan gets no "1 day left" message the moment it is bought.
- Nothing goes out outside the sending hours (default 08:00-20:00 local time): a reminder due at
  night waits for the morning, and is dropped if the next one is due by then.
- A phone that sent STOP gets neither reminders nor the expired notice; receipts, replies and
  STK explanations are not reminders and always go out.
- An auto-renew customer whose credit already covers the renewal is not reminded.
- Each (customer, expiry instant, offset) is sent once: the SMS kind carries the key, so a
  rerun, or a second scheduler by mistake, finds it already queued.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from core import messages
from core.contacts import contact_values
from core.display import local_time
from core.models import Customer, LedgerEntry, PhonePreference, Plan, SmsMessage
from core.unit_of_work import UnitOfWork
from core.usecases.sms import queue_sms
from core.vocabulary import Status

REMINDER_PREFIX = "reminder:"
EXPIRED_PREFIX = "expired:"
EXPIRED_NOTICE_WITHIN = timedelta(hours=24)


@dataclass(frozen=True)
class ReminderPolicy:
    """When reminders go out. ``offsets_days`` largest first; hours are local, [start, end)."""

    offsets_days: tuple[int, ...] = (3, 1)
    start_hour: int = 8
    end_hour: int = 20

    def __post_init__(self) -> None:
        if not 0 <= self.start_hour < self.end_hour <= 24:
            raise ValueError("reminder hours must satisfy 0 <= start < end <= 24")
        if any(days < 1 for days in self.offsets_days):
            raise ValueError("reminder offsets are whole days of 1 or more")

    def sending_hours(self, now: datetime, zone: ZoneInfo) -> bool:
        """Whether ``now`` is inside the local hours in which reminders may go out."""
        return self.start_hour <= now.astimezone(zone).hour < self.end_hour


def reminder_due(
    expires_at: datetime, now: datetime, offsets_days: Iterable[int], validity_hours: int
) -> int | None:
    """The offset (days) whose reminder is due at ``now``, the nearest if several; None if none."""
    remaining = expires_at - now
    if remaining <= timedelta(0):
        return None
    due = [
        days
        for days in offsets_days
        if remaining <= timedelta(days=days) and validity_hours > days * 24
    ]
    return min(due) if due else None


def reminder_kind(days: int, expires_at: datetime) -> str:
    """The SMS kind that marks this reminder as sent (at most 32 characters)."""
    return f"{REMINDER_PREFIX}{days}d:{int(expires_at.timestamp())}"


def expired_kind(expires_at: datetime) -> str:
    return f"{EXPIRED_PREFIX}{int(expires_at.timestamp())}"


@dataclass(frozen=True)
class Notice:
    """One SMS due to one customer: ``template`` is a key of core.messages."""

    customer_id: int
    phone: str
    kind: str
    template: str
    values: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Candidate:
    customer: Customer
    plan_name: str
    renewal_price_kes: int
    current_validity_hours: int
    balance_kes: int


def due_notices(uow: UnitOfWork, policy: ReminderPolicy) -> list[Notice]:
    """Every reminder and expired notice due now (empty outside the sending hours)."""
    now = uow.clock.now()
    if not policy.sending_hours(now, uow.config.timezone):
        return []
    horizon = timedelta(days=max(policy.offsets_days, default=0))
    candidates = _candidates(uow, now, horizon) if policy.offsets_days else []
    candidates += _candidates(uow, now, None)
    if not candidates:
        return []
    sent = _already_sent(
        uow, {c.customer.id for c in candidates}, now - horizon - timedelta(days=2)
    )
    stopped = _stopped_phones(uow, {c.customer.phone or "" for c in candidates})
    notices: list[Notice] = []
    for candidate in candidates:
        notice = _notice_for(uow, candidate, now, policy)
        if notice is None or notice.kind in sent.get(notice.customer_id, ()):
            continue
        if notice.phone in stopped:
            continue
        notices.append(notice)
    return notices


def queue_notices(uow: UnitOfWork, notices: Sequence[Notice]) -> int:
    """Queue ``notices`` in each phone's language; skip any already queued. Returns how many."""
    if not notices:
        return 0
    customer_ids = {notice.customer_id for notice in notices}
    sent = _already_sent(uow, customer_ids, uow.clock.now() - timedelta(days=62))
    languages = _languages(uow, {notice.phone for notice in notices})
    queued = 0
    for notice in notices:
        if notice.kind in sent.get(notice.customer_id, ()):
            continue
        language = languages.get(notice.phone, "en")
        body = messages.render(notice.template, language, **notice.values)
        queue_sms(uow, notice.phone, body, notice.kind, notice.customer_id)
        queued += 1
    return queued


def _candidates(uow: UnitOfWork, now: datetime, horizon: timedelta | None) -> list[_Candidate]:
    """Active customers ending within ``horizon``, or (None) those expired in the last day."""
    renewal = aliased(Plan)
    current = aliased(Plan)
    balance = (
        select(LedgerEntry.customer_id, func.sum(LedgerEntry.amount_kes).label("kes"))
        .group_by(LedgerEntry.customer_id)
        .subquery()
    )
    query = (
        select(Customer, renewal.name, renewal.price_kes, current.validity_hours, balance.c.kes)
        .join(current, current.id == Customer.plan_id)
        .join(renewal, renewal.id == func.coalesce(Customer.pending_plan_id, Customer.plan_id))
        .outerjoin(balance, balance.c.customer_id == Customer.id)
        .where(Customer.deleted_at.is_(None), Customer.phone.is_not(None))
    )
    if horizon is not None:
        query = query.where(
            Customer.status == Status.ACTIVE.value,
            Customer.expires_at > now,
            Customer.expires_at <= now + horizon,
        )
    else:
        query = query.where(
            Customer.status == Status.EXPIRED.value,
            Customer.expires_at > now - EXPIRED_NOTICE_WITHIN,
            Customer.expires_at <= now,
        )
    return [
        _Candidate(customer, name, int(price), int(hours), int(kes or 0))
        for customer, name, price, hours, kes in uow.session.execute(query)
    ]


def _notice_for(
    uow: UnitOfWork, candidate: _Candidate, now: datetime, policy: ReminderPolicy
) -> Notice | None:
    customer = candidate.customer
    assert customer.expires_at is not None and customer.phone is not None
    shortfall = max(0, candidate.renewal_price_kes - candidate.balance_kes)
    config = uow.config
    values = {
        "isp": config.isp_name,
        "plan": candidate.plan_name,
        "account": customer.account_number,
        "expires": local_time(customer.expires_at, config.timezone),
        "amount": f"{shortfall or candidate.renewal_price_kes:,}",
        **contact_values(config),
    }
    if customer.status == Status.EXPIRED:
        kind, template = expired_kind(customer.expires_at), "expired_notice"
    else:
        if customer.auto_renew and shortfall == 0:
            return None  # the credit renews it at expiry; nothing to ask for
        days = reminder_due(
            customer.expires_at, now, policy.offsets_days, candidate.current_validity_hours
        )
        if days is None:
            return None
        kind, template = reminder_kind(days, customer.expires_at), "reminder"
    return Notice(customer.id, customer.phone, kind, template, values)


def _already_sent(uow: UnitOfWork, customer_ids: set[int], since: datetime) -> dict[int, set[str]]:
    sent: dict[int, set[str]] = {}
    ids = sorted(customer_ids)
    for start in range(0, len(ids), 500):
        rows = uow.session.execute(
            select(SmsMessage.customer_id, SmsMessage.kind).where(
                SmsMessage.customer_id.in_(ids[start : start + 500]),
                SmsMessage.created_at > since,
                (SmsMessage.kind.like(REMINDER_PREFIX + "%"))
                | (SmsMessage.kind.like(EXPIRED_PREFIX + "%")),
            )
        )
        for customer_id, kind in rows:
            if customer_id is not None:
                sent.setdefault(customer_id, set()).add(kind)
    return sent


def _stopped_phones(uow: UnitOfWork, phones: set[str]) -> set[str]:
    return {row.phone for row in _preference_rows(uow, phones) if not row.reminders_enabled}


def _languages(uow: UnitOfWork, phones: set[str]) -> dict[str, str]:
    return {
        preference.phone: messages.as_language(preference.language)
        for preference in _preference_rows(uow, phones)
    }


def _preference_rows(uow: UnitOfWork, phones: set[str]) -> list[PhonePreference]:
    ordered = sorted(phones)
    rows: list[PhonePreference] = []
    for start in range(0, len(ordered), 500):
        rows += uow.session.scalars(
            select(PhonePreference).where(PhonePreference.phone.in_(ordered[start : start + 500]))
        )
    return rows
