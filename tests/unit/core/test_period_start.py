"""A paid period starts when its time comes, not when it is paid for (issue 16, billing rules).

An upgrade chosen "at renewal" and paid early used to switch the router profile at payment time,
giving the fast speed for the rest of the cheap period; three periods paid at once shared one
data-cap counter. Each period now starts at its own instant: the plan it was bought for takes
over, and the data-cap count begins again.
"""

from __future__ import annotations

from datetime import timedelta

from core.events import PeriodStartScheduled
from core.models import AuditEvent, Customer, UsagePeriod
from core.testing import TEST_EPOCH
from core.usecases.billing import IncomingPayment, record_payment
from core.usecases.periods import begin_due_periods
from core.usecases.service import PlanChangeTiming, change_plan

PERIOD = timedelta(days=30)


def _begin(services) -> int:
    with services.unit_of_work() as uow:
        begun = begin_due_periods(uow)
        uow.commit()
        return begun


def test_an_upgrade_paid_early_starts_with_its_period(
    run, services, staff, isp, make_customer, settle, view, clock, dispatcher
) -> None:
    customer_id = make_customer(paid=1500)  # Home 10M until TEST_EPOCH + 30 days
    settle(customer_id)
    run(change_plan, customer_id, staff, isp.pppoe_plan_big, PlanChangeTiming.RENEWAL)
    clock.set(TEST_EPOCH + timedelta(days=20))
    dispatcher.events.clear()

    run(record_payment, customer_id, staff, IncomingPayment(2500, "cash"))

    paid = view(customer_id)
    assert (paid.plan, paid.pending_plan) == (isp.pppoe_plan, isp.pppoe_plan_big)
    assert paid.expires_at == TEST_EPOCH + PERIOD + PERIOD
    assert paid.balance_kes == 0
    starts = [e.starts_at for e in dispatcher.of_type(PeriodStartScheduled)]
    assert starts == [TEST_EPOCH + PERIOD]

    clock.set(TEST_EPOCH + PERIOD - timedelta(seconds=1))
    assert _begin(services) == 0
    assert view(customer_id).plan == isp.pppoe_plan

    clock.set(TEST_EPOCH + PERIOD)
    assert _begin(services) == 1
    started = view(customer_id)
    assert (started.plan, started.pending_plan) == (isp.pppoe_plan_big, None)
    assert started.sync_pending is True
    assert started.expires_at == TEST_EPOCH + PERIOD + PERIOD
    with services.unit_of_work() as uow:
        [event] = uow.session.query(AuditEvent).filter_by(action="customer.period_start").all()
        assert event.reason == f"{isp.pppoe_plan_big} from {isp.pppoe_plan}"
    assert _begin(services) == 0  # once


def test_an_expired_customer_gets_the_new_plan_at_once(
    run, staff, isp, make_customer, view, clock
) -> None:
    customer_id = make_customer()
    run(change_plan, customer_id, staff, isp.pppoe_plan_big, PlanChangeTiming.RENEWAL)
    run(record_payment, customer_id, staff, IncomingPayment(2500, "cash"))
    stored = view(customer_id)
    assert (stored.plan, stored.pending_plan, stored.status) == (
        isp.pppoe_plan_big,
        None,
        "active",
    )
    assert stored.expires_at == clock.now() + PERIOD


def test_each_prepaid_period_counts_data_from_zero(
    run, services, staff, make_customer, clock
) -> None:
    customer_id = make_customer(paid=4500)  # three periods of Home 10M at once

    def use_the_allowance() -> None:  # as the usage sampler does at the cap
        with services.unit_of_work() as uow:
            uow.session.get(UsagePeriod, customer_id).download_bytes = 10**12
            customer = uow.session.get(Customer, customer_id)
            customer.data_capped_at, customer.sync_pending = clock.now(), False
            uow.commit()

    use_the_allowance()
    for number in (1, 2):
        start = TEST_EPOCH + number * PERIOD
        clock.set(start)
        assert _begin(services) == 1
        with services.unit_of_work() as uow:
            period = uow.session.get(UsagePeriod, customer_id)
            assert (period.started_at, period.download_bytes) == (start, 0)
            customer = uow.session.get(Customer, customer_id)
            # the cap is lifted and the router told: the plan's own speed is back
            assert (customer.data_capped_at, customer.sync_pending) == (None, True)
        use_the_allowance()

    clock.set(TEST_EPOCH + 3 * PERIOD)
    assert _begin(services) == 0  # the paid time is over: expiry's business, not a new period


def test_a_payment_made_once_a_period_is_due_does_not_skip_its_start(
    run, services, staff, isp, make_customer, view, clock
) -> None:
    """A payment locked the customer as the period-start job ran (the job skips a locked row):
    renewal rescheduled past the due start, so the upgrade paid for never began."""
    customer_id = make_customer(paid=1500)
    run(change_plan, customer_id, staff, isp.pppoe_plan_big, PlanChangeTiming.RENEWAL)
    clock.set(TEST_EPOCH + timedelta(days=20))
    run(record_payment, customer_id, staff, IncomingPayment(2500, "cash"))  # Home 20M ahead
    clock.set(TEST_EPOCH + PERIOD)  # due; the job has not begun it yet

    run(record_payment, customer_id, staff, IncomingPayment(2500, "cash"))

    assert view(customer_id).next_period_at == TEST_EPOCH + PERIOD  # still due
    assert _begin(services) == 1
    started = view(customer_id)
    assert (started.plan, started.pending_plan) == (isp.pppoe_plan_big, None)
    assert started.expires_at == TEST_EPOCH + 3 * PERIOD
    assert started.next_period_at == TEST_EPOCH + 2 * PERIOD
