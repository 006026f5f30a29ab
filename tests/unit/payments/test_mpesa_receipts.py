"""M-Pesa money gets one receipt however often it arrives, and the documents show the real M-Pesa
receipt even when the money was first credited by an STK query under a provisional reference."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from core.models import Receipt
from core.usecases.invoices import invoice_document, receipt_document
from core.usecases.stk import PROVISIONAL_PREFIX

PRICE = 1500


def _receipts(mpesa: Any) -> list[tuple[int, int]]:
    with mpesa.services.unit_of_work() as uow:
        rows = uow.session.execute(select(Receipt.number, Receipt.amount_kes).order_by(Receipt.id))
        return [(number, amount) for number, amount in rows]


def test_a_paybill_receipt_delivered_three_times_has_one_receipt(
    mpesa: Any, expired_customer: Any
) -> None:
    customer = expired_customer()  # its first cash payment has receipt 1
    for _ in range(3):
        mpesa.c2b(customer.account_number, PRICE, "SKR0000001")
    assert _receipts(mpesa) == [(1, PRICE), (2, PRICE)]


def test_a_query_credited_push_shows_its_real_receipt_once_bound(
    mpesa: Any, expired_customer: Any
) -> None:
    customer = expired_customer()
    stk_request_id, checkout = mpesa.sent_push(customer.id)
    mpesa.query(stk_request_id, 0)
    with mpesa.services.unit_of_work() as uow:
        provisional = receipt_document(uow, mpesa.staff, 2)
    assert (provisional.reference or "").startswith(PROVISIONAL_PREFIX)

    mpesa.stk(checkout, 0, "SKQ0000009", PRICE)  # the callback, late
    mpesa.c2b(customer.account_number, PRICE, "SKQ0000009")  # and the same money by paybill
    assert _receipts(mpesa) == [(1, PRICE), (2, PRICE)]
    with mpesa.services.unit_of_work() as uow:
        receipt = receipt_document(uow, mpesa.staff, "RCT-000002")
        invoice = invoice_document(uow, mpesa.staff, "INV-000002")
    assert (receipt.reference, receipt.applied) == ("SKQ0000009", [("INV-000002", PRICE)])
    assert [(p.receipt, p.reference) for p in invoice.payments] == [("RCT-000002", "SKQ0000009")]
