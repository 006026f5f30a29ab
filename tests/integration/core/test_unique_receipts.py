"""The database itself refuses a second payment with the same method and reference."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from core.models import LedgerEntry, Payment
from core.usecases.billing import IncomingPayment, record_payment

AT = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def _payment(method: str, reference: str | None, amount: int = 100) -> Payment:
    return Payment(
        customer_id=None,
        method=method,
        amount_kes=amount,
        reference=reference,
        source="test",
        received_at=AT,
        recorded_by="test",
        created_at=AT,
    )


def _count_payments(services) -> int:
    with services.unit_of_work() as uow:
        return int(uow.session.scalar(select(func.count(Payment.id))) or 0)


def test_second_row_with_the_same_method_and_reference_is_refused(db_services) -> None:
    with db_services.unit_of_work() as uow:
        uow.session.add(_payment("mpesa", "RKT1"))
        uow.commit()
    with pytest.raises(IntegrityError, match="method"), db_services.unit_of_work() as uow:
        uow.session.add(_payment("mpesa", "RKT1", amount=999))
        uow.session.flush()
    assert _count_payments(db_services) == 1


def test_same_reference_under_another_method_and_missing_references_are_allowed(
    db_services,
) -> None:
    with db_services.unit_of_work() as uow:
        uow.session.add_all(
            [
                _payment("bank", "123"),
                _payment("cheque", "123"),
                _payment("cash", None),
                _payment("cash", None),
            ]
        )
        uow.commit()
    assert _count_payments(db_services) == 4


def test_a_payment_is_in_the_ledger_once(isp_db, new_customer) -> None:
    customer_id = new_customer()
    with isp_db.unit_of_work() as uow:
        payment = _payment("bank", "SLIP9")
        uow.session.add(payment)
        uow.session.flush()
        payment_id = payment.id
        uow.commit()

    def entry() -> LedgerEntry:
        return LedgerEntry(
            customer_id=customer_id,
            kind="payment",
            amount_kes=100,
            payment_id=payment_id,
            description="x",
            actor="test",
            created_at=AT,
        )

    with isp_db.unit_of_work() as uow:
        uow.session.add(entry())
        uow.commit()
    with pytest.raises(IntegrityError, match="payment_id"), isp_db.unit_of_work() as uow:
        uow.session.add(entry())
        uow.session.flush()


def test_recording_the_same_receipt_twice_credits_once(isp_db, staff, new_customer, state):
    customer_id = new_customer()
    for reference in ("RKT7ABC", "rkt7abc"):
        with isp_db.unit_of_work() as uow:
            record_payment(uow, customer_id, staff, IncomingPayment(1500, "mpesa", reference))
            uow.commit()
    assert state(customer_id)["balance_kes"] == 0
    assert _count_payments(isp_db) == 1
