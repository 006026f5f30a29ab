"""STK push end to end: the fake posts each outcome to our receiver; stk_query follows along."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from payments.callbacks import stk_result_text
from payments.daraja import DarajaClient, DarajaRejected, StkPushAccepted, StkQueryStatus
from sim.daraja.server import FakeDarajaServer, StkOutcome

# `receiver` is the conftest's Receiver app (test modules do not import conftest).
Receiver = Any


def _push(
    client: DarajaClient, receiver: Receiver, phone: str = "0708374149", amount_kes: int = 50
) -> StkPushAccepted:
    return client.stk_push(
        phone, amount_kes, "MTJ-4K7Q2D9", "Internet", receiver.url("/payments/stk")
    )


def test_paid_callback_reaches_us_with_the_payment(
    client: DarajaClient, fake_server: FakeDarajaServer, receiver: Receiver
) -> None:
    accepted = _push(client, receiver, amount_kes=250)
    [sent] = fake_server.fake.wait_for_callbacks(1, kind="stk")
    assert sent.status_code == 200
    [callback] = receiver.stk
    assert callback.paid
    assert callback.checkout_request_id == accepted.checkout_request_id
    assert callback.merchant_request_id == accepted.merchant_request_id
    assert callback.amount_kes == 250
    assert callback.phone == "+254708374149"
    assert (
        callback.receipt_number
        == fake_server.fake.checkouts[accepted.checkout_request_id].receipt_number
    )
    assert callback.transaction_time is not None
    assert callback.transaction_time.utcoffset() is not None


@pytest.mark.parametrize(
    ("outcome", "result_code"),
    [
        (StkOutcome.CANCELLED, 1032),
        (StkOutcome.TIMEOUT, 1037),
        (StkOutcome.WRONG_PIN, 2001),
        (StkOutcome.INSUFFICIENT, 1),
    ],
)
def test_failed_outcomes_reach_us_without_payment(
    client: DarajaClient,
    fake_server: FakeDarajaServer,
    receiver: Receiver,
    outcome: StkOutcome,
    result_code: int,
) -> None:
    fake_server.fake.set_outcome(outcome, phone="+254708374149")
    _push(client, receiver, phone="0708374149")
    fake_server.fake.wait_for_callbacks(1, kind="stk")
    [callback] = receiver.stk
    assert callback.result_code == result_code
    assert not callback.paid
    assert callback.amount_kes is None and callback.receipt_number is None
    assert stk_result_text(callback.result_code) != stk_result_text(-1)
    sent_callback = fake_server.fake.callbacks_sent[0].payload["Body"]["stkCallback"]
    assert "CallbackMetadata" not in sent_callback


def test_outcome_per_phone_and_default(
    client: DarajaClient, fake_server: FakeDarajaServer, receiver: Receiver
) -> None:
    fake_server.fake.set_outcome("cancelled")
    fake_server.fake.set_outcome("paid", phone="0110123456")
    cancelled = _push(client, receiver, phone="0708374149")
    paid = _push(client, receiver, phone="+254110123456")
    fake_server.fake.wait_for_callbacks(2, kind="stk")
    by_checkout = {callback.checkout_request_id: callback for callback in receiver.stk}
    assert by_checkout[cancelled.checkout_request_id].result_code == 1032
    assert by_checkout[paid.checkout_request_id].result_code == 0


def test_receipts_are_unique(
    client: DarajaClient, fake_server: FakeDarajaServer, receiver: Receiver
) -> None:
    for _ in range(20):
        _push(client, receiver)
    fake_server.fake.wait_for_callbacks(20, kind="stk")
    receipts = {callback.receipt_number for callback in receiver.stk}
    assert len(receipts) == 20
    assert all(receipt and len(receipt) == 10 for receipt in receipts)


def test_delayed_callback_still_arrives(
    client: DarajaClient, fake_server: FakeDarajaServer, receiver: Receiver
) -> None:
    fake_server.fake.set_outcome("paid", delay_seconds=0.3)
    _push(client, receiver)
    fake_server.fake.wait_for_callbacks(1, kind="stk", timeout=15)
    assert receiver.stk[0].paid


def test_query_pending_then_done(
    client: DarajaClient, fake_server: FakeDarajaServer, receiver: Receiver
) -> None:
    fake_server.fake.set_outcome("never")
    accepted = _push(client, receiver)
    pending = client.stk_query(accepted.checkout_request_id)
    assert pending.status is StkQueryStatus.PENDING
    assert pending.result_desc == "The transaction is being processed"
    assert fake_server.fake.callbacks_sent == []

    fake_server.fake.complete(accepted.checkout_request_id, "paid")
    done = client.stk_query(accepted.checkout_request_id)
    assert done.status is StkQueryStatus.PAID
    assert done.result_code == 0
    assert done.merchant_request_id == accepted.merchant_request_id
    assert receiver.stk[0].paid


def test_query_after_cancellation_is_failed(
    client: DarajaClient, fake_server: FakeDarajaServer, receiver: Receiver
) -> None:
    fake_server.fake.set_outcome("cancelled")
    accepted = _push(client, receiver)
    fake_server.fake.wait_for_callbacks(1, kind="stk")
    result = client.stk_query(accepted.checkout_request_id)
    assert result.status is StkQueryStatus.FAILED
    assert (result.result_code, result.result_desc) == (1032, "Request canceled by user.")


def test_query_for_unknown_checkout_is_rejected(client: DarajaClient) -> None:
    with pytest.raises(DarajaRejected, match="Invalid CheckoutRequestID"):
        client.stk_query("ws_CO_000000000000000000")


def test_outcome_control_endpoint(
    client: DarajaClient, fake_server: FakeDarajaServer, receiver: Receiver
) -> None:
    answer = httpx.post(
        f"{fake_server.base_url}/_fake/outcome",
        json={"phone": "254708374149", "outcome": "wrong_pin", "delay_seconds": 0},
    )
    assert answer.json() == {"ok": True}
    _push(client, receiver)
    fake_server.fake.wait_for_callbacks(1, kind="stk")
    assert receiver.stk[0].result_code == 2001


@pytest.mark.parametrize(
    "body", [{"outcome": "maybe"}, {"outcome": "paid", "phone": "0201234567"}, {}]
)
def test_outcome_control_endpoint_refuses_nonsense(
    fake_server: FakeDarajaServer, body: dict[str, str]
) -> None:
    answer = httpx.post(f"{fake_server.base_url}/_fake/outcome", json=body)
    assert answer.status_code == 400
    assert answer.json()["error"]


def test_receiver_errors_are_recorded(
    client: DarajaClient, fake_server: FakeDarajaServer, receiver: Receiver
) -> None:
    client.stk_push("0708374149", 5, "MTJ-1", "Internet", receiver.url("/nowhere"))
    [sent] = fake_server.fake.wait_for_callbacks(1, kind="stk")
    assert sent.status_code == 404
