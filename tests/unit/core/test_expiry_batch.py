"""Batch expiry: the same rule as expire_if_due, for many customers in one transaction."""

from __future__ import annotations

from datetime import timedelta

from core.events import CustomerNeedsSync
from core.usecases.billing import IncomingPayment, record_payment
from core.usecases.service import ExpiryOutcome, expire_due_batch


def test_due_customers_expire_or_renew_and_others_are_untouched(
    run, staff, make_customer, view, clock, audit_events
) -> None:
    lapsing = [make_customer(paid=1500, phone=f"07110000{n:02d}") for n in range(3)]
    renewing = make_customer(paid=1500, phone="0722000001")
    run(record_payment, renewing, staff, IncomingPayment(1500, "cash"), activate=False)
    clock.advance(timedelta(days=31))
    later = make_customer(paid=1500, phone="0733000001")  # paid today: not due

    outcomes = run(expire_due_batch, 500)

    assert outcomes == {
        ExpiryOutcome.EXPIRED: 3,
        ExpiryOutcome.RENEWED: 1,
        ExpiryOutcome.NOT_DUE: 0,
    }
    assert [view(customer).status for customer in lapsing] == ["expired"] * 3
    assert view(renewing).status == "active" and view(renewing).balance_kes == 0
    assert view(later).status == "active"
    assert len(audit_events("customer.expire")) == 3
    assert run(expire_due_batch, 500)[ExpiryOutcome.EXPIRED] == 0


def test_a_batch_is_limited_and_asks_each_router_to_sync_once(
    run, make_customer, view, clock, dispatcher
) -> None:
    customers = [make_customer(paid=1500, phone=f"07440000{n:02d}") for n in range(4)]
    clock.advance(timedelta(days=31))
    dispatcher.events.clear()

    first = run(expire_due_batch, 3)

    assert first[ExpiryOutcome.EXPIRED] == 3
    assert sum(view(customer).status == "expired" for customer in customers) == 3
    assert len(dispatcher.of_type(CustomerNeedsSync)) == 1
    assert all(view(customer).sync_pending for customer in customers)
    assert run(expire_due_batch, 3)[ExpiryOutcome.EXPIRED] == 1
