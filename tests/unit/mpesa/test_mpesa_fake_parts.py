"""The fake's building blocks: its payloads parse with our parsers, its rules, its scheduler."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from payments.callbacks import parse_c2b, parse_stk_callback
from sim.daraja.server import FakeDaraja
from sim.daraja.wire import (
    FakeRequestError,
    IdFactory,
    c2b_payload,
    mask_msisdn,
    stk_callback_payload,
    validate_stk_push,
)
from sim.delayed_jobs import DelayedJobs

PAID_AT = datetime(2019, 12, 19, 7, 21, 15, tzinfo=UTC)
SHORTCODE = "174379"
PASSKEY = "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919"


def test_paid_stk_payload_has_the_sample_shape(sample_json: Callable[[str], Any]) -> None:
    payload = stk_callback_payload(
        merchant_request_id="29115-34620561-1",
        checkout_request_id="ws_CO_191220191020363925",
        result_code=0,
        result_desc="The service request is processed successfully.",
        amount_kes=1,
        receipt_number="NLJ7RT61SV",
        paid_at=PAID_AT,
        phone="254708374149",
    )
    assert payload == sample_json("daraja-stk-callback-success.json")
    assert parse_stk_callback(json.dumps(payload).encode()).amount_kes == 1


def test_failed_stk_payload_has_no_metadata(sample_json: Callable[[str], Any]) -> None:
    payload = stk_callback_payload(
        merchant_request_id="29115-34620561-1",
        checkout_request_id="ws_CO_191220191020363925",
        result_code=1032,
        result_desc="Request canceled by user.",
    )
    assert payload == sample_json("daraja-stk-callback-cancelled.json")


def test_paid_stk_payload_needs_the_payment() -> None:
    with pytest.raises(ValueError, match="needs amount"):
        stk_callback_payload(
            merchant_request_id="m", checkout_request_id="c", result_code=0, result_desc="ok"
        )


def test_c2b_payload_has_the_sample_shape(sample_json: Callable[[str], Any]) -> None:
    payload = c2b_payload(
        trans_id="RKTQDM7W6S",
        paid_at=datetime(2019, 11, 22, 3, 38, 45, tzinfo=UTC),
        amount_kes=10,
        shortcode="600638",
        account="MTJ-4K7Q2D9",
        balance_kes=49197,
        msisdn="254708374126",
        first_name="John",
    )
    assert payload == sample_json("daraja-c2b-confirmation.json")
    assert parse_c2b(json.dumps(payload).encode()).amount_kes == 10


def test_msisdn_is_masked_like_safaricom_does() -> None:
    assert mask_msisdn("254708374126") == "2547 ***** 126"


def test_ids_look_like_darajas_and_do_not_repeat() -> None:
    ids = IdFactory(seed=1)
    codes = {ids.transaction_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(len(code) == 10 and code.isupper() and code.isalnum() for code in codes)
    assert ids.checkout_request_id(PAID_AT).startswith("ws_CO_19122019102115")
    assert ids.merchant_request_id().count("-") == 2


def _valid_push(sample_json: Callable[[str], Any]) -> dict[str, Any]:
    body: dict[str, Any] = sample_json("daraja-stk-push-request.json")
    return body


def test_sample_push_is_valid(sample_json: Callable[[str], Any]) -> None:
    assert validate_stk_push(_valid_push(sample_json), SHORTCODE, PASSKEY) == ("254708374149", 1)


def test_digit_strings_are_accepted_like_numbers(sample_json: Callable[[str], Any]) -> None:
    body = _valid_push(sample_json)
    body.update(
        BusinessShortCode="174379",
        Amount="5",
        PartyA="254708374149",
        PartyB="174379",
        PhoneNumber="254708374149",
    )
    assert validate_stk_push(body, SHORTCODE, PASSKEY) == ("254708374149", 5)


def test_invalid_push_names_the_field(sample_json: Callable[[str], Any]) -> None:
    body = _valid_push(sample_json)
    body["TransactionDesc"] = "Fourteen chars"
    with pytest.raises(FakeRequestError) as caught:
        validate_stk_push(body, SHORTCODE, PASSKEY)
    assert caught.value.error_code == "400.002.02"
    assert caught.value.error_message == "Bad Request - Invalid TransactionDesc"


class InProcess:
    """Calls the fake's ASGI app in-process (no sockets), one request at a time."""

    def __init__(self, fake: FakeDaraja) -> None:
        self._app = fake.app

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=self._app)
            async with httpx.AsyncClient(transport=transport, base_url="http://fake") as client:
                return await client.request(method, path, **kwargs)

        return asyncio.run(send())

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)


@pytest.fixture
def fake_app() -> Iterator[InProcess]:
    fake = FakeDaraja(default_outcome="never")
    yield InProcess(fake)
    fake.close()


def _basic(key: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()}


def test_fake_oauth_issues_string_expiry(fake_app: InProcess) -> None:
    answer = fake_app.get(
        "/oauth/v1/generate?grant_type=client_credentials",
        headers=_basic("fake-consumer-key", "fake-consumer-secret"),
    )
    assert answer.status_code == 200
    assert answer.json()["expires_in"] == "3599"
    assert answer.json()["access_token"]


@pytest.mark.parametrize(
    ("query", "headers", "code"),
    [
        ("grant_type=client_credentials", _basic("fake-consumer-key", "nope"), "400.008.01"),
        ("grant_type=client_credentials", {"Authorization": "Basic !!!"}, "400.008.01"),
        ("grant_type=client_credentials", {}, "400.008.01"),
        ("grant_type=password", _basic("fake-consumer-key", "fake-consumer-secret"), "400.008.02"),
    ],
)
def test_fake_oauth_refusals(
    fake_app: InProcess, query: str, headers: dict[str, str], code: str
) -> None:
    answer = fake_app.get(f"/oauth/v1/generate?{query}", headers=headers)
    assert answer.status_code == 400
    assert answer.json()["errorCode"] == code
    assert answer.json()["requestId"]


@pytest.mark.parametrize(
    "path",
    [
        "/mpesa/stkpush/v1/processrequest",
        "/mpesa/stkpushquery/v1/query",
        "/mpesa/c2b/v1/registerurl",
    ],
)
def test_fake_api_needs_a_bearer_token(fake_app: InProcess, path: str) -> None:
    answer = fake_app.post(path, json={}, headers={"Authorization": "Bearer made-up"})
    assert answer.status_code == 404
    assert answer.json()["errorMessage"] == "Invalid Access Token"


def test_fake_refuses_non_json(fake_app: InProcess) -> None:
    token = fake_app.get(
        "/oauth/v1/generate?grant_type=client_credentials",
        headers=_basic("fake-consumer-key", "fake-consumer-secret"),
    ).json()["access_token"]
    answer = fake_app.post(
        "/mpesa/stkpush/v1/processrequest",
        content=b"<xml/>",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 400
    assert answer.json()["errorMessage"] == "Invalid Request Payload"


def test_scheduler_runs_jobs_in_due_order() -> None:
    jobs = DelayedJobs(workers=1)
    ran: list[str] = []
    done = threading.Event()
    gate = threading.Event()
    jobs.submit(0, gate.wait)  # hold the single worker so both jobs are queued first
    jobs.submit(0.2, lambda: (ran.append("later"), done.set()))
    jobs.submit(0.0, lambda: ran.append("sooner"))
    gate.set()
    assert done.wait(10)
    jobs.stop()
    assert ran == ["sooner", "later"]


def test_scheduler_survives_a_failing_job_and_restarts_after_stop() -> None:
    jobs = DelayedJobs(workers=1)
    done = threading.Event()

    def fail() -> None:
        raise RuntimeError("boom")

    jobs.submit(0, fail)
    jobs.submit(0, done.set)
    assert done.wait(10)
    jobs.stop()
    again = threading.Event()
    jobs.submit(0, again.set)
    assert again.wait(10)
    jobs.stop()
    assert jobs.idle()


def test_scheduler_stop_drops_jobs_not_yet_due() -> None:
    jobs = DelayedJobs(workers=1)
    ran: list[int] = []
    jobs.submit(3600, lambda: ran.append(1))
    jobs.stop()
    assert jobs.idle()
    assert ran == []
