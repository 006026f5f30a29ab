"""Payments received between two local days, as staff reconcile them against the M-Pesa (or
bank) statement: one query, oldest first, with the account each was credited to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select

from core.actors import Actor, Permission, require
from core.errors import InvalidInput
from core.exports import Export, csv_export, record_export, text_cell
from core.models import Customer, Payment
from core.reports import local_day_start
from core.unit_of_work import UnitOfWork
from core.usecases.stk import PROVISIONAL_PREFIX

MATCHED = "matched"
UNMATCHED = "unmatched"
# Credited on Safaricom's word (an STK query) before its receipt came: not yet on any statement
# under this reference.
PROVISIONAL = "provisional"


@dataclass(frozen=True)
class PaymentLine:
    received_at: datetime
    reference: str | None
    method: str
    amount_kes: int
    payer_phone: str | None
    payer_name: str | None
    account_reference: str | None
    account_number: str | None
    status: str


def read_days(first: str, last: str) -> tuple[date, date]:
    """``YYYY-MM-DD`` days from ``first`` to ``last``, or InvalidInput saying what is wrong."""
    days = []
    for text in (first, last):
        try:
            days.append(date.fromisoformat(text.strip()))
        except ValueError:
            raise InvalidInput(f"{text.strip()!r} is not a date YYYY-MM-DD") from None
    check_days(days[0], days[1])
    return days[0], days[1]


def check_days(first: date, last: date) -> None:
    if first > last:
        raise InvalidInput(f"from {first} is after to {last}")


def payments_between(uow: UnitOfWork, actor: Actor, first: date, last: date) -> list[PaymentLine]:
    """Every payment received from the start of local day ``first`` to the end of ``last``."""
    require(actor, Permission.VIEW)
    check_days(first, last)
    start = local_day_start(first, uow)
    end = local_day_start(last + timedelta(days=1), uow)
    query = (
        select(Payment, Customer.account_number)
        .outerjoin(Customer, Payment.customer_id == Customer.id)
        .where(Payment.received_at >= start, Payment.received_at < end)
        .order_by(Payment.received_at, Payment.id)
    )
    return [
        PaymentLine(
            received_at=payment.received_at,
            reference=payment.reference,
            method=payment.method,
            amount_kes=payment.amount_kes,
            payer_phone=payment.payer_phone,
            payer_name=payment.payer_name,
            account_reference=payment.account_reference,
            account_number=account_number,
            status=_status(payment),
        )
        for payment, account_number in uow.session.execute(query)
    ]


def _status(payment: Payment) -> str:
    if payment.customer_id is None:
        return UNMATCHED
    if (payment.reference or "").startswith(PROVISIONAL_PREFIX):
        return PROVISIONAL
    return MATCHED


CSV_HEADER = (
    "received",
    "receipt",
    "method",
    "amount_kes",
    "payer_phone",
    "payer_name",
    "account_reference",
    "account_number",
    "status",
)


def export_payments(uow: UnitOfWork, actor: Actor, first: date, last: date) -> Export:
    """The payments of those days as CSV, local times, whole shillings; audited. Admins and
    owners only (payers' names and phones). The caller commits (the audit entry)."""
    require(actor, Permission.EXPORT_DATA)
    zone = uow.config.timezone
    rows = (
        (
            line.received_at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"),
            text_cell(line.reference),
            line.method,
            line.amount_kes,
            text_cell(line.payer_phone),
            text_cell(line.payer_name),
            text_cell(line.account_reference),
            line.account_number,
            line.status,
        )
        for line in payments_between(uow, actor, first, last)
    )
    name = f"payments-{first.isoformat()}-to-{last.isoformat()}.csv"
    export = csv_export(name, CSV_HEADER, rows)
    record_export(uow, actor, "export.payments", f"payments {first}..{last}", export)
    return export
