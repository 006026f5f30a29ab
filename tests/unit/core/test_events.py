"""Router sync hook: changes the router must learn are flagged in the same transaction and
published only after commit; a failing dispatcher never undoes a commit."""

from __future__ import annotations

import dataclasses
import logging
from datetime import timedelta

import pytest
from huey import MemoryHuey

from core.events import CustomerNeedsSync, PaymentReceived, SmsQueued
from core.models import Customer
from core.ports import OutboxSms, RecordingNotifier
from core.testing import TEST_EPOCH
from core.usecases.billing import IncomingPayment, record_debt, record_payment
from core.usecases.customers import CustomerChanges, change_password, edit_customer
from core.usecases.renewal import renew
from core.usecases.service import (
    PlanChangeTiming,
    change_plan,
    disconnect,
    expire_if_due,
    extend,
    suspend,
    unsuspend,
)
from jobs.messages import MessageRuntime, register_message_tasks

END = TEST_EPOCH + timedelta(days=30)

SYNCING = {
    "edit username": lambda run, a, c, clock: run(
        edit_customer, c, a, CustomerChanges(username="renamed")
    ),
    "edit address": lambda run, a, c, clock: run(
        edit_customer, c, a, CustomerChanges(ip_address="10.10.0.6")
    ),
    "change password": lambda run, a, c, clock: run(change_password, c, a, "n3w-pass"),
    "plan now": lambda run, a, c, clock: run(change_plan, c, a, "Home 20M", PlanChangeTiming.NOW),
    "suspend": lambda run, a, c, clock: run(suspend, c, a, "x"),
    "extend": lambda run, a, c, clock: run(extend, c, a, days=1),
    "renewing payment": lambda run, a, c, clock: run(
        record_payment, c, a, IncomingPayment(1500, "cash")
    ),
    "expiry": lambda run, a, c, clock: (clock.set(END), run(expire_if_due, c)),
}

NOT_SYNCING = {
    "edit notes and phone": lambda run, a, c, clock: run(
        edit_customer, c, a, CustomerChanges(notes="n", phone="0733000111", email="a@b.co")
    ),
    "plan at renewal": lambda run, a, c, clock: run(change_plan, c, a, "Home 20M"),
    "disconnect": lambda run, a, c, clock: run(disconnect, c, a),
    "payment too small to renew": lambda run, a, c, clock: run(
        record_payment, c, a, IncomingPayment(100, "cash")
    ),
    "payment kept as credit": lambda run, a, c, clock: run(
        record_payment, c, a, IncomingPayment(1500, "cash"), activate=False
    ),
    "debt while in service": lambda run, a, c, clock: run(record_debt, c, a, 100),
    "expiry not due": lambda run, a, c, clock: run(expire_if_due, c),
}


@pytest.fixture
def active(make_customer, settle) -> int:
    customer_id = make_customer(paid=1500)
    settle(customer_id)
    return customer_id


@pytest.mark.parametrize("case", sorted(SYNCING))
def test_router_changes_are_flagged_and_published(
    run, staff, active, view, clock, published, case
) -> None:
    SYNCING[case](run, staff, active, clock)
    assert view(active).sync_pending is True
    assert published(CustomerNeedsSync) == [("CustomerNeedsSync", active)]


@pytest.mark.parametrize("case", sorted(NOT_SYNCING))
def test_other_changes_leave_the_router_alone(
    run, staff, active, view, clock, published, case
) -> None:
    NOT_SYNCING[case](run, staff, active, clock)
    assert view(active).sync_pending is False
    assert published(CustomerNeedsSync) == []


def test_create_unsuspend_debt_start_and_renew_flag_the_customer(
    run, staff, make_customer, settle, view, published
) -> None:
    customer_id = make_customer()
    assert view(customer_id).sync_pending is True
    assert published(CustomerNeedsSync) == [("CustomerNeedsSync", customer_id)]
    for use_case in (
        lambda: run(suspend, customer_id, staff, "x"),
        lambda: run(unsuspend, customer_id, staff),
        lambda: run(record_debt, customer_id, staff, 1500),
        lambda: (
            run(record_payment, customer_id, staff, IncomingPayment(3000, "cash"), activate=False),
            run(renew, customer_id, staff),
        ),
    ):
        settle(customer_id)
        use_case()
        assert view(customer_id).sync_pending is True
        assert published(CustomerNeedsSync) == [("CustomerNeedsSync", customer_id)]


def test_events_wait_for_the_commit(services, staff, active, dispatcher) -> None:
    with services.unit_of_work() as uow:
        suspend(uow, active, staff, "x")
        record_payment(uow, active, staff, IncomingPayment(10, "cash"))
        assert dispatcher.events == []
        uow.commit()
        kinds = [type(event) for event in dispatcher.events]
    # The suspension notice is an SMS queued in the same transaction.
    assert kinds == [CustomerNeedsSync, SmsQueued, PaymentReceived]


def test_a_rolled_back_use_case_dispatches_nothing_and_flags_nothing(
    services, staff, active, view, dispatcher
) -> None:
    with pytest.raises(RuntimeError, match="adapter crashed"), services.unit_of_work() as uow:
        suspend(uow, active, staff, "x")
        raise RuntimeError("adapter crashed")
    stored = view(active)
    assert (stored.status, stored.sync_pending) == ("active", False)
    assert dispatcher.events == []


def test_explicit_rollback_forgets_the_events(services, staff, active, view, dispatcher):
    with services.unit_of_work() as uow:
        suspend(uow, active, staff, "x")
        uow.rollback()
        uow.commit()
    assert view(active).status == "active"
    assert dispatcher.events == []


def test_the_same_event_is_dispatched_once_per_transaction(
    services, staff, active, dispatcher
) -> None:
    with services.unit_of_work() as uow:
        extend(uow, active, staff, days=1)
        change_password(uow, active, staff, "abcd1234")
        uow.commit()
    assert dispatcher.of_type(CustomerNeedsSync) == [dispatcher.of_type(CustomerNeedsSync)[0]]
    assert dispatcher.of_type(CustomerNeedsSync)[0].customer_id == active


class ExplodingDispatcher:
    def __init__(self) -> None:
        self.attempts = 0

    def dispatch(self, event: object) -> None:
        self.attempts += 1
        raise ConnectionError("queue is down")


def test_a_dispatcher_that_raises_does_not_undo_the_commit(
    services, staff, active, view, caplog
) -> None:
    exploding = ExplodingDispatcher()
    broken = dataclasses.replace(services, dispatcher=exploding)
    with caplog.at_level(logging.ERROR), broken.unit_of_work() as uow:
        suspend(uow, active, staff, "queue test")
        record_payment(uow, active, staff, IncomingPayment(500, "cash"))
        uow.commit()
    stored = view(active)
    assert (stored.status, stored.sync_pending, stored.balance_kes) == ("suspended", True, 500)
    assert exploding.attempts == 3  # every event (sync, suspension SMS, payment) was tried
    assert "could not dispatch" in caplog.text


def test_sync_flag_is_a_column_the_sweep_can_find(services, active, staff, run) -> None:
    run(suspend, active, staff, "x")
    with services.unit_of_work() as uow:
        pending = uow.session.query(Customer.id).filter(Customer.sync_pending.is_(True)).all()
    assert [row.id for row in pending] == [active]


def test_a_credited_payment_is_one_log_line_once_committed(services, staff, active, caplog) -> None:
    """The demo terminal's payment line comes from the receipt job, which runs after the credit
    committed: a credit a rollback undid is never logged."""
    with services.unit_of_work() as uow:
        payment_id = record_payment(
            uow, active, staff, IncomingPayment(2500, "mpesa", "SLK4H7XQ2P")
        ).payment_id
        account = uow.session.get(Customer, active).account_number
        uow.commit()
    runtime = MessageRuntime(services, sms=OutboxSms(), notifier=RecordingNotifier())
    tasks = register_message_tasks(
        MemoryHuey("log-tests", immediate=True, utc=True), lambda: runtime
    )
    with caplog.at_level(logging.INFO, logger="jobs.messages"):
        tasks.payment_notices(payment_id)
    lines = [record.getMessage() for record in caplog.records if record.name == "jobs.messages"]
    # The receipt's send ("SMS sent to ..."), then the one payment line.
    [line] = [line for line in lines if not line.startswith("SMS sent to ")]
    assert line.startswith("Payment KES 2,500 (SLK4H7XQ2P) from ")
    assert f"({account})" in line
