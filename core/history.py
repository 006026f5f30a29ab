"""A customer's history for staff: money, service changes, SMS and the audit trail, newest first.

Read only. Each tab merges its sources by time and pages through them; a page asks every source
for at most ``(page + 1) * size + 1`` rows, so paging stays cheap for a customer's lifetime.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select

from core.customer_records import MAX_PAGE, newest_page, received_sms, sent_sms
from core.display import kes
from core.models import AuditEvent, Payment
from core.unit_of_work import UnitOfWork

PAGE_SIZE = 8


class HistoryTab(StrEnum):
    ALL = "all"
    PAYMENTS = "payments"
    SERVICE = "service"
    SMS = "sms"
    AUDIT = "audit"


# Audit actions that change what the customer gets (the "service" tab).
SERVICE_ACTIONS = (
    "customer.create",
    "customer.suspend",
    "customer.unsuspend",
    "customer.extend",
    "customer.plan.now",
    "customer.plan.renewal",
    "customer.renew",
    "customer.expire",
    "customer.debt",
    "customer.disconnect",
    "customer.password",
    "customer.delete",
)


@dataclass(frozen=True)
class HistoryLine:
    """One thing that happened. ``kind`` is payment, service, sms or audit."""

    at: datetime
    kind: str
    summary: str
    by: str | None = None


@dataclass(frozen=True)
class HistoryPage:
    tab: HistoryTab
    page: int
    lines: list[HistoryLine]
    has_more: bool


def customer_history(
    uow: UnitOfWork,
    customer_id: int,
    tab: HistoryTab = HistoryTab.ALL,
    page: int = 0,
    size: int = PAGE_SIZE,
) -> HistoryPage:
    """Page ``page`` (from 0) of the customer's ``tab``, newest first."""
    page = max(0, min(page, MAX_PAGE))
    wanted = (page + 1) * size + 1
    lines: list[HistoryLine] = []
    if tab is HistoryTab.PAYMENTS:
        lines += _payments(uow, customer_id, wanted)
    if tab in (HistoryTab.ALL, HistoryTab.SERVICE, HistoryTab.AUDIT):
        lines += _audit(uow, customer_id, wanted, tab)
    if tab in (HistoryTab.ALL, HistoryTab.SMS):
        lines += _sms(uow, customer_id, wanted)
    shown, has_more = newest_page(lines, page, size)
    return HistoryPage(tab, page, shown, has_more)


def _payments(uow: UnitOfWork, customer_id: int, limit: int) -> list[HistoryLine]:
    rows = uow.session.scalars(
        select(Payment)
        .where(Payment.customer_id == customer_id)
        .order_by(Payment.received_at.desc(), Payment.id.desc())
        .limit(limit)
    )
    return [
        HistoryLine(
            payment.received_at,
            "payment",
            f"{kes(payment.amount_kes)} {payment.method}"
            + (f" {payment.reference}" if payment.reference else ""),
            payment.recorded_by,
        )
        for payment in rows
    ]


def _audit(uow: UnitOfWork, customer_id: int, limit: int, tab: HistoryTab) -> list[HistoryLine]:
    query = select(AuditEvent).where(AuditEvent.customer_id == customer_id)
    if tab is HistoryTab.SERVICE:
        query = query.where(AuditEvent.action.in_(SERVICE_ACTIONS))
    rows = uow.session.scalars(
        query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)
    )
    kind = "audit" if tab is HistoryTab.AUDIT else None
    return [
        HistoryLine(
            event.at,
            kind or ("payment" if event.action.startswith("payment.") else "service"),
            describe_audit(event.action, event.before, event.after, event.reason, tab),
            f"{event.actor_kind}:{event.actor_name}",
        )
        for event in rows
    ]


_WORDS = {
    "customer.create": "customer added",
    "customer.suspend": "suspended",
    "customer.unsuspend": "unsuspended",
    "customer.extend": "expiry extended",
    "customer.plan.now": "plan changed now",
    "customer.plan.renewal": "plan change at next renewal",
    "customer.renew": "renewed",
    "customer.expire": "expired",
    "customer.debt": "debt recorded",
    "customer.disconnect": "disconnected (session dropped)",
    "customer.password": "password changed",
    "customer.delete": "deleted",
    "customer.edit": "details edited",
    "customer.sms": "SMS sent by staff",
    "customer.payment_details": "payment details sent by SMS",
    "customer.login_sent": "login sent by SMS",
    "customer.password_shown": "password shown to staff",
    "customer.note": "note",
    "payment.record": "payment credited",
    "mpesa.stk_request": "M-Pesa prompt (STK push) requested",
    "ticket.open": "problem reported",
    "ticket.assign": "ticket assigned",
    "ticket.comment": "ticket comment",
    "ticket.close": "ticket closed",
    "ticket.reopen": "ticket reopened",
}


def describe_audit(
    action: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    reason: str | None,
    tab: HistoryTab = HistoryTab.ALL,
) -> str:
    """A short phrase for an audit event; the audit tab adds the changed fields."""
    text = _WORDS.get(action, action)
    if action == "payment.record" and after:
        text += f": {kes(int(after.get('amount_kes') or 0))} {after.get('method', '')}"
        if after.get("reference"):
            text += f" {after['reference']}"
    elif action == "mpesa.stk_request" and after:
        text += f": {kes(int(after.get('amount_kes') or 0))}"
    elif action == "customer.note" and after:
        return f"{text}: {after.get('note')}"
    if reason:
        text += f" ({reason})"
    if tab is HistoryTab.AUDIT and (before or after):
        changes = [
            f"{key} {(before or {}).get(key)!s} → {(after or {}).get(key)!s}"
            for key in sorted(set(before or {}) | set(after or {}))
        ]
        text += "; " + ", ".join(changes)
    return text


def _sms(uow: UnitOfWork, customer_id: int, limit: int) -> list[HistoryLine]:
    outbound = [
        HistoryLine(message.created_at, "sms", f"SMS out ({message.status}): {message.body}")
        for message in sent_sms(uow, customer_id, limit)
    ]
    inbound = [
        HistoryLine(message.received_at, "sms", f"SMS in: {message.text}", message.phone)
        for message in received_sms(uow, customer_id, limit)
    ]
    return outbound + inbound
