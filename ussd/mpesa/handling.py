"""Handling a stored M-Pesa callback: parse it, apply it through core, record the outcome.

The web route calls this right after storing the raw body; a periodic job calls it again for any
callback still marked "received" (the process died, or the database refused mid-way), so a
payment is never lost to a crash or a bug that is later fixed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from core.models import MpesaCallback, StkRequest
from core.retry import in_transaction
from core.unit_of_work import CoreServices, UnitOfWork
from core.usecases.mpesa import (
    C2BConfirmation,
    Settlement,
    StkResult,
    StkStatus,
    c2b_account_exists,
    confirm_c2b,
    finish_callback,
    settle_stk,
)
from ussd.mpesa.callbacks import (
    MalformedCallback,
    c2b_accept,
    c2b_confirmation_ack,
    c2b_reject,
    parse_c2b,
    parse_stk_callback,
    stk_callback_ack,
)

log = logging.getLogger(__name__)

# Long enough that the request which stored a callback has finished handling it.
_GRACE = timedelta(seconds=30)
# Safaricom can call back before the worker that sent the push has stored its CheckoutRequestID.
# Such a callback waits, still "received", while some push is being sent: the worker replays it
# as soon as it stores the id, the minute sweep otherwise. Past this it is flagged for staff.
EARLY_STK_CALLBACK_WAIT = timedelta(minutes=10)

STK = "stk"
C2B_VALIDATION = "c2b_validation"
C2B_CONFIRMATION = "c2b_confirmation"


@dataclass(frozen=True)
class Handled:
    """The HTTP answer for Safaricom: a JSON body and a status code."""

    status_code: int
    body: dict[str, Any]


def handle(
    services: CoreServices, callback_id: int, kind: str, body: bytes, shortcode: str = ""
) -> Handled:
    """Apply one stored callback. Malformed → 400 and flagged; otherwise Safaricom's ack."""
    try:
        if kind == STK:
            return _stk(services, callback_id, body)
        if kind == C2B_VALIDATION:
            return _validation(services, callback_id, body, shortcode)
        return _confirmation(services, callback_id, body)
    except MalformedCallback as malformed:
        reason = malformed.reason
    in_transaction(
        services, lambda uow: finish_callback(uow, callback_id, "malformed", error=reason)
    )
    return Handled(400, {"ResultCode": 1, "ResultDesc": f"Malformed: {reason}"})


def _stk(services: CoreServices, callback_id: int, body: bytes) -> Handled:
    callback = parse_stk_callback(body)
    result = StkResult(
        checkout_request_id=callback.checkout_request_id,
        result_code=callback.result_code,
        result_description=callback.result_desc,
        amount_kes=callback.amount_kes,
        receipt=callback.receipt_number,
        phone=callback.phone,
        paid_at=callback.transaction_time,
    )

    def apply(uow: UnitOfWork) -> None:
        settlement, _ = settle_stk(uow, result)
        if settlement is Settlement.UNKNOWN_CHECKOUT and _push_in_flight(uow, callback_id):
            log.info("STK callback %s came before its push was stored; it waits", callback_id)
        elif settlement is Settlement.UNKNOWN_CHECKOUT:
            finish_callback(
                uow,
                callback_id,
                "flagged",
                reference=result.checkout_request_id,
                error="no STK push of ours has this CheckoutRequestID",
            )
        else:
            finish_callback(uow, callback_id, "processed", reference=result.checkout_request_id)

    in_transaction(services, apply)
    return Handled(200, stk_callback_ack())


def _push_in_flight(uow: UnitOfWork, callback_id: int) -> bool:
    """Whether an unknown checkout may still be a push of ours whose answer is not stored yet."""
    callback = uow.session.get(MpesaCallback, callback_id)
    if callback is None or callback.received_at < uow.clock.now() - EARLY_STK_CALLBACK_WAIT:
        return False
    sending = select(StkRequest.id).where(StkRequest.status == StkStatus.QUEUED).limit(1)
    return uow.session.scalars(sending).first() is not None


def _validation(services: CoreServices, callback_id: int, body: bytes, shortcode: str) -> Handled:
    payment = parse_c2b(body)

    def decide(uow: UnitOfWork) -> dict[str, Any]:
        if shortcode and payment.business_short_code != shortcode:
            finish_callback(uow, callback_id, "rejected", error="another shortcode")
            return c2b_reject("C2B00015")
        if not c2b_account_exists(uow, payment.bill_ref_number):
            finish_callback(
                uow,
                callback_id,
                "rejected",
                reference=payment.trans_id,
                error=f"no account {payment.bill_ref_number!r}",
            )
            return c2b_reject("C2B00012")
        finish_callback(uow, callback_id, "processed", reference=payment.trans_id)
        return c2b_accept()

    return Handled(200, in_transaction(services, decide))


def _confirmation(services: CoreServices, callback_id: int, body: bytes) -> Handled:
    payment = parse_c2b(body)
    confirmation = C2BConfirmation(
        trans_id=payment.trans_id,
        amount_kes=payment.amount_kes,
        bill_ref_number=payment.bill_ref_number,
        paid_at=payment.trans_time,
        payer_phone=payment.phone or payment.msisdn[:32] or None,
        payer_name=payment.payer_name or None,
    )

    def apply(uow: UnitOfWork) -> None:
        confirm_c2b(uow, confirmation)
        finish_callback(uow, callback_id, "processed", reference=payment.trans_id)

    in_transaction(services, apply)
    return Handled(200, c2b_confirmation_ack())


def replay_early_stk_callbacks(services: CoreServices, checkout_request_id: str) -> int:
    """Handle the STK callbacks that came for ``checkout_request_id`` before it was stored."""
    with services.unit_of_work() as uow:
        early = [
            (callback.id, callback.body)
            for callback in uow.session.scalars(
                select(MpesaCallback)
                .where(
                    MpesaCallback.status == "received",
                    MpesaCallback.kind == STK,
                    MpesaCallback.body.contains(checkout_request_id, autoescape=True),
                )
                .order_by(MpesaCallback.id)
            )
        ]
    for callback_id, text in early:
        handle(services, callback_id, STK, text.encode("utf-8"))
    return len(early)


def replay_unprocessed(services: CoreServices, shortcode: str = "", limit: int = 100) -> int:
    """Handle callbacks stored but never finished (validation ones are past caring)."""
    with services.unit_of_work() as uow:
        stuck = [
            (callback.id, callback.kind, callback.body)
            for callback in uow.session.scalars(
                select(MpesaCallback)
                .where(
                    MpesaCallback.status == "received",
                    MpesaCallback.kind != C2B_VALIDATION,
                    MpesaCallback.received_at < uow.clock.now() - _GRACE,
                )
                .order_by(MpesaCallback.id)
                .limit(limit)
            )
        ]
    for callback_id, kind, text in stuck:
        try:
            handle(services, callback_id, kind, text.encode("utf-8"), shortcode)
        except Exception:
            log.exception("replaying M-Pesa callback %s failed; will try again", callback_id)
    return len(stuck)
