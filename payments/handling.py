"""Handling a stored M-Pesa callback: parse it, apply it through core, record the outcome.

The web route calls this right after storing the raw body; the minute sweep calls it again for
any callback still marked "received" whose next try is due (the process died, the database
refused mid-way, or a bug raised), so a payment is never lost to a crash or a bug that is later
fixed. Each failure backs that one row off (core.usecases.mpesa_callbacks); after a few it is
given to staff.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from core.models import MpesaCallback
from core.retry import in_transaction
from core.stk_rules import Verdict
from core.unit_of_work import CoreServices, UnitOfWork
from core.usecases.c2b import C2BConfirmation, c2b_account_exists, confirm_c2b
from core.usecases.mpesa_callbacks import (
    StoredCallback,
    callbacks_due,
    finish_callback,
    note_waiting,
    record_failed_attempt,
)
from core.usecases.stk import StkResult, push_being_sent, settle_stk
from payments.callbacks import (
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

# The STK result codes worth telling apart in the metrics; any other non-zero code is "failed".
_STK_OUTCOMES = {0: "paid", 1032: "cancelled", 1037: "timeout", 1: "insufficient_funds"}

STK = "stk"
C2B_VALIDATION = "c2b_validation"
C2B_CONFIRMATION = "c2b_confirmation"


@dataclass(frozen=True)
class Handled:
    """The HTTP answer for Safaricom: a JSON body and a status code; ``outcome``: what became
    of the callback (processed, flagged, rejected, malformed, waiting, failed), for metrics."""

    status_code: int
    body: dict[str, Any]
    outcome: str = "processed"


def handle(
    services: CoreServices, callback_id: int, kind: str, body: bytes, shortcode: str = ""
) -> Handled:
    """Apply one stored callback. Malformed → 400 and flagged; otherwise Safaricom's answer.

    Anything else that goes wrong is a fault of ours, not of the callback: the row is kept for
    its next try (or for staff after the last) and Safaricom gets its usual answer, except a
    validation, which is refused so no money moves that we could not check.
    """
    handled = _handle(services, callback_id, kind, body, shortcode)
    services.metrics.callback_handled(kind, handled.outcome)
    return handled


def _handle(
    services: CoreServices, callback_id: int, kind: str, body: bytes, shortcode: str
) -> Handled:
    try:
        if kind == STK:
            return _stk(services, callback_id, body)
        if kind == C2B_VALIDATION:
            return _validation(services, callback_id, body, shortcode)
        return _confirmation(services, callback_id, body)
    except MalformedCallback as malformed:
        reason = malformed.reason
    except Exception as error:  # per row, by design: one bad row must not stop the others
        log.exception("handling M-Pesa %s callback %s failed", kind, callback_id)
        return _after_failure(services, callback_id, kind, f"{type(error).__name__}: {error}")
    in_transaction(
        services, lambda uow: finish_callback(uow, callback_id, "malformed", error=reason)
    )
    return Handled(400, {"ResultCode": 1, "ResultDesc": f"Malformed: {reason}"}, "malformed")


def _after_failure(services: CoreServices, callback_id: int, kind: str, error: str) -> Handled:
    if kind == C2B_VALIDATION:
        in_transaction(
            services,
            lambda uow: finish_callback(uow, callback_id, "rejected", error=error[:2000]),
        )
        return Handled(200, c2b_reject("C2B00016"), "failed")
    in_transaction(services, lambda uow: record_failed_attempt(uow, callback_id, error))
    if kind == STK:
        return Handled(200, stk_callback_ack(), "failed")
    return Handled(200, c2b_confirmation_ack(), "failed")


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

    def apply(uow: UnitOfWork) -> str:
        settlement = settle_stk(uow, result)
        checkout = result.checkout_request_id
        if settlement.unknown_checkout and _push_in_flight(uow, callback_id):
            log.info("STK callback %s came before its push was stored; it waits", callback_id)
            note_waiting(uow, callback_id, checkout)
            return "waiting"
        if settlement.unknown_checkout or settlement.verdict is Verdict.FLAG:
            reason = settlement.reason
            finish_callback(uow, callback_id, "flagged", reference=checkout, error=reason)
            return "flagged"
        finish_callback(uow, callback_id, "processed", reference=checkout)
        return "processed"

    outcome = in_transaction(services, apply)
    if outcome == "processed":
        services.metrics.stk_result(_STK_OUTCOMES.get(result.result_code, "failed"))
    return Handled(200, stk_callback_ack(), outcome)


def _push_in_flight(uow: UnitOfWork, callback_id: int) -> bool:
    """Whether an unknown checkout may still be a push of ours whose answer is not stored yet."""
    callback = uow.session.get(MpesaCallback, callback_id)
    if callback is None or callback.received_at < uow.clock.now() - EARLY_STK_CALLBACK_WAIT:
        return False
    return push_being_sent(uow)


def _validation(services: CoreServices, callback_id: int, body: bytes, shortcode: str) -> Handled:
    payment = parse_c2b(body)

    def decide(uow: UnitOfWork) -> Handled:
        if shortcode and payment.business_short_code != shortcode:
            finish_callback(uow, callback_id, "rejected", error="another shortcode")
            return Handled(200, c2b_reject("C2B00015"), "rejected")
        if not c2b_account_exists(uow, payment.bill_ref_number):
            finish_callback(
                uow,
                callback_id,
                "rejected",
                reference=payment.trans_id,
                error=f"no account {payment.bill_ref_number!r}",
            )
            return Handled(200, c2b_reject("C2B00012"), "rejected")
        finish_callback(uow, callback_id, "processed", reference=payment.trans_id)
        return Handled(200, c2b_accept())

    return in_transaction(services, decide)


def _confirmation(services: CoreServices, callback_id: int, body: bytes) -> Handled:
    payment = parse_c2b(body)
    confirmation = C2BConfirmation(
        trans_id=payment.trans_id,
        amount_kes=payment.amount_kes,
        bill_ref_number=payment.bill_ref_number,
        paid_at=payment.trans_time,
        payer_phone=payment.phone or payment.msisdn[:32] or None,
        payer_name=payment.payer_name[:128] or None,
    )

    def apply(uow: UnitOfWork) -> None:
        confirm_c2b(uow, confirmation)
        finish_callback(uow, callback_id, "processed", reference=payment.trans_id)

    in_transaction(services, apply)
    return Handled(200, c2b_confirmation_ack())


def replay_waiting_stk_callbacks(services: CoreServices) -> int:
    """Handle the STK callbacks that came before their push's CheckoutRequestID was stored
    (called as soon as a send ends, so a fast callback is not left for the sweep)."""
    with services.unit_of_work(read_only=True) as uow:
        waiting = callbacks_due(uow, kinds=(STK,), limit=500)
    return _replay(services, waiting, "")


def replay_unprocessed(services: CoreServices, shortcode: str = "", limit: int = 100) -> int:
    """Handle callbacks stored but never finished whose next try is due (validation ones are
    past caring). A failure backs its own row off; it never stops the others."""
    with services.unit_of_work(read_only=True) as uow:
        due = callbacks_due(uow, kinds=(STK, C2B_CONFIRMATION), limit=limit, older_than=_GRACE)
    return _replay(services, due, shortcode)


def _replay(services: CoreServices, callbacks: list[StoredCallback], shortcode: str) -> int:
    for callback in callbacks:
        try:
            handle(services, callback.id, callback.kind, callback.body, shortcode)
        except Exception:  # the database itself failed; the row stays due for the sweep
            log.exception("replaying M-Pesa callback %s failed; will try again", callback.id)
    return len(callbacks)
