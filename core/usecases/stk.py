"""STK pushes: request, claim the send, record how the send went, settle by callback or query.

The locking rule, for every state change here that can credit: lock the customer row first
(``get_customer``), then the push row, re-read both, decide (``core.stk_rules``), write. A
paybill confirmation locks the same customer row first, so the two paths never interleave on
one customer's money. Changes that cannot credit (claiming or recording a send) lock only the
push row.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from core import audit
from core.actors import Actor, ActorKind, Permission, require
from core.display import kes
from core.errors import InvalidInput, RateLimited
from core.events import StkPushFailed, StkPushRequested
from core.lookup import get_customer
from core.models import Customer, Payment, StkRequest
from core.phones import normalize_phone
from core.stk_rules import (
    Decision,
    PushFacts,
    PushStatus,
    ReceiptHolder,
    ResultFacts,
    Verdict,
    decide,
    pick_unconfirmed,
)
from core.unit_of_work import UnitOfWork
from core.usecases.billing import (
    IncomingPayment,
    PaymentResult,
    find_payment,
    record_payment,
    record_unmatched_payment,
)
from core.usecases.renewal import amount_to_renew, renewal_plan

log = logging.getLogger(__name__)

SELF_SERVICE_PUSHES = 3
SELF_SERVICE_WINDOW = timedelta(minutes=10)
MAX_STK_AMOUNT_KES = 250_000
PROVISIONAL_PREFIX = "STKQ-"
# A callback whose CheckoutRequestID we never learnt may be for a push whose send timed out;
# it is matched to one only within this time of the push.
UNCONFIRMED_MATCH_WINDOW = timedelta(hours=24)
# A send claimed this long ago without an outcome: its worker died mid-send.
SEND_CLAIM_TIMEOUT = timedelta(minutes=2)


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
        raise InvalidInput(f"an M-Pesa amount is {kes(1)} to {kes(MAX_STK_AMOUNT_KES)}")
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
        status=PushStatus.QUEUED.value,
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


# -- sending -------------------------------------------------------------------------------------


def _locked_push(uow: UnitOfWork, stk_request_id: int) -> StkRequest:
    request = uow.session.scalars(
        select(StkRequest)
        .where(StkRequest.id == stk_request_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if request is None:
        raise InvalidInput(f"no STK request {stk_request_id}")
    return request


@dataclass(frozen=True)
class StkSend:
    """What the send job asks Safaricom for, once it owns the push."""

    phone: str
    amount_kes: int
    account_reference: str


def claim_stk_send(uow: UnitOfWork, stk_request_id: int) -> StkSend | None:
    """Own the push's one send: queued → sending. None if it is not queued (another worker
    sends it, or it was sent): no push is ever sent twice."""
    request = _locked_push(uow, stk_request_id)
    if request.status != PushStatus.QUEUED:
        return None
    request.status = PushStatus.SENDING.value
    request.claimed_at = uow.clock.now()
    return StkSend(request.phone, request.amount_kes, request.account_reference)


def release_stk_send(uow: UnitOfWork, stk_request_id: int) -> None:
    """The request never reached Safaricom (it could not be reached): queued again, to retry."""
    request = _locked_push(uow, stk_request_id)
    if request.status == PushStatus.SENDING:
        request.status = PushStatus.QUEUED.value
        request.claimed_at = None


def mark_stk_sent(
    uow: UnitOfWork, stk_request_id: int, merchant_request_id: str, checkout_request_id: str
) -> None:
    """Safaricom accepted the push: wait for its callback (or query it later).

    A push already settled, or already holding a CheckoutRequestID, keeps what it has; so does
    one whose id a callback gave to another push (which should not happen: it is logged, and the
    push stays unconfirmed for staff)."""
    request = _locked_push(uow, stk_request_id)
    if request.checkout_request_id is not None or request.status not in (
        PushStatus.QUEUED,
        PushStatus.SENDING,
        PushStatus.UNCONFIRMED,
    ):
        return
    holder = uow.session.scalar(
        select(StkRequest.id).where(StkRequest.checkout_request_id == checkout_request_id)
    )
    if holder is not None:
        log.error(
            "STK push %s: Safaricom's CheckoutRequestID %s is already push %s's",
            stk_request_id,
            checkout_request_id,
            holder,
        )
        request.status = PushStatus.UNCONFIRMED.value
        request.result_description = f"its CheckoutRequestID is already push {holder}'s"
        return
    request.merchant_request_id = merchant_request_id
    request.checkout_request_id = checkout_request_id
    request.sent_at = uow.clock.now()
    request.status = PushStatus.PENDING.value


def mark_stk_unconfirmed(uow: UnitOfWork, stk_request_id: int, message: str) -> None:
    """Safaricom may have prompted the phone but its answer was lost (a read timeout, a worker
    that died mid-send). Nothing is sent again; a callback with this push's phone and amount
    settles it (``settle_stk``)."""
    request = _locked_push(uow, stk_request_id)
    if request.status not in (PushStatus.QUEUED, PushStatus.SENDING):
        return
    request.status = PushStatus.UNCONFIRMED.value
    request.result_description = message[:500]
    request.sent_at = request.sent_at or uow.clock.now()


def mark_stk_error(uow: UnitOfWork, stk_request_id: int, message: str) -> None:
    """Safaricom refused the push (it never reached a phone): the subscriber is told."""
    request = _locked_push(uow, stk_request_id)
    if request.status not in (PushStatus.QUEUED, PushStatus.SENDING):
        return
    request.status = PushStatus.ERROR.value
    request.result_description = message[:500]
    request.settled_at = uow.clock.now()
    uow.publish(StkPushFailed(request.id))


def give_up_stk_send(uow: UnitOfWork, stk_request_id: int, message: str) -> None:
    """A push still queued long after it was asked for is not sent any more (a prompt minutes
    late would surprise the subscriber); one a send job claimed meanwhile is left to it."""
    request = _locked_push(uow, stk_request_id)
    if request.status == PushStatus.QUEUED:
        mark_stk_error(uow, stk_request_id, message)


def pending_stk_requests(uow: UnitOfWork, older_than: timedelta) -> list[int]:
    """STK requests still waiting for a callback after ``older_than``: to be queried."""
    return list(
        uow.session.scalars(
            select(StkRequest.id).where(
                StkRequest.status == PushStatus.PENDING.value,
                StkRequest.sent_at < uow.clock.now() - older_than,
            )
        )
    )


def queued_stk_requests(uow: UnitOfWork, older_than: timedelta) -> list[int]:
    """Pushes still queued ``older_than`` after they were asked for: their send job was lost."""
    return list(
        uow.session.scalars(
            select(StkRequest.id)
            .where(
                StkRequest.status == PushStatus.QUEUED.value,
                StkRequest.created_at < uow.clock.now() - older_than,
            )
            .order_by(StkRequest.id)
        )
    )


def abandoned_sends(uow: UnitOfWork) -> list[int]:
    """Pushes whose send was claimed long ago and never finished (the worker died)."""
    return list(
        uow.session.scalars(
            select(StkRequest.id).where(
                StkRequest.status == PushStatus.SENDING.value,
                StkRequest.claimed_at < uow.clock.now() - SEND_CLAIM_TIMEOUT,
            )
        )
    )


def checkout_to_query(uow: UnitOfWork, stk_request_id: int) -> str | None:
    """The CheckoutRequestID to ask Daraja about, while the push still waits for its result."""
    request = uow.session.get(StkRequest, stk_request_id)
    if request is None or request.status != PushStatus.PENDING:
        return None
    return request.checkout_request_id


def push_being_sent(uow: UnitOfWork) -> bool:
    """Whether some push is being sent right now (its CheckoutRequestID may be on its way)."""
    sending = select(StkRequest.id).where(StkRequest.status == PushStatus.SENDING.value).limit(1)
    return uow.session.scalars(sending).first() is not None


# -- settling ------------------------------------------------------------------------------------


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


@dataclass(frozen=True)
class StkSettlement:
    """How a result was applied: the verdict, why (for a flag), and the payment it credited."""

    verdict: Verdict | None  # None: no push of ours has this CheckoutRequestID
    reason: str = ""
    payment: PaymentResult | None = None
    stk_request_id: int | None = None

    @property
    def unknown_checkout(self) -> bool:
        return self.verdict is None


def settle_stk(uow: UnitOfWork, result: StkResult) -> StkSettlement:
    """Apply an STK callback to its push by the table of ``core.stk_rules``; a callback whose
    CheckoutRequestID we never stored may be an unconfirmed push's (``pick_unconfirmed``)."""
    push_id = uow.session.scalar(
        select(StkRequest.id).where(StkRequest.checkout_request_id == result.checkout_request_id)
    )
    if push_id is None:
        push_id = _unconfirmed_match(uow, result)
        if push_id is None:
            return StkSettlement(None, "no STK push of ours has this CheckoutRequestID")
    customer_id = uow.session.scalar(select(StkRequest.customer_id).where(StkRequest.id == push_id))
    assert customer_id is not None
    if _customer_gone(uow, customer_id):
        return _for_a_deleted_customer(uow, push_id, result)
    get_customer(uow, customer_id)  # the customer first: the rule of every credit
    request = _locked_push(uow, push_id)
    if request.checkout_request_id is None:
        if request.status != PushStatus.UNCONFIRMED:
            return StkSettlement(None, "no STK push of ours has this CheckoutRequestID")
        request.checkout_request_id = result.checkout_request_id
    elif request.checkout_request_id != result.checkout_request_id:
        return StkSettlement(None, "no STK push of ours has this CheckoutRequestID")
    decision = decide(_push_facts(uow, request), _result_facts(uow, request, result))
    return _apply(uow, request, result, decision)


def _unconfirmed_match(uow: UnitOfWork, result: StkResult) -> int | None:
    """The one unconfirmed push this paid result can be for: same phone, same amount, and no
    push of that phone and amount still being sent (the callback may be that one's: it waits).
    None when the callback gives no phone (a masked one proves nothing), or none or several fit.
    """
    if result.result_code != 0 or result.amount_kes is None or result.phone is None:
        return None
    rows = uow.session.execute(
        select(StkRequest.id, StkRequest.status).where(
            StkRequest.status.in_([PushStatus.UNCONFIRMED.value, PushStatus.SENDING.value]),
            StkRequest.checkout_request_id.is_(None),
            StkRequest.amount_kes == result.amount_kes,
            StkRequest.phone == result.phone,
            StkRequest.created_at > uow.clock.now() - UNCONFIRMED_MATCH_WINDOW,
        )
    )
    return pick_unconfirmed([(int(row.id), PushStatus(row.status)) for row in rows])


def _customer_gone(uow: UnitOfWork, customer_id: int) -> bool:
    deleted_at = uow.session.scalar(select(Customer.deleted_at).where(Customer.id == customer_id))
    return deleted_at is not None


def _for_a_deleted_customer(uow: UnitOfWork, push_id: int, result: StkResult) -> StkSettlement:
    """The push's customer was deleted since: real money of the pushed amount under a new
    receipt is kept unmatched for staff to assign, never dropped; anything else is flagged."""
    request = _locked_push(uow, push_id)
    reason = "the push's customer has been deleted"
    if (
        result.result_code != 0
        or result.amount_kes != request.amount_kes
        or request.status == PushStatus.PAID
        or find_payment(uow, "mpesa", _receipt(result)) is not None
    ):
        return StkSettlement(Verdict.FLAG, reason, None, request.id)
    if request.checkout_request_id is None:
        request.checkout_request_id = result.checkout_request_id
    kept = _keep_unmatched(uow, request, _receipt(result), result.paid_at)
    return StkSettlement(Verdict.FLAG, reason + "; the money is kept unmatched", kept, request.id)


def _keep_unmatched(
    uow: UnitOfWork, request: StkRequest, reference: str, paid_at: datetime | None
) -> PaymentResult:
    kept = record_unmatched_payment(
        uow, Actor.mpesa(), _pushed_money(request, reference, paid_at, None, "stk")
    )
    request.status = PushStatus.PAID.value
    request.settled_at = uow.clock.now()
    request.payment_id = kept.payment_id
    return kept


def _push_facts(uow: UnitOfWork, request: StkRequest) -> PushFacts:
    linked = uow.session.get(Payment, request.payment_id) if request.payment_id else None
    return PushFacts(
        status=PushStatus(request.status),
        amount_kes=request.amount_kes,
        phone=request.phone,
        credited_by_query=linked is not None and _is_provisional(linked),
    )


def _is_provisional(payment: Payment) -> bool:
    return (payment.reference or "").startswith(PROVISIONAL_PREFIX)


def _result_facts(uow: UnitOfWork, request: StkRequest, result: StkResult) -> ResultFacts:
    if result.result_code != 0:
        return ResultFacts(paid=False)
    holder = find_payment(uow, "mpesa", _receipt(result))
    return ResultFacts(
        paid=True,
        amount_kes=result.amount_kes,
        phone=result.phone,
        receipt_holder=_receipt_holder(request, holder),
        held_amount_kes=holder.amount_kes if holder is not None else None,
    )


def _receipt(result: StkResult) -> str:
    receipt = (result.receipt or "").strip().upper()
    if not receipt:
        raise InvalidInput("a paid STK result needs its receipt number")
    return receipt


def _receipt_holder(request: StkRequest, holder: Payment | None) -> ReceiptHolder:
    if holder is None:
        return ReceiptHolder.NOBODY
    if holder.id == request.payment_id:
        return ReceiptHolder.THIS_PUSH
    if holder.customer_id is None:
        return ReceiptHolder.UNMATCHED
    if holder.customer_id == request.customer_id:
        return ReceiptHolder.SAME_CUSTOMER
    return ReceiptHolder.OTHER_CUSTOMER


def _apply(
    uow: UnitOfWork, request: StkRequest, result: StkResult, decision: Decision
) -> StkSettlement:
    verdict = decision.verdict
    settled = StkSettlement(verdict, decision.reason, None, request.id)
    if verdict is Verdict.FAIL:
        _settle(uow, request, PushStatus.FAILED, result.result_code, result.result_description)
    elif verdict is Verdict.CREDIT:
        paid = _credit(uow, request, _receipt(result), result.paid_at, result.phone)
        _settle(uow, request, PushStatus.PAID, 0, result.result_description, paid.payment_id)
        return StkSettlement(verdict, decision.reason, paid, request.id)
    elif verdict is Verdict.LINK:
        payment = find_payment(uow, "mpesa", _receipt(result))
        assert payment is not None
        _settle(uow, request, PushStatus.PAID, 0, result.result_description, payment.id)
    elif verdict is Verdict.BIND:
        linked = uow.session.get(Payment, request.payment_id)
        assert linked is not None
        linked.reference = _receipt(result)
        if result.paid_at is not None:
            linked.received_at = result.paid_at
    return settled


def settle_stk_by_query(
    uow: UnitOfWork, stk_request_id: int, result_code: int, result_description: str
) -> StkSettlement:
    """No callback came: apply what an STK query said. A "paid" answer carries no receipt, so
    the pushed amount is credited under a provisional reference; the push's own callback, if it
    ever comes, binds its receipt to that credit (``core.stk_rules``: BIND)."""
    customer_id = uow.session.scalar(
        select(StkRequest.customer_id).where(StkRequest.id == stk_request_id)
    )
    if customer_id is None:
        raise InvalidInput(f"no STK request {stk_request_id}")
    gone = _customer_gone(uow, customer_id)
    if not gone:
        get_customer(uow, customer_id)  # the customer first: the rule of every credit
    request = _locked_push(uow, stk_request_id)
    if request.status != PushStatus.PENDING or request.checkout_request_id is None:
        return StkSettlement(Verdict.NOTHING, "already settled", None, request.id)
    provisional = (PROVISIONAL_PREFIX + request.checkout_request_id)[:64]
    if gone and result_code == 0:
        # Real money for a customer deleted since: kept unmatched for staff, never dropped.
        kept = _keep_unmatched(uow, request, provisional, None)
        return StkSettlement(Verdict.FLAG, "the push's customer has been deleted", kept, request.id)
    if gone:
        request.status = PushStatus.FAILED.value
        request.settled_at = uow.clock.now()
        return StkSettlement(
            Verdict.NOTHING, "the push's customer has been deleted", None, request.id
        )
    if result_code != 0:
        _settle(uow, request, PushStatus.FAILED, result_code, result_description)
        return StkSettlement(Verdict.FAIL, "", None, request.id)
    paid = _credit(uow, request, provisional, None, None, source="stk_query")
    _settle(uow, request, PushStatus.PAID, 0, result_description, paid.payment_id)
    return StkSettlement(Verdict.CREDIT, "", paid, request.id)


def _credit(
    uow: UnitOfWork,
    request: StkRequest,
    reference: str,
    paid_at: datetime | None,
    phone: str | None,
    *,
    source: str = "stk",
) -> PaymentResult:
    """Credit the pushed amount (never what a callback claims) under ``reference``."""
    return record_payment(
        uow,
        request.customer_id,
        Actor.mpesa(),
        _pushed_money(request, reference, paid_at, phone, source),
    )


def _pushed_money(
    request: StkRequest, reference: str, paid_at: datetime | None, phone: str | None, source: str
) -> IncomingPayment:
    """The money a push asked for: its amount, never what a callback claims."""
    return IncomingPayment(
        amount_kes=request.amount_kes,
        method="mpesa",
        reference=reference,
        received_at=paid_at,
        payer_phone=phone or request.phone,
        account_reference=request.account_reference,
        source=source,
    )


def _settle(
    uow: UnitOfWork,
    request: StkRequest,
    status: PushStatus,
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
    if status is PushStatus.FAILED:
        uow.publish(StkPushFailed(request.id))


__all__ = [
    "MAX_STK_AMOUNT_KES",
    "PROVISIONAL_PREFIX",
    "StkPushQueued",
    "StkResult",
    "StkSend",
    "StkSettlement",
    "abandoned_sends",
    "checkout_to_query",
    "claim_stk_send",
    "give_up_stk_send",
    "mark_stk_error",
    "mark_stk_sent",
    "mark_stk_unconfirmed",
    "pending_stk_requests",
    "push_being_sent",
    "queued_stk_requests",
    "release_stk_send",
    "request_stk_push",
    "settle_stk",
    "settle_stk_by_query",
]
