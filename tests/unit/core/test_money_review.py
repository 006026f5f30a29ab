"""Holes found by a second reading of today's money changes (periods, first-period price)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.errors import InvalidInput
from core.models import LedgerEntry, Payment
from core.testing import TEST_EPOCH
from core.usecases.billing import (
    IncomingPayment,
    record_debt,
    record_payment,
    record_unmatched_payment,
)
from core.usecases.periods import begin_due_periods
from core.usecases.service import PlanChangeTiming, change_plan

PERIOD = timedelta(days=30)


def _begin(services) -> int:
    with services.unit_of_work() as uow:
        begun = begin_due_periods(uow)
        uow.commit()
        return begun


def test_a_late_sweep_begins_the_period_running_now_not_a_past_one(
    run, services, staff, isp, make_customer, view, clock
) -> None:
    """Workers down across two boundaries: the sweep used to begin the first (a past period)
    and never the second, leaving the customer on a plan they no longer pay for."""
    customer_id = make_customer(paid=1500)  # Home 10M until E+30
    clock.set(TEST_EPOCH + timedelta(days=10))
    run(change_plan, customer_id, staff, isp.pppoe_plan_big, PlanChangeTiming.RENEWAL)
    run(record_payment, customer_id, staff, IncomingPayment(2500, "cash"))  # 20M [E+30, E+60]
    run(change_plan, customer_id, staff, isp.pppoe_plan, PlanChangeTiming.RENEWAL)
    run(record_payment, customer_id, staff, IncomingPayment(1500, "cash"))  # 10M [E+60, E+90]
    assert view(customer_id).expires_at == TEST_EPOCH + 3 * PERIOD

    clock.set(TEST_EPOCH + 2 * PERIOD + timedelta(days=1))  # no run since before E+30
    _begin(services)

    assert view(customer_id).plan == isp.pppoe_plan  # the plan of the period paid for now


def test_a_staff_plan_change_now_is_not_undone_by_a_prepaid_period_of_the_same_plan(
    run, services, staff, isp, make_customer, view, clock
) -> None:
    """Paid early for another Home 10M period, then moved to Home 20M "now" by staff (expiry
    unchanged): the boundary used to put the customer back on Home 10M."""
    customer_id = make_customer(paid=1500)
    clock.set(TEST_EPOCH + timedelta(days=20))
    run(record_payment, customer_id, staff, IncomingPayment(1500, "cash"))  # 10M [E+30, E+60]
    run(change_plan, customer_id, staff, isp.pppoe_plan_big, PlanChangeTiming.NOW)

    clock.set(TEST_EPOCH + PERIOD)
    _begin(services)

    assert view(customer_id).plan == isp.pppoe_plan_big


def test_a_negative_first_period_price_is_refused_and_changes_nothing(
    run, services, staff, make_customer, view
) -> None:
    """In debt, a negative first price bought a period and posted a charge of +100: more
    credit than was paid."""
    customer_id = make_customer()
    run(record_debt, customer_id, staff, 300, start_service=False)
    before = view(customer_id)

    with pytest.raises(InvalidInput):
        run(
            record_payment,
            customer_id,
            staff,
            IncomingPayment(100, "cash"),
            first_period_price_kes=-100,
        )

    after = view(customer_id)
    assert (after.balance_kes, after.status, after.expires_at) == (
        before.balance_kes,
        before.status,
        before.expires_at,
    )
    with services.unit_of_work() as uow:
        assert uow.session.query(Payment).count() == 0
        assert uow.session.query(LedgerEntry).filter(LedgerEntry.amount_kes > 0).count() == 0


def test_a_sign_up_paid_before_it_existed_gets_its_first_period_price(
    run, staff, isp, make_customer, view, clock
) -> None:
    """The M-Pesa payment came first (unmatched); the sign-up that names its receipt used to
    renew at the plan's price, ignoring the first period's own price, and stayed inactive."""
    run(
        record_unmatched_payment,
        staff,
        IncomingPayment(1000, "mpesa", reference="QAB1234567", account_reference="new"),
    )

    customer_id = make_customer(
        payment_method="mpesa", payment_reference="QAB1234567", first_price_kes=1000
    )

    stored = view(customer_id)
    assert (stored.status, stored.balance_kes) == ("active", 0)
    assert stored.expires_at == clock.now() + PERIOD
