"""The SMS traffic we keep: messages subscribers send us, delivery reports on the ones we sent.

(core.history shows both directions to staff as the customer's SMS history.)
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import select

from core.models import InboundSms, SmsMessage
from core.unit_of_work import UnitOfWork

MAX_STORED_TEXT = 2000


class Delivery(StrEnum):
    """What a provider's delivery report means for one of our messages."""

    SENT = "sent"  # still on its way (submitted, buffered at the network)
    DELIVERED = "delivered"
    FAILED = "failed"


class DeliveryOutcome(StrEnum):
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    UNKNOWN_MESSAGE = "unknown_message"


def record_delivery(
    uow: UnitOfWork, provider_message_id: str, delivery: Delivery, reason: str | None = None
) -> DeliveryOutcome:
    """Apply a delivery report to the message the provider knows as ``provider_message_id``.

    Delivered is final: a late "sent" or a repeated report changes nothing. A failure may still
    turn into a delivery when the provider retries.
    """
    message = uow.session.scalars(
        select(SmsMessage).where(SmsMessage.provider_message_id == provider_message_id).limit(1)
    ).first()
    if message is None:
        return DeliveryOutcome.UNKNOWN_MESSAGE
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
    """Keep a message a subscriber sent (the caller checked it is not a repeat)."""
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
