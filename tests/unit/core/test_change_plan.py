"""Changing plan: now (same expiry) or at the next renewal, within the connection type."""

from __future__ import annotations

import pytest

from core.actors import Actor
from core.errors import InvalidInput, PermissionDenied, PlanMismatch, PlanNotFound
from core.events import CustomerNeedsSync
from core.testing import TEST_EPOCH
from core.usecases.plans import PlanSpec, add_plan, set_plan_active
from core.usecases.service import PlanChangeTiming, change_plan, plan_change_cancels

NOW, RENEWAL = PlanChangeTiming.NOW, PlanChangeTiming.RENEWAL


@pytest.fixture
def customer_id(make_customer, settle) -> int:
    customer = make_customer(paid=1500)
    settle(customer)
    return customer


def test_change_now_switches_plan_keeps_expiry_and_syncs(
    run, staff, isp, customer_id, view, published
) -> None:
    before = view(customer_id)
    run(change_plan, customer_id, staff, "home 20m", NOW)
    stored = view(customer_id)
    assert (stored.plan, stored.pending_plan) == (isp.pppoe_plan_big, None)
    assert stored.expires_at == before.expires_at
    assert stored.balance_kes == before.balance_kes
    assert stored.sync_pending is True
    assert published(CustomerNeedsSync) == [("CustomerNeedsSync", customer_id)]


def test_change_at_renewal_waits_and_does_not_touch_the_router(
    run, staff, isp, customer_id, view, dispatcher
) -> None:
    run(change_plan, customer_id, staff, isp.pppoe_plan_big, RENEWAL)
    stored = view(customer_id)
    assert (stored.plan, stored.pending_plan) == (isp.pppoe_plan, isp.pppoe_plan_big)
    assert stored.sync_pending is False
    assert dispatcher.events == []


def test_choosing_the_current_plan_at_renewal_cancels_a_pending_change(
    run, staff, isp, customer_id, view
) -> None:
    run(change_plan, customer_id, staff, isp.pppoe_plan_big, RENEWAL)
    run(change_plan, customer_id, staff, isp.pppoe_plan, RENEWAL)
    assert view(customer_id).pending_plan is None


def test_change_now_clears_a_pending_change(run, staff, isp, customer_id, view) -> None:
    run(change_plan, customer_id, staff, isp.pppoe_plan_big, RENEWAL)
    run(change_plan, customer_id, staff, isp.pppoe_plan_big, NOW)
    assert (view(customer_id).plan, view(customer_id).pending_plan) == (isp.pppoe_plan_big, None)


def test_change_now_to_the_same_plan_is_refused(run, staff, isp, customer_id) -> None:
    with pytest.raises(InvalidInput, match="already on Home 10M"):
        run(change_plan, customer_id, staff, isp.pppoe_plan, NOW)


@pytest.mark.parametrize("when", [NOW, RENEWAL])
@pytest.mark.parametrize(
    ("plan", "message"),
    [("Daily 5M", "plan is for hotspot, customer is pppoe"), ("Business 50M", "static")],
)
def test_plan_of_another_type_is_refused(run, staff, customer_id, view, when, plan, message):
    with pytest.raises(PlanMismatch, match=message):
        run(change_plan, customer_id, staff, plan, when)
    assert (view(customer_id).plan, view(customer_id).pending_plan) == ("Home 10M", None)


@pytest.mark.parametrize("when", [NOW, RENEWAL])
def test_retired_or_unknown_plans_are_refused(run, staff, isp, customer_id, when) -> None:
    run(set_plan_active, staff, isp.pppoe_plan_big, False)
    with pytest.raises(PlanNotFound, match="retired"):
        run(change_plan, customer_id, staff, isp.pppoe_plan_big, when)
    with pytest.raises(PlanNotFound, match="plan not found"):
        run(change_plan, customer_id, staff, "Platinum", when)


def test_customer_on_a_retired_plan_keeps_it(run, staff, isp, customer_id, view) -> None:
    run(set_plan_active, staff, isp.pppoe_plan, False)
    assert view(customer_id).plan == isp.pppoe_plan


def test_subscriber_can_only_change_at_renewal(run, isp, customer_id, view) -> None:
    subscriber = Actor.subscriber("+254712345678")
    with pytest.raises(InvalidInput, match="next renewal"):
        run(change_plan, customer_id, subscriber, isp.pppoe_plan_big, NOW)
    assert view(customer_id).plan == isp.pppoe_plan
    run(change_plan, customer_id, subscriber, isp.pppoe_plan_big, RENEWAL)
    assert view(customer_id).pending_plan == isp.pppoe_plan_big


@pytest.mark.parametrize("when", [NOW, RENEWAL])
def test_agents_and_viewers_cannot_change_plans(run, agent, viewer, isp, customer_id, when):
    for actor in (agent, viewer):
        with pytest.raises(PermissionDenied):
            run(change_plan, customer_id, actor, isp.pppoe_plan_big, when)


def test_plan_change_is_audited(run, staff, isp, customer_id, audit_events, view) -> None:
    run(change_plan, customer_id, staff, isp.pppoe_plan_big, NOW)
    (event,) = audit_events("customer.plan.now")
    assert event.reason == isp.pppoe_plan_big
    assert set(event.before) == set(event.after) == {"plan_id"}
    assert event.before["plan_id"] != event.after["plan_id"]
    assert view(customer_id).expires_at > TEST_EPOCH


def test_change_now_to_a_third_plan_reports_and_audits_the_cancelled_renewal_change(
    run, staff, isp, customer_id, view, audit_events
) -> None:
    run(add_plan, staff, PlanSpec("Home 5M", "pppoe", 1000, "5M", "2M", validity_days=30))
    run(change_plan, customer_id, staff, isp.pppoe_plan_big, RENEWAL)
    assert run(plan_change_cancels, customer_id, "home 5m") == isp.pppoe_plan_big
    change = run(change_plan, customer_id, staff, "Home 5M", NOW)
    assert change.cancelled_pending_plan == isp.pppoe_plan_big
    assert (view(customer_id).plan, view(customer_id).pending_plan) == ("Home 5M", None)
    (event,) = audit_events("customer.plan.now")
    assert event.reason == f"Home 5M; cancels {isp.pppoe_plan_big} at the next renewal"


def test_change_now_to_the_pending_plan_cancels_nothing(run, staff, isp, customer_id) -> None:
    run(change_plan, customer_id, staff, isp.pppoe_plan_big, RENEWAL)
    assert run(plan_change_cancels, customer_id, isp.pppoe_plan_big) is None
    change = run(change_plan, customer_id, staff, isp.pppoe_plan_big, NOW)
    assert change.cancelled_pending_plan is None


def test_another_plan_for_the_renewal_reports_the_one_it_replaces(
    run, staff, isp, customer_id
) -> None:
    run(change_plan, customer_id, staff, isp.pppoe_plan_big, RENEWAL)
    change = run(change_plan, customer_id, staff, isp.pppoe_plan, RENEWAL)
    assert change.cancelled_pending_plan == isp.pppoe_plan_big


@pytest.mark.parametrize(
    "typed", ['"Home 20M"', "'home 20m'", "\u201cHome 20M\u201d", ' " Home 20M " ']
)
def test_a_plan_name_in_quotes_is_the_plan(run, staff, isp, customer_id, view, typed) -> None:
    run(change_plan, customer_id, staff, typed, RENEWAL)
    assert view(customer_id).pending_plan == isp.pppoe_plan_big


def test_a_plan_is_named_without_the_quotes_it_was_typed_in(run, staff) -> None:
    plan = run(add_plan, staff, PlanSpec('"Home 5M"', "pppoe", 1000, "5M", "2M", validity_days=30))
    assert plan.name == "Home 5M"
