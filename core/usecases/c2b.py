"""Paybill (C2B): validation asks whether an account exists; a confirmation credits the money.

A confirmation proves its own receipt (TransID) and is credited by it, once: the customer row is
locked first, then the receipt is looked up, then the payment is written. Money for no account
is kept unmatched for staff, never rejected once it has moved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.actors import Actor
from core.lookup import paybill_customer_id
from core.unit_of_work import UnitOfWork
from core.usecases.billing import (
    IncomingPayment,
    PaymentResult,
    record_payment,
    record_unmatched_payment,
)


def c2b_account_exists(uow: UnitOfWork, bill_ref_number: str) -> bool:
    """Validation: does the paybill account number name a customer (forgiving match), or is it
    a customer's additional account number?"""
    return paybill_customer_id(uow, bill_ref_number) is not None


@dataclass(frozen=True)
class C2BConfirmation:
    trans_id: str
    amount_kes: int
    bill_ref_number: str
    paid_at: datetime | None
    payer_phone: str | None
    payer_name: str | None


def confirm_c2b(uow: UnitOfWork, confirmation: C2BConfirmation) -> PaymentResult:
    """A paybill payment has happened: credit the matched customer under its TransID, or keep it
    unmatched for staff. Idempotent on TransID (``record_payment`` locks the customer, then
    looks the receipt up)."""
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
    customer_id = paybill_customer_id(uow, confirmation.bill_ref_number)
    if customer_id is None:
        return record_unmatched_payment(uow, Actor.mpesa(), incoming)
    return record_payment(uow, customer_id, Actor.mpesa(), incoming)
