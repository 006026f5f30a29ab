"""Stored M-Pesa callbacks: keep every body before parsing, record how each was handled, and
retry the ones whose handling raised, each on its own backoff, until staff are given them.

One bad row never holds back the others: a failed handling pushes that row's next try further
away (1, 2, 4 … minutes), the replay takes the rows that are due with the fewest tries first,
and after ``MAX_ATTEMPTS`` the row is "failed" and flagged for staff.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, or_, select, update

from core import audit
from core.actors import Actor, Permission, require
from core.errors import InvalidInput, InvalidTransition
from core.events import CallbackFlagged
from core.models import MpesaCallback
from core.unit_of_work import UnitOfWork

MAX_STORED_BODY = 64 * 1024
MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=2)
# Statuses that wait for staff; they are listed in the needs-attention queue.
FOR_STAFF = ("malformed", "flagged", "failed")


def store_callback(
    uow: UnitOfWork, kind: str, body: bytes, remote_address: str | None
) -> MpesaCallback:
    """Keep a callback exactly as it came (up to 64 KiB), whatever its bytes, before anything
    else happens."""
    kept = bytes(body[:MAX_STORED_BODY])
    callback = MpesaCallback(
        kind=kind,
        received_at=uow.clock.now(),
        remote_address=(remote_address or "")[:64] or None,
        body=readable(kept),
        raw=kept,
        truncated=len(body) > MAX_STORED_BODY,
        status="received",
    )
    uow.session.add(callback)
    uow.session.flush()
    return callback


def readable(body: bytes) -> str:
    """The body as text for people (and for databases that refuse NUL in text)."""
    return body.decode("utf-8", errors="replace").replace("\x00", "\ufffd")


def raw_body(callback: MpesaCallback) -> bytes:
    """The bytes that came (rows stored before the raw column have only the text)."""
    return callback.raw if callback.raw is not None else callback.body.encode("utf-8")


def finish_callback(
    uow: UnitOfWork,
    callback_id: int,
    status: str,
    *,
    reference: str | None = None,
    error: str | None = None,
) -> None:
    """Record how a stored callback was handled, once; what is left for staff alerts them.

    One conditional UPDATE, not a read and a write: every paybill confirmation comes through
    here, and only a row still "received" is finished (a replay that raced the route, or
    staff who resolved it first, leave it as it is)."""
    finished = uow.session.execute(
        update(MpesaCallback)
        .where(MpesaCallback.id == callback_id, MpesaCallback.status == "received")
        .values(
            status=status,
            reference=reference[:64] if reference else None,
            error=error,
            processed_at=uow.clock.now(),
            next_attempt_at=None,
        )
        # No ORM bookkeeping: the handling paths never read the row's status afterwards, and
        # synchronizing loaded objects cost more CPU than the UPDATE itself.
        .execution_options(synchronize_session=False)
    )
    if cast(CursorResult[Any], finished).rowcount and status in FOR_STAFF:
        uow.publish(CallbackFlagged(callback_id, error or status))


def note_waiting(uow: UnitOfWork, callback_id: int, reference: str) -> None:
    """The callback waits for its push's CheckoutRequestID; remember which one it wants."""
    callback = uow.session.get(MpesaCallback, callback_id)
    if callback is not None and callback.status == "received":
        callback.reference = reference[:64]


def record_failed_attempt(uow: UnitOfWork, callback_id: int, error: str) -> bool:
    """Handling raised: try again later, or give the callback to staff after MAX_ATTEMPTS.
    True when it was given up."""
    callback = uow.session.scalars(
        select(MpesaCallback).where(MpesaCallback.id == callback_id).with_for_update()
    ).first()
    if callback is None or callback.status != "received":
        return False
    callback.attempts += 1
    callback.error = error[:2000]
    if callback.attempts >= MAX_ATTEMPTS:
        finish_callback(
            uow,
            callback_id,
            "failed",
            reference=callback.reference,
            error=f"handling failed {callback.attempts} times; last: {error[:500]}",
        )
        return True
    callback.next_attempt_at = uow.clock.now() + retry_delay(callback.attempts)
    return False


def retry_delay(attempts: int) -> timedelta:
    """1, 2, 4 … minutes after the first, second, third failure, at most two hours."""
    delay: timedelta = FIRST_RETRY * (2 ** (attempts - 1))
    return min(delay, LONGEST_RETRY)


@dataclass(frozen=True)
class StoredCallback:
    id: int
    kind: str
    body: bytes


def callbacks_due(
    uow: UnitOfWork,
    *,
    kinds: tuple[str, ...],
    limit: int,
    older_than: timedelta | None = None,
) -> list[StoredCallback]:
    """Stored callbacks of ``kinds`` never finished whose next try is due (a row waiting out
    its backoff is left alone), received more than ``older_than`` ago: the fewest tries first,
    then the oldest, so a row that keeps failing never starves a newer one."""
    now = uow.clock.now()
    query = select(MpesaCallback).where(
        MpesaCallback.status == "received",
        MpesaCallback.kind.in_(kinds),
        or_(MpesaCallback.next_attempt_at.is_(None), MpesaCallback.next_attempt_at <= now),
    )
    if older_than is not None:
        query = query.where(MpesaCallback.received_at < now - older_than)
    rows = uow.session.scalars(
        query.order_by(MpesaCallback.attempts, MpesaCallback.id).limit(limit)
    )
    return [StoredCallback(row.id, row.kind, raw_body(row)) for row in rows]


# -- for staff -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallbackForStaff:
    id: int
    kind: str
    status: str
    received_at: datetime
    reference: str | None
    error: str | None
    excerpt: str


def callbacks_for_staff(uow: UnitOfWork, limit: int = 50) -> list[CallbackForStaff]:
    """Callbacks nobody could believe or handle (malformed, flagged, failed), newest first:
    staff check each against the M-Pesa statement, act, and resolve it."""
    rows = uow.session.scalars(
        select(MpesaCallback)
        .where(MpesaCallback.status.in_(FOR_STAFF))
        .order_by(MpesaCallback.received_at.desc(), MpesaCallback.id.desc())
        .limit(limit)
    )
    return [
        CallbackForStaff(
            row.id,
            row.kind,
            row.status,
            row.received_at,
            row.reference,
            row.error,
            " ".join(row.body.split())[:160],
        )
        for row in rows
    ]


def resolve_callback(uow: UnitOfWork, actor: Actor, callback_id: int, note: str) -> None:
    """Staff have dealt with a callback left for them (credited it by hand, or found it was
    nothing): it leaves the needs-attention queue, with who, when and why in the audit log."""
    require(actor, Permission.RECORD_PAYMENT)
    note = note.strip()
    if not note:
        raise InvalidInput("say what was done about it (a short note)")
    callback = uow.session.scalars(
        select(MpesaCallback).where(MpesaCallback.id == callback_id).with_for_update()
    ).first()
    if callback is None:
        raise InvalidInput(f"no M-Pesa callback {callback_id}")
    if callback.status not in FOR_STAFF:
        raise InvalidTransition(
            f"callback {callback_id} is {callback.status}; only malformed, flagged or failed "
            "ones wait for staff"
        )
    before = callback.status
    callback.status = "resolved"
    callback.processed_at = uow.clock.now()
    audit.record(
        uow,
        actor,
        "mpesa.callback_resolved",
        entity_type="mpesa_callback",
        entity_id=callback.id,
        before={"status": before, "error": callback.error},
        after={"status": "resolved"},
        reason=note[:500],
    )
