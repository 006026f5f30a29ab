"""M-Pesa: STK pushes (request, send result, settle) and paybill (C2B) validation/confirmation.

Idempotency: a receipt is a payment reference, unique per method, so the same money arriving by
STK callback, C2B confirmation, a retry or a duplicate is credited once. When an STK query says
"paid" before any receipt arrived, the payment is credited under a provisional reference and the
receipt, when it comes by either channel, is bound to it instead of being credited again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import func, select

from core import audit
from core.actors import Actor, ActorKind, Permission, require
from core.errors import InvalidAccountNumber, InvalidInput, RateLimited
from core.events import CallbackFlagged, StkPushFailed, StkPushRequested
from core.lookup import by_account_number, get_customer
from core.models import Customer, MpesaCallback, Payment, StkRequest
from core.phones import normalize_phone
from core.unit_of_work import UnitOfWork
from core.usecases.billing import (
    IncomingPayment,
    PaymentResult,
    find_payment,
    record_payment,
    record_unmatched_payment,
)
from core.usecases.renewal import amount_to_renew, renewal_plan

SELF_SERVICE_PUSHES = 3
SELF_SERVICE_WINDOW = timedelta(minutes=10)
MAX_STK_AMOUNT_KES = 250_000
PROVISIONAL_PREFIX = "STKQ-"
PROVISIONAL_MATCH_WINDOW = timedelta(hours=24)
MAX_STORED_BODY = 64 * 1024


class StkStatus(StrEnum):
    QUEUED = "queued"
    PENDING = "pending"
    PAID = "paid"
    FAILED = "failed"
    ERROR = "error"


@dataclass(frozen=True)
class StkPushQueued:
    stk_request_id: int
    amount_kes: int
    phone: str


def request_stk_push(
    uow: UnitOfWork,
    customer_id: int,
    actor: Actor,
    amount_kes: int | None = None,
    phone: str | None = None,
    channel: str = "staff",
) -> StkPushQueued:
    """Record an STK push to send; the job sends it (no Safaricom call on this path).

    The default amount renews the plan after credit and debt (one period's price if the balance
    already covers it). Self-service channels get at most 3 pushes per account per 10 minutes.
    """
    require(actor, Permission.SEND_STK)
    customer = get_customer(uow, customer_id)
    if amount_kes is None:
        amount_kes = amount_to_renew(uow, customer) or renewal_plan(customer).price_kes
    if not 1 <= amount_kes <= MAX_STK_AMOUNT_KES:
        raise InvalidInput(f"an M-Pesa amount is KES 1 to {MAX_STK_AMOUNT_KES:,}")
    target = normalize_phone(phone or customer.phone or "", uow.config.default_region)
    if not (target.startswith("+2547") or target.startswith("+2541")):
        raise InvalidInput(f"{target} is not a Kenyan mobile number that M-Pesa can prompt")
    now = uow.clock.now()
    if actor.kind is ActorKind.SUBSCRIBER:
        # Whatever the adapter calls its channel, a subscriber's push is self-service.
        channel = "self-service" if channel == "staff" else channel
        recent = uow.session.scalar(
            select(func.count(StkRequest.id)).where(
                StkRequest.customer_id == customer.id,
                StkRequest.channel != "staff",
                StkRequest.created_at > now - SELF_SERVICE_WINDOW,
            )
        )
        if (recent or 0) >= SELF_SERVICE_PUSHES:
            raise RateLimited(
                "You have asked for 3 M-Pesa prompts in 10 minutes. Please wait a few minutes, "
                f"or pay by paybill with account {customer.account_number}."
            )
    request = StkRequest(
        customer_id=customer.id,
        phone=target,
        amount_kes=amount_kes,
        account_reference=customer.account_number,
        channel=channel,
        requested_by=actor.label,
        status=StkStatus.QUEUED.value,
        created_at=now,
    )
    uow.session.add(request)
    uow.session.flush()
    audit.record(
        uow,
        actor,
        "mpesa.stk_request",
        customer=customer,
        entity_type="stk_request",
        entity_id=request.id,
        after={"amount_kes": amount_kes, "phone": target, "channel": channel},
    )
    uow.publish(StkPushRequested(request.id))
    return StkPushQueued(request.id, amount_kes, target)


def _stk(uow: UnitOfWork, stk_request_id: int) -> StkRequest:
    request = uow.session.scalars(
        select(StkRequest).where(StkRequest.id == stk_request_id).with_for_update()
    ).first()
    if request is None:
        raise InvalidInput(f"no STK request {stk_request_id}")
    return request


def mark_stk_sent(
    uow: UnitOfWork, stk_request_id: int, merchant_request_id: str, checkout_request_id: str
) -> None:
    """Safaricom accepted the push: wait for its callback (or query it later)."""
    request = _stk(uow, stk_request_id)
    request.merchant_request_id = merchant_request_id
    request.checkout_request_id = checkout_request_id
    request.sent_at = uow.clock.now()
    if request.status == StkStatus.QUEUED:
        request.status = StkStatus.PENDING.value


def mark_stk_error(uow: UnitOfWork, stk_request_id: int, message: str) -> None:
    """Safaricom refused the push (or never answered); the subscriber is told."""
    request = _stk(uow, stk_request_id)
    if request.status not in (StkStatus.QUEUED, StkStatus.PENDING):
        return
    request.status = StkStatus.ERROR.value
    request.result_description = message[:500]
    request.settled_at = uow.clock.now()
    uow.publish(StkPushFailed(request.id))


@dataclass(frozen=True)
class StkResult:
    """What an STK callback (or query) said about one checkout."""

    checkout_request_id: str
    result_code: int
    result_description: str
    amount_kes: int | None = None
    receipt: str | None = None
    phone: str | None = None
    paid_at: datetime | None = None


class Settlement(StrEnum):
    PAID = "paid"
    FAILED = "failed"
    ALREADY_SETTLED = "already_settled"
    UNKNOWN_CHECKOUT = "unknown_checkout"


def settle_stk(uow: UnitOfWork, result: StkResult) -> tuple[Settlement, PaymentResult | None]:
    """Apply an STK callback: pay (exactly once) or record the failure. Unknown checkouts change
    nothing (the stored callback is flagged by the caller)."""
    request = uow.session.scalars(
        select(StkRequest)
        .where(StkRequest.checkout_request_id == result.checkout_request_id)
        .with_for_update()
    ).first()
    if request is None:
        return Settlement.UNKNOWN_CHECKOUT, None
    if request.status in (StkStatus.PAID, StkStatus.FAILED):
        if result.result_code == 0 and result.receipt:
            late = _late_receipt(uow, request, result)
            if late is not None:
                return Settlement.PAID, late
        return Settlement.ALREADY_SETTLED, None
    if result.result_code != 0:
        _settle(uow, request, StkStatus.FAILED, result.result_code, result.result_description)
        return Settlement.FAILED, None
    if not result.receipt:
        raise InvalidInput("a paid STK result needs its receipt number")
    paid = _credit_receipt(uow, request, result, result.receipt)
    _settle(uow, request, StkStatus.PAID, 0, result.result_description, paid.payment_id)
    return Settlement.PAID, paid


def settle_stk_by_query(
    uow: UnitOfWork, stk_request_id: int, result_code: int, result_description: str
) -> Settlement:
    """No callback came: apply what an STK query said. A "paid" answer carries no receipt, so
    the money is credited under a provisional reference that a later receipt is bound to."""
    request = _stk(uow, stk_request_id)
    if request.status != StkStatus.PENDING or request.checkout_request_id is None:
        return Settlement.ALREADY_SETTLED
    if result_code != 0:
        _settle(uow, request, StkStatus.FAILED, result_code, result_description)
        return Settlement.FAILED
    already = _unlinked_paybill_payment(uow, request)
    if already is not None:
        # The money came in by paybill before the query: link it, credit nothing more. Should
        # the push's own receipt arrive later and differ, it is credited then (_late_receipt).
        _settle(uow, request, StkStatus.PAID, 0, result_description, already.id)
        return Settlement.PAID
    provisional = (PROVISIONAL_PREFIX + request.checkout_request_id)[:64]
    paid = record_payment(
        uow,
        request.customer_id,
        Actor.mpesa(),
        IncomingPayment(
            amount_kes=request.amount_kes,
            method="mpesa",
            reference=provisional,
            payer_phone=request.phone,
            account_reference=request.account_reference,
            source="stk_query",
        ),
    )
    _settle(uow, request, StkStatus.PAID, 0, result_description, paid.payment_id)
    return Settlement.PAID


def _settle(
    uow: UnitOfWork,
    request: StkRequest,
    status: StkStatus,
    result_code: int,
    description: str,
    payment_id: int | None = None,
) -> None:
    """Record how a push ended; a failure is explained to the subscriber (StkPushFailed)."""
    request.status = status.value
    request.result_code = result_code
    request.result_description = description[:500]
    request.settled_at = uow.clock.now()
    request.payment_id = payment_id
    if status is StkStatus.FAILED:
        uow.publish(StkPushFailed(request.id))


def _late_receipt(uow: UnitOfWork, request: StkRequest, result: StkResult) -> PaymentResult | None:
    """The receipt of a push already settled some other way (query, or a paybill confirmation
    taken for it). A provisional credit gets the receipt bound to it; a receipt that is nowhere
    yet while the push is linked to other money is money of its own and is credited."""
    receipt = (result.receipt or "").strip().upper()
    if find_payment(uow, "mpesa", receipt) is not None:
        return None
    linked = uow.session.get(Payment, request.payment_id) if request.payment_id else None
    if linked is not None and (linked.reference or "").startswith(PROVISIONAL_PREFIX):
        linked.reference = receipt
        return None
    # The push's own provisional credit may have been taken by a paybill receipt of the same
    # amount; another provisional credit of this customer and amount is then this receipt's.
    amount = result.amount_kes or request.amount_kes
    provisional = _provisional_for(uow, request.customer_id, amount)
    if provisional is not None:
        provisional.reference = receipt
        return None
    return _credit_receipt(uow, request, result, receipt)


def _credit_receipt(
    uow: UnitOfWork, request: StkRequest, result: StkResult, receipt: str
) -> PaymentResult:
    """Credit the money an STK callback reports, under its receipt (a duplicate is a no-op)."""
    return record_payment(
        uow,
        request.customer_id,
        Actor.mpesa(),
        IncomingPayment(
            amount_kes=result.amount_kes or request.amount_kes,
            method="mpesa",
            reference=receipt,
            received_at=result.paid_at,
            payer_phone=result.phone or request.phone,
            account_reference=request.account_reference,
            source="stk",
        ),
    )


def _unlinked_paybill_payment(uow: UnitOfWork, request: StkRequest) -> Payment | None:
    """A paybill payment of this customer and amount since the push, not yet tied to a push."""
    linked = select(StkRequest.payment_id).where(StkRequest.payment_id.is_not(None))
    return uow.session.scalars(
        select(Payment)
        .where(
            Payment.customer_id == request.customer_id,
            Payment.method == "mpesa",
            Payment.source == "c2b",
            Payment.amount_kes == request.amount_kes,
            Payment.received_at >= request.created_at - timedelta(minutes=5),
            Payment.id.not_in(linked),
        )
        .order_by(Payment.received_at)
    ).first()


def c2b_account_exists(uow: UnitOfWork, bill_ref_number: str) -> bool:
    """Validation: does the paybill account number name a customer (forgiving match)?"""
    return _match_account(uow, bill_ref_number) is not None


def _match_account(uow: UnitOfWork, bill_ref_number: str) -> Customer | None:
    if not bill_ref_number.strip():
        return None
    try:
        return by_account_number(uow, bill_ref_number)
    except InvalidAccountNumber:
        return None


@dataclass(frozen=True)
class C2BConfirmation:
    trans_id: str
    amount_kes: int
    bill_ref_number: str
    paid_at: datetime | None
    payer_phone: str | None
    payer_name: str | None


def confirm_c2b(uow: UnitOfWork, confirmation: C2BConfirmation) -> PaymentResult:
    """A paybill payment has happened: credit the matched customer, or keep it unmatched for
    staff (money that has moved is never rejected). Idempotent on TransID."""
    existing = find_payment(uow, "mpesa", confirmation.trans_id)
    if existing is not None:
        return PaymentResult(existing.id, True, existing.customer_id, None, None)
    incoming = IncomingPayment(
        amount_kes=confirmation.amount_kes,
        method="mpesa",
        reference=confirmation.trans_id,
        received_at=confirmation.paid_at,
        payer_phone=confirmation.payer_phone,
        payer_name=confirmation.payer_name,
        account_reference=confirmation.bill_ref_number[:64],
        source="c2b",
    )
    customer = _match_account(uow, confirmation.bill_ref_number)
    if customer is None:
        return record_unmatched_payment(uow, Actor.mpesa(), incoming)
    provisional = _provisional_for(uow, customer.id, confirmation.amount_kes)
    if provisional is not None:
        provisional.reference = confirmation.trans_id.strip().upper()
        return PaymentResult(provisional.id, True, customer.id, None, None)
    return record_payment(uow, customer.id, Actor.mpesa(), incoming)


def _provisional_for(uow: UnitOfWork, customer_id: int, amount_kes: int) -> Payment | None:
    """A query-credited STK payment of this customer and amount still waiting for its receipt."""
    return uow.session.scalars(
        select(Payment)
        .where(
            Payment.customer_id == customer_id,
            Payment.method == "mpesa",
            Payment.amount_kes == amount_kes,
            Payment.reference.like(PROVISIONAL_PREFIX + "%"),
            Payment.received_at > uow.clock.now() - PROVISIONAL_MATCH_WINDOW,
        )
        .order_by(Payment.received_at)
        .with_for_update()
    ).first()


def store_callback(
    uow: UnitOfWork, kind: str, body: bytes, remote_address: str | None
) -> MpesaCallback:
    """Keep a callback body exactly as it came (up to 64 KiB) before anything else happens."""
    text = body[:MAX_STORED_BODY].decode("utf-8", errors="replace")
    callback = MpesaCallback(
        kind=kind,
        received_at=uow.clock.now(),
        remote_address=remote_address,
        body=text,
        truncated=len(body) > MAX_STORED_BODY,
        status="received",
    )
    uow.session.add(callback)
    uow.session.flush()
    return callback


def finish_callback(
    uow: UnitOfWork,
    callback_id: int,
    status: str,
    *,
    reference: str | None = None,
    error: str | None = None,
) -> None:
    """Record how a stored callback was handled; malformed or orphan ones alert staff."""
    callback = uow.session.get(MpesaCallback, callback_id)
    if callback is None:
        return
    callback.status = status
    callback.reference = reference
    callback.error = error
    callback.processed_at = uow.clock.now()
    if status in ("malformed", "flagged"):
        uow.publish(CallbackFlagged(callback_id, error or status))


def pending_stk_requests(uow: UnitOfWork, older_than: timedelta) -> list[int]:
    """STK requests still waiting for a callback after ``older_than``: to be queried."""
    return list(
        uow.session.scalars(
            select(StkRequest.id).where(
                StkRequest.status == StkStatus.PENDING.value,
                StkRequest.sent_at < uow.clock.now() - older_than,
            )
        )
    )
