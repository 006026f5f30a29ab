"""Invoices and receipts, kept in step with the ledger by the use cases that move money.

Every charge (a renewal, a debt, an installation fee) is posted to the ledger and documented by
an invoice in one call, ``charge``. Every payment credited to a customer gets a receipt and
settles that customer's open invoices, oldest first (``receive``), as the ledger settles debt
first. An invoice issued while the customer has credit is settled at once from the receipts
whose money is still unspent, oldest first; credit no receipt accounts for (kept from before
invoices existed) is recorded as "account credit". So an invoice's paid amount always agrees
with the ledger: a renewal (bought from the balance) is paid, a debt is unpaid until paid.

These functions run inside a use case's transaction, with the customer's row already locked;
they check no role (the use case did).
"""

from __future__ import annotations

from collections.abc import Sequence as Seq
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from core import ledger
from core.actors import Actor
from core.display import kes
from core.models import Customer, Invoice, InvoiceLine, Payment, PaymentAllocation, Plan, Receipt
from core.numbering import Sequence, number_on_commit
from core.unit_of_work import UnitOfWork
from core.vocabulary import InvoiceKind, InvoiceStatus, LedgerKind


@dataclass(frozen=True)
class Line:
    """One line to bill: what, how much, and the service period it covers (if any)."""

    description: str
    amount_kes: int
    period_start: datetime | None = None
    period_end: datetime | None = None


def status_for(amount_kes: int, paid_kes: int) -> InvoiceStatus:
    """Paid in full (a free plan's KES 0 invoice too), partly, or not at all."""
    if paid_kes >= amount_kes:
        return InvoiceStatus.PAID
    return InvoiceStatus.PARTIALLY_PAID if paid_kes > 0 else InvoiceStatus.UNPAID


def charge(
    uow: UnitOfWork,
    customer: Customer,
    actor: Actor,
    *,
    kind: InvoiceKind,
    ledger_kind: LedgerKind,
    description: str,
    lines: Seq[Line],
    plan_name: str | None = None,
    balance_kes: int | None = None,
) -> Invoice:
    """Post the ledger charge for ``lines`` (none for KES 0) and issue its invoice, settled at
    once as far as the customer's credit before the charge goes. ``balance_kes``: that balance,
    when the caller has just read it in this transaction under the customer's lock."""
    amount = sum(line.amount_kes for line in lines)
    if balance_kes is None:
        balance_kes = ledger.balance_kes(uow, customer.id)
    credit = max(0, balance_kes)
    entry = ledger.post(uow, customer, ledger_kind, -amount, description, actor) if amount else None
    starts = [line.period_start for line in lines if line.period_start is not None]
    ends = [line.period_end for line in lines if line.period_end is not None]
    invoice = Invoice(
        customer_id=customer.id,
        kind=kind.value,
        plan_name=plan_name,
        period_start=min(starts) if starts else None,
        period_end=max(ends) if ends else None,
        amount_kes=amount,
        paid_kes=0,
        status=status_for(amount, 0).value,
        ledger_entry=entry,
        issued_at=uow.clock.now(),
        issued_by=actor.label,
    )
    invoice.lines = [
        InvoiceLine(
            description=line.description,
            period_start=line.period_start,
            period_end=line.period_end,
            amount_kes=line.amount_kes,
        )
        for line in lines
    ]
    _settle_from_credit(uow, customer.id, invoice, min(amount, credit))
    uow.session.add(invoice)
    number_on_commit(uow, Sequence.INVOICE, invoice)
    # Written with the transaction's next query or at commit, with its lines and allocations
    # (and the charge), in one flush: its id is None until then.
    return invoice


def bill_renewal(
    uow: UnitOfWork,
    customer: Customer,
    plan: Plan,
    first_start: datetime,
    periods: int,
    actor: Actor,
    amount_kes: int | None = None,
    *,
    balance_kes: int | None = None,
) -> Invoice:
    """The ledger charge and the invoice of ``periods`` periods of ``plan`` from
    ``first_start``: one line for them all (a payment worth years stays one line).
    ``amount_kes``: what they cost, when not the plan's price (a sign-up's first period);
    ``balance_kes``: as for ``charge``."""
    end = first_start + plan.period * periods
    label = f"{plan.name} ({plan.validity_text})"
    if periods > 1:
        label = f"{periods} × {label}"
    amount = plan.price_kes * periods if amount_kes is None else amount_kes
    if amount != plan.price_kes * periods:
        label += f", at {kes(amount)}"
    lines = [Line(label, amount, first_start, end)]
    return charge(
        uow,
        customer,
        actor,
        kind=InvoiceKind.RENEWAL,
        ledger_kind=LedgerKind.PLAN_CHARGE,
        description=f"{periods} × {plan.name} ({plan.validity_text})",
        lines=lines,
        plan_name=plan.name,
        balance_kes=balance_kes,
    )


def receive(uow: UnitOfWork, customer: Customer, payment: Payment) -> Receipt:
    """Number a receipt for a payment just credited to ``customer`` and put its money towards
    their open invoices, oldest first. What is left stays as credit for the next invoice."""
    receipt = Receipt(
        payment_id=payment.id,
        customer_id=customer.id,
        amount_kes=payment.amount_kes,
        issued_at=uow.clock.now(),
    )
    uow.session.add(receipt)
    number_on_commit(uow, Sequence.RECEIPT, receipt)
    remaining = payment.amount_kes
    open_invoices = uow.session.scalars(
        select(Invoice)
        .where(
            Invoice.customer_id == customer.id,
            Invoice.status != InvoiceStatus.PAID.value,
        )
        .order_by(Invoice.id)  # issue order: this transaction's own are not numbered yet
    )
    for invoice in open_invoices:
        if remaining == 0:
            break
        share = min(remaining, invoice.due_kes)
        _allocate(uow, invoice, payment.id, share)
        remaining -= share
    # The receipt and its allocations are written with the next query or at commit.
    return receipt


def _settle_from_credit(
    uow: UnitOfWork, customer_id: int, invoice: Invoice, amount_kes: int
) -> None:
    remaining = amount_kes
    for payment_id, unspent in _unspent_receipts(uow, customer_id):
        if remaining == 0:
            return
        share = min(remaining, unspent)
        _allocate(uow, invoice, payment_id, share)
        remaining -= share
    if remaining:
        _allocate(uow, invoice, None, remaining)


def _unspent_receipts(uow: UnitOfWork, customer_id: int) -> list[tuple[int, int]]:
    """(payment id, shillings not yet put towards an invoice) per receipt, oldest first.

    Only receipted payments count: a payment from before invoices existed has no receipt, and
    its money was already spent on renewals that have no invoice.
    """
    spent = (
        select(func.coalesce(func.sum(PaymentAllocation.amount_kes), 0))
        .where(PaymentAllocation.payment_id == Receipt.payment_id)
        .correlate(Receipt)
        .scalar_subquery()
    )
    unspent = Receipt.amount_kes - spent
    rows = uow.session.execute(
        select(Receipt.payment_id, unspent)
        .where(Receipt.customer_id == customer_id, unspent > 0)
        .order_by(Receipt.id)
    )
    return [(payment_id, int(amount)) for payment_id, amount in rows]


def _allocate(uow: UnitOfWork, invoice: Invoice, payment_id: int | None, amount_kes: int) -> None:
    """Put ``amount_kes`` of a payment (None: account credit) towards ``invoice``; the caller
    flushes."""
    if amount_kes <= 0:
        return
    # Through the many-to-one side, so an invoice's unloaded allocations are not read first.
    uow.session.add(
        PaymentAllocation(
            invoice=invoice,
            payment_id=payment_id,
            amount_kes=amount_kes,
            created_at=uow.clock.now(),
        )
    )
    invoice.paid_kes += amount_kes
    invoice.status = status_for(invoice.amount_kes, invoice.paid_kes).value
