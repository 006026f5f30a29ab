"""``POST /sms/delivery``: Africa's Talking's reports update the stored message's status."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select

from core.clock import FrozenClock
from core.models import PendingDeliveryReport, SmsMessage
from core.unit_of_work import CoreServices
from core.usecases.sms import queue_sms
from core.usecases.sms_history import apply_pending_reports

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


def pending_reports(services: CoreServices) -> list[tuple[str, str]]:
    with services.unit_of_work() as uow:
        return [
            (row.provider_message_id, row.status)
            for row in uow.session.scalars(select(PendingDeliveryReport))
        ]


def test_a_report_that_beats_the_send_job_is_kept_and_applied_when_the_id_is_stored(
    services: CoreServices, report, clock: FrozenClock
):
    with services.unit_of_work() as uow:
        message_id = queue_sms(uow, PHONE, "Asante!", "receipt:1").id
        uow.commit()
    assert report(id="ATXid_early", status="Success") == (200, "pending")
    assert pending_reports(services) == [("ATXid_early", "delivered")]

    clock.advance(timedelta(seconds=1))
    with services.unit_of_work() as uow:  # what the send job does once Africa's Talking answers
        stored = uow.session.get(SmsMessage, message_id)
        assert stored is not None
        stored.status, stored.provider_message_id = "sent", "ATXid_early"
        apply_pending_reports(uow, stored)
        uow.commit()

    assert message(services, message_id).status == "delivered"
    assert pending_reports(services) == []


def test_early_reports_apply_in_arrival_order(services: CoreServices, report):
    with services.unit_of_work() as uow:
        message_id = queue_sms(uow, PHONE, "Asante!", "receipt:1").id
        uow.commit()
    report(id="ATXid_order", status="Failed", failureReason="DeliveryFailure")
    report(id="ATXid_order", status="Success", retryCount="1")
    with services.unit_of_work() as uow:
        stored = uow.session.get(SmsMessage, message_id)
        assert stored is not None
        stored.status, stored.provider_message_id = "sent", "ATXid_order"
        apply_pending_reports(uow, stored)
        uow.commit()
    stored_message = message(services, message_id)
    assert (stored_message.status, stored_message.error) == ("delivered", None)


def test_reports_nobody_claims_are_purged_after_two_days(
    services: CoreServices, report, clock: FrozenClock
):
    report(id="ATXid_someone_else", status="Success")
    clock.advance(timedelta(days=2, seconds=1))
    report(id="ATXid_later", status="Success")
    assert pending_reports(services) == [("ATXid_later", "delivered")]


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
