"""Review of 6794b3d (a payment reads its customer's balance once): in every branch the balance a
payment reports (PaymentResult, RenewalResult, the PaymentReceived event) and the credit its
renewal's invoice was settled from must equal the ledger's sum read afresh.

Random histories of payments (activate or not, a sign-up's first-period price), unmatched money
assigned later, debts, suspensions, plan changes pending at renewal (to a dearer, a cheaper and
a free plan) and time passing with expiry."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from core import ledger
from core.actors import Actor
from core.clock import FrozenClock
from core.errors import DomainError
from core.events import PaymentReceived
from core.models import Invoice, PaymentAllocation, Receipt
from core.ports import RecordingDispatcher
from core.testing import TEST_EPOCH, in_memory_engine, services_for
from core.usecases.billing import (
    IncomingPayment,
    assign_payment,
    record_debt,
    record_payment,
    record_unmatched_payment,
)
from core.usecases.customers import NewCustomer, create_customer
from core.usecases.network import RouterSpec, add_pool, add_router
from core.usecases.plans import PlanSpec, add_plan
from core.usecases.service import (
    PlanChangeTiming,
    change_plan,
    expire_if_due,
    suspend,
    unsuspend,
)

PLANS = {"Home 10M": 1500, "Home 20M": 2500, "Cheap": 300, "Free": 0}
AMOUNTS = st.sampled_from([1, 50, 299, 300, 1499, 1500, 1501, 2500, 3000, 4500, 10000])

operation = st.one_of(
    st.tuples(
        st.just("pay"),
        AMOUNTS,
        st.booleans(),
        st.one_of(st.none(), st.sampled_from([0, 100, 1500, 5000])),
    ),
    st.tuples(st.just("unmatched"), AMOUNTS, st.booleans()),
    st.tuples(st.just("debt"), st.sampled_from([100, 1500, 2000])),
    st.tuples(st.just("suspend")),
    st.tuples(st.just("unsuspend")),
    st.tuples(st.just("plan"), st.sampled_from(sorted(PLANS)), st.booleans()),
    st.tuples(st.just("time"), st.sampled_from([1, 24 * 29, 24 * 31, 24 * 90])),
)


def _setup(staff: Actor):
    clock = FrozenClock(TEST_EPOCH)
    dispatcher = RecordingDispatcher()
    engine = in_memory_engine()
    services = services_for(engine, clock=clock, dispatcher=dispatcher)
    with services.unit_of_work() as uow:
        add_router(
            uow, staff, RouterSpec("core-1", "127.0.0.1", 8728, "admin", "secret", plain_api=True)
        )
        add_pool(uow, staff, "core-1", "10.10.0.0/29")
        for name, price in PLANS.items():
            add_plan(uow, staff, PlanSpec(name, "pppoe", price, "10M", "5M", validity_days=30))
        customer = create_customer(
            uow,
            staff,
            NewCustomer(
                full_name="Wanjiku Kamau",
                phone="0712345678",
                connection_type="pppoe",
                plan="Home 10M",
                router="core-1",
            ),
        ).customer
        uow.commit()
    return engine, services, clock, dispatcher, customer.id


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(operation, min_size=1, max_size=12))
def test_a_payment_s_balance_is_the_ledger_s_sum(operations: list[tuple]) -> None:
    staff = Actor.cli()
    engine, services, clock, dispatcher, customer_id = _setup(staff)
    try:
        for n, op in enumerate(operations):
            kind = op[0]
            result = None
            with services.unit_of_work() as uow:
                try:
                    if kind == "pay":
                        _, amount, activate, first = op
                        result = record_payment(
                            uow,
                            customer_id,
                            staff,
                            IncomingPayment(amount, "cash", reference=f"P{n}"),
                            activate=activate,
                            first_period_price_kes=first,
                        )
                    elif kind == "unmatched":
                        _, amount, activate = op
                        record_unmatched_payment(
                            uow, staff, IncomingPayment(amount, "mpesa", reference=f"U{n}")
                        )
                        uow.commit()
                        result = assign_payment(uow, staff, f"U{n}", customer_id, activate=activate)
                    elif kind == "debt":
                        record_debt(uow, customer_id, staff, op[1], "router")
                    elif kind == "suspend":
                        suspend(uow, customer_id, staff, "review")
                    elif kind == "unsuspend":
                        unsuspend(uow, customer_id, staff)
                    elif kind == "plan":
                        _, name, now = op
                        timing = PlanChangeTiming.NOW if now else PlanChangeTiming.RENEWAL
                        change_plan(uow, customer_id, staff, name, timing)
                    elif kind == "time":
                        clock.advance(timedelta(hours=op[1]))
                        expire_if_due(uow, customer_id, staff)
                    uow.commit()
                except DomainError:
                    continue
            if result is None:
                continue
            with services.unit_of_work() as uow:
                truth = ledger.balance_kes(uow, customer_id)
                # Every invoice's paid amount agrees with its allocations, and no invoice is
                # settled beyond the money the customer had.
                for invoice in uow.session.scalars(select(Invoice)):
                    allocated = uow.session.scalar(
                        select(func.coalesce(func.sum(PaymentAllocation.amount_kes), 0)).where(
                            PaymentAllocation.invoice_id == invoice.id
                        )
                    )
                    assert invoice.paid_kes == allocated
                receipts = uow.session.scalar(
                    select(func.coalesce(func.sum(Receipt.amount_kes), 0))
                )
                invoiced_paid = uow.session.scalar(
                    select(func.coalesce(func.sum(Invoice.paid_kes), 0))
                )
                account_credit = uow.session.scalar(
                    select(func.coalesce(func.sum(PaymentAllocation.amount_kes), 0)).where(
                        PaymentAllocation.payment_id.is_(None)
                    )
                )
                assert invoiced_paid - account_credit <= receipts
            assert result.balance_kes == truth, (op, result)
            if result.renewal is not None:
                assert result.renewal.balance_kes == truth, (op, result.renewal)
            [event] = [
                e
                for e in dispatcher.events
                if isinstance(e, PaymentReceived) and e.payment_id == result.payment_id
            ][-1:]
            assert event.balance_kes == truth
    finally:
        engine.dispose()
