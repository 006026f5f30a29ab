"""What subscribers and staff are told after money moves or an STK push fails.

Each function queues the subscriber's SMS in the caller's transaction and returns the line for
the staff chat; the job that calls it hands that line to the StaffNotifier.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core import ledger, messages
from core.contacts import contact_values
from core.display import kes, local_time
from core.models import Customer, MpesaCallback, Payment, StkRequest
from core.unit_of_work import UnitOfWork
from core.usecases.preferences import language_of
from core.usecases.renewal import renewal_plan
from core.usecases.sms import SECRET_MASK, ClaimedSms, queue_sms
from core.vocabulary import Status


@dataclass(frozen=True)
class PaymentNotices:
    """The staff alert (None if the payment is gone), and the payer's receipt SMS when the
    caller asked to send it itself (``send_here``) and the customer has a phone."""

    staff_line: str | None
    receipt_sms: ClaimedSms | None = None


def payment_notices(
    uow: UnitOfWork,
    payment_id: int,
    expires_at: datetime | None = None,
    balance_kes: int | None = None,
    *,
    send_here: bool = False,
) -> PaymentNotices:
    """Queue the payer's receipt SMS; return it with the staff alert.

    ``expires_at`` and ``balance_kes`` are the customer's right after this payment (from its
    PaymentReceived): a later payment may have moved both before this runs. Without them (a
    payment recorded before they were kept) the customer's present state is told.
    ``send_here``: the caller sends the receipt itself after commit (it is stored claimed, see
    ``queue_sms``), one job and one transaction fewer per payment than a send job of its own.
    """
    payment = uow.session.get(Payment, payment_id)
    if payment is None:
        return PaymentNotices(None)
    receipt = payment.reference or payment.method
    if payment.customer_id is None:
        return PaymentNotices(
            f"Unmatched payment: {kes(payment.amount_kes)} {payment.method} {receipt} for account "
            f"{payment.account_reference or '(none)'!r} from {payment.payer_name or 'unknown'}. "
            f"Assign it: /assign {receipt} ACCOUNT"
        )
    customer = uow.session.get(Customer, payment.customer_id)
    assert customer is not None
    zone = uow.config.timezone
    if expires_at is None and balance_kes is None:
        expires_at, balance_kes = customer.expires_at, ledger.balance_kes(uow, customer.id)
    balance = balance_kes or 0
    plan = renewal_plan(customer)
    shortfall = max(0, plan.price_kes - balance)
    values = contact_values(uow.config) | {
        "amount": f"{payment.amount_kes:,}",
        "receipt": receipt,
        "account": customer.account_number,
        "plan": plan.name,
        "balance": f"{balance:,}",
        "expires": local_time(expires_at, zone),
        "shortfall": f"{shortfall:,}",
    }
    if customer.status == Status.SUSPENDED:
        key = "payment_suspended"
        staff_line = (
            f"Payment {kes(payment.amount_kes)} ({receipt}) from {customer.full_name} "
            f"({customer.account_number}) kept as credit: the customer is SUSPENDED."
        )
    elif expires_at is not None and expires_at > payment.created_at:
        # The customer had paid time after this payment: it renewed or topped up service.
        key = "payment_renewed"
        staff_line = (
            f"Payment {kes(payment.amount_kes)} ({receipt}) from {customer.full_name} "
            f"({customer.account_number}); active until {local_time(expires_at, zone)}."
        )
    else:
        key = "payment_partial"
        staff_line = (
            f"Part payment {kes(payment.amount_kes)} ({receipt}) from {customer.full_name} "
            f"({customer.account_number}); {kes(shortfall)} more renews."
        )
    if not customer.phone:
        return PaymentNotices(staff_line)
    body = messages.render(key, language_of(uow, customer.phone), **values)
    sms = queue_sms(
        uow, customer.phone, body, f"receipt:{payment.id}", customer.id, claimed=send_here
    )
    return PaymentNotices(staff_line, ClaimedSms(sms.id, sms.phone, body) if send_here else None)


def stk_failure_notices(uow: UnitOfWork, stk_request_id: int) -> str | None:
    """Explain a failed STK push to the subscriber in plain words; return the staff line."""
    request = uow.session.get(StkRequest, stk_request_id)
    if request is None:
        return None
    customer = uow.session.get(Customer, request.customer_id)
    assert customer is not None
    code = request.result_code
    language = language_of(uow, request.phone)
    reason = messages.stk_result_text(code if code is not None else -1, language)
    if code is None and request.result_description:
        reason = "We could not send the M-Pesa prompt. Please try again later."
    body = messages.render(
        "stk_failed",
        language,
        reason=reason,
        account=customer.account_number,
        **contact_values(uow.config),
    )
    queue_sms(uow, request.phone, body, f"stk_failed:{request.id}", customer.id)
    return (
        f"STK push {kes(request.amount_kes)} to {customer.full_name} "
        f"({customer.account_number}) failed: {request.result_description or code}."
    )


def callback_flag_line(uow: UnitOfWork, callback_id: int, reason: str) -> str:
    """The staff alert for a callback that could not be handled."""
    callback = uow.session.get(MpesaCallback, callback_id)
    kind = callback.kind if callback else "callback"
    return (
        f"M-Pesa {kind} #{callback_id} could not be handled ({reason}). "
        "It is stored; check it against the M-Pesa statement."
    )


def notice_values(uow: UnitOfWork, customer: Customer) -> dict[str, str]:
    """The values every subscriber notice may use."""
    config = uow.config
    return contact_values(config) | {
        "isp": config.isp_name,
        "account": customer.account_number,
        "plan": renewal_plan(customer).name,
        "balance": f"{ledger.balance_kes(uow, customer.id):,}",
        "expires": local_time(customer.expires_at, config.timezone),
        "username": customer.username,
        "ip": customer.ip_address or "-",
    }


def queue_welcome(uow: UnitOfWork, customer: Customer, password: str) -> None:
    """The new subscriber's login and how to pay. Static customers have no login to send.

    The password travels by SMS because that is how a home subscriber without email gets it.
    The outbox keeps it masked and encrypted until it is sent (core.usecases.sms).
    """
    if not customer.phone:
        return
    static = customer.connection_type == "static"
    values = notice_values(uow, customer) | {"password": SECRET_MASK}
    body = messages.render(
        "welcome_static" if static else "welcome", language_of(uow, customer.phone), **values
    )
    secret = None if static else password
    queue_sms(uow, customer.phone, body, f"welcome:{customer.id}", customer.id, secret=secret)


def queue_renewed_from_credit(uow: UnitOfWork, customer: Customer) -> None:
    """Tell an auto-renew subscriber that their credit paid for the next period."""
    if not customer.phone or customer.expires_at is None:
        return
    body = messages.render(
        "renewed_from_credit",
        language_of(uow, customer.phone),
        **notice_values(uow, customer),
    )
    # The new expiry tells one renewal from the next; epoch seconds keep the kind within 32 chars.
    kind = f"renewed:{customer.id}:{int(customer.expires_at.timestamp())}"
    queue_sms(uow, customer.phone, body, kind, customer.id)


def queue_suspended_notice(uow: UnitOfWork, customer: Customer) -> None:
    """Tell the subscriber why the line went dead and whom to call (not the staff's reason)."""
    if not customer.phone:
        return
    body = messages.render(
        "suspended_notice", language_of(uow, customer.phone), **notice_values(uow, customer)
    )
    queue_sms(uow, customer.phone, body, f"suspended:{customer.id}", customer.id)
