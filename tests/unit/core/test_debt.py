"""Serve now, pay later: debt makes the balance negative, and later money settles it first."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from core.errors import InvalidInput, InvalidTransition
from core.models import LedgerEntry, Subscription
from core.testing import TEST_EPOCH
from core.usecases.billing import IncomingPayment, record_debt, record_payment
from core.usecases.service import suspend

PERIOD = timedelta(days=30)


def test_debt_starts_one_period_and_makes_the_balance_negative(
    run, staff, make_customer, view, services
) -> None:
    customer_id = make_customer()
    result = run(record_debt, customer_id, staff, 1500, "pays on Friday")
    stored = view(customer_id)
    assert (result.balance_kes, result.service_started) == (-1500, True)
    assert result.expires_at == stored.expires_at == TEST_EPOCH + PERIOD
    assert (stored.status, stored.balance_kes, stored.sync_pending) == ("active", -1500, True)
    with services.unit_of_work() as uow:
        entry = uow.session.scalars(select(LedgerEntry)).one()
        period = uow.session.scalars(select(Subscription)).one()
        assert (entry.kind, entry.amount_kes) == ("debt", -1500)
        assert entry.description == "debt: pays on Friday"
        assert (period.funded_by, period.starts_at, period.ends_at) == (
            "debt",
            TEST_EPOCH,
            TEST_EPOCH + PERIOD,
        )


def test_a_later_payment_settles_the_debt_before_buying_time(
    run, staff, make_customer, view
) -> None:
    customer_id = make_customer()
    run(record_debt, customer_id, staff, 1500)
    settle = run(record_payment, customer_id, staff, IncomingPayment(1500, "cash"))
    assert (settle.balance_kes, settle.renewal.periods) == (0, 0)
    assert settle.renewal.shortfall_kes == 1500
    assert view(customer_id).expires_at == TEST_EPOCH + PERIOD

    partial = run(record_payment, customer_id, staff, IncomingPayment(1000, "cash"))
    assert (partial.balance_kes, partial.renewal.periods) == (1000, 0)
    more = run(record_payment, customer_id, staff, IncomingPayment(700, "cash"))
    assert (more.balance_kes, more.renewal.periods) == (200, 1)
    assert view(customer_id).expires_at == TEST_EPOCH + 2 * PERIOD


def test_debt_on_a_customer_in_service_does_not_add_time(run, staff, make_customer, view):
    customer_id = make_customer(paid=1500)
    result = run(record_debt, customer_id, staff, 500, "router bought on credit")
    stored = view(customer_id)
    assert result.service_started is False
    assert (stored.balance_kes, stored.expires_at) == (-500, TEST_EPOCH + PERIOD)


def test_debt_without_starting_service(run, staff, make_customer, view) -> None:
    customer_id = make_customer()
    result = run(record_debt, customer_id, staff, 800, start_service=False)
    stored = view(customer_id)
    assert result.service_started is False
    assert (stored.status, stored.balance_kes) == ("inactive", -800)


def test_debt_cannot_start_service_for_a_suspended_customer(run, staff, make_customer, view):
    customer_id = make_customer()
    run(suspend, customer_id, staff, "fraud")
    with pytest.raises(InvalidTransition, match="unsuspend"):
        run(record_debt, customer_id, staff, 1500)
    assert view(customer_id).balance_kes == 0
    run(record_debt, customer_id, staff, 1500, start_service=False)
    assert (view(customer_id).status, view(customer_id).balance_kes) == ("suspended", -1500)


@pytest.mark.parametrize("amount", [0, -5, 10.5])
def test_debt_amount_must_be_positive_shillings(run, staff, make_customer, amount) -> None:
    customer_id = make_customer()
    with pytest.raises(InvalidInput):
        run(record_debt, customer_id, staff, amount)


def test_debt_is_audited_with_its_amount(run, staff, make_customer, audit_events) -> None:
    customer_id = make_customer()
    run(record_debt, customer_id, staff, 1500, "till Friday")
    (event,) = audit_events("customer.debt")
    assert event.reason == "KES 1,500: till Friday"
    assert event.before["status"] == "inactive"
    assert event.after["status"] == "active"
