"""The SMS traffic we keep: messages subscribers send us, delivery reports on the ones we sent.

(core.history shows both directions to staff as the customer's SMS history.)
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from sqlalchemy import delete, select, text

from core.errors import CustomerNotFound
from core.lookup import get_customer
from core.models import InboundSms, PendingDeliveryReport, SmsMessage
from core.unit_of_work import UnitOfWork

MAX_STORED_TEXT = 2000
# A report still unmatched after this long was about a message this mteja never sent.
PENDING_REPORT_LIFETIME = timedelta(days=2)


class Delivery(StrEnum):
    """What a provider's delivery report means for one of our messages."""

    SENT = "sent"  # still on its way (submitted, buffered at the network)
    DELIVERED = "delivered"
    FAILED = "failed"


class DeliveryOutcome(StrEnum):
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    PENDING = "pending"  # no message has that id yet: kept until the send job stores it


def record_delivery(
    uow: UnitOfWork, provider_message_id: str, delivery: Delivery, reason: str | None = None
) -> DeliveryOutcome:
    """Apply a delivery report to the message the provider knows as ``provider_message_id``.

    Delivered is final: a late "sent" or a repeated report changes nothing. A failure may still
    turn into a delivery when the provider retries.
    """
    _serialize_on(uow, provider_message_id)
    message = uow.session.scalars(
        select(SmsMessage).where(SmsMessage.provider_message_id == provider_message_id).limit(1)
    ).first()
    if message is None:
        _keep_for_later(uow, provider_message_id, delivery, reason)
        return DeliveryOutcome.PENDING
    return _apply(uow, message, delivery, reason)


def apply_pending_reports(uow: UnitOfWork, message: SmsMessage) -> None:
    """Apply, in arrival order, the reports that came before ``message`` had its provider id."""
    if message.provider_message_id is None:
        return
    _serialize_on(uow, message.provider_message_id)
    pending = list(
        uow.session.scalars(
            select(PendingDeliveryReport)
            .where(PendingDeliveryReport.provider_message_id == message.provider_message_id)
            .order_by(PendingDeliveryReport.id)
        )
    )
    for report in pending:
        _apply(uow, message, Delivery(report.status), report.reason)
        uow.session.delete(report)


def _serialize_on(uow: UnitOfWork, provider_message_id: str) -> None:
    """Make a report and the send job's write of the same id take turns.

    Without it, on PostgreSQL, a report could miss the message (not yet committed) while the send
    job misses the report (not yet committed either), and the report would wait forever. SQLite
    already runs one writer at a time (BEGIN IMMEDIATE).
    """
    if uow.session.get_bind().dialect.name == "postgresql":
        uow.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:id))"), {"id": provider_message_id}
        )


def _keep_for_later(
    uow: UnitOfWork, provider_message_id: str, delivery: Delivery, reason: str | None
) -> None:
    now = uow.clock.now()
    # Purging here keeps the table bounded without another periodic task.
    uow.session.execute(
        delete(PendingDeliveryReport).where(
            PendingDeliveryReport.received_at < now - PENDING_REPORT_LIFETIME
        )
    )
    uow.session.add(
        PendingDeliveryReport(
            provider_message_id=provider_message_id,
            status=delivery.value,
            reason=(reason or None) and reason[:500],
            received_at=now,
        )
    )


def _apply(
    uow: UnitOfWork, message: SmsMessage, delivery: Delivery, reason: str | None
) -> DeliveryOutcome:
    if message.status == Delivery.DELIVERED or message.status == delivery:
        return DeliveryOutcome.UNCHANGED
    if delivery is Delivery.SENT and message.status == Delivery.FAILED:
        return DeliveryOutcome.UNCHANGED
    message.status = delivery.value
    if delivery is Delivery.DELIVERED:
        message.delivered_at = uow.clock.now()
        message.error = None
    elif delivery is Delivery.FAILED:
        message.error = (reason or "failed")[:500]
    return DeliveryOutcome.UPDATED


def already_received(uow: UnitOfWork, provider_id: str) -> bool:
    """Whether the provider already delivered the inbound message ``provider_id`` to us."""
    found = uow.session.scalar(select(InboundSms.id).where(InboundSms.provider_id == provider_id))
    return found is not None


def record_inbound(
    uow: UnitOfWork,
    *,
    provider_id: str | None,
    phone: str,
    text: str,
    command: str,
    customer_id: int | None,
    short_code: str | None = None,
) -> InboundSms:
    """Keep a message a subscriber sent (the caller checked it is not a repeat).

    The message's customer is locked first. The row's foreign key would otherwise take a share
    lock on the customer, and a PAY in the same transaction then asks for FOR UPDATE: two texts
    from one phone at once each held the share lock the other's FOR UPDATE waited for (a
    deadlock on PostgreSQL). A customer deleted meanwhile leaves the message without one.
    """
    if customer_id is not None:
        try:
            get_customer(uow, customer_id)
        except CustomerNotFound:
            customer_id = None
    inbound = InboundSms(
        provider_id=provider_id or None,
        phone=phone,
        customer_id=customer_id,
        short_code=(short_code or None) and short_code[:20],
        text=text[:MAX_STORED_TEXT],
        command=command[:16],
        received_at=uow.clock.now(),
    )
    uow.session.add(inbound)
    uow.session.flush()
    return inbound
