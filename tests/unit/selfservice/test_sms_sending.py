"""The send job owns a message before it calls the provider, and a lost job is made up for:
no SMS is sent twice by two workers, none waits forever because its job never ran."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from huey import MemoryHuey

from core.clock import FrozenClock
from core.models import SmsMessage
from core.ports import GatewayUnavailable, RecordingNotifier, SmsSent
from core.unit_of_work import CoreServices
from core.usecases.sms import claim_for_sending, messages_to_resend, queue_sms
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
        assert claim_for_sending(uow, message_id) == (PHONE, "Asante!")
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
