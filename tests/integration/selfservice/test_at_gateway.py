"""The real Africa's Talking adapter (the ``africastalking`` SDK) against the fake Africa's Talking
over HTTP: the wire format, the phone format, error handling, and the delivery report round
trip that ends with the stored message marked delivered."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from core.models import SmsMessage
from core.ports import GatewayRejected, GatewayUnavailable
from core.retry import in_transaction
from core.unit_of_work import CoreServices
from core.usecases.sms import queue_sms
from sim.africastalking import FakeAfricasTalkingServer
from ussd.sms.gateway import AfricasTalkingSms

SAMPLES = Path("/work/shared/samples")


def test_a_message_is_sent_to_a_plus_254_number(
    at_sms: AfricasTalkingSms, fake_at: FakeAfricasTalkingServer
):
    sent = at_sms.send("0712345678", "Asante! KES 1,500 received.")
    (request,) = fake_at.fake.requests
    assert request["to"] == "+254712345678"
    assert request["message"] == "Asante! KES 1,500 received."
    assert request["username"] == "sandbox"
    (recorded,) = fake_at.fake.sent
    assert sent.status == "sent"
    assert sent.provider_message_id == recorded.message_id
    assert sent.provider_message_id is not None
    assert sent.provider_message_id.startswith("ATXid_")
    assert sent.cost == "KES 0.8000"
    assert sent.error is None


@pytest.mark.parametrize("phone", ["+254712345678", "254712345678", "0712 345 678"])
def test_every_kenyan_form_goes_out_as_e164(
    at_sms: AfricasTalkingSms, fake_at: FakeAfricasTalkingServer, phone: str
):
    at_sms.send(phone, "hi")
    assert fake_at.fake.requests[-1]["to"] == "+254712345678"


def test_the_sender_id_is_sent_when_configured(fake_at: FakeAfricasTalkingServer):
    fake = fake_at.fake
    gateway = AfricasTalkingSms(
        fake.username, fake.api_key, sender_id="KASARANI", base_url=fake_at.base_url
    )
    gateway.send("0712345678", "hi")
    assert fake.requests[-1]["from"] == "KASARANI"


def test_the_fake_answers_in_the_shape_of_the_published_sample(fake_at: FakeAfricasTalkingServer):
    sample = json.loads((SAMPLES / "at-sms-send-response.json").read_text())
    response = httpx.post(
        f"{fake_at.base_url}/version1/messaging",
        data={"username": "sandbox", "to": "+254712345678", "message": "hi"},
        headers={"apiKey": fake_at.fake.api_key, "Accept": "application/json"},
    )
    assert response.status_code == 201
    assert response.headers["content-type"] == "application/json"
    answer = response.json()
    assert answer.keys() == sample.keys()
    assert answer["SMSMessageData"].keys() == sample["SMSMessageData"].keys()
    (recipient,) = answer["SMSMessageData"]["Recipients"]
    (expected,) = sample["SMSMessageData"]["Recipients"]
    assert recipient.keys() == expected.keys()
    assert {k: recipient[k] for k in ("statusCode", "number", "status", "cost")} == {
        k: expected[k] for k in ("statusCode", "number", "status", "cost")
    }
    assert answer["SMSMessageData"]["Message"] == sample["SMSMessageData"]["Message"]


def test_a_long_message_costs_more_segments(at_sms: AfricasTalkingSms):
    assert at_sms.send("0712345678", "x" * 161).cost == "KES 1.6000"


@pytest.mark.parametrize(
    ("outcome", "error"),
    [("blacklisted", "406 UserInBlacklist"), ("invalid", "403 InvalidPhoneNumber")],
)
def test_a_refused_recipient_is_a_failed_message_not_a_retry(
    at_sms: AfricasTalkingSms, fake_at: FakeAfricasTalkingServer, outcome: str, error: str
):
    fake_at.fake.set_outcome(outcome, phone="+254712345679")
    sent = at_sms.send("0712345679", "hi")
    assert (sent.status, sent.provider_message_id, sent.error) == ("failed", None, error)


@pytest.mark.parametrize("outcome", ["insufficient", "server_error"])
def test_their_trouble_is_gateway_unavailable(
    at_sms: AfricasTalkingSms, fake_at: FakeAfricasTalkingServer, outcome: str
):
    fake_at.fake.set_outcome(outcome)
    with pytest.raises(GatewayUnavailable):
        at_sms.send("0712345678", "hi")


def test_wrong_credentials_are_rejected(fake_at: FakeAfricasTalkingServer):
    gateway = AfricasTalkingSms("sandbox", "not-the-key", base_url=fake_at.base_url)
    with pytest.raises(GatewayRejected, match="authentication is invalid"):
        gateway.send("0712345678", "hi")


def test_a_number_that_is_no_phone_is_rejected_before_sending(
    at_sms: AfricasTalkingSms, fake_at: FakeAfricasTalkingServer
):
    with pytest.raises(GatewayRejected):
        at_sms.send("12", "hi")
    assert fake_at.fake.requests == []


def test_an_unreachable_africastalking_is_unavailable():
    gateway = AfricasTalkingSms("sandbox", "key", base_url="http://127.0.0.1:9")
    with pytest.raises(GatewayUnavailable):
        gateway.send("0712345678", "hi")


def test_missing_credentials_are_a_configuration_error():
    with pytest.raises(ValueError, match="MTEJA_AT_API_KEY"):
        AfricasTalkingSms("sandbox", "")


def test_delivery_report_round_trip(
    db_services: CoreServices, serve, at_sms: AfricasTalkingSms, fake_at: FakeAfricasTalkingServer
):
    """queue_sms → the send_sms job → Africa's Talking (fake) → its delivery report to our
    /sms/delivery → the stored message is delivered, with provider id and cost."""
    stack = serve(sms=at_sms)
    fake_at.fake.delivery_url = f"{stack.base_url}/sms/delivery"
    message = in_transaction(
        db_services, lambda uow: queue_sms(uow, "+254712345678", "Asante!", "test")
    )
    with db_services.unit_of_work() as uow:
        sent = uow.session.get(SmsMessage, message.id)
        assert sent is not None
        assert (sent.status, sent.cost) == ("sent", "KES 0.8000")
        provider_id = sent.provider_message_id
    assert provider_id == fake_at.fake.sent[0].message_id
    report = fake_at.fake.deliver(provider_id)
    assert report.status_code == 200
    with db_services.unit_of_work() as uow:
        delivered = uow.session.get(SmsMessage, message.id)
        assert delivered is not None
        assert delivered.status == "delivered"
        assert delivered.delivered_at is not None


def test_a_failed_delivery_keeps_the_reason(
    db_services: CoreServices, serve, at_sms: AfricasTalkingSms, fake_at: FakeAfricasTalkingServer
):
    stack = serve(sms=at_sms)
    fake_at.fake.delivery_url = f"{stack.base_url}/sms/delivery"
    message = in_transaction(
        db_services, lambda uow: queue_sms(uow, "+254712345678", "Asante!", "test")
    )
    with db_services.unit_of_work() as uow:
        sent = uow.session.get(SmsMessage, message.id)
        assert sent is not None and sent.provider_message_id is not None
        provider_id = sent.provider_message_id
    fake_at.fake.deliver(provider_id, "Failed", "AbsentSubscriber", retry_count=1)
    with db_services.unit_of_work() as uow:
        failed = uow.session.get(SmsMessage, message.id)
        assert failed is not None
        assert (failed.status, failed.error) == ("failed", "AbsentSubscriber")


def test_automatic_delivery_reports_arrive_by_themselves(
    db_services: CoreServices, serve, at_sms: AfricasTalkingSms, fake_at: FakeAfricasTalkingServer
):
    stack = serve(sms=at_sms)
    fake_at.fake.delivery_url = f"{stack.base_url}/sms/delivery"
    fake_at.fake.auto_deliver = True
    # As in life, the report comes a moment after the send (the id must be stored first).
    fake_at.fake.delivery_delay_seconds = 0.5
    in_transaction(db_services, lambda uow: queue_sms(uow, "+254712345678", "one", "test"))
    in_transaction(db_services, lambda uow: queue_sms(uow, "+254712345679", "two", "test"))
    reports = fake_at.fake.wait_for_reports(2)
    assert [report.status_code for report in reports] == [200, 200]
    with db_services.unit_of_work() as uow:
        assert [m.status for m in uow.session.query(SmsMessage).order_by(SmsMessage.id)] == [
            "delivered",
            "delivered",
        ]
