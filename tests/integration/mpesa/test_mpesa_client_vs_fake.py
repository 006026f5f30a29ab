"""DarajaClient over HTTP against the fake: OAuth, STK push validation, URL registration."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from payments.daraja import (
    DarajaAuthFailed,
    DarajaClient,
    DarajaRejected,
    StkPushAccepted,
)
from sim.daraja.server import FakeDarajaServer

CALLBACK = "https://isp.example.com/payments/stk/TOKEN"
DROP = object()


def _push(client: DarajaClient, phone: str = "0708374149") -> StkPushAccepted:
    return client.stk_push(phone, 20, "MTJ-4K7Q2D9", "Internet", CALLBACK)


def test_stk_push_is_accepted_and_recorded(
    client: DarajaClient, fake_server: FakeDarajaServer
) -> None:
    fake_server.fake.set_outcome("never")
    accepted = _push(client)
    assert accepted.response_code == "0"
    assert accepted.checkout_request_id.startswith("ws_CO_")
    assert accepted.customer_message == "Success. Request accepted for processing"
    [request] = fake_server.fake.stk_requests
    assert request["PhoneNumber"] == request["PartyA"] == 254708374149
    assert request["Amount"] == 20
    assert request["AccountReference"] == "MTJ-4K7Q2D9"
    checkout = fake_server.fake.checkouts[accepted.checkout_request_id]
    assert (checkout.phone, checkout.amount_kes, checkout.done) == ("254708374149", 20, False)


def test_one_token_serves_many_calls(client: DarajaClient, fake_server: FakeDarajaServer) -> None:
    fake_server.fake.set_outcome("never")
    for _ in range(5):
        _push(client)
    client.stk_query(_push(client).checkout_request_id)
    assert fake_server.fake.token_requests == 1


def test_token_is_refetched_after_expiry(
    fake_server: FakeDarajaServer, settable_clock: Any
) -> None:
    fake_server.fake.set_outcome("never")
    with DarajaClient(fake_server.daraja_config(), clock=settable_clock) as client:
        _push(client)
        settable_clock.advance(3000)
        _push(client)
        assert fake_server.fake.token_requests == 1
        settable_clock.advance(600)
        _push(client)
        assert fake_server.fake.token_requests == 2


def test_token_revoked_early_is_replaced_transparently(
    client: DarajaClient, fake_server: FakeDarajaServer
) -> None:
    fake_server.fake.set_outcome("never")
    _push(client)
    fake_server.fake.revoke_tokens()
    _push(client)
    assert fake_server.fake.token_requests == 2
    assert len(fake_server.fake.stk_requests) == 2


@pytest.mark.parametrize(
    "overrides", [{"consumer_secret": "wrong-secret"}, {"consumer_key": "someone-else"}]
)
def test_wrong_credentials_are_an_auth_failure(
    fake_server: FakeDarajaServer, overrides: dict[str, str]
) -> None:
    with (
        DarajaClient(fake_server.daraja_config(**overrides)) as client,
        pytest.raises(DarajaAuthFailed, match="Invalid Authentication passed") as caught,
    ):
        _push(client)
    assert "wrong-secret" not in str(caught.value)
    assert fake_server.fake.stk_requests == []


def test_wrong_passkey_is_rejected(fake_server: FakeDarajaServer) -> None:
    with (
        DarajaClient(fake_server.daraja_config(passkey="not-the-passkey")) as client,
        pytest.raises(DarajaRejected, match="Bad Request - Invalid Password"),
    ):
        _push(client)


class RewritingTransport(httpx.BaseTransport):
    """Changes STK push bodies on their way out, to send what our client never would."""

    def __init__(self, changes: dict[str, Any]) -> None:
        self._changes = changes
        self._inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/processrequest"):
            body = json.loads(request.content)
            for key, value in self._changes.items():
                if value is DROP:
                    body.pop(key, None)
                else:
                    body[key] = value
            headers = [(k, v) for k, v in request.headers.raw if k.lower() != b"content-length"]
            request = httpx.Request(request.method, request.url, headers=headers, json=body)
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


@pytest.fixture
def rewriting_client(
    fake_server: FakeDarajaServer, request: pytest.FixtureRequest
) -> Iterator[DarajaClient]:
    changes: dict[str, Any] = request.param
    with httpx.Client(transport=RewritingTransport(changes)) as http:
        yield DarajaClient(fake_server.daraja_config(), http=http)


@pytest.mark.parametrize(
    ("rewriting_client", "field"),
    [
        ({"BusinessShortCode": 600000}, "BusinessShortCode"),
        ({"Timestamp": "2025-03-01 09:00"}, "Timestamp"),
        ({"Timestamp": DROP}, "Timestamp"),
        ({"Password": "bm90IGl0"}, "Password"),
        ({"TransactionType": "CustomerPayBill"}, "TransactionType"),
        ({"Amount": 0}, "Amount"),
        ({"Amount": -5}, "Amount"),
        ({"Amount": 1.5}, "Amount"),
        ({"Amount": "ten"}, "Amount"),
        ({"PartyA": 708374149}, "PartyA"),
        ({"PartyB": 600000}, "PartyB"),
        ({"PhoneNumber": "+254708374149"}, "PhoneNumber"),
        ({"PhoneNumber": 254201234567}, "PhoneNumber"),
        ({"PhoneNumber": DROP}, "PhoneNumber"),
        ({"CallBackURL": "ftp://isp.example.com/cb"}, "CallBackURL"),
        # Daraja filters out callback URLs naming M-Pesa or Safaricom, in any case.
        ({"CallBackURL": "https://isp.example.com/mpesa/stk/TOKEN"}, "CallBackURL"),
        ({"CallBackURL": "https://M-Pesa.isp.example.com/cb"}, "CallBackURL"),
        ({"CallBackURL": "https://isp.example.com/SafariCom/cb"}, "CallBackURL"),
        ({"AccountReference": "MTJ-4K7Q2D9-LONG"}, "AccountReference"),
        ({"AccountReference": ""}, "AccountReference"),
        ({"TransactionDesc": "Internet plan, weekly"}, "TransactionDesc"),
    ],
    indirect=["rewriting_client"],
)
def test_each_invalid_field_is_rejected_readably(
    rewriting_client: DarajaClient, fake_server: FakeDarajaServer, field: str
) -> None:
    with pytest.raises(DarajaRejected) as caught:
        _push(rewriting_client)
    assert str(caught.value) == (
        f"STK push rejected by Daraja (HTTP 400 400.002.02: Bad Request - Invalid {field})"
    )
    assert caught.value.error_code == "400.002.02"
    assert fake_server.fake.checkouts == {}


def test_register_c2b_urls(client: DarajaClient, fake_server: FakeDarajaServer) -> None:
    answer = client.register_c2b_urls(
        "https://isp.example.com/c2b/confirm", "https://isp.example.com/c2b/validate", "Cancelled"
    )
    assert answer["ResponseCode"] == "0"
    assert answer["ResponseDescription"] == "Success"
    fake = fake_server.fake
    assert fake.confirmation_url == "https://isp.example.com/c2b/confirm"
    assert fake.validation_url == "https://isp.example.com/c2b/validate"
    assert fake.response_type == "Cancelled"


def test_register_c2b_urls_for_another_shortcode_is_rejected(
    fake_server: FakeDarajaServer,
) -> None:
    with (
        DarajaClient(fake_server.daraja_config(shortcode="600638")) as client,
        pytest.raises(DarajaRejected, match="Invalid ShortCode"),
    ):
        client.register_c2b_urls("https://a.example/c", "https://a.example/v")


@pytest.mark.parametrize(
    ("confirmation", "validation", "refused"),
    [
        (
            "https://isp.example.com/mpesa/c2b/confirmation/t",
            "https://isp.example.com/v",
            "ConfirmationURL",
        ),
        ("https://isp.example.com/c", "https://MPESA.isp.example.com/v", "ValidationURL"),
        ("https://isp.example.com/c", "https://isp.example.com/m_pesa/v", "ValidationURL"),
        ("https://safaricom-isp.example.com/c", "https://isp.example.com/v", "ConfirmationURL"),
    ],
)
def test_register_c2b_urls_naming_mpesa_or_safaricom_is_rejected(
    client: DarajaClient,
    fake_server: FakeDarajaServer,
    confirmation: str,
    validation: str,
    refused: str,
) -> None:
    with pytest.raises(DarajaRejected) as caught:
        client.register_c2b_urls(confirmation, validation)
    assert f"Bad Request - Invalid {refused}" in str(caught.value)
    assert caught.value.error_code == "400.002.02"
    fake = fake_server.fake
    assert (fake.confirmation_url, fake.validation_url) == (None, None)
