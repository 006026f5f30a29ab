"""Expiry reminders: 3 days and 1 day before (configurable), 08:00-20:00 local time only, once
per expiry, never after STOP, in the phone's language; and the expired notice."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from huey import MemoryHuey

from core.actors import Actor
from core.clock import FrozenClock
from core.events import SmsQueued
from core.models import Customer, SmsMessage
from core.ports import RecordingDispatcher
from core.unit_of_work import CoreServices
from core.usecases.billing import IncomingPayment, record_payment
from core.usecases.preferences import set_language, set_reminders
from core.usecases.reminders import ReminderPolicy, reminder_due, reminder_kind
from core.usecases.service import expire_if_due
from jobs.reminders import ReminderRuntime, register_reminder_tasks, send_due_reminders

WANJIKU = "+254712345678"
EXPIRES = datetime(2026, 12, 22, 9, 0, tzinfo=UTC)  # Wanjiku's expiry: 12:00 in Nairobi
POLICY = ReminderPolicy()


@pytest.fixture
def run_reminders(services: CoreServices) -> Callable[..., list[SmsMessage]]:
    """Run the sweep at ``at`` (UTC); returns the messages it queued."""

    def run(at: datetime, policy: ReminderPolicy = POLICY) -> list[SmsMessage]:
        services.clock.set(at)  # type: ignore[attr-defined]
        with services.unit_of_work() as uow:
            before = {m.id for m in uow.session.query(SmsMessage)}
        send_due_reminders(services, policy)
        with services.unit_of_work() as uow:
            new = [m for m in uow.session.query(SmsMessage).order_by(SmsMessage.id)]
            uow.session.expunge_all()
        return [m for m in new if m.id not in before]

    return run


@pytest.mark.parametrize(
    ("left", "validity_hours", "due"),
    [
        (timedelta(days=4), 720, None),
        (timedelta(days=3), 720, 3),
        (timedelta(days=2, hours=23), 720, 3),
        (timedelta(days=1), 720, 1),
        (timedelta(hours=2), 720, 1),
        (timedelta(0), 720, None),
        (timedelta(hours=-1), 720, None),
        (timedelta(hours=20), 24, None),  # a daily plan gets no "1 day left"
        (timedelta(days=2), 168, 3),  # a weekly plan gets both
    ],
)
def test_which_reminder_is_due(left: timedelta, validity_hours: int, due: int | None):
    now = datetime(2026, 12, 1, 9, tzinfo=UTC)
    assert reminder_due(now + left, now, (3, 1), validity_hours) == due


@pytest.mark.parametrize(
    ("utc_hour", "inside"),
    [(4, False), (5, True), (12, True), (16, True), (17, False), (23, False)],
)
def test_sending_hours_are_local(utc_hour: int, inside: bool, services: CoreServices):
    now = datetime(2026, 12, 1, utc_hour, 30, tzinfo=UTC)
    assert POLICY.sending_hours(now, services.config.timezone) is inside


def test_policy_refuses_a_window_that_is_not_by_day():
    with pytest.raises(ValueError):
        ReminderPolicy(start_hour=20, end_hour=8)


def test_three_days_before_a_reminder_goes_out_once(run_reminders, subscribers):
    (sms,) = run_reminders(EXPIRES - timedelta(days=3))
    assert sms.phone == WANJIKU
    assert sms.customer_id == subscribers.wanjiku
    assert sms.kind == reminder_kind(3, EXPIRES)
    assert sms.body.startswith("Kasarani Net: Home 10M for MTJ-")
    assert "ends 2026-12-22 12:00. Pay KES 1,000 to paybill 174379" in sms.body
    assert sms.body.endswith("Reply STOP to end reminders.")
    assert run_reminders(EXPIRES - timedelta(days=3) + timedelta(minutes=15)) == []
    assert run_reminders(EXPIRES - timedelta(days=2)) == []


def test_one_day_before_the_second_reminder_goes_out(run_reminders, subscribers):
    run_reminders(EXPIRES - timedelta(days=3))
    (sms,) = run_reminders(EXPIRES - timedelta(days=1))
    assert sms.kind == reminder_kind(1, EXPIRES)


def test_nothing_goes_out_at_night_and_the_morning_catches_up(
    run_reminders, services: CoreServices, subscribers
):
    night_expiry = datetime(2026, 12, 22, 23, 0, tzinfo=UTC)  # 02:00 on the 23rd in Nairobi
    with services.unit_of_work() as uow:
        customer = uow.session.get(Customer, subscribers.wanjiku)
        assert customer is not None
        customer.expires_at = night_expiry
        uow.commit()
    three_days = night_expiry - timedelta(days=3)  # 02:00 local
    assert run_reminders(three_days) == []
    assert run_reminders(three_days + timedelta(hours=5, minutes=59)) == []  # 07:59 local
    (sms,) = run_reminders(three_days + timedelta(hours=6))  # 08:00 local
    assert sms.kind == reminder_kind(3, night_expiry)
    one_day = night_expiry - timedelta(days=1)
    assert run_reminders(one_day - timedelta(hours=4)) == []  # 22:00 local, 1 day 4 h left
    (sms,) = run_reminders(one_day + timedelta(hours=6))  # 08:00 local, 18 h left
    assert sms.kind == reminder_kind(1, night_expiry)


def test_only_the_nearest_reminder_is_sent_when_several_are_due(run_reminders, subscribers):
    (sms,) = run_reminders(EXPIRES - timedelta(hours=3))  # 09:00 local: 3 d and 1 d are due
    assert sms.kind == reminder_kind(1, EXPIRES)


def test_stop_silences_reminders(run_reminders, services: CoreServices, subscribers):
    with services.unit_of_work() as uow:
        set_reminders(uow, WANJIKU, enabled=False)
        uow.commit()
    assert run_reminders(EXPIRES - timedelta(days=3)) == []
    with services.unit_of_work() as uow:
        set_reminders(uow, WANJIKU, enabled=True)
        uow.commit()
    assert len(run_reminders(EXPIRES - timedelta(days=1))) == 1


def test_reminders_come_in_the_phones_language(run_reminders, services: CoreServices, subscribers):
    with services.unit_of_work() as uow:
        set_language(uow, WANJIKU, "sw")
        uow.commit()
    (sms,) = run_reminders(EXPIRES - timedelta(days=3))
    assert sms.body.startswith("Kasarani Net: Home 10M ya MTJ-")
    assert "inaisha 2026-12-22 12:00. Lipa KES 1,000 paybill 174379" in sms.body


def test_credit_that_renews_by_itself_needs_no_reminder(
    run_reminders, services: CoreServices, staff: Actor, subscribers
):
    with services.unit_of_work() as uow:
        record_payment(
            uow,
            subscribers.wanjiku,
            staff,
            IncomingPayment(amount_kes=1000, method="cash", reference="C-1"),
        )
        uow.commit()
    assert run_reminders(EXPIRES - timedelta(days=3)) == []


def test_a_renewal_starts_a_new_round_of_reminders(
    run_reminders, services: CoreServices, staff: Actor, subscribers
):
    run_reminders(EXPIRES - timedelta(days=3))
    with services.unit_of_work() as uow:
        record_payment(
            uow,
            subscribers.wanjiku,
            staff,
            IncomingPayment(amount_kes=1000, method="cash", reference="C-2"),  # one period
        )
        uow.commit()
    later = EXPIRES + timedelta(days=30)
    (sms,) = run_reminders(later - timedelta(days=3))
    assert sms.kind == reminder_kind(3, later)


def test_the_days_are_configurable(run_reminders, subscribers):
    policy = ReminderPolicy(offsets_days=(7,))
    assert run_reminders(EXPIRES - timedelta(days=8), policy) == []
    (sms,) = run_reminders(EXPIRES - timedelta(days=7), policy)
    assert sms.kind == reminder_kind(7, EXPIRES)
    assert run_reminders(EXPIRES - timedelta(days=1), policy) == []


def test_an_expired_customer_gets_one_expired_notice(
    run_reminders, services: CoreServices, subscribers
):
    services.clock.set(EXPIRES + timedelta(seconds=1))  # type: ignore[attr-defined]
    with services.unit_of_work() as uow:
        expire_if_due(uow, subscribers.wanjiku)
        uow.commit()
    (sms,) = run_reminders(EXPIRES + timedelta(hours=1))
    assert sms.kind.startswith("expired:")
    assert "ended 2026-12-22 12:00. Pay KES 1,000 to paybill 174379" in sms.body
    assert run_reminders(EXPIRES + timedelta(hours=2)) == []


def test_the_expired_notice_is_not_sent_a_day_late(
    run_reminders, services: CoreServices, subscribers
):
    services.clock.set(EXPIRES + timedelta(seconds=1))  # type: ignore[attr-defined]
    with services.unit_of_work() as uow:
        expire_if_due(uow, subscribers.wanjiku)
        uow.commit()
    assert run_reminders(EXPIRES + timedelta(hours=25)) == []


def test_the_periodic_task_queues_and_dispatches_the_sms(
    services: CoreServices, dispatcher: RecordingDispatcher, clock: FrozenClock, subscribers
):
    huey = MemoryHuey("test", immediate=True, utc=True)
    task = register_reminder_tasks(huey, lambda: ReminderRuntime(services, POLICY))
    clock.set(EXPIRES - timedelta(days=3))
    task()
    assert len(dispatcher.of_type(SmsQueued)) == 1


def test_a_second_scheduler_s_run_of_the_same_slot_queues_nothing(
    services: CoreServices, dispatcher: RecordingDispatcher, clock: FrozenClock, subscribers
):
    first, second = (
        register_reminder_tasks(
            MemoryHuey("test", immediate=True, utc=True),
            lambda: ReminderRuntime(services, POLICY),
        )
        for _ in range(2)
    )
    clock.set(EXPIRES - timedelta(days=3))  # 09:00 UTC: the 09:00-09:15 slot
    first()
    assert len(dispatcher.of_type(SmsQueued)) == 1
    # A reminder for a new expiry falls due within the slot: the second scheduler's run of the
    # slot must not queue it (the outbox check alone would let it through: it is a new notice).
    with services.unit_of_work() as uow:
        customer = uow.session.get(Customer, subscribers.wanjiku)
        assert customer is not None
        customer.expires_at = EXPIRES - timedelta(hours=1)
        uow.commit()
    clock.advance(timedelta(minutes=14))
    second()
    assert len(dispatcher.of_type(SmsQueued)) == 1
    clock.advance(timedelta(minutes=1))  # 09:15: the next slot
    second()
    first()
    assert len(dispatcher.of_type(SmsQueued)) == 2
