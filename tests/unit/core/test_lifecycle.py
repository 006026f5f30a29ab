"""Statuses: the transition table, who the router lets in, suspend, unsuspend, disconnect."""

from __future__ import annotations

from datetime import timedelta
from itertools import product

import pytest

from core import lifecycle
from core.errors import InvalidInput, InvalidTransition
from core.events import CustomerNeedsSync
from core.models import Customer
from core.testing import TEST_EPOCH
from core.usecases.billing import IncomingPayment, record_payment
from core.usecases.customers import CustomerChanges, edit_customer
from core.usecases.service import disconnect, suspend, unsuspend
from core.vocabulary import Status

A, N, E, S = Status.ACTIVE, Status.INACTIVE, Status.EXPIRED, Status.SUSPENDED  # N: never active
PERIOD = timedelta(days=30)

EXPECTED_TABLE = {
    "activate": {(N, A), (E, A), (A, A)},
    "expire": {(A, E)},
    "suspend": {(N, S), (A, S), (E, S)},
    "unsuspend": {(S, A), (S, E), (S, N)},
}


def test_transition_table_is_the_documented_one() -> None:
    actual = {
        action: {(source, target) for source, targets in table.items() for target in targets}
        for action, table in lifecycle.TRANSITIONS.items()
    }
    assert actual == EXPECTED_TABLE


@pytest.mark.parametrize("action", sorted(EXPECTED_TABLE))
def test_move_allows_exactly_the_table(action: str) -> None:
    for source, target in product(Status, Status):
        customer = Customer(status=source.value)
        if (source, target) in EXPECTED_TABLE[action]:
            lifecycle.move(customer, action, target)
            assert customer.status == target
        else:
            with pytest.raises(InvalidTransition, match=f"cannot {action}"):
                lifecycle.move(customer, action, target)
            assert customer.status == source


NOW = TEST_EPOCH


@pytest.mark.parametrize(
    ("status", "expires_at", "deleted", "allowed"),
    [
        (A, NOW + timedelta(seconds=1), False, True),
        (A, NOW, False, False),
        (A, NOW - timedelta(hours=1), False, False),
        (A, None, False, False),
        (S, NOW + PERIOD, False, False),
        (E, NOW + PERIOD, False, False),
        (N, NOW + PERIOD, False, False),
        (A, NOW + PERIOD, True, False),
    ],
)
def test_allowed_in_is_active_not_suspended_and_unexpired(status, expires_at, deleted, allowed):
    customer = Customer(
        status=status.value, expires_at=expires_at, deleted_at=NOW if deleted else None
    )
    assert lifecycle.allowed_in(customer, NOW) is allowed


@pytest.mark.parametrize(
    ("expires_at", "target"),
    [(NOW + PERIOD, A), (NOW - timedelta(seconds=1), E), (NOW, E), (None, N)],
)
def test_status_after_unsuspend(expires_at, target) -> None:
    customer = Customer(status=S.value, expires_at=expires_at)
    assert lifecycle.status_after_unsuspend(customer, NOW) is target


@pytest.fixture
def active_id(make_customer, settle) -> int:
    customer_id = make_customer(paid=1500)
    settle(customer_id)
    return customer_id


def test_suspend_cuts_off_keeps_paid_time_and_asks_for_sync(
    run, staff, active_id, view, published
) -> None:
    run(suspend, active_id, staff, "  abusive language  ")
    stored = view(active_id)
    assert (stored.status, stored.suspended_reason) == ("suspended", "abusive language")
    assert stored.expires_at == NOW + PERIOD
    assert stored.sync_pending is True
    assert published(CustomerNeedsSync) == [("CustomerNeedsSync", active_id)]


def test_suspend_twice_is_refused(run, staff, active_id, view) -> None:
    run(suspend, active_id, staff, "unpaid installation")
    with pytest.raises(InvalidTransition, match="already suspended"):
        run(suspend, active_id, staff, "again")
    assert view(active_id).suspended_reason == "unpaid installation"


def test_suspend_needs_a_reason(run, staff, active_id, view) -> None:
    with pytest.raises(InvalidInput, match="say why"):
        run(suspend, active_id, staff, "   ")
    assert view(active_id).status == "active"


def test_unsuspend_with_time_left_is_active(run, staff, active_id, view, clock) -> None:
    run(suspend, active_id, staff, "check")
    clock.advance(timedelta(days=1))
    result = run(unsuspend, active_id, staff)
    stored = view(active_id)
    assert result.status is A
    assert (stored.status, stored.suspended_reason) == ("active", None)
    assert stored.expires_at == NOW + PERIOD
    assert result.renewal is None


def test_unsuspend_after_the_paid_time_is_expired(run, staff, active_id, view, clock) -> None:
    run(suspend, active_id, staff, "check")
    clock.advance(PERIOD + timedelta(minutes=1))
    result = run(unsuspend, active_id, staff)
    assert result.status is E
    assert view(active_id).status == "expired"
    assert result.renewal is not None and not result.renewal.renewed


def test_unsuspend_never_activated_is_inactive(run, staff, make_customer, view) -> None:
    customer_id = make_customer()
    run(suspend, customer_id, staff, "fraud check")
    assert run(unsuspend, customer_id, staff).status is N
    assert view(customer_id).status == "inactive"


def test_credit_paid_during_suspension_renews_at_unsuspend(
    run, staff, active_id, view, clock
) -> None:
    run(suspend, active_id, staff, "check")
    clock.advance(PERIOD + timedelta(days=2))
    run(record_payment, active_id, staff, IncomingPayment(1500, "cash"))
    assert view(active_id).status == "suspended"
    result = run(unsuspend, active_id, staff)
    stored = view(active_id)
    assert result.status is A
    assert result.renewal.periods == 1
    assert stored.expires_at == clock.now() + PERIOD
    assert stored.balance_kes == 0


def test_unsuspend_without_auto_renew_leaves_the_credit(run, staff, active_id, view, clock) -> None:
    run(edit_customer, active_id, staff, CustomerChanges(auto_renew=False))
    run(suspend, active_id, staff, "check")
    clock.advance(PERIOD + timedelta(days=2))
    run(record_payment, active_id, staff, IncomingPayment(1500, "cash"))
    result = run(unsuspend, active_id, staff)
    assert (result.status, result.renewal) == (E, None)
    assert view(active_id).balance_kes == 1500


def test_unsuspend_someone_not_suspended_is_refused(run, staff, active_id) -> None:
    with pytest.raises(InvalidTransition, match="cannot unsuspend a customer who is active"):
        run(unsuspend, active_id, staff)


def test_disconnect_only_asks_to_drop_the_session(
    run, staff, active_id, view, published, audit_events
) -> None:
    before = view(active_id)
    run(disconnect, active_id, staff, "stuck session")
    assert view(active_id) == before
    assert published() == [("SessionDropRequested", active_id)]
    (event,) = audit_events("customer.disconnect")
    assert (event.customer_id, event.reason) == (active_id, "stuck session")
