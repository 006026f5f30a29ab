"""Self-service end to end on a real database, over HTTP: a subscriber dials the USSD menu and
pays; the STK push goes to the fake Daraja, whose callback renews the service; the receipt goes
out through Africa's Talking (fake) and comes back delivered. Staff hear of a reported problem.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest

from core.models import Customer, InboundSms, MpesaCallback, SmsMessage, StkRequest, Ticket
from core.unit_of_work import CoreServices
from payments.daraja import DarajaClient
from payments.gateway import DarajaMpesaGateway
from sim.africastalking import FakeAfricasTalkingServer
from sim.daraja.server import FakeDarajaServer
from ussd.sms.gateway import AfricasTalkingSms

WANJIKU = "+254712345678"


def wait_for(condition: Callable[[], bool], timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def ussd(base_url: str, phone: str, text: str) -> str:
    response = httpx.post(
        f"{base_url}/ussd",
        data={
            "sessionId": "ATUid_5e0f3a1b2c",
            "serviceCode": "*384*1234#",
            "phoneNumber": phone,
            "networkCode": "63902",
            "text": text,
        },
        timeout=10,
    )
    assert response.status_code == 200
    assert len(response.text) <= 160
    return response.text


def where_it_stopped(services: CoreServices) -> dict[str, list[tuple[object, ...]]]:
    """What the database holds of the payment's path, for a failure message."""
    with services.unit_of_work() as uow:
        return {
            "callbacks": [(c.kind, c.status, c.error) for c in uow.session.query(MpesaCallback)],
            "stk": [(r.status, r.result_code) for r in uow.session.query(StkRequest)],
            "sms": [(m.kind, m.status, m.error) for m in uow.session.query(SmsMessage)],
        }


@pytest.fixture
def daraja() -> FakeDarajaServer:
    with FakeDarajaServer() as server:
        yield server


def test_paying_by_ussd_renews_and_the_receipt_is_delivered(
    db_services: CoreServices,
    serve,
    isp,
    daraja: FakeDarajaServer,
    fake_at: FakeAfricasTalkingServer,
    at_sms: AfricasTalkingSms,
):
    with DarajaClient(daraja.daraja_config()) as client:
        stack = serve(sms=at_sms, mpesa=DarajaMpesaGateway(client))
        fake_at.fake.delivery_url = f"{stack.base_url}/sms/delivery"
        fake_at.fake.auto_deliver = True

        assert ussd(stack.base_url, WANJIKU, "").startswith("CON Kasarani Net")
        pay = ussd(stack.base_url, WANJIKU, "2")
        assert "Pay KES 1,500 to renew Home 10M (30 days)" in pay
        done = ussd(stack.base_url, WANJIKU, "2*1")
        prompt = "END Check your phone for the M-Pesa PIN prompt: KES 1,500 for"
        assert done == f"{prompt} {isp.wanjiku_account}."

        # The fake Daraja prompted the phone and called back: paid, renewed, receipt sent.
        daraja.fake.wait_for_callbacks(1, kind="stk")
        (checkout,) = daraja.fake.checkouts.values()
        assert (checkout.phone, checkout.amount_kes) == ("254712345678", 1500)
        assert checkout.account_reference == isp.wanjiku_account

        def receipt_delivered() -> bool:
            with db_services.unit_of_work() as uow:
                return any(
                    m.kind.startswith("receipt:") and m.status == "delivered"
                    for m in uow.session.query(SmsMessage)
                )

        assert wait_for(receipt_delivered), (where_it_stopped(db_services), fake_at.fake.snapshot())
    with db_services.unit_of_work() as uow:
        customer = uow.session.get(Customer, isp.wanjiku)
        assert customer is not None and customer.status == "active"
        (request,) = uow.session.query(StkRequest).all()
        assert (request.status, request.channel) == ("paid", "ussd")
        (receipt,) = [m for m in uow.session.query(SmsMessage) if m.kind.startswith("receipt:")]
        assert receipt.body.startswith("Asante! KES 1,500 received")
        assert receipt.provider_message_id is not None and receipt.cost == "KES 0.8000"
    # The router learned of it too.
    secrets = isp.router_state.items("/ppp/secret")
    assert [s.get("disabled") for s in secrets] == ["false"]
    assert ussd(stack.base_url, WANJIKU, "1").count("Status: active") == 1


def test_sms_keyword_reply_goes_out_through_africastalking(
    db_services: CoreServices, serve, isp, fake_at: FakeAfricasTalkingServer, at_sms
):
    stack = serve(sms=at_sms)
    fake_at.fake.inbound_url = f"{stack.base_url}/sms/inbound"
    report = fake_at.fake.send_inbound(WANJIKU, "hali")
    assert report.status_code == 200
    replies = [sms for sms in fake_at.fake.sent if sms.to == WANJIKU]
    assert len(replies) == 1
    assert replies[0].message == f"{isp.wanjiku_account}: Home 10M, haijaanza. Salio: KES 0."
    with db_services.unit_of_work() as uow:
        (inbound,) = uow.session.query(InboundSms).all()
        assert (inbound.command, inbound.customer_id) == ("status", isp.wanjiku)


def test_a_reported_problem_reaches_staff(db_services: CoreServices, serve, isp, at_sms, stored):
    stack = serve(sms=at_sms)
    assert ussd(stack.base_url, WANJIKU, "5*1").startswith("END Thank you. Ticket #")
    (ticket,) = stored(Ticket)
    assert ticket.category == "no_internet"
    assert stack.notifier.messages == [
        f"Ticket #{ticket.id}: NO INTERNET from Wanjiku Kamau ({isp.wanjiku_account}, "
        "0712 345678) by USSD. Home 10M, inactive, expires never, router core-1 (unknown)."
    ]
