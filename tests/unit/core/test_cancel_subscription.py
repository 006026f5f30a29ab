"""Cancelling a subscription: paid time ends now, its unused value (per second, rounded down) is
credited or forfeited, and the customer may then be deleted."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from core.errors import InvalidInput, InvalidTransition, PermissionDenied
from core.events import CustomerNeedsSync
from core.models import LedgerEntry
from core.testing import TEST_EPOCH
from core.usecases.billing import IncomingPayment, record_payment
from core.usecases.cancellation import (
    Refund,
    cancel_subscription,
    quote_cancellation,
)
from core.usecases.customers import delete_customer
from core.usecases.renewal import renew
from core.usecases.service import change_plan, extend, suspend

PERIOD = timedelta(days=30)


def _refunds(services, customer_id: int) -> list[tuple[str, int]]:
    with services.unit_of_work() as uow:
        return [
            (entry.kind, entry.amount_kes)
            for entry in uow.session.scalars(
                select(LedgerEntry).where(
                    LedgerEntry.customer_id == customer_id, LedgerEntry.kind == "cancel_refund"
                )
            )
        ]


def test_cancel_at_the_start_credits_the_whole_price(
    run, staff, make_customer, view, services
) -> None:
    customer_id = make_customer(paid=1500)
    done = run(cancel_subscription, customer_id, staff, "moving away", "credit")
    assert (done.unused_value_kes, done.credited_kes, done.balance_kes) == (1500, 1500, 1500)
    stored = view(customer_id)
    assert stored.status == "expired"
    assert stored.expires_at == TEST_EPOCH
    assert stored.next_period_at is None
    assert stored.balance_kes == 1500
    assert _refunds(services, customer_id) == [("cancel_refund", 1500)]


def test_one_second_before_expiry_is_worth_nothing(run, staff, make_customer, view, clock) -> None:
    customer_id = make_customer(paid=1500)
    clock.advance(PERIOD - timedelta(seconds=1))
    done = run(cancel_subscription, customer_id, staff, "moving away", Refund.CREDIT)
    # 1500 × 1 s ÷ 2,592,000 s is a fraction of a shilling: rounded down to nothing.
    assert (done.unused_value_kes, done.credited_kes) == (0, 0)
    assert view(customer_id).balance_kes == 0


def test_value_is_prorated_per_second_and_rounded_down(
    run, staff, make_customer, view, clock
) -> None:
    customer_id = make_customer(paid=1500)
    clock.advance(timedelta(days=10, seconds=1))
    done = run(cancel_subscription, customer_id, staff, "moving away", "credit")
    # 20 days less a second of 30 days of 1500 = 999.9994…: 999, never 1000.
    assert done.unused_value_kes == 999
    assert view(customer_id).balance_kes == 999


def test_several_paid_rows_are_each_valued_at_what_was_paid(
    run, staff, make_customer, view, clock
) -> None:
    # A discounted first period (KES 600) then a full one (KES 1500) bought ahead.
    customer_id = make_customer(paid=600, first_price_kes=600)
    run(record_payment, customer_id, staff, IncomingPayment(1500, "cash"))
    assert view(customer_id).expires_at == TEST_EPOCH + 2 * PERIOD
    clock.advance(PERIOD / 2)
    done = run(cancel_subscription, customer_id, staff, "closing shop", "credit")
    assert done.unused_value_kes == 300 + 1500


def test_free_extension_is_worth_nothing(run, staff, make_customer, clock) -> None:
    customer_id = make_customer(paid=1500)
    run(extend, customer_id, staff, days=10, reason="outage")
    clock.advance(PERIOD)
    done = run(cancel_subscription, customer_id, staff, "moving away", "credit")
    assert done.unused_value_kes == 0


def test_forfeit_credits_nothing_but_records_the_value(
    run, staff, make_customer, view, services, audit_events
) -> None:
    customer_id = make_customer(paid=1500)
    done = run(cancel_subscription, customer_id, staff, "fraud", "forfeit")
    assert (done.unused_value_kes, done.credited_kes) == (1500, 0)
    assert view(customer_id).balance_kes == 0
    assert _refunds(services, customer_id) == []
    (event,) = audit_events("customer.cancel")
    assert event.actor_name == "command line"
    assert event.reason == "fraud; unused KES 1,500 forfeited"
    assert event.after["refund"] == "forfeit"
    assert event.after["status"] == "expired"


def test_audit_names_the_staff_member_and_the_credit(
    run, admin, make_customer, audit_events
) -> None:
    customer_id = make_customer(paid=1500)
    run(cancel_subscription, customer_id, admin, "moving away", "credit")
    (event,) = audit_events("customer.cancel")
    assert (event.actor_kind, event.actor_name) == ("staff", "Amina Admin")
    assert event.reason == "moving away; unused KES 1,500 credited"
    assert event.after["credited_kes"] == 1500


def test_the_router_is_told(run, staff, make_customer, settle, published) -> None:
    customer_id = make_customer(paid=1500)
    settle(customer_id)
    run(cancel_subscription, customer_id, staff, "moving away", "credit")
    assert ("CustomerNeedsSync", customer_id) in published(CustomerNeedsSync)


def test_pending_plan_change_is_dropped(run, staff, make_customer, view, isp) -> None:
    customer_id = make_customer(paid=1500)
    run(change_plan, customer_id, staff, isp.pppoe_plan_big)
    run(cancel_subscription, customer_id, staff, "moving away", "forfeit")
    assert view(customer_id).pending_plan is None


def test_delete_is_allowed_after_a_forfeit_cancel(run, staff, make_customer, view) -> None:
    customer_id = make_customer(paid=1500)
    run(cancel_subscription, customer_id, staff, "moving away", "forfeit")
    run(delete_customer, customer_id, staff)
    assert view(customer_id).deleted_at is not None


def test_cancelled_time_is_not_refunded_twice(run, staff, make_customer, view, clock) -> None:
    customer_id = make_customer(paid=1500)
    clock.advance(PERIOD / 2)
    first = run(cancel_subscription, customer_id, staff, "moving away", "credit")
    assert first.unused_value_kes == 750
    # They come back: 750 credit + 750 paid buys a new period from now.
    run(record_payment, customer_id, staff, IncomingPayment(750, "cash"))
    assert view(customer_id).expires_at == clock.now() + PERIOD
    second = run(cancel_subscription, customer_id, staff, "moving again", "credit")
    assert second.unused_value_kes == 1500
    assert view(customer_id).balance_kes == 1500


def test_quote_shows_what_a_cancel_would_credit_and_changes_nothing(
    run, staff, make_customer, view
) -> None:
    customer_id = make_customer(paid=1500)
    quote = run(quote_cancellation, customer_id, "credit")
    assert (quote.credited_kes, quote.balance_kes) == (1500, 1500)
    assert view(customer_id).status == "active"
    assert run(quote_cancellation, customer_id, "forfeit").credited_kes == 0


def test_refused_without_paid_time(run, staff, make_customer, clock) -> None:
    never_paid = make_customer()
    with pytest.raises(InvalidTransition, match="no paid time"):
        run(cancel_subscription, never_paid, staff, "moving away", "credit")
    lapsed = make_customer(paid=1500, phone="0722000111")
    clock.advance(PERIOD)
    with pytest.raises(InvalidTransition, match="no paid time"):
        run(cancel_subscription, lapsed, staff, "moving away", "credit")


def test_refused_twice(run, staff, make_customer) -> None:
    customer_id = make_customer(paid=1500)
    run(cancel_subscription, customer_id, staff, "moving away", "credit")
    with pytest.raises(InvalidTransition, match="no paid time"):
        run(cancel_subscription, customer_id, staff, "moving away", "credit")


def test_refused_for_a_suspended_customer(run, staff, make_customer, view) -> None:
    customer_id = make_customer(paid=1500)
    run(suspend, customer_id, staff, "non-payment")
    with pytest.raises(InvalidTransition, match="suspended: unsuspend first"):
        run(cancel_subscription, customer_id, staff, "moving away", "credit")
    assert view(customer_id).expires_at == TEST_EPOCH + PERIOD


@pytest.mark.parametrize(
    ("reason", "refund", "message"),
    [
        ("  ", "credit", "say why"),
        ("moving away", "refund", "refund must be one of credit, forfeit"),
    ],
)
def test_bad_input_is_refused(run, staff, make_customer, reason, refund, message) -> None:
    customer_id = make_customer(paid=1500)
    with pytest.raises(InvalidInput, match=message):
        run(cancel_subscription, customer_id, staff, reason, refund)


def test_agents_and_viewers_may_not_cancel(run, agent, viewer, make_customer, view) -> None:
    customer_id = make_customer(paid=1500)
    for actor in (agent, viewer):
        with pytest.raises(PermissionDenied):
            run(cancel_subscription, customer_id, actor, "moving away", "credit")
    assert view(customer_id).status == "active"


def test_renew_after_cancel_starts_from_now(run, staff, make_customer, view, clock) -> None:
    customer_id = make_customer(paid=1500)
    run(cancel_subscription, customer_id, staff, "moving away", "credit")
    clock.advance(timedelta(days=1))
    result = run(renew, customer_id, staff)
    assert result.expires_at == clock.now() + PERIOD
    assert view(customer_id).next_period_at is None
