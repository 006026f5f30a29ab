"""The send job owns a message before it calls the provider, and a lost job is made up for:
no SMS is sent twice by two workers, none waits forever because its job never ran."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import pytest
from huey import MemoryHuey
from sqlalchemy import select

from core.actors import Actor
from core.clock import FrozenClock
from core.events import SmsQueued
from core.models import SmsMessage
from core.ports import GatewayUnavailable, RecordingNotifier, SmsSent
from core.unit_of_work import CoreServices
from core.usecases.billing import IncomingPayment, record_payment
from core.usecases.notices import payment_notices
from core.usecases.sms import ClaimedSms, claim_for_sending, messages_to_resend, queue_sms
from jobs.messages import MessageRuntime, register_message_tasks

PHONE = "+254712345678"


class CountingSms:
    """An SMS gateway that records each send; ``down`` makes it unreachable."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.down = False

    def send(self, phone: str, body: str) -> SmsSent:
        if self.down:
            raise GatewayUnavailable("Africa's Talking is unreachable")
        self.sent.append((phone, body))
        return SmsSent(f"ATXid_{len(self.sent)}", "KES 0.8000", "sent", None)


@pytest.fixture
def sms() -> CountingSms:
    return CountingSms()


@pytest.fixture
def send_sms(services: CoreServices, sms: CountingSms):
    huey = MemoryHuey("sms-tests", immediate=True, utc=True)
    runtime = MessageRuntime(services=services, sms=sms, notifier=RecordingNotifier())
    return register_message_tasks(huey, lambda: runtime)


def queued(services: CoreServices, body: str = "Asante!") -> int:
    with services.unit_of_work() as uow:
        message_id = queue_sms(uow, PHONE, body, "test").id
        uow.commit()
        return message_id


def status(services: CoreServices, message_id: int) -> str:
    with services.unit_of_work() as uow:
        message = uow.session.get(SmsMessage, message_id)
        assert message is not None
        return message.status


def test_only_one_caller_can_claim_a_message(services: CoreServices):
    message_id = queued(services)
    with services.unit_of_work() as uow:
        assert claim_for_sending(uow, message_id) == ClaimedSms(message_id, PHONE, "Asante!")
        uow.commit()
    with services.unit_of_work() as uow:
        assert claim_for_sending(uow, message_id) is None


def test_a_job_run_twice_sends_once(services: CoreServices, send_sms, sms: CountingSms):
    message_id = queued(services)
    send_sms.send_sms(message_id)
    send_sms.send_sms(message_id)
    assert sms.sent == [(PHONE, "Asante!")]
    assert status(services, message_id) == "sent"


def test_an_unreachable_provider_gives_the_message_back_for_the_retry(
    services: CoreServices, send_sms, sms: CountingSms
):
    message_id = queued(services)
    sms.down = True
    with pytest.raises(GatewayUnavailable):
        send_sms.send_sms.call_local(message_id)
    assert status(services, message_id) == "queued"
    sms.down = False
    send_sms.send_sms.call_local(message_id)
    assert status(services, message_id) == "sent"


def test_the_sweep_sends_what_a_lost_job_never_did(
    services: CoreServices, send_sms, sms: CountingSms, clock: FrozenClock
):
    message_id = queued(services)  # its SmsQueued event went nowhere (RecordingDispatcher)
    send_sms.sms_sweep.call_local()
    assert sms.sent == []  # too young: its job may still be on its way
    clock.advance(timedelta(minutes=3))
    send_sms.sms_sweep.call_local()
    assert sms.sent == [(PHONE, "Asante!")]
    assert status(services, message_id) == "sent"
    clock.advance(timedelta(minutes=1))  # the next minute's sweep (one sweep per minute)
    send_sms.sms_sweep.call_local()
    assert len(sms.sent) == 1


def test_a_message_claimed_by_a_worker_that_died_is_sent_again(
    services: CoreServices, sms: CountingSms, send_sms, clock: FrozenClock
):
    message_id = queued(services)
    with services.unit_of_work() as uow:
        claim_for_sending(uow, message_id)  # then the worker is killed
        uow.commit()
    clock.advance(timedelta(minutes=5))
    send_sms.sms_sweep.call_local()
    assert sms.sent == []  # it might still be sending
    clock.advance(timedelta(minutes=15))
    send_sms.sms_sweep.call_local()
    assert sms.sent == [(PHONE, "Asante!")]


def test_a_notice_a_day_old_is_dropped_not_sent(services: CoreServices, clock: FrozenClock):
    message_id = queued(services, "Your plan ends tomorrow")
    clock.advance(timedelta(days=1, minutes=1))
    with services.unit_of_work() as uow:
        assert messages_to_resend(uow) == []
        uow.commit()
    assert status(services, message_id) == "failed"


def test_a_sent_message_is_one_log_line_naming_the_recipient_not_the_body(
    services: CoreServices, send_sms, caplog: pytest.LogCaptureFixture
):
    message_id = queued(services, "Your PPPoE password is s3cret")
    with caplog.at_level(logging.INFO, logger="jobs.messages"):
        send_sms.send_sms(message_id)
    assert [record.getMessage() for record in caplog.records] == [f"SMS sent to {PHONE}"]


# -- the receipt: queued and sent by the payment's notice job itself ---------------------------


def paid_customer(services: CoreServices, staff: Actor, subscribers, reference: str) -> int:
    """Wanjiku (whose phone is PHONE) just paid KES 1,500 by M-Pesa; returns the payment's id."""
    with services.unit_of_work() as uow:
        incoming = IncomingPayment(1500, "mpesa", reference)
        payment_id = record_payment(uow, subscribers.wanjiku, staff, incoming).payment_id
        uow.commit()
    return payment_id


def receipts(services: CoreServices, payment_id: int) -> list[tuple[int, str, str | None]]:
    """(id, status, provider's id) of each receipt SMS of the payment."""
    with services.unit_of_work() as uow:
        rows = uow.session.execute(
            select(SmsMessage.id, SmsMessage.status, SmsMessage.provider_message_id).where(
                SmsMessage.kind == f"receipt:{payment_id}"
            )
        )
        return [tuple(row) for row in rows]


def test_the_notice_job_sends_the_receipt_itself_without_a_send_job(
    services: CoreServices, send_sms, sms: CountingSms, staff, subscribers, dispatcher
):
    payment_id = paid_customer(services, staff, subscribers, "SLK0000001")
    dispatcher.events.clear()

    send_sms.payment_notices(payment_id)

    [(phone, body)] = sms.sent
    assert phone == PHONE and "SLK0000001" in body
    [(_, state, provider_id)] = receipts(services, payment_id)
    assert (state, provider_id) == ("sent", "ATXid_1")
    assert dispatcher.of_type(SmsQueued) == []  # no send job was queued for it


def test_a_receipt_the_provider_did_not_take_is_queued_once_and_sent_once(
    services: CoreServices, send_sms, sms: CountingSms, staff, subscribers, clock: FrozenClock
):
    payment_id = paid_customer(services, staff, subscribers, "SLK0000002")
    sms.down = True

    send_sms.payment_notices(payment_id)  # raises nothing: run again, it would queue a second

    [(receipt_id, state, _)] = receipts(services, payment_id)
    assert state == "queued"  # given back; its send job or the sweep sends it
    sms.down = False
    clock.advance(timedelta(minutes=3))
    send_sms.sms_sweep.call_local()
    send_sms.send_sms.call_local(receipt_id)
    assert len(sms.sent) == 1
    assert [state for _, state, _ in receipts(services, payment_id)] == ["sent"]


def test_a_receipt_whose_worker_died_mid_send_is_sent_by_the_sweep(
    services: CoreServices, sms: CountingSms, send_sms, staff, subscribers, clock: FrozenClock
):
    payment_id = paid_customer(services, staff, subscribers, "SLK0000003")
    with services.unit_of_work() as uow:
        # What the notice job commits before it sends; then the worker is killed.
        notices = payment_notices(uow, payment_id, send_here=True)
        uow.commit()
    assert notices.receipt_sms is not None
    clock.advance(timedelta(minutes=5))
    send_sms.sms_sweep.call_local()
    assert sms.sent == []  # it might still be sending
    clock.advance(timedelta(minutes=15))
    send_sms.sms_sweep.call_local()
    assert [body for _, body in sms.sent] == [notices.receipt_sms.body]


class BrokenNotifier:
    """A staff notifier that raises (a closed HTTP client, a malformed Telegram URL)."""

    def notify(self, text: str) -> None:
        raise RuntimeError("Cannot send a request, as the client has been closed.")


def test_a_staff_alert_that_raises_does_not_run_the_receipt_job_again(
    services: CoreServices, sms: CountingSms, staff, subscribers
):
    payment_id = paid_customer(services, staff, subscribers, "SLK0000004")
    huey = MemoryHuey("sms-tests", immediate=True, utc=True)
    runtime = MessageRuntime(services=services, sms=sms, notifier=BrokenNotifier())
    tasks = register_message_tasks(huey, lambda: runtime)

    tasks.payment_notices(payment_id)
    # Whatever huey kept to run again (a retry after its delay), run when it is due.
    for _ in range(10):
        due = huey.read_schedule(datetime.max)
        if not due:
            break
        for task in due:
            huey.execute(task, task.eta)

    assert len(sms.sent) == 1  # the payer got one receipt, not one per retry
    assert len(receipts(services, payment_id)) == 1
