"""Paybill payments end to end: URL registration, validation accept/reject, duplicates."""

from __future__ import annotations

import socket
from typing import Any

import httpx
import pytest

from payments.daraja import DarajaClient
from sim.daraja.server import FakeDarajaServer

# `receiver` is the conftest's Receiver app (test modules do not import conftest).
Receiver = Any


@pytest.fixture
def registered(client: DarajaClient, receiver: Receiver) -> Receiver:
    client.register_c2b_urls(
        receiver.url("/payments/c2b/confirm"), receiver.url("/payments/c2b/validate")
    )
    return receiver


@pytest.fixture
def dead_url() -> str:
    """A URL on a port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/validate"


def test_accepted_payment_is_validated_then_confirmed(
    fake_server: FakeDarajaServer, registered: Receiver
) -> None:
    outcome = fake_server.fake.pay_bill("MTJ-4K7Q2D9", 100, phone="0708374149", first_name="Amina")
    assert outcome.accepted
    assert [sent.kind for sent in fake_server.fake.callbacks_sent] == [
        "c2b_validation",
        "c2b_confirmation",
    ]
    assert outcome.confirmation is not None and outcome.confirmation.status_code == 200
    [validated] = registered.validations
    [payment] = registered.confirmations
    assert validated == payment
    assert payment.trans_id == outcome.trans_id
    assert payment.amount_kes == 100
    assert payment.bill_ref_number == "MTJ-4K7Q2D9"
    assert payment.business_short_code == "174379"
    assert payment.transaction_type == "Pay Bill"
    assert payment.msisdn == "2547 ***** 149"
    assert payment.phone is None
    assert payment.payer_name == "Amina"
    assert payment.trans_time.utcoffset() is not None
    assert outcome.payload["TransAmount"] == "100"
    assert outcome.payload["InvoiceNumber"] == outcome.payload["ThirdPartyTransID"] == ""


def test_rejected_payment_is_never_confirmed(
    fake_server: FakeDarajaServer, registered: Receiver
) -> None:
    outcome = fake_server.fake.pay_bill("WRONG-ACC", 100)
    assert not outcome.accepted
    assert outcome.reason == "C2B00012: Invalid Account Number"
    assert outcome.confirmation is None
    assert len(registered.validations) == 1
    assert registered.confirmations == []
    assert fake_server.fake.c2b_payments == {}


def test_duplicate_confirmation_counts_once(
    fake_server: FakeDarajaServer, registered: Receiver
) -> None:
    outcome = fake_server.fake.pay_bill("MTJ-4K7Q2D9", 300)
    again = fake_server.fake.redeliver_confirmation(outcome.trans_id)
    assert again.status_code == 200
    assert again.payload == outcome.payload
    assert len(registered.confirmations) == 2
    assert list(registered.payments) == [outcome.trans_id]


def test_chosen_trans_id_is_used(fake_server: FakeDarajaServer, registered: Receiver) -> None:
    fake_server.fake.pay_bill("MTJ-1", 10, trans_id="RKTQDM7W6S")
    assert registered.confirmations[0].trans_id == "RKTQDM7W6S"


def test_trans_ids_are_unique(fake_server: FakeDarajaServer, registered: Receiver) -> None:
    ids = {fake_server.fake.pay_bill("MTJ-1", 10).trans_id for _ in range(15)}
    assert len(ids) == 15
    assert len(registered.payments) == 15


@pytest.mark.parametrize(("response_type", "accepted"), [("Completed", True), ("Cancelled", False)])
def test_unreachable_validation_applies_the_response_type(
    client: DarajaClient,
    fake_server: FakeDarajaServer,
    receiver: Receiver,
    dead_url: str,
    response_type: str,
    accepted: bool,
) -> None:
    client.register_c2b_urls(receiver.url("/payments/c2b/confirm"), dead_url, response_type)
    outcome = fake_server.fake.pay_bill("ANY", 75)
    assert outcome.accepted is accepted
    assert outcome.validation is not None and outcome.validation.status_code is None
    assert len(receiver.confirmations) == (1 if accepted else 0)


def test_without_external_validation_only_confirmation_is_sent(
    receiver: Receiver,
) -> None:
    with FakeDarajaServer(external_validation=False) as server:
        with DarajaClient(server.daraja_config()) as client:
            client.register_c2b_urls(
                receiver.url("/payments/c2b/confirm"), receiver.url("/payments/c2b/validate")
            )
        outcome = server.fake.pay_bill("WRONG-ACC", 40)
    assert outcome.accepted and outcome.validation is None
    assert receiver.validations == []
    assert len(receiver.confirmations) == 1


def test_paybill_and_redeliver_control_endpoints(
    fake_server: FakeDarajaServer, registered: Receiver
) -> None:
    answer = httpx.post(
        f"{fake_server.base_url}/_fake/paybill",
        json={"account": "MTJ-4K7Q2D9", "amount_kes": 500, "phone": "0110123456"},
    ).json()
    assert answer["accepted"] is True
    assert answer["payload"]["MSISDN"] == "2541 ***** 456"
    redelivered = httpx.post(
        f"{fake_server.base_url}/_fake/redeliver", json={"trans_id": answer["trans_id"]}
    )
    assert redelivered.json() == {"status_code": 200}
    assert len(registered.confirmations) == 2
    assert registered.confirmations[0].amount_kes == 500


@pytest.mark.parametrize(
    "body",
    [
        {"amount_kes": 10},
        {"account": "MTJ-1", "amount_kes": 0},
        {"account": "MTJ-1", "amount_kes": 1.5},
        {"account": "MTJ-1", "amount_kes": 5, "phone": "x"},
    ],
)
def test_paybill_control_endpoint_refuses_nonsense(
    fake_server: FakeDarajaServer, body: dict[str, Any]
) -> None:
    answer = httpx.post(f"{fake_server.base_url}/_fake/paybill", json=body)
    assert answer.status_code == 400
