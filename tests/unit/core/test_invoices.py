"""Invoices and receipts follow the ledger: renewals are paid invoices, debts unpaid ones that
later payments settle oldest first, every credited payment has one numbered receipt."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from core import ledger
from core.actors import Actor
from core.errors import InvalidInput, InvoiceNotFound, ReceiptNotFound
from core.lookup import get_customer
from core.models import Invoice, LedgerEntry, PaymentAllocation, Receipt
from core.numbering import Sequence, label, next_number, parse_number
from core.testing import TEST_EPOCH
from core.unit_of_work import CoreServices
from core.usecases.billing import (
    IncomingPayment,
    assign_payment,
    record_debt,
    record_payment,
    record_unmatched_payment,
)
from core.usecases.invoices import customer_documents, invoice_document, receipt_document
from core.usecases.plans import PlanSpec, add_plan
from core.usecases.service import expire_if_due, suspend
from core.vocabulary import LedgerKind, Role

PERIOD = timedelta(days=30)


@pytest.fixture
def invoices_of(services: CoreServices) -> Callable[[int], list[SimpleNamespace]]:
    """A customer's invoices, oldest first, with their lines and where their money came from
    (receipt number, or None for account credit)."""

    def read(customer_id: int) -> list[SimpleNamespace]:
        with services.unit_of_work() as uow:
            receipts = {
                payment_id: number
                for payment_id, number in uow.session.execute(
                    select(Receipt.payment_id, Receipt.number)
                )
            }
            invoices = uow.session.scalars(
                select(Invoice).where(Invoice.customer_id == customer_id).order_by(Invoice.number)
            )
            return [
                SimpleNamespace(
                    number=invoice.number,
                    kind=invoice.kind,
                    plan=invoice.plan_name,
                    amount=invoice.amount_kes,
                    paid=invoice.paid_kes,
                    status=invoice.status,
                    period=(invoice.period_start, invoice.period_end),
                    lines=[(line.description, line.amount_kes) for line in invoice.lines],
                    paid_by=[
                        (receipts.get(a.payment_id) if a.payment_id else None, a.amount_kes)
                        for a in invoice.allocations
                    ],
                )
                for invoice in invoices
            ]

    return read


@pytest.fixture
def books_agree(services: CoreServices) -> Callable[[int], None]:
    """Assert the invoices agree with the ledger: balance = unspent receipt money − unpaid."""

    def check(customer_id: int) -> None:
        with services.unit_of_work() as uow:
            received = uow.session.scalar(
                select(func.coalesce(func.sum(Receipt.amount_kes), 0)).where(
                    Receipt.customer_id == customer_id
                )
            )
            spent = uow.session.scalar(
                select(func.coalesce(func.sum(PaymentAllocation.amount_kes), 0))
                .join(Invoice, Invoice.id == PaymentAllocation.invoice_id)
                .where(Invoice.customer_id == customer_id)
            )
            due = uow.session.scalar(
                select(func.coalesce(func.sum(Invoice.amount_kes - Invoice.paid_kes), 0)).where(
                    Invoice.customer_id == customer_id
                )
            )
            charged = uow.session.scalar(
                select(func.coalesce(func.sum(LedgerEntry.amount_kes), 0)).where(
                    LedgerEntry.customer_id == customer_id, LedgerEntry.kind != "payment"
                )
            )
            invoiced = uow.session.scalar(
                select(func.coalesce(func.sum(Invoice.amount_kes), 0)).where(
                    Invoice.customer_id == customer_id
                )
            )
            assert ledger.balance_kes(uow, customer_id) == received - spent - due
            assert -charged == invoiced

    return check


def pay(amount: int, method: str = "cash", reference: str | None = None) -> IncomingPayment:
    return IncomingPayment(amount, method, reference)


def test_a_renewal_is_a_paid_invoice_with_one_line_for_its_periods(
    run, staff, make_customer, invoices_of, books_agree
) -> None:
    customer_id = make_customer()
    run(record_payment, customer_id, staff, pay(4500, "mpesa", "RKA1B2C3D4"))
    [invoice] = invoices_of(customer_id)
    assert (invoice.number, invoice.kind, invoice.plan) == (1, "renewal", "Home 10M")
    assert (invoice.amount, invoice.paid, invoice.status) == (4500, 4500, "paid")
    assert invoice.period == (TEST_EPOCH, TEST_EPOCH + 3 * PERIOD)
    assert invoice.lines == [("3 × Home 10M (30 days)", 4500)]
    assert invoice.paid_by == [(1, 4500)]
    books_agree(customer_id)


def test_a_debt_is_an_unpaid_invoice_that_payments_settle_in_parts(
    run, staff, make_customer, invoices_of, books_agree
) -> None:
    customer_id = make_customer()
    run(record_debt, customer_id, staff, 1500, "pays on Friday")
    [debt] = invoices_of(customer_id)
    assert (debt.kind, debt.amount, debt.paid, debt.status) == ("debt", 1500, 0, "unpaid")
    assert debt.lines == [("Home 10M (30 days) on credit: pays on Friday", 1500)]
    assert debt.period == (TEST_EPOCH, TEST_EPOCH + PERIOD)
    books_agree(customer_id)

    run(record_payment, customer_id, staff, pay(500))
    [debt] = invoices_of(customer_id)
    assert (debt.paid, debt.status, debt.paid_by) == (500, "partially_paid", [(1, 500)])
    books_agree(customer_id)

    run(record_payment, customer_id, staff, pay(1000))
    [debt] = invoices_of(customer_id)
    assert (debt.paid, debt.status, debt.paid_by) == (1500, "paid", [(1, 500), (2, 1000)])
    books_agree(customer_id)


def test_payments_settle_the_oldest_invoice_first(
    run, staff, make_customer, invoices_of, books_agree
) -> None:
    customer_id = make_customer(paid=1500)  # invoice 1: the first renewal
    run(record_debt, customer_id, staff, 1000, "router")
    run(record_debt, customer_id, staff, 800, "cable")
    run(record_payment, customer_id, staff, pay(1200))
    _, router, cable = invoices_of(customer_id)
    assert (router.status, router.paid_by) == ("paid", [(2, 1000)])
    assert (cable.status, cable.paid, cable.paid_by) == ("partially_paid", 200, [(2, 200)])
    # The rest of the debt first, then a renewal from what is left: 600 + 1500 = 2100.
    result = run(record_payment, customer_id, staff, pay(2100))
    _, _, cable, renewal = invoices_of(customer_id)
    assert (cable.status, cable.paid_by) == ("paid", [(2, 200), (3, 600)])
    assert (renewal.kind, renewal.status, renewal.paid_by) == ("renewal", "paid", [(3, 1500)])
    assert result.renewal.periods == 1
    books_agree(customer_id)


def test_a_partial_payment_waits_as_credit_and_the_renewal_names_both_payments(
    run, staff, make_customer, invoices_of, books_agree
) -> None:
    customer_id = make_customer()
    run(record_payment, customer_id, staff, pay(1000, "mpesa", "RKFIRST001"))
    assert invoices_of(customer_id) == []
    run(record_payment, customer_id, staff, pay(700, "mpesa", "RKSECOND02"))
    [renewal] = invoices_of(customer_id)
    assert (renewal.status, renewal.paid_by) == ("paid", [(1, 1000), (2, 500)])
    books_agree(customer_id)  # 200 of receipt 2 is still credit


def test_a_debt_recorded_while_in_credit_is_paid_from_the_credit(
    run, staff, make_customer, invoices_of, books_agree
) -> None:
    customer_id = make_customer()
    run(record_payment, customer_id, staff, pay(1000))
    run(record_debt, customer_id, staff, 1500, None, start_service=False)
    [debt] = invoices_of(customer_id)
    assert (debt.status, debt.paid, debt.paid_by, debt.lines) == (
        "partially_paid",
        1000,
        [(1, 1000)],
        [("Debt", 1500)],
    )
    assert debt.period == (None, None)
    books_agree(customer_id)


def test_an_installation_fee_is_invoiced_and_paid_from_the_first_payment(
    run, staff, make_customer, invoices_of, books_agree
) -> None:
    customer_id = make_customer(paid=2000, installation_fee_kes=500)
    fee, renewal = invoices_of(customer_id)
    assert (fee.kind, fee.lines, fee.status, fee.paid_by) == (
        "installation",
        [("Installation fee", 500)],
        "paid",
        [(1, 500)],
    )
    assert (renewal.kind, renewal.status, renewal.paid_by) == ("renewal", "paid", [(1, 1500)])
    books_agree(customer_id)


def test_every_credited_payment_has_one_receipt_and_a_repeated_receipt_makes_none(
    run, staff, make_customer, count_rows, services
) -> None:
    customer_id = make_customer()
    first = run(record_payment, customer_id, staff, pay(1500, "mpesa", "RKSAME0001"))
    again = run(record_payment, customer_id, staff, pay(1500, "mpesa", "rksame0001"))
    assert again.duplicate and again.payment_id == first.payment_id
    assert count_rows(Receipt) == 1
    run(record_payment, customer_id, staff, pay(200, "cash"))
    with services.unit_of_work() as uow:
        numbers = list(uow.session.scalars(select(Receipt.number).order_by(Receipt.id)))
    assert numbers == [1, 2]


def test_unmatched_money_gets_its_receipt_when_assigned(
    run, staff, make_customer, count_rows, invoices_of
) -> None:
    customer_id = make_customer()
    run(record_unmatched_payment, staff, pay(1500, "mpesa", "RKLOST0001"))
    assert count_rows(Receipt) == 0
    run(assign_payment, staff, "RKLOST0001", customer_id)
    assert count_rows(Receipt) == 1
    assert invoices_of(customer_id)[0].paid_by == [(1, 1500)]


def test_a_suspended_customer_s_payment_settles_debt_but_buys_no_invoice(
    run, staff, make_customer, invoices_of, books_agree
) -> None:
    customer_id = make_customer(paid=1500)
    run(record_debt, customer_id, staff, 300)
    run(suspend, customer_id, staff, "fraud check")
    run(record_payment, customer_id, staff, pay(2000))
    renewal, debt = invoices_of(customer_id)  # and no second renewal while suspended
    assert (renewal.kind, debt.kind, debt.status) == ("renewal", "debt", "paid")
    books_agree(customer_id)


def test_auto_renewal_at_expiry_is_invoiced(
    run, staff, make_customer, invoices_of, clock, books_agree
) -> None:
    customer_id = make_customer(paid=1500, auto_renew=True)
    run(record_payment, customer_id, staff, pay(1500, "mpesa", "RKEARLY001"), activate=False)
    assert len(invoices_of(customer_id)) == 1  # the credit waits for the expiry
    clock.advance(PERIOD)
    assert run(expire_if_due, customer_id) == "renewed"
    _, renewal = invoices_of(customer_id)
    assert (renewal.status, renewal.paid_by) == ("paid", [(2, 1500)])
    assert renewal.period == (TEST_EPOCH + PERIOD, TEST_EPOCH + 2 * PERIOD)
    books_agree(customer_id)


def test_credit_from_before_invoices_pays_as_account_credit(
    run, staff, make_customer, services, invoices_of, books_agree
) -> None:
    customer_id = make_customer()
    with services.unit_of_work() as uow:
        # Credit no receipt accounts for, as a payment recorded before migration 0005 left it.
        customer = get_customer(uow, customer_id)
        ledger.post(uow, customer, LedgerKind.ADJUSTMENT, 1500, "old credit", staff)
        uow.commit()
    result = run(record_payment, customer_id, staff, pay(1500, "mpesa", "RKNEW00001"))
    assert result.renewal.periods == 2
    [renewal] = invoices_of(customer_id)
    assert (renewal.status, renewal.paid_by) == ("paid", [(1, 1500), (None, 1500)])
    with services.unit_of_work() as uow:
        document = invoice_document(uow, staff, 1)
    assert [(p.receipt, p.reference) for p in document.payments] == [
        ("RCT-000001", "RKNEW00001"),
        (None, None),
    ]


def test_a_free_plan_renewal_is_a_paid_invoice_of_nothing(
    run, services, staff, make_customer, invoices_of, count_rows
) -> None:
    with services.unit_of_work() as uow:
        add_plan(uow, staff, PlanSpec("Free", "hotspot", 0, "1M", "1M", validity_hours=1))
        uow.commit()
    customer_id = make_customer(connection_type="hotspot", plan="Free", activate=True)
    [invoice] = invoices_of(customer_id)
    assert (invoice.amount, invoice.status, invoice.paid_by) == (0, "paid", [])
    assert count_rows(LedgerEntry) == 0


def test_numbers_run_on_without_gaps_and_a_rollback_gives_its_number_back(
    services, staff, make_customer, run
) -> None:
    customers = [make_customer(full_name=f"Customer {n}") for n in range(3)]
    with services.unit_of_work() as uow:
        assert next_number(uow, Sequence.INVOICE) == 1
        # not committed
    for customer_id in customers:
        run(record_debt, customer_id, staff, 100)
    with services.unit_of_work() as uow:
        numbers = list(uow.session.scalars(select(Invoice.number).order_by(Invoice.id)))
    assert numbers == [1, 2, 3]
    with pytest.raises(InvalidInput):
        run(record_debt, customers[0], staff, 0)
    run(record_debt, customers[0], staff, 100)
    with services.unit_of_work() as uow:
        assert uow.session.scalar(select(func.max(Invoice.number))) == 4


def test_labels_and_parsing() -> None:
    assert label(Sequence.INVOICE, 123) == "INV-000123"
    assert label(Sequence.RECEIPT, 1_234_567) == "RCT-1234567"
    for text in ("INV-000123", "inv123", " 123 ", "000123", "INV 000123"):
        assert parse_number(Sequence.INVOICE, text) == 123
    for text in ("RCT-000123", "INV-", "0", "12a", "", "-5", "9" * 13):
        with pytest.raises(InvalidInput):
            parse_number(Sequence.INVOICE, text)


def test_documents_list_newest_first_and_refuse_unknown_numbers(
    run, staff, make_customer, services
) -> None:
    customer_id = make_customer(paid=1500)
    run(record_debt, customer_id, staff, 700, "router")
    viewer = Actor.staff(9, "Vera", Role.VIEWER)
    with services.unit_of_work() as uow:
        listing = customer_documents(uow, viewer, customer_id)
        assert [invoice.label for invoice in listing.invoices] == ["INV-000002", "INV-000001"]
        assert (listing.invoice_count, listing.due_kes) == (2, 700)
        assert [receipt.label for receipt in listing.receipts] == ["RCT-000001"]
        with pytest.raises(InvoiceNotFound, match="INV-000099"):
            invoice_document(uow, viewer, "INV-000099")
        with pytest.raises(ReceiptNotFound, match="RCT-000042"):
            receipt_document(uow, viewer, 42)


def test_an_invoice_document_names_the_mpesa_receipts_that_paid_it(
    run, staff, make_customer, services
) -> None:
    customer_id = make_customer()
    run(record_debt, customer_id, staff, 1500)
    run(record_payment, customer_id, staff, pay(1000, "mpesa", "RKPART0001"))
    run(record_payment, customer_id, staff, pay(500, "mpesa", "RKPART0002"))
    with services.unit_of_work() as uow:
        document = invoice_document(uow, staff, "INV-000001")
        receipt = receipt_document(uow, staff, "RCT-000002")
    assert (document.amount_kes, document.paid_kes, document.due_kes) == (1500, 1500, 0)
    assert [(p.receipt, p.reference, p.amount_kes) for p in document.payments] == [
        ("RCT-000001", "RKPART0001", 1000),
        ("RCT-000002", "RKPART0002", 500),
    ]
    assert (receipt.reference, receipt.amount_kes, receipt.applied) == (
        "RKPART0002",
        500,
        [("INV-000001", 500)],
    )
    assert receipt.unapplied_kes == 0
