"""Money in: payments (matched, unmatched, assigned later) and debts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from core import audit, invoicing, ledger, lifecycle
from core.actors import Actor, Permission, require
from core.clock import ensure_utc
from core.display import kes
from core.errors import InvalidInput, InvalidTransition, PaymentNotFound
from core.events import PaymentReceived
from core.lookup import get_customer
from core.models import Customer, Payment, Plan, Subscription
from core.unit_of_work import UnitOfWork
from core.usecases.renewal import RenewalResult, mark_changed, renew_customer
from core.vocabulary import InvoiceKind, LedgerKind, PaymentMethod, Status, parse_choice


@dataclass(frozen=True)
class IncomingPayment:
    """A payment as an adapter saw it: staff form, M-Pesa callback, bank slip."""

    amount_kes: int
    method: str
    reference: str | None = None
    received_at: datetime | None = None
    payer_phone: str | None = None
    payer_name: str | None = None
    account_reference: str | None = None
    source: str = "staff"


@dataclass(frozen=True)
class PaymentResult:
    """The payment (new, or the one already recorded), and the renewal it caused."""

    payment_id: int
    duplicate: bool
    customer_id: int | None
    balance_kes: int | None
    renewal: RenewalResult | None
    customer_suspended: bool = False
    # What the payment is for: the amount typed, or, when the reference matched money that
    # arrived unmatched, that money's own amount (which is what was credited).
    amount_kes: int | None = None


def _normalize(
    incoming: IncomingPayment, now: datetime
) -> tuple[PaymentMethod, str | None, datetime]:
    method = parse_choice(PaymentMethod, incoming.method, "payment method")
    ledger.require_positive_amount(incoming.amount_kes)
    reference = (incoming.reference or "").strip().upper() or None
    if method is PaymentMethod.MPESA and reference is None:
        raise InvalidInput("an M-Pesa payment needs its receipt number as the reference")
    if reference is not None and len(reference) > 64:
        raise InvalidInput("a payment reference is at most 64 characters")
    received_at = ensure_utc(incoming.received_at) if incoming.received_at else now
    return method, reference, received_at


def find_payment(uow: UnitOfWork, method: str, reference: str) -> Payment | None:
    """The payment already recorded with this method and reference, if any."""
    return uow.session.scalars(
        select(Payment).where(Payment.method == method, Payment.reference == reference.upper())
    ).first()


def record_payment(
    uow: UnitOfWork,
    customer_id: int,
    actor: Actor,
    incoming: IncomingPayment,
    *,
    activate: bool = True,
    first_period_price_kes: int | None = None,
) -> PaymentResult:
    """Credit a payment to the customer and, if ``activate``, renew as far as the balance goes.

    A reference already recorded for the same method changes nothing and returns that payment
    (``duplicate=True``): a receipt is credited once however often it arrives.
    ``first_period_price_kes``: the sign-up's own price for the one period it buys (a prorated
    or discounted first period), instead of the plan's.
    """
    require(actor, Permission.RECORD_PAYMENT)
    method, reference, received_at = _normalize(incoming, uow.clock.now())
    if first_period_price_kes is not None:
        ledger.require_not_negative(first_period_price_kes, "the first period's price")
    customer = get_customer(uow, customer_id)
    if reference is not None:
        existing = find_payment(uow, method.value, reference)
        if existing is not None and existing.customer_id is None:
            # Money that arrived unmatched and is now recorded for this customer: it is theirs,
            # unless another path gave it to someone while we looked (re-read under its lock).
            existing = _locked_payment(uow, method.value, reference)
            assert existing is not None
            if existing.customer_id is None:
                existing.customer_id = customer.id
                return _credit(
                    uow,
                    customer,
                    existing,
                    actor,
                    activate=activate,
                    price_kes=first_period_price_kes,
                )
        if existing is not None:
            return _duplicate(uow, existing)
    payment = _new_payment(uow, actor, incoming, method, reference, received_at, customer.id)
    return _credit(
        uow, customer, payment, actor, activate=activate, price_kes=first_period_price_kes
    )


def _duplicate(uow: UnitOfWork, payment: Payment) -> PaymentResult:
    balance = ledger.balance_kes(uow, payment.customer_id) if payment.customer_id else None
    return PaymentResult(
        payment.id, True, payment.customer_id, balance, None, amount_kes=payment.amount_kes
    )


def _new_payment(
    uow: UnitOfWork,
    actor: Actor,
    incoming: IncomingPayment,
    method: PaymentMethod,
    reference: str | None,
    received_at: datetime,
    customer_id: int | None,
) -> Payment:
    payment = Payment(
        customer_id=customer_id,
        method=method.value,
        amount_kes=incoming.amount_kes,
        reference=reference,
        account_reference=incoming.account_reference,
        payer_phone=incoming.payer_phone,
        payer_name=incoming.payer_name,
        source=incoming.source,
        received_at=received_at,
        recorded_by=actor.label,
        created_at=uow.clock.now(),
    )
    uow.session.add(payment)
    uow.session.flush()
    return payment


def _credit(
    uow: UnitOfWork,
    customer: Customer,
    payment: Payment,
    actor: Actor,
    *,
    activate: bool,
    price_kes: int | None = None,
) -> PaymentResult:
    description = f"{payment.method} payment" + (
        f" {payment.reference}" if payment.reference else ""
    )
    ledger.post(
        uow, customer, LedgerKind.PAYMENT, payment.amount_kes, description, actor, payment.id
    )
    invoicing.receive(uow, customer, payment)
    audit.record(
        uow,
        actor,
        "payment.record",
        customer=customer,
        entity_type="payment",
        entity_id=payment.id,
        after={
            "amount_kes": payment.amount_kes,
            "method": payment.method,
            "reference": payment.reference,
        },
    )
    renewal = (
        renew_customer(uow, customer, actor, first_period_price_kes=price_kes) if activate else None
    )
    # The renewal read the balance after this payment's credit, under the same lock, and took
    # off what it charged: the same figure as summing the ledger again, one statement fewer.
    balance = renewal.balance_kes if renewal is not None else ledger.balance_kes(uow, customer.id)
    uow.publish(
        PaymentReceived(
            payment.id, customer.id, customer.expires_at, balance, method=payment.method
        )
    )
    return PaymentResult(
        payment.id,
        False,
        customer.id,
        balance,
        renewal,
        customer_suspended=customer.status == Status.SUSPENDED,
        amount_kes=payment.amount_kes,
    )


def record_unmatched_payment(
    uow: UnitOfWork, actor: Actor, incoming: IncomingPayment
) -> PaymentResult:
    """Keep money that matched no account, for staff to assign; never lose it or credit it twice."""
    require(actor, Permission.RECORD_PAYMENT)
    method, reference, received_at = _normalize(incoming, uow.clock.now())
    if reference is not None:
        existing = find_payment(uow, method.value, reference)
        if existing is not None:
            return _duplicate(uow, existing)
    payment = _new_payment(uow, actor, incoming, method, reference, received_at, None)
    audit.record(
        uow,
        actor,
        "payment.unmatched",
        entity_type="payment",
        entity_id=payment.id,
        after={
            "amount_kes": payment.amount_kes,
            "reference": reference,
            "account_reference": incoming.account_reference,
        },
    )
    uow.publish(PaymentReceived(payment.id, None, method=payment.method))
    return PaymentResult(payment.id, False, None, None, None, amount_kes=payment.amount_kes)


def assign_payment(
    uow: UnitOfWork,
    actor: Actor,
    reference: str,
    customer_id: int,
    *,
    activate: bool = True,
    method: str = "mpesa",
) -> PaymentResult:
    """Give an unmatched payment to a customer: credit, renew, audit."""
    require(actor, Permission.RECORD_PAYMENT)
    # The customer first, then the payment (the order of every path that credits): a callback
    # naming the same receipt at the same moment waits instead of deadlocking with us.
    customer = get_customer(uow, customer_id)
    payment = _locked_payment(uow, method, reference.strip().upper())
    if payment is None:
        raise PaymentNotFound(f"no payment with reference {reference.strip()!r}")
    if payment.customer_id is not None:
        raise InvalidTransition(f"payment {payment.reference} is already credited to a customer")
    payment.customer_id = customer.id
    return _credit(uow, customer, payment, actor, activate=activate)


def _locked_payment(uow: UnitOfWork, method: str, reference: str) -> Payment | None:
    return uow.session.scalars(
        select(Payment)
        .where(Payment.method == method, Payment.reference == reference)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()


def unmatched_payments(uow: UnitOfWork, limit: int = 50) -> list[Payment]:
    return list(
        uow.session.scalars(
            select(Payment)
            .where(Payment.customer_id.is_(None))
            .order_by(Payment.received_at.desc())
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class DebtResult:
    balance_kes: int
    expires_at: datetime | None
    service_started: bool


def record_debt(
    uow: UnitOfWork,
    customer_id: int,
    actor: Actor,
    amount_kes: int,
    note: str | None = None,
    *,
    start_service: bool = True,
) -> DebtResult:
    """Serve now, pay later: the balance goes negative by ``amount_kes`` and, if the customer is
    not already in service, one period of their plan starts now. Later payments settle the debt
    first, because a balance is a plain sum."""
    require(actor, Permission.MANAGE_CUSTOMERS)
    ledger.require_positive_amount(amount_kes)
    customer = get_customer(uow, customer_id)
    now = uow.clock.now()
    if customer.status == Status.SUSPENDED and start_service:
        raise InvalidTransition("unsuspend the customer before starting service on debt")
    before = audit.snapshot(customer)
    note_text = note.strip() if note and note.strip() else None
    plan = customer.plan
    starts_service = start_service and not lifecycle.allowed_in(customer, now)
    invoicing.charge(
        uow,
        customer,
        actor,
        kind=InvoiceKind.DEBT,
        ledger_kind=LedgerKind.DEBT,
        description="debt" + (f": {note_text}" if note_text else ""),
        lines=[_debt_line(plan, amount_kes, now if starts_service else None, note_text)],
        plan_name=plan.name if starts_service else None,
    )
    started = False
    if starts_service:
        customer.expires_at = now + plan.period
        uow.session.add(
            Subscription(
                customer_id=customer.id,
                plan_id=plan.id,
                starts_at=now,
                ends_at=customer.expires_at,
                price_kes=amount_kes,
                funded_by="debt",
                created_at=now,
            )
        )
        lifecycle.move(customer, "activate", Status.ACTIVE)
        mark_changed(uow, customer)
        started = True
    audit.record(
        uow,
        actor,
        "customer.debt",
        customer=customer,
        before=before,
        after=audit.snapshot(customer),
        reason=kes(amount_kes) + (f": {note}" if note else ""),
    )
    return DebtResult(ledger.balance_kes(uow, customer.id), customer.expires_at, started)


def _debt_line(
    plan: Plan, amount_kes: int, service_from: datetime | None, note: str | None
) -> invoicing.Line:
    """The debt's invoice line: the period served on credit when service starts, else the debt."""
    suffix = f": {note}" if note else ""
    if service_from is None:
        return invoicing.Line("Debt" + suffix, amount_kes)
    description = f"{plan.name} ({plan.validity_text}) on credit" + suffix
    return invoicing.Line(description, amount_kes, service_from, service_from + plan.period)
