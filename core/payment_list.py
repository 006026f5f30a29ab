"""Payments received between two local days, as staff reconcile them against the M-Pesa (or
bank) statement: one query, oldest first, with the account each was credited to."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlalchemy import ColumnElement, Select, and_, func, not_, or_, select

from core.actors import Actor, Permission, require
from core.errors import InvalidInput
from core.exports import EXPORT_BATCH, Export, csv_export, record_export, text_cell
from core.models import Customer, Payment
from core.reports import local_day_start
from core.unit_of_work import UnitOfWork
from core.usecases.stk import PROVISIONAL_PREFIX
from core.vocabulary import PaymentMethod, parse_choice

MATCHED = "matched"
UNMATCHED = "unmatched"
# Credited on Safaricom's word (an STK query) before its receipt came: not yet on any statement
# under this reference.
PROVISIONAL = "provisional"
MAX_PAGE = 500


class PaymentStatus(StrEnum):
    """Where a payment stands: credited, waiting for staff, or credited before its receipt."""

    MATCHED = MATCHED
    UNMATCHED = UNMATCHED
    PROVISIONAL = PROVISIONAL


@dataclass(frozen=True)
class PaymentFilter:
    """Which payments a list shows: local days ``first`` to ``last`` (inclusive), optionally
    of one method and one status."""

    first: date
    last: date
    method: PaymentMethod | None = None
    status: PaymentStatus | None = None


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


def read_payment_filter(first: str, last: str, method: str = "", status: str = "") -> PaymentFilter:
    """A filter from the words staff typed ("" leaves method or status out), or InvalidInput."""
    days = read_days(first, last)
    return PaymentFilter(
        days[0],
        days[1],
        parse_choice(PaymentMethod, method, "method") if method.strip() else None,
        parse_choice(PaymentStatus, status, "status") if status.strip() else None,
    )


def _conditions(uow: UnitOfWork, wanted: PaymentFilter) -> list[ColumnElement[bool]]:
    check_days(wanted.first, wanted.last)
    conditions = [
        Payment.received_at >= local_day_start(wanted.first, uow),
        Payment.received_at < local_day_start(wanted.last + timedelta(days=1), uow),
    ]
    if wanted.method is not None:
        conditions.append(Payment.method == wanted.method.value)
    provisional = Payment.reference.like(PROVISIONAL_PREFIX + "%")
    if wanted.status is PaymentStatus.UNMATCHED:
        conditions.append(Payment.customer_id.is_(None))
    elif wanted.status is PaymentStatus.PROVISIONAL:
        conditions.append(and_(Payment.customer_id.is_not(None), provisional))
    elif wanted.status is PaymentStatus.MATCHED:
        conditions.append(
            and_(
                Payment.customer_id.is_not(None),
                or_(Payment.reference.is_(None), not_(provisional)),
            )
        )
    return conditions


def _lines_query(uow: UnitOfWork, wanted: PaymentFilter) -> Select[Payment, str]:
    return (
        select(Payment, Customer.account_number)
        .outerjoin(Customer, Payment.customer_id == Customer.id)
        .where(*_conditions(uow, wanted))
        .order_by(Payment.received_at, Payment.id)
    )


def payments_between(
    uow: UnitOfWork,
    actor: Actor,
    first: date,
    last: date,
    *,
    method: PaymentMethod | None = None,
    status: PaymentStatus | None = None,
) -> list[PaymentLine]:
    """Every payment received from the start of local day ``first`` to the end of ``last``
    (of ``method`` and ``status`` when given)."""
    require(actor, Permission.VIEW)
    return list(_streamed_lines(uow, PaymentFilter(first, last, method, status)))


def _streamed_lines(uow: UnitOfWork, wanted: PaymentFilter) -> Iterator[PaymentLine]:
    """The lines ``wanted``, read ``EXPORT_BATCH`` rows at a time (a server-side cursor on
    PostgreSQL): an export of 100,000 payments never holds them all as ORM objects at once."""
    query = _lines_query(uow, wanted).execution_options(yield_per=EXPORT_BATCH)
    for payment, number in uow.session.execute(query):
        yield _line(payment, number)


@dataclass(frozen=True)
class PaymentPage:
    """One page of a payment list (oldest first), how many match in all and their sum."""

    lines: list[PaymentLine]
    total: int
    total_kes: int
    offset: int
    limit: int

    @property
    def has_more(self) -> bool:
        return self.offset + len(self.lines) < self.total


def payment_page(
    uow: UnitOfWork, actor: Actor, wanted: PaymentFilter, offset: int = 0, limit: int = 50
) -> PaymentPage:
    """The payments ``wanted`` from ``offset``: two statements however many match."""
    require(actor, Permission.VIEW)
    if offset < 0 or not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"a page starts at 0 or later and holds 1 to {MAX_PAGE} payments")
    total, total_kes = uow.session.execute(
        select(func.count(Payment.id), func.coalesce(func.sum(Payment.amount_kes), 0)).where(
            *_conditions(uow, wanted)
        )
    ).one()
    rows = uow.session.execute(_lines_query(uow, wanted).offset(offset).limit(limit))
    return PaymentPage(
        [_line(payment, number) for payment, number in rows],
        int(total),
        int(total_kes),
        offset,
        limit,
    )


def _line(payment: Payment, account_number: str | None) -> PaymentLine:
    return PaymentLine(
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


def export_payments(
    uow: UnitOfWork,
    actor: Actor,
    first: date,
    last: date,
    *,
    method: PaymentMethod | None = None,
    status: PaymentStatus | None = None,
) -> Export:
    """The payments of those days (of ``method`` and ``status`` when given) as CSV, local times,
    whole shillings; audited. Admins and owners only (payers' names and phones). The caller
    commits (the audit entry)."""
    require(actor, Permission.EXPORT_DATA)
    require(actor, Permission.VIEW)
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
        for line in _streamed_lines(uow, PaymentFilter(first, last, method, status))
    )
    name = f"payments-{first.isoformat()}-to-{last.isoformat()}.csv"
    export = csv_export(name, CSV_HEADER, rows)
    what = " ".join(
        [f"payments {first}..{last}"]
        + [
            f"{key}={value.value}"
            for key, value in (("method", method), ("status", status))
            if value
        ]
    )
    record_export(uow, actor, "export.payments", what, export)
    return export
