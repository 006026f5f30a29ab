"""Reading invoices and receipts: a customer's list, and one document with all it prints."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from core.actors import Actor, Permission, require
from core.errors import InvoiceNotFound, ReceiptNotFound
from core.lookup import get_customer
from core.models import Customer, Invoice, Payment, PaymentAllocation, Receipt
from core.numbering import Sequence, label, parse_number
from core.unit_of_work import UnitOfWork
from core.vocabulary import InvoiceStatus

DEFAULT_LIMIT = 10


@dataclass(frozen=True)
class IspDetails:
    """Who issues the documents (from the settings)."""

    name: str
    address: str
    phone: str
    email: str
    paybill: str


@dataclass(frozen=True)
class BilledCustomer:
    name: str
    account_number: str
    phone: str | None


@dataclass(frozen=True)
class InvoiceSummary:
    number: int
    label: str
    kind: str
    plan_name: str | None
    period_start: datetime | None
    period_end: datetime | None
    amount_kes: int
    paid_kes: int
    status: str
    issued_at: datetime

    @property
    def due_kes(self) -> int:
        return self.amount_kes - self.paid_kes


@dataclass(frozen=True)
class ReceiptSummary:
    number: int
    label: str
    amount_kes: int
    method: str
    reference: str | None
    received_at: datetime


@dataclass(frozen=True)
class CustomerDocuments:
    """The newest invoices and receipts of a customer, and what is still owed on all invoices."""

    customer: BilledCustomer
    invoices: list[InvoiceSummary]
    receipts: list[ReceiptSummary]
    invoice_count: int
    due_kes: int


@dataclass(frozen=True)
class DocumentLine:
    description: str
    period_start: datetime | None
    period_end: datetime | None
    amount_kes: int


@dataclass(frozen=True)
class AppliedPayment:
    """Money put towards an invoice. ``receipt`` is None for account credit from before
    invoices existed; ``reference`` is the M-Pesa receipt (or the cash/bank reference)."""

    receipt: str | None
    method: str | None
    reference: str | None
    received_at: datetime | None
    amount_kes: int


@dataclass(frozen=True)
class InvoiceDocument:
    isp: IspDetails
    customer: BilledCustomer
    number: int
    label: str
    kind: str
    status: str
    issued_at: datetime
    lines: list[DocumentLine]
    amount_kes: int
    paid_kes: int
    payments: list[AppliedPayment]
    zone: ZoneInfo

    @property
    def due_kes(self) -> int:
        return self.amount_kes - self.paid_kes


@dataclass(frozen=True)
class ReceiptDocument:
    """A payment's receipt: the money, and the invoices it has paid so far (the rest is
    credit that a later invoice will use)."""

    isp: IspDetails
    customer: BilledCustomer
    number: int
    label: str
    issued_at: datetime
    received_at: datetime
    method: str
    reference: str | None
    amount_kes: int
    applied: list[tuple[str, int]]
    zone: ZoneInfo

    @property
    def unapplied_kes(self) -> int:
        return self.amount_kes - sum(amount for _, amount in self.applied)


def customer_documents(
    uow: UnitOfWork, actor: Actor, customer_id: int, limit: int = DEFAULT_LIMIT
) -> CustomerDocuments:
    """The customer's ``limit`` newest invoices and receipts, newest first."""
    require(actor, Permission.VIEW)
    customer = get_customer(uow, customer_id, for_update=False)
    invoices = uow.session.scalars(
        select(Invoice)
        .where(Invoice.customer_id == customer.id)
        .order_by(Invoice.number.desc())
        .limit(limit)
    )
    receipts = uow.session.execute(
        select(Receipt, Payment)
        .join(Payment, Payment.id == Receipt.payment_id)
        .where(Receipt.customer_id == customer.id)
        .order_by(Receipt.number.desc())
        .limit(limit)
    )
    count, due = uow.session.execute(
        select(
            func.count(Invoice.id),
            func.coalesce(func.sum(Invoice.amount_kes - Invoice.paid_kes), 0),
        ).where(Invoice.customer_id == customer.id)
    ).one()
    return CustomerDocuments(
        customer=_billed(customer),
        invoices=[_summary(invoice) for invoice in invoices],
        receipts=[
            ReceiptSummary(
                receipt.number,
                label(Sequence.RECEIPT, receipt.number),
                receipt.amount_kes,
                payment.method,
                payment.reference,
                payment.received_at,
            )
            for receipt, payment in receipts
        ],
        invoice_count=int(count),
        due_kes=int(due),
    )


def invoice_document(uow: UnitOfWork, actor: Actor, number: int | str) -> InvoiceDocument:
    """Everything an invoice prints. ``number`` is 123 or a label such as ``INV-000123``."""
    require(actor, Permission.VIEW)
    wanted = number if isinstance(number, int) else parse_number(Sequence.INVOICE, number)
    invoice = uow.session.scalars(
        select(Invoice)
        .where(Invoice.number == wanted)
        .options(
            selectinload(Invoice.lines),
            selectinload(Invoice.allocations).selectinload(PaymentAllocation.payment),
            selectinload(Invoice.customer),
        )
    ).first()
    if invoice is None:
        raise InvoiceNotFound(f"there is no invoice {label(Sequence.INVOICE, wanted)}")
    receipt_numbers = _receipt_numbers(
        uow, [a.payment_id for a in invoice.allocations if a.payment_id is not None]
    )
    return InvoiceDocument(
        isp=isp_details(uow),
        customer=_billed(invoice.customer),
        number=invoice.number,
        label=label(Sequence.INVOICE, invoice.number),
        kind=invoice.kind,
        status=invoice.status,
        issued_at=invoice.issued_at,
        lines=[
            DocumentLine(line.description, line.period_start, line.period_end, line.amount_kes)
            for line in invoice.lines
        ],
        amount_kes=invoice.amount_kes,
        paid_kes=invoice.paid_kes,
        payments=[_applied(allocation, receipt_numbers) for allocation in invoice.allocations],
        zone=uow.config.timezone,
    )


def receipt_document(uow: UnitOfWork, actor: Actor, number: int | str) -> ReceiptDocument:
    """Everything a receipt prints. ``number`` is 45 or a label such as ``RCT-000045``."""
    require(actor, Permission.VIEW)
    wanted = number if isinstance(number, int) else parse_number(Sequence.RECEIPT, number)
    receipt = uow.session.scalars(
        select(Receipt)
        .where(Receipt.number == wanted)
        .options(selectinload(Receipt.payment), selectinload(Receipt.customer))
    ).first()
    if receipt is None:
        raise ReceiptNotFound(f"there is no receipt {label(Sequence.RECEIPT, wanted)}")
    applied = uow.session.execute(
        select(Invoice.number, PaymentAllocation.amount_kes)
        .join(Invoice, Invoice.id == PaymentAllocation.invoice_id)
        .where(PaymentAllocation.payment_id == receipt.payment_id)
        .order_by(PaymentAllocation.id)
    )
    payment = receipt.payment
    return ReceiptDocument(
        isp=isp_details(uow),
        customer=_billed(receipt.customer),
        number=receipt.number,
        label=label(Sequence.RECEIPT, receipt.number),
        issued_at=receipt.issued_at,
        received_at=payment.received_at,
        method=payment.method,
        reference=payment.reference,
        amount_kes=receipt.amount_kes,
        applied=[(label(Sequence.INVOICE, n), int(amount)) for n, amount in applied],
        zone=uow.config.timezone,
    )


def isp_details(uow: UnitOfWork) -> IspDetails:
    config = uow.config
    return IspDetails(
        config.isp_name,
        config.isp_address,
        config.support_phone,
        config.isp_email,
        config.paybill_number,
    )


def status_text(status: str) -> str:
    """``partially_paid`` → ``partially paid``."""
    return InvoiceStatus(status).value.replace("_", " ")


def _summary(invoice: Invoice) -> InvoiceSummary:
    return InvoiceSummary(
        invoice.number,
        label(Sequence.INVOICE, invoice.number),
        invoice.kind,
        invoice.plan_name,
        invoice.period_start,
        invoice.period_end,
        invoice.amount_kes,
        invoice.paid_kes,
        invoice.status,
        invoice.issued_at,
    )


def _billed(customer: Customer) -> BilledCustomer:
    return BilledCustomer(customer.full_name, customer.account_number, customer.phone)


def _receipt_numbers(uow: UnitOfWork, payment_ids: list[int]) -> dict[int, int]:
    if not payment_ids:
        return {}
    rows = uow.session.execute(
        select(Receipt.payment_id, Receipt.number).where(Receipt.payment_id.in_(payment_ids))
    )
    return {payment_id: number for payment_id, number in rows}


def _applied(allocation: PaymentAllocation, receipt_numbers: dict[int, int]) -> AppliedPayment:
    payment = allocation.payment
    if payment is None:
        return AppliedPayment(None, None, None, None, allocation.amount_kes)
    number = receipt_numbers.get(payment.id)
    return AppliedPayment(
        label(Sequence.RECEIPT, number) if number is not None else None,
        payment.method,
        payment.reference,
        payment.received_at,
        allocation.amount_kes,
    )
