"""MTEJA_AT_CALLBACK_TOKEN: with it set, Africa's Talking's callbacks are served only at
``/ussd/<token>``, ``/sms/inbound/<token>`` and ``/sms/delivery/<token>``. Any other token, none,
or the bare paths get a 404 and change nothing: no row, no reply SMS, no status update."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable, Iterator

import pytest
from starlette.testclient import TestClient

from core.clock import FrozenClock
from core.models import SmsMessage
from core.ports import RecordingDispatcher
from core.settings import Settings
from core.unit_of_work import CoreServices
from core.usecases.sms import queue_sms
from mteja.web import web_config
from ussd.africastalking_urls import sms_delivery_url, sms_inbound_url, ussd_url
from web.app import WebConfig, create_app

TOKEN = "k7Qm2v9XwPz4Rt8LbN3cJd6H"
WANJIKU = "+254712345678"
BASE = "http://testserver"

USSD_FORM = {"sessionId": "s", "serviceCode": "*384#", "phoneNumber": WANJIKU, "text": "1"}
SMS_FORM = {"from": WANJIKU, "to": "22384", "text": "BALANCE", "id": "ATXid_in1"}
DELIVERY_FORM = {"id": "ATXid_out1", "status": "Success", "phoneNumber": WANJIKU}

WRONG_TOKENS = [TOKEN[:-1], TOKEN + "x", TOKEN.lower(), "x" * len(TOKEN)]


@pytest.fixture
def tokened(services: CoreServices) -> Iterator[TestClient]:
    """The web app with the Africa's Talking token set."""
    with TestClient(create_app(services, WebConfig(africastalking_token=TOKEN))) as client:
        yield client


@pytest.fixture
def sent(services: CoreServices, clock: FrozenClock) -> int:
    """A message Africa's Talking accepted as ``ATXid_out1``; its delivery report is pending."""
    with services.unit_of_work() as uow:
        message = queue_sms(uow, WANJIKU, "Asante!", "receipt:1")
        message.status = "sent"
        message.provider_message_id = "ATXid_out1"
        message.sent_at = clock.now()
        uow.commit()
        return message.id


def status_of(services: CoreServices, message_id: int) -> str:
    with services.unit_of_work() as uow:
        message = uow.session.get(SmsMessage, message_id)
        assert message is not None
        return message.status


def all_callbacks(base: str, token: str) -> list[tuple[str, dict[str, str]]]:
    return [
        (ussd_url(base, token), USSD_FORM),
        (sms_inbound_url(base, token), SMS_FORM),
        (sms_delivery_url(base, token), DELIVERY_FORM),
    ]


@pytest.mark.parametrize("wrong", WRONG_TOKENS)
def test_a_wrong_token_is_not_found_and_changes_nothing(
    tokened: TestClient,
    subscribers,
    sent: int,
    services: CoreServices,
    row_counts: Callable[[], dict[str, int]],
    dispatcher: RecordingDispatcher,
    wrong: str,
):
    before, queued = row_counts(), list(dispatcher.events)
    for url, form in all_callbacks(BASE, wrong):
        assert tokened.post(url, data=form).status_code == 404, url
    assert row_counts() == before
    assert dispatcher.events == queued  # no reply SMS queued for sending
    assert status_of(services, sent) == "sent"


def test_without_the_token_the_bare_paths_are_not_served(
    tokened: TestClient,
    subscribers,
    sent: int,
    services: CoreServices,
    row_counts: Callable[[], dict[str, int]],
    dispatcher: RecordingDispatcher,
):
    before, queued = row_counts(), list(dispatcher.events)
    for url, form in all_callbacks(BASE, ""):
        assert tokened.post(url, data=form).status_code == 404, url
        assert tokened.post(url + "/", data=form).status_code == 404, url
    assert row_counts() == before
    assert dispatcher.events == queued
    assert status_of(services, sent) == "sent"


def test_the_right_token_is_served(
    tokened: TestClient,
    subscribers,
    sent: int,
    services: CoreServices,
    row_counts: Callable[[], dict[str, int]],
):
    screen = tokened.post(ussd_url(BASE, TOKEN), data=USSD_FORM)
    assert screen.status_code == 200 and screen.text.startswith("CON "), screen.text

    messages = row_counts()["sms_messages"]
    assert tokened.post(sms_inbound_url(BASE, TOKEN), data=SMS_FORM).text == "OK"
    assert row_counts()["sms_messages"] == messages + 1  # the reply, queued

    report = tokened.post(sms_delivery_url(BASE, TOKEN), data=DELIVERY_FORM)
    assert (report.status_code, report.text) == (200, "updated")
    assert status_of(services, sent) == "delivered"


def test_with_no_token_the_bare_paths_are_served(client: TestClient, subscribers, sent: int):
    assert client.post("/ussd", data=USSD_FORM).text.startswith("CON ")
    assert client.post("/sms/inbound", data=SMS_FORM).text == "OK"
    assert client.post("/sms/delivery", data=DELIVERY_FORM).text == "updated"
    assert client.post(f"/ussd/{TOKEN}", data=USSD_FORM).status_code == 404


def test_the_allow_list_still_applies_with_the_right_token(
    services: CoreServices, subscribers, row_counts: Callable[[], dict[str, int]]
):
    config = WebConfig(
        africastalking_networks=(ipaddress.ip_network("10.0.0.0/8"),), africastalking_token=TOKEN
    )
    before = row_counts()
    with TestClient(create_app(services, config)) as client:
        for url, form in all_callbacks(BASE, TOKEN):
            assert client.post(url, data=form).status_code == 403, url
    assert row_counts() == before


def test_web_config_takes_the_token_and_warns_without_one(caplog: pytest.LogCaptureFixture):
    with caplog.at_level(logging.WARNING, logger="mteja.web"):
        assert web_config(Settings(_env_file=None, at_callback_token=TOKEN)).africastalking_token
    assert "MTEJA_AT_CALLBACK_TOKEN" not in caplog.text
    with caplog.at_level(logging.WARNING, logger="mteja.web"):
        assert web_config(Settings(_env_file=None)).africastalking_token == ""
    assert "MTEJA_AT_CALLBACK_TOKEN is empty" in caplog.text


@pytest.mark.parametrize("bad", ["a/b", "has space", "ünï", "a?b"])
def test_a_token_that_is_not_one_path_segment_is_refused(bad: str):
    with pytest.raises(ValueError, match="letters, digits"):
        Settings(_env_file=None, at_callback_token=bad)


def test_the_urls_end_in_the_token():
    assert ussd_url("https://isp.example/", TOKEN) == f"https://isp.example/ussd/{TOKEN}"
    assert sms_inbound_url("https://isp.example", TOKEN).endswith(f"/sms/inbound/{TOKEN}")
    assert sms_delivery_url("https://isp.example", "") == "https://isp.example/sms/delivery"
