"""A customer's records as the staff console's tabs list them: ledger lines with the balance
after each, every expiry extension, SMS both ways with their delivery status, and staff notes.

Read only; newest first. Paged lists take ``page`` from 0 and answer whether there is more.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, Protocol, TypeVar

from sqlalchemy import func, select

from core.errors import InvalidInput
from core.models import AuditEvent, ExpiryExtension, InboundSms, LedgerEntry, Payment, SmsMessage
from core.unit_of_work import UnitOfWork

PAGE_SIZE = 25
MAX_PAGE = 500
T = TypeVar("T")


class _Dated(Protocol):
    @property
    def at(self) -> datetime: ...


L = TypeVar("L", bound=_Dated)


@dataclass(frozen=True)
class Paged(Generic[T]):
    page: int
    lines: list[T]
    has_more: bool


@dataclass(frozen=True)
class LedgerLine:
    """One movement of money: ``amount_kes`` positive for a credit, negative for a charge;
    ``method`` and ``reference`` are the payment's (None for charges and adjustments)."""

    at: datetime
    kind: str
    description: str
    amount_kes: int
    method: str | None
    reference: str | None
    balance_after_kes: int
    actor: str


@dataclass(frozen=True)
class ExtensionLine:
    """Time given by staff: how much, why, by whom."""

    at: datetime
    added: timedelta
    reason: str
    actor: str


@dataclass(frozen=True)
class SmsLine:
    """A message either way. ``status`` is the delivery status of ours (queued, sent,
    delivered, failed) and "received" for theirs. Bodies are as stored (secrets masked)."""

    at: datetime
    direction: str  # "out" or "in"
    phone: str
    kind: str
    body: str
    status: str
    error: str | None = None


@dataclass(frozen=True)
class NoteLine:
    at: datetime
    author: str
    text: str


def check_page(page: int) -> int:
    """InvalidInput unless ``page`` (from 0) is one staff may ask for."""
    if page < 0 or page > MAX_PAGE:
        raise InvalidInput(f"a page is a number from 1 to {MAX_PAGE + 1}")
    return page


def ledger_lines(
    uow: UnitOfWork, customer_id: int, page: int = 0, size: int = PAGE_SIZE
) -> Paged[LedgerLine]:
    """Page ``page`` of the customer's ledger, each line with the balance once it was posted."""
    check_page(page)
    rows = uow.session.execute(
        select(LedgerEntry, Payment)
        .outerjoin(Payment, Payment.id == LedgerEntry.payment_id)
        .where(LedgerEntry.customer_id == customer_id)
        .order_by(LedgerEntry.id.desc())
        .offset(page * size)
        .limit(size + 1)
    ).all()
    shown = rows[:size]
    lines: list[LedgerLine] = []
    if shown:
        # Entries are summed in the order they were posted (by id).
        balance = int(
            uow.session.scalar(
                select(func.coalesce(func.sum(LedgerEntry.amount_kes), 0)).where(
                    LedgerEntry.customer_id == customer_id, LedgerEntry.id <= shown[0][0].id
                )
            )
            or 0
        )
        for entry, payment in shown:
            lines.append(
                LedgerLine(
                    at=entry.created_at,
                    kind=entry.kind,
                    description=entry.description,
                    amount_kes=entry.amount_kes,
                    method=payment.method if payment is not None else None,
                    reference=payment.reference if payment is not None else None,
                    balance_after_kes=balance,
                    actor=entry.actor,
                )
            )
            balance -= entry.amount_kes
    return Paged(page, lines, len(rows) > size)


def extension_lines(
    uow: UnitOfWork, customer_id: int, limit: int | None = None
) -> list[ExtensionLine]:
    """The time staff added to the customer's expiry, newest first (all, or ``limit``)."""
    query = (
        select(ExpiryExtension)
        .where(ExpiryExtension.customer_id == customer_id)
        .order_by(ExpiryExtension.id.desc())
    )
    if limit is not None:
        query = query.limit(limit)
    return [
        ExtensionLine(
            extension.created_at,
            extension.new_expires_at
            - max(extension.previous_expires_at or extension.created_at, extension.created_at),
            extension.reason,
            extension.actor,
        )
        for extension in uow.session.scalars(query)
    ]


def sms_lines(
    uow: UnitOfWork, customer_id: int, page: int = 0, size: int = PAGE_SIZE
) -> Paged[SmsLine]:
    """Page ``page`` of the SMS we sent the customer and they sent us, merged by time."""
    check_page(page)
    wanted = (page + 1) * size + 1
    outbound = [
        SmsLine(
            message.created_at,
            "out",
            message.phone,
            message.kind,
            message.body,
            message.status,
            message.error,
        )
        for message in sent_sms(uow, customer_id, wanted)
    ]
    inbound = [
        SmsLine(message.received_at, "in", message.phone, message.command, message.text, "received")
        for message in received_sms(uow, customer_id, wanted)
    ]
    shown, has_more = newest_page(outbound + inbound, page, size)
    return Paged(page, shown, has_more)


def sent_sms(uow: UnitOfWork, customer_id: int, limit: int) -> Sequence[SmsMessage]:
    """The newest ``limit`` SMS we sent the customer, newest first."""
    return uow.session.scalars(
        select(SmsMessage)
        .where(SmsMessage.customer_id == customer_id)
        .order_by(SmsMessage.created_at.desc(), SmsMessage.id.desc())
        .limit(limit)
    ).all()


def received_sms(uow: UnitOfWork, customer_id: int, limit: int) -> Sequence[InboundSms]:
    """The newest ``limit`` SMS the customer sent us, newest first."""
    return uow.session.scalars(
        select(InboundSms)
        .where(InboundSms.customer_id == customer_id)
        .order_by(InboundSms.received_at.desc(), InboundSms.id.desc())
        .limit(limit)
    ).all()


def newest_page(lines: list[L], page: int, size: int) -> tuple[list[L], bool]:
    """Page ``page`` (from 0) of ``lines`` merged from several sources, newest first, and
    whether there is more after it."""
    merged = sorted(lines, key=lambda line: line.at, reverse=True)
    start = page * size
    return merged[start : start + size], len(merged) > start + size


def note_lines(uow: UnitOfWork, customer_id: int, limit: int = 200) -> list[NoteLine]:
    """The dated notes staff kept on the customer (``add_note``), newest first."""
    events = uow.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.customer_id == customer_id, AuditEvent.action == "customer.note")
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(limit)
    )
    return [
        NoteLine(event.at, event.actor_name, str((event.after or {}).get("note", "")))
        for event in events
    ]
