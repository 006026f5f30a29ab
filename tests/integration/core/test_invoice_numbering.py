"""Invoice and receipt numbers stay 1..N with no gap and no duplicate when many transactions issue
them at once (SQLite and PostgreSQL), including rolled-back ones and ones that take the two
sequences in opposite orders. Every job commits once and is never retried, so a deadlock or a
duplicate number would fail the test instead of being hidden by a retry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import event, select, text

from core.actors import Actor
from core.models import Invoice, Receipt
from core.testing import run_together
from core.unit_of_work import CoreServices
from core.usecases.billing import IncomingPayment, record_debt, record_payment
from core.usecases.customers import NewCustomer, create_customer
from core.usecases.plans import PlanSpec, add_plan

THREADS = 8
CUSTOMERS_PER_THREAD = 2
NEW_CUSTOMER_THREADS = 2


class Abandoned(Exception):
    """Raised inside a unit of work after a number was taken, so it rolls back."""


def once(services: CoreServices, work: Callable[[Any], Any]) -> Any:
    with services.unit_of_work() as uow:
        result = work(uow)
        uow.commit()
        return result


@pytest.fixture
def hotspot_plan(isp_db: CoreServices, staff: Actor) -> str:
    with isp_db.unit_of_work() as uow:
        add_plan(uow, staff, PlanSpec("Daily", "hotspot", 50, "5M", "2M", validity_hours=24))
        uow.commit()
    return "Daily"


def test_numbers_have_no_gaps_under_concurrent_renewals(
    isp_db: CoreServices, staff: Actor, new_customer, hotspot_plan: str
) -> None:
    customers = [
        [new_customer(full_name=f"Customer {thread} {n}") for n in range(CUSTOMERS_PER_THREAD)]
        for thread in range(THREADS)
    ]

    def renew_and_lend(thread: int) -> Callable[[], None]:
        def job() -> None:
            for n, customer_id in enumerate(customers[thread]):
                payment = IncomingPayment(1500, "mpesa", f"RK{thread:02d}X{n:02d}AB")
                once(isp_db, lambda uow, c=customer_id, p=payment: record_payment(uow, c, staff, p))
            debtor = customers[thread][0]
            once(isp_db, lambda uow: record_debt(uow, debtor, staff, 300, "router"))
            with pytest.raises(Abandoned), isp_db.unit_of_work() as uow:
                record_debt(uow, debtor, staff, 999, "never committed")
                raise Abandoned

        return job

    def sign_up(thread: int) -> Callable[[], None]:
        # Invoice number (installation fee) before receipt number (first payment): the opposite
        # order to a renewing payment's.
        form = NewCustomer(
            full_name=f"Hotspot User {thread}",
            phone="0712345678",
            connection_type="hotspot",
            plan=hotspot_plan,
            router="core-1",
            installation_fee_kes=500,
            payment_method="cash",
            amount_kes=550,
        )
        return lambda: once(isp_db, lambda uow: create_customer(uow, staff, form))

    jobs = [renew_and_lend(thread) for thread in range(THREADS)]
    jobs += [sign_up(thread) for thread in range(NEW_CUSTOMER_THREADS)]
    results = run_together(jobs)
    assert [result for result in results if isinstance(result, BaseException)] == []

    with isp_db.unit_of_work() as uow:
        invoices = list(uow.session.scalars(select(Invoice.number).order_by(Invoice.number)))
        receipts = list(uow.session.scalars(select(Receipt.number).order_by(Receipt.number)))
    renewals_and_debts = THREADS * (CUSTOMERS_PER_THREAD + 1)
    assert invoices == list(range(1, renewals_and_debts + 2 * NEW_CUSTOMER_THREADS + 1))
    assert receipts == list(range(1, THREADS * CUSTOMERS_PER_THREAD + NEW_CUSTOMER_THREADS + 1))


def test_the_next_number_follows_the_highest_after_a_rollback(
    isp_db: CoreServices, staff: Actor, new_customer
) -> None:
    customer_id = new_customer()
    with pytest.raises(Abandoned), isp_db.unit_of_work() as uow:
        record_payment(uow, customer_id, staff, IncomingPayment(1500, "cash"))
        raise Abandoned
    once(isp_db, lambda uow: record_debt(uow, customer_id, staff, 100))
    once(isp_db, lambda uow: record_payment(uow, customer_id, staff, IncomingPayment(100, "cash")))
    with isp_db.unit_of_work() as uow:
        assert list(uow.session.scalars(select(Invoice.number))) == [1]
        assert list(uow.session.scalars(select(Receipt.number))) == [1]


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_payment_waits_for_another_s_numbers_only_while_it_commits(
    isp_db: CoreServices, staff: Actor, new_customer
) -> None:
    """Numbers are taken as the transaction commits, so one payment's renewal, invoice and
    receipt never wait for another payment that is still at work (on PostgreSQL; SQLite has one
    writer anyway). Before, the first number locked the counters until the commit."""
    first, second = new_customer(), new_customer(full_name="Second Customer")
    with isp_db.unit_of_work() as slow:
        record_payment(slow, first, staff, IncomingPayment(1500, "mpesa", "RKSLOW0001"))
        # Still at work: its documents exist, unnumbered, and no counter is locked.
        assert [i.number for i in slow.session.scalars(select(Invoice))] == [None]

        def pay_the_other() -> None:
            with isp_db.unit_of_work() as uow:
                uow.session.execute(text("SET LOCAL lock_timeout = '5s'"))
                record_payment(uow, second, staff, IncomingPayment(1500, "mpesa", "RKFAST0001"))
                uow.commit()

        (result,) = run_together([pay_the_other])
        assert result is None, result
        slow.commit()

    with isp_db.unit_of_work() as uow:
        numbered = uow.session.execute(
            select(Invoice.customer_id, Invoice.number).order_by(Invoice.number)
        ).all()
        receipts = list(uow.session.scalars(select(Receipt.number).order_by(Receipt.number)))
    # In commit order, with no gap.
    assert [tuple(row) for row in numbered] == [(second, 1), (first, 2)]
    assert receipts == [1, 2]


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_counters_are_locked_only_inside_the_commit(
    isp_db: CoreServices, staff: Actor, new_customer
) -> None:
    """On PostgreSQL the database numbers a transaction's documents while it commits (deferred
    triggers), so the counter rows every payment needs are never held while this process sends
    another statement: under load a thread holding them could wait milliseconds for the GIL
    between statements, and every payment in the system would wait with it."""
    customer_id = new_customer()
    statements: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(" ".join(statement.split()))

    engine = isp_db.session_factory.kw["bind"]
    event.listen(engine, "before_cursor_execute", note)
    try:
        with isp_db.unit_of_work() as uow:
            record_payment(uow, customer_id, staff, IncomingPayment(1500, "mpesa", "RKCOMMIT01"))
            uow.commit()
    finally:
        event.remove(engine, "before_cursor_execute", note)

    assert [s for s in statements if "document_counters" in s] == []
    with isp_db.unit_of_work() as uow:
        assert list(uow.session.scalars(select(Invoice.number))) == [1]
        assert list(uow.session.scalars(select(Receipt.number))) == [1]
        counters = dict(
            uow.session.execute(text("SELECT name, last_number FROM document_counters")).all()
        )
    assert counters == {"invoice": 1, "receipt": 1}
