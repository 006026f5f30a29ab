"""``POST /sms/delivery``: Africa's Talking's reports update the stored message's status."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from core.clock import FrozenClock
from core.models import SmsMessage
from core.unit_of_work import CoreServices
from core.usecases.sms import queue_sms

PHONE = "+254712345678"


@pytest.fixture
def sent_message(services: CoreServices, clock: FrozenClock) -> Callable[[str], int]:
    """A message the send job handed to Africa's Talking, known there as ``provider_id``."""

    def make(provider_id: str) -> int:
        with services.unit_of_work() as uow:
            message = queue_sms(uow, PHONE, "Asante!", "receipt:1")
            message.status = "sent"
            message.provider_message_id = provider_id
            message.sent_at = clock.now()
            uow.commit()
            return message.id

    return make


@pytest.fixture
def report(client) -> Callable[..., tuple[int, str]]:
    def post(**form: str) -> tuple[int, str]:
        fields = {"phoneNumber": PHONE, "networkCode": "63902", "retryCount": "0", **form}
        response = client.post("/sms/delivery", data=fields)
        return response.status_code, response.text

    return post


def message(services: CoreServices, message_id: int) -> SmsMessage:
    with services.unit_of_work() as uow:
        found = uow.session.get(SmsMessage, message_id)
        assert found is not None
        uow.session.expunge(found)
        return found


def test_success_marks_the_message_delivered(
    services: CoreServices, sent_message, report, clock: FrozenClock
):
    message_id = sent_message("ATXid_0f2c6a1b9e")
    clock.advance(timedelta(seconds=5))
    assert report(id="ATXid_0f2c6a1b9e", status="Success") == (200, "updated")
    stored = message(services, message_id)
    assert (stored.status, stored.delivered_at, stored.error) == ("delivered", clock.now(), None)


@pytest.mark.parametrize("status", ["Failed", "Rejected"])
def test_failure_keeps_the_reason(services: CoreServices, sent_message, report, status: str):
    message_id = sent_message("ATXid_7d3e2b0c11")
    assert report(id="ATXid_7d3e2b0c11", status=status, failureReason="AbsentSubscriber") == (
        200,
        "updated",
    )
    stored = message(services, message_id)
    assert (stored.status, stored.error) == ("failed", "AbsentSubscriber")


@pytest.mark.parametrize("status", ["Sent", "Submitted", "Buffered"])
def test_in_flight_reports_leave_it_sent(services: CoreServices, sent_message, report, status):
    message_id = sent_message("ATXid_1")
    assert report(id="ATXid_1", status=status) == (200, "unchanged")
    assert message(services, message_id).status == "sent"


def test_delivered_is_final(services: CoreServices, sent_message, report):
    message_id = sent_message("ATXid_2")
    report(id="ATXid_2", status="Success")
    assert report(id="ATXid_2", status="Failed", failureReason="late") == (200, "unchanged")
    assert report(id="ATXid_2", status="Buffered") == (200, "unchanged")
    assert message(services, message_id).status == "delivered"


def test_a_retried_failure_can_still_be_delivered(services: CoreServices, sent_message, report):
    message_id = sent_message("ATXid_3")
    report(id="ATXid_3", status="Failed", failureReason="DeliveryFailure")
    assert report(id="ATXid_3", status="Buffered", retryCount="1") == (200, "unchanged")
    assert report(id="ATXid_3", status="Success", retryCount="1") == (200, "updated")
    stored = message(services, message_id)
    assert (stored.status, stored.error) == ("delivered", None)


def test_a_report_for_an_unknown_message_is_acknowledged_and_ignored(report, row_counts):
    before = row_counts()
    assert report(id="ATXid_nobody", status="Success") == (200, "unknown_message")
    assert row_counts() == before


@pytest.mark.parametrize(
    "form",
    [
        {},
        {"id": "ATXid_1"},
        {"status": "Success"},
        {"id": "", "status": "Success"},
        {"id": "ATXid_1", "status": "Delivered"},
        {"id": "ATXid_1", "status": "success"},
        {"id": "x" * 65, "status": "Success"},
    ],
)
def test_a_report_without_its_fields_is_refused_and_changes_nothing(
    client, sent_message, row_counts, services: CoreServices, form: dict[str, str]
):
    message_id = sent_message("ATXid_1")
    before = row_counts()
    assert client.post("/sms/delivery", data=form).status_code == 400
    assert row_counts() == before
    assert message(services, message_id).status == "sent"
