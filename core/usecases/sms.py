"""Queueing SMS for subscribers; a job sends them through the SmsGateway."""

from __future__ import annotations

from core.events import SmsQueued
from core.models import SmsMessage
from core.unit_of_work import UnitOfWork


def queue_sms(
    uow: UnitOfWork, phone: str, body: str, kind: str, customer_id: int | None = None
) -> SmsMessage:
    """Add a message to the outbox in this transaction; it is sent after commit."""
    message = SmsMessage(
        customer_id=customer_id,
        phone=phone,
        kind=kind,
        body=body,
        status="queued",
        created_at=uow.clock.now(),
    )
    uow.session.add(message)
    uow.session.flush()
    uow.publish(SmsQueued(message.id))
    return message
