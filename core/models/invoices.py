"""Invoices for what a customer is charged, receipts for what they pay, and which paid which."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models.base import Base, UtcDateTime
from core.models.billing import LedgerEntry, Payment
from core.models.customers import Customer


class DocumentCounter(Base):
    """The last number given in one sequence (``invoice``, ``receipt``).

    Numbers are taken under this row's lock in the transaction that stores the document, so a
    rolled-back transaction gives its number back and the sequence has no gaps.
    """

    __tablename__ = "document_counters"

    name: Mapped[str] = mapped_column(String(16), primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer)


class Invoice(Base):
    """A charge to a customer: a renewal, a debt or an installation fee, with what is paid of it.

    ``paid_kes`` is the sum of its allocations; ``status`` follows from it (unpaid, partially
    paid, paid). ``ledger_entry_id`` is the ledger charge it documents (None for a free plan).
    """

    __tablename__ = "invoices"
    __table_args__ = (Index("ix_invoices_customer_id_status", "customer_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Given as the transaction commits (core.numbering.number_on_commit), so the counter row is
    # locked for the commit only; NULL in the database only inside that transaction.
    number: Mapped[int] = mapped_column(Integer, unique=True, nullable=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    plan_name: Mapped[str | None] = mapped_column(String(64))
    period_start: Mapped[datetime | None] = mapped_column(UtcDateTime)
    period_end: Mapped[datetime | None] = mapped_column(UtcDateTime)
    amount_kes: Mapped[int] = mapped_column(Integer)
    paid_kes: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    ledger_entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("ledger_entries.id"), unique=True
    )
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    issued_by: Mapped[str] = mapped_column(String(128))

    customer: Mapped[Customer] = relationship()
    ledger_entry: Mapped[LedgerEntry | None] = relationship()
    lines: Mapped[list[InvoiceLine]] = relationship(
        back_populates="invoice", order_by="InvoiceLine.id"
    )
    allocations: Mapped[list[PaymentAllocation]] = relationship(
        back_populates="invoice", order_by="PaymentAllocation.id"
    )

    @property
    def due_kes(self) -> int:
        return self.amount_kes - self.paid_kes


class InvoiceLine(Base):
    """One line of an invoice: a period of a plan, a debt, a fee."""

    __tablename__ = "invoice_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    description: Mapped[str] = mapped_column(Text)
    period_start: Mapped[datetime | None] = mapped_column(UtcDateTime)
    period_end: Mapped[datetime | None] = mapped_column(UtcDateTime)
    amount_kes: Mapped[int] = mapped_column(Integer)

    invoice: Mapped[Invoice] = relationship(back_populates="lines")


class Receipt(Base):
    """The receipt of one payment credited to a customer (one per payment, numbered)."""

    __tablename__ = "receipts"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Given as the transaction commits (core.numbering.number_on_commit), so the counter row is
    # locked for the commit only; NULL in the database only inside that transaction.
    number: Mapped[int] = mapped_column(Integer, unique=True, nullable=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    amount_kes: Mapped[int] = mapped_column(Integer)
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)

    payment: Mapped[Payment] = relationship()
    customer: Mapped[Customer] = relationship()


class PaymentAllocation(Base):
    """Money of a payment put towards an invoice. ``payment_id`` is None when the invoice was
    paid from account credit that no payment accounts for (credit from before invoices existed)."""

    __tablename__ = "payment_allocations"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"), index=True)
    amount_kes: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    invoice: Mapped[Invoice] = relationship(back_populates="allocations")
    payment: Mapped[Payment | None] = relationship()
