"""DarajaClient against httpx.MockTransport: exact requests, token cache, error mapping."""

from __future__ import annotations

import base64
import json
import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from payments.daraja import (
    TILL,
    DarajaAuthFailed,
    DarajaClient,
    DarajaConfig,
    DarajaOutcomeUnknown,
    DarajaRejected,
    DarajaUnavailable,
    StkQueryStatus,
    transaction_desc,
)
from payments.phone import InvalidPhoneNumber

PASSKEY = "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919"
SECRET = "consumer-secret-value"
BASE = "https://daraja.test"
CALLBACK = "https://isp.example.com/payments/stk/TOKEN"

Handler = Callable[[httpx.Request], httpx.Response]


def _config(**overrides: Any) -> DarajaConfig:
    values: dict[str, Any] = {
        "base_url": BASE,
        "consumer_key": "consumer-key-value",
        "consumer_secret": SECRET,
        "shortcode": "174379",
        "passkey": PASSKEY,
    }
    values.update(overrides)
    return DarajaConfig(**values)


def _json(status: int, body: Any) -> httpx.Response:
    return httpx.Response(status, json=body)


def _daraja_error(status: int, code: str, message: str) -> httpx.Response:
    body = {"requestId": "11728-2929992-1", "errorCode": code, "errorMessage": message}
    return _json(status, body)


def _token(expires_in: Any = "3599") -> httpx.Response:
    return _json(200, {"access_token": "tok-1", "expires_in": expires_in})


ACCEPTED = {
    "MerchantRequestID": "29115-34620561-1",
    "CheckoutRequestID": "ws_CO_191220191020363925",
    "ResponseCode": "0",
    "ResponseDescription": "Success. Request accepted for processing",
    "CustomerMessage": "Success. Request accepted for processing",
}


class Daraja:
    """A scripted Daraja: OAuth answers from `token_answers`, API calls from `api`."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.token_answers: list[httpx.Response] = []
        self.api: Handler = lambda request: _json(200, ACCEPTED)
        self.lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.requests.append(request)
        if request.url.path == "/oauth/v1/generate":
            return self.token_answers.pop(0) if self.token_answers else _token()
        return self.api(request)

    def token_requests(self) -> int:
        return sum(1 for r in self.requests if r.url.path == "/oauth/v1/generate")

    def api_requests(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path != "/oauth/v1/generate"]


@pytest.fixture
def daraja() -> Daraja:
    return Daraja()


@pytest.fixture
def client(daraja: Daraja, daraja_clock: Any) -> Iterator[DarajaClient]:
    http = httpx.Client(transport=httpx.MockTransport(daraja))
    yield DarajaClient(_config(), clock=daraja_clock, http=http)
    http.close()


def _push(client: DarajaClient, phone: str = "+254708374149") -> Any:
    return client.stk_push(phone, 1, "MTJ-4K7Q2D9", "Internet", CALLBACK)


def test_stk_push_request_is_exactly_the_published_sample(
    client: DarajaClient, daraja: Daraja, sample_json: Callable[[str], Any]
) -> None:
    accepted = _push(client)
    [request] = daraja.api_requests()
    assert request.method == "POST"
    assert request.url == f"{BASE}/mpesa/stkpush/v1/processrequest"
    assert request.headers["authorization"] == "Bearer tok-1"
    assert json.loads(request.content) == sample_json("daraja-stk-push-request.json")
    assert accepted.checkout_request_id == "ws_CO_191220191020363925"
    assert accepted.merchant_request_id == "29115-34620561-1"
    assert accepted.response_code == "0"
    assert accepted.customer_message == "Success. Request accepted for processing"


def test_oauth_request_uses_basic_auth_and_client_credentials(
    client: DarajaClient, daraja: Daraja
) -> None:
    _push(client)
    oauth = daraja.requests[0]
    assert oauth.method == "GET"
    assert oauth.url.path == "/oauth/v1/generate"
    assert oauth.url.params["grant_type"] == "client_credentials"
    expected = base64.b64encode(f"consumer-key-value:{SECRET}".encode()).decode()
    assert oauth.headers["authorization"] == f"Basic {expected}"


def test_till_pays_to_the_till_number(daraja: Daraja, daraja_clock: Any) -> None:
    config = _config(transaction_type=TILL, shortcode="5123456", till_number="9876543")
    with httpx.Client(transport=httpx.MockTransport(daraja)) as http:
        DarajaClient(config, clock=daraja_clock, http=http).stk_push(
            "0110123456", 250, "ACC1", "Internet", CALLBACK
        )
    body = json.loads(daraja.api_requests()[0].content)
    assert body["TransactionType"] == "CustomerBuyGoodsOnline"
    assert body["BusinessShortCode"] == 5123456
    assert body["PartyB"] == 9876543
    assert body["PartyA"] == body["PhoneNumber"] == 254110123456
    assert base64.b64decode(body["Password"]).decode().startswith("5123456")


@pytest.mark.parametrize(
    ("description", "expected"),
    [
        ("Internet", "Internet"),
        ("Weekly unlimited internet plan", "Weekly unlimi"),
        ("Intaneti – wiki 🚀 ya kasi", "Intaneti wiki"),
        ("  lots   of   space  ", "lots of space"),
        ("🚀🚀🚀", "Payment"),
        ("", "Payment"),
        ("abcdefghijkl mnop", "abcdefghijkl"),
    ],
)
def test_transaction_desc_is_safe_and_short(description: str, expected: str) -> None:
    assert transaction_desc(description) == expected
    assert 1 <= len(transaction_desc(description)) <= 13


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"phone": "0201234567"}, InvalidPhoneNumber, "not a Kenyan mobile number"),
        ({"phone": "+255708374149"}, InvalidPhoneNumber, "not a Kenyan mobile number"),
        ({"amount_kes": 0}, ValueError, "at least 1"),
        ({"amount_kes": -10}, ValueError, "at least 1"),
        ({"amount_kes": 10.5}, ValueError, "whole shillings"),
        ({"amount_kes": True}, ValueError, "whole shillings"),
        ({"account_reference": "MTJ-4K7Q2D9-XX"}, ValueError, "longer than Daraja's 12"),
        ({"account_reference": "  "}, ValueError, "must not be empty"),
        ({"callback_url": "ftp://isp.example.com/cb"}, ValueError, "http"),
    ],
)
def test_bad_input_is_refused_before_any_request(
    client: DarajaClient, daraja: Daraja, kwargs: dict[str, Any], error: type, message: str
) -> None:
    arguments: dict[str, Any] = {
        "phone": "0708374149",
        "amount_kes": 10,
        "account_reference": "MTJ-4K7Q2D9",
        "description": "Internet",
        "callback_url": CALLBACK,
    }
    arguments.update(kwargs)
    with pytest.raises(error, match=message):
        client.stk_push(**arguments)
    assert daraja.requests == []


def test_token_is_cached_until_shortly_before_expiry(
    client: DarajaClient, daraja: Daraja, daraja_clock: Any
) -> None:
    for _ in range(5):
        _push(client)
    assert daraja.token_requests() == 1
    daraja_clock.advance(3599 - 60 - 1)
    _push(client)
    assert daraja.token_requests() == 1
    daraja_clock.advance(1)
    _push(client)
    assert daraja.token_requests() == 2


def test_expires_in_as_a_number_is_accepted(client: DarajaClient, daraja: Daraja) -> None:
    daraja.token_answers = [_token(expires_in=3599)]
    _push(client)
    _push(client)
    assert daraja.token_requests() == 1


def test_concurrent_callers_share_one_token_request(client: DarajaClient, daraja: Daraja) -> None:
    start = threading.Barrier(8)
    failures: list[BaseException] = []

    def push() -> None:
        start.wait()
        try:
            _push(client)
        except BaseException as exc:  # collected and re-checked on the main thread
            failures.append(exc)

    threads = [threading.Thread(target=push) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert daraja.token_requests() == 1
    assert len(daraja.api_requests()) == 8


def _invalid_token() -> httpx.Response:
    return _daraja_error(404, "404.001.03", "Invalid Access Token")


def test_a_refused_token_is_refetched_once(client: DarajaClient, daraja: Daraja) -> None:
    answers = [_invalid_token(), _json(200, ACCEPTED)]
    daraja.api = lambda request: answers.pop(0)
    assert _push(client).checkout_request_id == "ws_CO_191220191020363925"
    assert daraja.token_requests() == 2


def test_a_refused_fresh_token_is_an_auth_failure(client: DarajaClient, daraja: Daraja) -> None:
    daraja.api = lambda request: _invalid_token()
    with pytest.raises(DarajaAuthFailed, match="Invalid Access Token"):
        _push(client)
    assert daraja.token_requests() == 2


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(400),
        _json(400, {"errorCode": "400.008.01", "errorMessage": "Invalid Authentication passed"}),
        _json(401, {"error": "unauthorized"}),
    ],
)
def test_bad_credentials_are_an_auth_failure(
    client: DarajaClient, daraja: Daraja, answer: httpx.Response
) -> None:
    daraja.token_answers = [answer]
    with pytest.raises(DarajaAuthFailed, match="consumer key/secret") as caught:
        _push(client)
    assert SECRET not in str(caught.value)
    assert daraja.api_requests() == []


def test_oauth_server_error_is_unavailable(client: DarajaClient, daraja: Daraja) -> None:
    daraja.token_answers = [httpx.Response(503, text="<html>Service Unavailable</html>")]
    with pytest.raises(DarajaUnavailable, match="HTTP 503"):
        _push(client)


def test_oauth_answer_without_token_is_unavailable(client: DarajaClient, daraja: Daraja) -> None:
    daraja.token_answers = [_json(200, {"expires_in": "3599"})]
    with pytest.raises(DarajaUnavailable, match="access_token"):
        _push(client)


def test_rejection_keeps_darajas_words(client: DarajaClient, daraja: Daraja) -> None:
    daraja.api = lambda request: _daraja_error(
        400, "400.002.02", "Bad Request - Invalid PhoneNumber"
    )
    with pytest.raises(DarajaRejected) as caught:
        _push(client)
    assert str(caught.value) == (
        "STK push rejected by Daraja (HTTP 400 400.002.02: Bad Request - Invalid PhoneNumber)"
    )
    assert caught.value.error_code == "400.002.02"
    assert caught.value.http_status == 400


def test_non_zero_response_code_is_a_rejection(client: DarajaClient, daraja: Daraja) -> None:
    daraja.api = lambda request: _json(
        200, {**ACCEPTED, "ResponseCode": "1", "ResponseDescription": "Rejected by rule"}
    )
    with pytest.raises(DarajaRejected, match=r"ResponseCode 1\): Rejected by rule"):
        _push(client)


@pytest.mark.parametrize(
    "answer",
    [
        _daraja_error(500, "500.001.1001", "Wrong credentials"),
        httpx.Response(502, text="Bad gateway"),
        httpx.Response(429, text="Too many requests"),
        httpx.Response(200, text="<html>captive portal</html>"),
        _json(200, ["not", "an", "object"]),
        _json(200, {"ResponseCode": "0"}),
    ],
)
def test_server_errors_and_garbage_are_unavailable(
    client: DarajaClient, daraja: Daraja, answer: httpx.Response
) -> None:
    daraja.api = lambda request: answer
    with pytest.raises(DarajaUnavailable):
        _push(client)


@pytest.mark.parametrize(
    ("exception", "message", "maybe_sent"),
    [
        (httpx.ConnectError("connection refused"), "cannot reach Daraja", False),
        (httpx.ConnectTimeout("timed out"), "cannot reach Daraja", False),
        (httpx.ReadTimeout("timed out"), "did not answer within 10s", True),
        (httpx.RemoteProtocolError("peer closed"), "broke before it answered", True),
    ],
)
def test_network_failures_are_unavailable_and_say_whether_the_push_may_have_gone(
    client: DarajaClient, daraja: Daraja, exception: Exception, message: str, maybe_sent: bool
) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise exception

    daraja.api = fail
    with pytest.raises(DarajaUnavailable, match=message) as raised:
        _push(client)
    assert isinstance(raised.value, DarajaOutcomeUnknown) is maybe_sent


def _query_answer(result_code: Any, result_desc: str = "") -> httpx.Response:
    return _json(
        200,
        {
            "ResponseCode": "0",
            "ResponseDescription": "The service request has been accepted successsfully",
            "MerchantRequestID": "29115-34620561-1",
            "CheckoutRequestID": "ws_CO_191220191020363925",
            "ResultCode": result_code,
            "ResultDesc": result_desc,
        },
    )


def test_query_request_shape(client: DarajaClient, daraja: Daraja) -> None:
    daraja.api = lambda request: _query_answer("0")
    client.stk_query("ws_CO_191220191020363925")
    [request] = daraja.api_requests()
    assert request.url.path == "/mpesa/stkpushquery/v1/query"
    body = json.loads(request.content)
    assert body == {
        "BusinessShortCode": 174379,
        "Password": body["Password"],
        "Timestamp": "20160216165627",
        "CheckoutRequestID": "ws_CO_191220191020363925",
    }
    assert base64.b64decode(body["Password"]).decode() == "174379" + PASSKEY + "20160216165627"


def test_query_while_processing_is_pending(client: DarajaClient, daraja: Daraja) -> None:
    daraja.api = lambda request: _daraja_error(
        500, "500.001.1001", "The transaction is being processed"
    )
    result = client.stk_query("ws_CO_191220191020363925")
    assert result.status is StkQueryStatus.PENDING
    assert result.pending and not result.paid
    assert result.result_code is None
    assert result.result_desc == "The transaction is being processed"


@pytest.mark.parametrize(
    ("result_code", "status", "code"),
    [
        ("0", StkQueryStatus.PAID, 0),
        (0, StkQueryStatus.PAID, 0),
        ("1032", StkQueryStatus.FAILED, 1032),
        ("1037", StkQueryStatus.FAILED, 1037),
        ("1", StkQueryStatus.FAILED, 1),
        ("", StkQueryStatus.PENDING, None),
        (None, StkQueryStatus.PENDING, None),
        ("4999", StkQueryStatus.PENDING, None),
    ],
)
def test_query_outcomes(
    client: DarajaClient,
    daraja: Daraja,
    result_code: Any,
    status: StkQueryStatus,
    code: int | None,
) -> None:
    daraja.api = lambda request: _query_answer(result_code, "words")
    result = client.stk_query("ws_CO_191220191020363925")
    assert result.status is status
    assert result.result_code == code
    assert result.merchant_request_id == "29115-34620561-1"


def test_query_with_other_500_error_is_not_pending(client: DarajaClient, daraja: Daraja) -> None:
    daraja.api = lambda request: _daraja_error(500, "500.001.1001", "Merchant does not exist")
    with pytest.raises(DarajaUnavailable, match="Merchant does not exist"):
        client.stk_query("ws_CO_191220191020363925")


def test_register_c2b_urls(client: DarajaClient, daraja: Daraja) -> None:
    answer = {
        "OriginatorCoversationID": "7619-37765134-1",
        "ResponseCode": "0",
        "ResponseDescription": "success",
    }
    daraja.api = lambda request: _json(200, answer)
    assert client.register_c2b_urls("https://isp.example.com/c", "https://isp.example.com/v") == (
        answer
    )
    [request] = daraja.api_requests()
    assert request.url.path == "/mpesa/c2b/v1/registerurl"
    assert json.loads(request.content) == {
        "ShortCode": "174379",
        "ResponseType": "Completed",
        "ConfirmationURL": "https://isp.example.com/c",
        "ValidationURL": "https://isp.example.com/v",
    }


def test_register_c2b_urls_refuses_unknown_response_type(client: DarajaClient) -> None:
    with pytest.raises(ValueError, match="Completed"):
        client.register_c2b_urls("https://a.example/c", "https://a.example/v", "Maybe")


def test_secrets_never_reach_logs_or_reprs(
    client: DarajaClient, daraja: Daraja, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    _push(client)
    daraja.api = lambda request: _invalid_token()
    with pytest.raises(DarajaAuthFailed) as caught:
        _push(client)
    text = caplog.text + repr(client.config) + str(caught.value)
    assert SECRET not in text
    assert PASSKEY not in text


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"shortcode": "17 4379"}, "shortcode"),
        ({"transaction_type": "CustomerPayBill"}, "transaction_type"),
        ({"transaction_type": TILL}, "till_number"),
        ({"consumer_secret": ""}, "consumer secret"),
        ({"passkey": ""}, "passkey"),
        ({"base_url": "sandbox.safaricom.co.ke"}, "base_url"),
        ({"timeout_seconds": 0}, "timeout"),
    ],
)
def test_config_is_validated(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _config(**overrides)
