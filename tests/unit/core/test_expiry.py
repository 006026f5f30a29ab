"""Expiry: at the end of paid time, renew from balance (auto-renew) or mark expired; idempotent."""

from __future__ import annotations

from datetime import timedelta

from core.actors import Actor
from core.testing import TEST_EPOCH
from core.usecases.billing import IncomingPayment, record_payment
from core.usecases.customers import delete_customer
from core.usecases.service import (
    ExpiryOutcome,
    PlanChangeTiming,
    change_plan,
    due_for_expiry,
    expire_if_due,
    suspend,
)

PERIOD = timedelta(days=30)
END = TEST_EPOCH + PERIOD


def test_not_due_before_the_paid_time_ends(run, make_customer, view, clock) -> None:
    customer_id = make_customer(paid=1500)
    clock.set(END - timedelta(seconds=1))
    assert run(expire_if_due, customer_id) is ExpiryOutcome.NOT_DUE
    assert view(customer_id).status == "active"


def test_expires_at_the_exact_end_and_is_idempotent(
    run, make_customer, view, clock, audit_events, settle, published
) -> None:
    customer_id = make_customer(paid=1500)
    settle(customer_id)
    clock.set(END)
    assert run(expire_if_due, customer_id) is ExpiryOutcome.EXPIRED
    stored = view(customer_id)
    assert (stored.status, stored.expires_at, stored.sync_pending) == ("expired", END, True)
    # The router sync, and the fact the metrics time the expiry by.
    assert published() == [("ServiceExpired", customer_id), ("CustomerNeedsSync", customer_id)]
    (event,) = audit_events("customer.expire")
    assert event.actor_kind == "system"
    assert (event.before, event.after) == ({"status": "active"}, {"status": "expired"})

    clock.advance(timedelta(hours=1))
    assert run(expire_if_due, customer_id) is ExpiryOutcome.NOT_DUE
    assert view(customer_id) == stored
    assert len(audit_events("customer.expire")) == 1


def test_not_due_when_renewed_in_the_meantime(run, staff, make_customer, view, clock) -> None:
    customer_id = make_customer(paid=1500)
    clock.set(END - timedelta(days=1))
    run(record_payment, customer_id, staff, IncomingPayment(1500, "cash"))
    clock.set(END)
    assert run(expire_if_due, customer_id) is ExpiryOutcome.NOT_DUE
    assert view(customer_id).expires_at == END + PERIOD


def test_auto_renews_one_period_from_balance(run, staff, make_customer, view, clock) -> None:
    customer_id = make_customer(paid=1500)
    run(record_payment, customer_id, staff, IncomingPayment(3500, "cash"), activate=False)
    clock.set(END + timedelta(minutes=2))
    assert run(expire_if_due, customer_id) is ExpiryOutcome.RENEWED
    stored = view(customer_id)
    assert stored.status == "active"
    assert stored.expires_at == clock.now() + PERIOD
    assert stored.balance_kes == 2000


def test_auto_renew_buys_the_pending_plan(run, staff, isp, make_customer, view, clock) -> None:
    customer_id = make_customer(paid=1500)
    run(change_plan, customer_id, staff, isp.pppoe_plan_big, PlanChangeTiming.RENEWAL)
    run(record_payment, customer_id, staff, IncomingPayment(2500, "cash"), activate=False)
    clock.set(END)
    assert run(expire_if_due, customer_id) is ExpiryOutcome.RENEWED
    stored = view(customer_id)
    assert (stored.plan, stored.pending_plan) == (isp.pppoe_plan_big, None)
    assert (stored.expires_at, stored.balance_kes) == (END + PERIOD, 0)


def test_credit_enough_for_the_old_plan_but_not_the_pending_one_expires(
    run, staff, isp, make_customer, view, clock
) -> None:
    customer_id = make_customer(paid=1500)
    run(change_plan, customer_id, staff, isp.pppoe_plan_big, PlanChangeTiming.RENEWAL)
    run(record_payment, customer_id, staff, IncomingPayment(2000, "cash"), activate=False)
    clock.set(END)
    assert run(expire_if_due, customer_id) is ExpiryOutcome.EXPIRED
    assert (view(customer_id).plan, view(customer_id).balance_kes) == (isp.pppoe_plan, 2000)


def test_auto_renew_off_expires_despite_credit(run, staff, make_customer, view, clock) -> None:
    customer_id = make_customer(paid=3000, auto_renew=False)
    # 3000 bought two periods at creation; give credit afterwards without renewing.
    run(record_payment, customer_id, staff, IncomingPayment(1500, "cash"), activate=False)
    clock.set(END + PERIOD)
    assert run(expire_if_due, customer_id) is ExpiryOutcome.EXPIRED
    assert view(customer_id).balance_kes == 1500


def test_not_enough_balance_expires(run, staff, make_customer, view, clock) -> None:
    customer_id = make_customer(paid=2000)
    clock.set(END)
    assert run(expire_if_due, customer_id) is ExpiryOutcome.EXPIRED
    assert view(customer_id).balance_kes == 500


def test_suspended_inactive_deleted_and_unknown_are_never_due(
    run, staff, make_customer, view, clock
) -> None:
    suspended = make_customer(paid=1500)
    run(suspend, suspended, staff, "check")
    inactive = make_customer()
    deleted = make_customer(paid=1500)
    clock.set(END)
    run(delete_customer, deleted, staff)
    for customer_id in (suspended, inactive, deleted, 9999):
        assert run(expire_if_due, customer_id, Actor.system()) is ExpiryOutcome.NOT_DUE
    assert view(suspended).status == "suspended"


def test_due_for_expiry_lists_active_customers_past_their_end_oldest_first(
    run, staff, isp, make_customer, clock
) -> None:
    hotspot = {"connection_type": "hotspot", "plan": isp.hotspot_plan}
    day_pass = make_customer(paid=50, **hotspot)  # ends after 24 hours
    month = make_customer(paid=1500)  # ends after 30 days
    two_days = make_customer(paid=100, **hotspot)
    suspended = make_customer(paid=50, **hotspot)
    run(suspend, suspended, staff, "x")
    make_customer()  # inactive

    clock.set(TEST_EPOCH + timedelta(hours=23))
    assert run(due_for_expiry) == []
    clock.set(TEST_EPOCH + timedelta(days=1))
    assert run(due_for_expiry) == [day_pass]
    clock.set(END)
    assert run(due_for_expiry) == [day_pass, two_days, month]
    assert run(due_for_expiry, limit=1) == [day_pass]

    run(expire_if_due, day_pass)
    assert run(due_for_expiry) == [two_days, month]
