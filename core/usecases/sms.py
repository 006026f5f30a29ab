"""Queueing SMS for subscribers; a job sends them through the SmsGateway.

A message that carries a secret (the welcome SMS's login password) is stored with SECRET_MASK
in its place and the secret encrypted beside it. The send job fills the secret in just before
calling the provider; once the send is over (sent, refused or given up) the encrypted copy is
dropped. So the outbox, the staff's SMS history and a database backup never hold it in clear.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update

from core.errors import InvalidInput
from core.events import SmsQueued
from core.models import SmsMessage
from core.ports import SmsSent
from core.unit_of_work import UnitOfWork
from core.usecases.sms_history import apply_pending_reports

SECRET_MASK = "\u2022" * 6  # "••••••": what staff see where a password goes

# A message is claimed ("sending") before the provider is called, so two workers holding the same
# job (a re-enqueued one, say) can never both send it.
SENDING = "sending"


def queue_sms(
    uow: UnitOfWork,
    phone: str,
    body: str,
    kind: str,
    customer_id: int | None = None,
    *,
    secret: str | None = None,
    claimed: bool = False,
) -> SmsMessage:
    """Add a message to the outbox in this transaction; it is sent after commit.

    With ``secret``, ``body`` holds SECRET_MASK where the secret goes (once).
    ``claimed``: the caller, a job, sends it itself once this commits, so no send job is
    queued; it is stored already claimed ("sending"). Should the caller die before the send is
    recorded, the sweep gives the message back to the queue after RECLAIM_AFTER.
    """
    if secret is not None and body.count(SECRET_MASK) != 1:
        # Another mask in the text (a name typed with "••••••") would make the send fill in the
        # wrong place: refuse the message rather than send it wrong.
        raise InvalidInput(f"a message carrying a secret cannot contain {SECRET_MASK!r} itself")
    message = SmsMessage(
        customer_id=customer_id,
        phone=phone,
        kind=kind,
        body=body,
        secret_encrypted=uow.cipher.encrypt(secret) if secret is not None else None,
        status=SENDING if claimed else "queued",
        sent_at=uow.clock.now() if claimed else None,
        created_at=uow.clock.now(),
    )
    uow.session.add(message)
    uow.session.flush()
    if not claimed:
        uow.publish(SmsQueued(message.id))
    return message


# Queued this long without a send: its job was lost (queue down, dispatch failed); enqueue again.
RESEND_AFTER = timedelta(minutes=2)
# Claimed this long without a result: the worker died mid-send; at-least-once, so send again.
RECLAIM_AFTER = timedelta(minutes=15)
# Older than this, a notice is stale ("ends tomorrow" a week later): give up on it instead.
GIVE_UP_AFTER = timedelta(days=1)


@dataclass(frozen=True)
class ClaimedSms:
    """A message this caller owns the sending of, and the text to send (with its secret filled
    in, if it has one)."""

    message_id: int
    phone: str
    body: str


def claim_for_sending(uow: UnitOfWork, message_id: int) -> ClaimedSms | None:
    """The message, if this caller now owns the sending of it (it was queued), else None."""
    claimed = uow.session.execute(
        update(SmsMessage)
        .where(SmsMessage.id == message_id, SmsMessage.status == "queued")
        .values(status=SENDING, sent_at=uow.clock.now())
    )
    if getattr(claimed, "rowcount", 0) != 1:
        return None
    row = uow.session.execute(
        select(SmsMessage.phone, SmsMessage.body, SmsMessage.secret_encrypted).where(
            SmsMessage.id == message_id
        )
    ).one()
    body = row.body
    if row.secret_encrypted is not None:
        body = body.replace(SECRET_MASK, uow.cipher.decrypt(row.secret_encrypted), 1)
    return ClaimedSms(message_id, row.phone, body)


def release_claim(uow: UnitOfWork, message_id: int) -> None:
    """The provider could not be reached: the message waits in the queue again for a retry."""
    uow.session.execute(
        update(SmsMessage)
        .where(SmsMessage.id == message_id, SmsMessage.status == SENDING)
        .values(status="queued", sent_at=None)
    )


def messages_to_resend(uow: UnitOfWork, limit: int = 500) -> list[int]:
    """Ids of messages whose send job was lost; stale ones are marked failed instead."""
    now = uow.clock.now()
    uow.session.execute(
        update(SmsMessage)
        .where(
            SmsMessage.status.in_(("queued", SENDING)),
            SmsMessage.created_at < now - GIVE_UP_AFTER,
        )
        .values(
            status="failed",
            error="not sent within a day; dropped as out of date",
            secret_encrypted=None,
        )
    )
    uow.session.execute(
        update(SmsMessage)
        .where(SmsMessage.status == SENDING, SmsMessage.sent_at < now - RECLAIM_AFTER)
        .values(status="queued", sent_at=None)
    )
    return list(
        uow.session.scalars(
            select(SmsMessage.id)
            .where(SmsMessage.status == "queued", SmsMessage.created_at < now - RESEND_AFTER)
            .order_by(SmsMessage.id)
            .limit(limit)
        )
    )


def record_sent(uow: UnitOfWork, message_id: int, result: SmsSent) -> None:
    """Keep what the provider answered for a send: its id, cost and status. A delivery report
    that came first already moved the status on; reports that came before the provider's id
    was known are applied now."""
    stored = uow.session.get(SmsMessage, message_id)
    if stored is None:
        return
    if stored.status in ("queued", SENDING):
        stored.status = result.status
    stored.secret_encrypted = None  # the send is over; a new login is sent as a new message
    stored.provider_message_id = result.provider_message_id
    stored.cost = result.cost
    stored.error = result.error
    stored.sent_at = uow.clock.now()
    apply_pending_reports(uow, stored)
