"""The money path's hard cases (issue 14): a retried push, a query credit next to a paybill
payment, forged or repeated STK callbacks, poison callbacks, and a payment worth years.

Each test reproduces what was once wrong: a subscriber who paid the first prompt of a retried
push got nothing; a query-credited push swallowed a separate paybill payment of the same amount;
an STK callback was believed for any amount and any number of new receipts; a callback whose
handling raised stayed "received" and, a hundred of them, starved every newer one; a payment of
KES 250,000 on a KES 1 plan wrote 250,000 rows.
"""

from __future__ import annotations

import contextlib
import json
import logging
from datetime import timedelta
from typing import Any

import httpx
import pytest
from huey import MemoryHuey
from sqlalchemy import func, select

from core.events import CallbackFlagged
from core.models import MpesaCallback, Subscription
from core.queries import needs_attention
from core.retry import in_transaction
from core.stk_rules import Verdict
from core.unit_of_work import CoreServices
from core.usecases.customers import delete_customer
from core.usecases.plans import PlanSpec, add_plan
from core.usecases.stk import (
    claim_stk_send,
    mark_stk_sent,
    mark_stk_unconfirmed,
    queued_stk_requests,
)
from jobs.payments import STK_SEND_GIVE_UP_AFTER, PaymentRuntime, _give_up, register_payment_tasks
from payments.daraja import OAUTH_PATH, STK_PUSH_PATH, DarajaClient
from payments.gateway import DarajaMpesaGateway
from payments.handling import replay_unprocessed, replay_waiting_stk_callbacks
from sim.daraja.server import FakeDaraja

PRICE = 1500


class SlowSafaricom:
    """Daraja seen through the network: the first push reaches Safaricom (the phone is prompted)
    but its answer never comes back; later pushes are answered."""

    def __init__(self) -> None:
        self.prompts: list[dict[str, Any]] = []
        self.lose_answers_of = {1}  # the prompts (by number) whose answer never comes back

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == OAUTH_PATH:
            return httpx.Response(200, json={"access_token": "t0k3n", "expires_in": "3599"})
        assert request.url.path == STK_PUSH_PATH
        body = json.loads(request.content)
        number = len(self.prompts) + 1
        checkout = f"ws_CO_0712202612000000{number:04d}"
        self.prompts.append({"checkout": checkout, "amount": body["Amount"]})
        if number in self.lose_answers_of:
            raise httpx.ReadTimeout("the answer was lost", request=request)
        return httpx.Response(
            200,
            json={
                "MerchantRequestID": f"29115-{number}",
                "CheckoutRequestID": checkout,
                "ResponseCode": "0",
                "ResponseDescription": "Success. Request accepted for processing",
                "CustomerMessage": "Success. Request accepted for processing",
            },
        )


@pytest.fixture
def slow_safaricom() -> SlowSafaricom:
    return SlowSafaricom()


@pytest.fixture
def tasks(services: CoreServices, slow_safaricom: SlowSafaricom) -> Any:
    config = FakeDaraja().daraja_config("http://daraja.test", timeout_seconds=1.0)
    http = httpx.Client(transport=httpx.MockTransport(slow_safaricom.handle))
    runtime = PaymentRuntime(
        services=services,
        mpesa=DarajaMpesaGateway(DarajaClient(config, http=http)),
        stk_callback_url="https://isp.example.com/payments/stk/token",
        replay_callbacks=lambda: 0,
        replay_waiting_stk_callbacks=lambda: 0,
    )
    return register_payment_tasks(
        MemoryHuey("money-path", immediate=True, utc=True), lambda: runtime
    )


def run_send(tasks: Any, stk_request_id: int) -> None:
    """One run of the send job, as a huey worker runs it (an exception means "retry me")."""
    with contextlib.suppress(Exception):
        tasks.send_stk_push.call_local(stk_request_id)


# -- 1. a retried push ---------------------------------------------------------------------------


def test_paying_the_prompt_whose_answer_was_lost_is_credited(
    mpesa: Any, tasks: Any, slow_safaricom: SlowSafaricom, expired_customer: Any
) -> None:
    customer = expired_customer()
    queued = mpesa.push(customer.id, PRICE)
    run_send(tasks, queued.stk_request_id)  # Safaricom prompts the phone; its answer is lost
    run_send(tasks, queued.stk_request_id)  # huey's retry
    first = slow_safaricom.prompts[0]["checkout"]
    mpesa.deliver("stk", mpesa.stk_payload(first, "SLA0000001", PRICE, phone=customer.phone))
    assert mpesa.mpesa_payments() == [("SLA0000001", PRICE, customer.id)]
    assert mpesa.state(customer.id).status == "active"


def test_a_push_whose_answer_was_lost_is_not_sent_again(
    mpesa: Any, tasks: Any, slow_safaricom: SlowSafaricom, expired_customer: Any
) -> None:
    customer = expired_customer()
    queued = mpesa.push(customer.id, PRICE)
    for _ in range(4):  # the first run and huey's three retries
        run_send(tasks, queued.stk_request_id)
    assert len(slow_safaricom.prompts) == 1, "a second prompt could be paid as well"


# -- 2. a query credit never swallows a separate paybill payment ----------------------------------


def test_a_paybill_payment_after_a_query_credited_push_is_credited(
    mpesa: Any, expired_customer: Any
) -> None:
    customer = expired_customer()
    stk_request_id, _ = mpesa.sent_push(customer.id, 150)
    assert mpesa.query(stk_request_id, 0).verdict is Verdict.CREDIT  # the callback was lost
    mpesa.c2b(customer.account_number, 150, "SLB0000001")  # tomorrow's payment, by paybill
    assert mpesa.credited_kes(customer.id) == PRICE + 150 + 150


def test_a_query_paid_push_is_credited_though_a_paybill_payment_of_its_amount_came_first(
    mpesa: Any, expired_customer: Any
) -> None:
    customer = expired_customer()
    stk_request_id, _ = mpesa.sent_push(customer.id, 150)
    mpesa.c2b(customer.account_number, 150, "SLB0000002")  # a separate payment by paybill
    assert mpesa.query(stk_request_id, 0).verdict is Verdict.CREDIT
    assert mpesa.credited_kes(customer.id) == PRICE + 150 + 150


# -- 4. an STK callback is believed only for its own push, once, for the pushed amount ------------


def test_new_receipts_for_a_paid_checkout_are_flagged_not_credited(
    mpesa: Any, events: Any, expired_customer: Any
) -> None:
    customer = expired_customer()
    _, checkout = mpesa.sent_push(customer.id, 2500)
    mpesa.deliver("stk", mpesa.stk_payload(checkout, "SLC0000001", 2500))
    events.events.clear()
    for number in range(2, 6):
        answer = mpesa.deliver("stk", mpesa.stk_payload(checkout, f"SLC000000{number}", 2500))
        assert answer.status_code == 200  # Safaricom is answered; staff look at the rest
    assert mpesa.mpesa_payments() == [("SLC0000001", 2500, customer.id)]
    assert mpesa.credited_kes(customer.id) == PRICE + 2500
    assert len(events.of_type(CallbackFlagged)) == 4
    assert [c.status for c in mpesa.callbacks()] == ["processed"] + ["flagged"] * 4


def test_a_callback_for_more_than_was_pushed_is_flagged_not_credited(
    mpesa: Any, events: Any, expired_customer: Any
) -> None:
    customer = expired_customer()
    stk_request_id, checkout = mpesa.sent_push(customer.id, 2500)
    before = mpesa.state(customer.id)
    mpesa.deliver("stk", mpesa.stk_payload(checkout, "SLD0000001", 200_000))
    assert mpesa.mpesa_payments() == []
    assert mpesa.state(customer.id) == before
    [flag] = events.of_type(CallbackFlagged)
    assert "200,000" in flag.reason and "2,500" in flag.reason
    assert mpesa.stk_request(stk_request_id).status == "pending"  # its real answer may come


def test_a_callback_for_less_than_was_pushed_is_flagged_not_credited(
    mpesa: Any, expired_customer: Any
) -> None:
    customer = expired_customer()
    _, checkout = mpesa.sent_push(customer.id, 2500)
    mpesa.deliver("stk", mpesa.stk_payload(checkout, "SLD0000002", 1))
    assert mpesa.mpesa_payments() == []
    assert mpesa.callbacks()[-1].status == "flagged"


# -- 5. a poison callback never blocks real ones ---------------------------------------------


POISON = "SLP0000000"


@pytest.fixture
def poisoned(monkeypatch: pytest.MonkeyPatch) -> None:
    """Handling the paybill receipt POISON raises, as a bug in our code would."""
    import payments.handling as handling

    real = handling.confirm_c2b

    def confirm(uow: Any, confirmation: Any) -> Any:
        if confirmation.trans_id == POISON:
            raise RuntimeError("a bug that is fixed next week")
        return real(uow, confirmation)

    monkeypatch.setattr(handling, "confirm_c2b", confirm)


def _stored(mpesa: Any, payload: Any, count: int = 1) -> None:
    """Callbacks stored by a route that died before handling them."""
    body = json.dumps(payload).encode()
    with mpesa.services.unit_of_work() as uow:
        for _ in range(count):
            uow.session.add(
                MpesaCallback(
                    kind="c2b_confirmation",
                    received_at=mpesa.clock.now(),
                    remote_address="196.201.214.200",
                    body=body.decode(),
                    truncated=False,
                    status="received",
                )
            )
        uow.commit()


def test_a_real_payment_behind_a_hundred_poison_callbacks_is_credited(
    mpesa: Any, expired_customer: Any, poisoned: None
) -> None:
    customer = expired_customer()
    _stored(mpesa, mpesa.c2b_payload(customer.account_number, 2500, POISON), count=100)
    _stored(mpesa, mpesa.c2b_payload(customer.account_number, 2500, "SLE0000001"))
    for _ in range(3):  # three minutes of the sweep
        mpesa.clock.advance(timedelta(minutes=1))
        replay_unprocessed(mpesa.services)
    assert mpesa.mpesa_payments() == [("SLE0000001", 2500, customer.id)]


def test_a_callback_that_keeps_failing_is_given_to_staff(
    mpesa: Any, events: Any, expired_customer: Any, poisoned: None
) -> None:
    customer = expired_customer()
    _stored(mpesa, mpesa.c2b_payload(customer.account_number, 2500, POISON))
    for _ in range(24 * 60):  # a day of the minute sweep
        mpesa.clock.advance(timedelta(minutes=1))
        replay_unprocessed(mpesa.services)
    [callback] = mpesa.callbacks()
    assert callback.status == "failed" and "a bug that is fixed" in (callback.error or "")
    assert [flag.callback_id for flag in events.of_type(CallbackFlagged)] == [callback.id]


# -- 7. a payment worth years is a few rows, not one per period ------------------------------------


def test_a_payment_worth_many_periods_is_one_subscription_row(
    mpesa: Any, services: CoreServices, staff: Any, make_customer: Any
) -> None:
    with services.unit_of_work() as uow:
        add_plan(uow, staff, PlanSpec("Hourly", "hotspot", 1, "2M", "1M", validity_hours=1))
        uow.commit()
    customer = make_customer(plan="Hourly", connection_type="hotspot")
    mpesa.c2b(customer.account_number, 5000, "SLF0000001")
    state = mpesa.state(customer.id)
    assert state.expires_at == mpesa.clock.now() + timedelta(hours=5000)
    with services.unit_of_work() as uow:
        rows = uow.session.scalar(
            select(func.count(Subscription.id)).where(Subscription.customer_id == customer.id)
        )
    assert rows == 1


# -- 8. a lost send job is made up for; a dead sender's push waits for its callback ---------------


def test_a_push_whose_send_job_was_lost_is_sent_by_the_sweep(
    mpesa: Any, tasks: Any, slow_safaricom: SlowSafaricom, expired_customer: Any
) -> None:
    slow_safaricom.lose_answers_of = set()
    customer = expired_customer()
    queued = mpesa.push(customer.id, PRICE)  # its job never ran (the queue lost it)
    mpesa.clock.advance(timedelta(minutes=1))
    tasks.mpesa_sweep.call_local()
    assert len(slow_safaricom.prompts) == 1
    assert mpesa.stk_request(queued.stk_request_id).status == "pending"
    mpesa.clock.advance(timedelta(minutes=1))
    tasks.mpesa_sweep.call_local()
    assert len(slow_safaricom.prompts) == 1, "sent once"


def test_a_push_queued_too_long_is_given_up_not_sent(
    mpesa: Any, tasks: Any, slow_safaricom: SlowSafaricom, expired_customer: Any
) -> None:
    customer = expired_customer()
    queued = mpesa.push(customer.id, PRICE)
    mpesa.clock.advance(timedelta(minutes=11))
    tasks.mpesa_sweep.call_local()
    assert slow_safaricom.prompts == []
    assert mpesa.stk_request(queued.stk_request_id).status == "error"


def test_a_push_whose_sender_died_waits_for_its_callback_and_is_not_sent_again(
    mpesa: Any, tasks: Any, slow_safaricom: SlowSafaricom, expired_customer: Any
) -> None:
    customer = expired_customer()
    queued = mpesa.push(customer.id, PRICE)
    in_transaction(mpesa.services, lambda uow: claim_stk_send(uow, queued.stk_request_id))
    mpesa.clock.advance(timedelta(minutes=3))  # the worker was killed mid-send
    tasks.mpesa_sweep.call_local()
    assert mpesa.stk_request(queued.stk_request_id).status == "unconfirmed"
    assert slow_safaricom.prompts == []
    mpesa.deliver(
        "stk",
        mpesa.stk_payload("ws_CO_LOST_ANSWER", "SLG0000001", PRICE, phone=customer.phone),
    )
    assert mpesa.mpesa_payments() == [("SLG0000001", PRICE, customer.id)]
    assert mpesa.stk_request(queued.stk_request_id).status == "paid"


def test_a_callback_that_fits_two_unconfirmed_pushes_is_flagged_not_guessed(
    mpesa: Any, tasks: Any, slow_safaricom: SlowSafaricom, expired_customer: Any
) -> None:
    slow_safaricom.lose_answers_of = {1, 2}
    customer = expired_customer()
    for _ in range(2):
        run_send(tasks, mpesa.push(customer.id, PRICE).stk_request_id)
    mpesa.deliver(
        "stk", mpesa.stk_payload("ws_CO_WHICH_ONE", "SLH0000001", PRICE, phone=customer.phone)
    )
    assert mpesa.mpesa_payments() == []
    assert mpesa.callbacks()[-1].status == "flagged"


# -- found by a second, adversarial reading --------------------------------------------------------


def test_a_callback_naming_an_unmatched_receipt_of_another_amount_is_flagged(
    mpesa: Any, make_customer: Any
) -> None:
    customer = make_customer()
    mpesa.c2b("NO-SUCH-ACCOUNT", 5000, "SLI0000001")  # someone's money for nobody: kept
    _, checkout = mpesa.sent_push(customer.id, PRICE)
    settled = mpesa.stk(checkout, receipt="SLI0000001", amount_kes=PRICE)
    assert settled.verdict is Verdict.FLAG and "KES 5,000" in settled.reason
    assert mpesa.credited_kes(customer.id) == 0
    assert mpesa.mpesa_payments() == [("SLI0000001", 5000, None)]


def test_a_callback_naming_an_unmatched_receipt_of_the_pushed_amount_credits_it(
    mpesa: Any, make_customer: Any
) -> None:
    customer = make_customer()
    mpesa.c2b("NO-SUCH-ACCOUNT", PRICE, "SLI0000002")
    _, checkout = mpesa.sent_push(customer.id, PRICE)
    assert mpesa.stk(checkout, receipt="SLI0000002", amount_kes=PRICE).verdict is Verdict.CREDIT
    assert mpesa.mpesa_payments() == [("SLI0000002", PRICE, customer.id)]


def test_a_callback_for_a_push_being_sent_waits_for_it_not_for_an_unconfirmed_one(
    mpesa: Any, make_customer: Any, services: CoreServices
) -> None:
    parent, child = make_customer(), make_customer()
    phone = parent.phone  # one payer's phone for two accounts
    lost = mpesa.push(parent.id, PRICE, phone=phone).stk_request_id
    in_transaction(services, lambda uow: claim_stk_send(uow, lost))
    in_transaction(services, lambda uow: mark_stk_unconfirmed(uow, lost, "read timeout"))
    sending = mpesa.push(child.id, PRICE, phone=phone).stk_request_id
    in_transaction(services, lambda uow: claim_stk_send(uow, sending))
    # The child's push's callback overtakes Daraja's answer to its send...
    mpesa.deliver("stk", mpesa.stk_payload("ws_CO_SLJ0001", "SLJ0000001", PRICE, phone=phone))
    assert mpesa.callbacks()[-1].status == "received"  # it waits
    # ...which then comes, and the waiting callback is handled.
    in_transaction(services, lambda uow: mark_stk_sent(uow, sending, "m-1", "ws_CO_SLJ0001"))
    replay_waiting_stk_callbacks(services)
    assert (mpesa.credited_kes(child.id), mpesa.credited_kes(parent.id)) == (PRICE, 0)
    assert mpesa.stk_request(lost).status == "unconfirmed"


def test_a_callback_with_a_masked_phone_is_never_matched_to_an_unconfirmed_push(
    mpesa: Any, make_customer: Any, services: CoreServices
) -> None:
    stranger = make_customer()
    lost = mpesa.push(stranger.id, PRICE).stk_request_id
    in_transaction(services, lambda uow: claim_stk_send(uow, lost))
    in_transaction(services, lambda uow: mark_stk_unconfirmed(uow, lost, "read timeout"))
    payload = mpesa.stk_payload("ws_CO_SLK0001", "SLK0000001", PRICE, phone=stranger.phone)
    for item in payload["Body"]["stkCallback"]["CallbackMetadata"]["Item"]:
        if item["Name"] == "PhoneNumber":
            item["Value"] = "2547 ***** 126"  # Safaricom masks it
    mpesa.deliver("stk", payload)
    assert mpesa.credited_kes(stranger.id) == 0
    assert mpesa.callbacks()[-1].status == "flagged"


def test_a_paid_callback_for_a_deleted_customers_push_is_kept_unmatched_and_flagged_at_once(
    mpesa: Any, make_customer: Any, services: CoreServices, staff: Any
) -> None:
    customer = make_customer()
    _, checkout = mpesa.sent_push(customer.id, PRICE)
    payload = mpesa.stk_payload(checkout, "SLL0000001", PRICE)
    in_transaction(services, lambda uow: delete_customer(uow, customer.id, staff))
    mpesa.deliver("stk", payload)
    assert mpesa.callbacks()[-1].status == "flagged"
    assert mpesa.mpesa_payments() == [("SLL0000001", PRICE, None)]
    with services.unit_of_work() as uow:
        kinds = {item.kind for item in needs_attention(uow)}
    assert {"mpesa_callback", "unmatched_payment"} <= kinds


def test_the_replay_after_each_send_keeps_a_failing_rows_backoff(
    mpesa: Any, expired_customer: Any, services: CoreServices, monkeypatch: pytest.MonkeyPatch
) -> None:
    import payments.handling as handling

    def broken(uow: Any, result: Any) -> Any:
        raise RuntimeError("a bug that is fixed next week")

    customer = expired_customer()
    _, checkout = mpesa.sent_push(customer.id, PRICE)
    monkeypatch.setattr(handling, "settle_stk", broken)
    mpesa.deliver("stk", mpesa.stk_payload(checkout, "SLM0000001", PRICE))
    for _ in range(8):  # eight pushes sent within the same second
        replay_waiting_stk_callbacks(services)
    stored = mpesa.callbacks()[-1]
    assert (stored.attempts, stored.status) == (1, "received")


def test_the_sweep_never_gives_up_a_push_a_send_job_took_meanwhile(
    mpesa: Any, make_customer: Any, services: CoreServices, clock: Any
) -> None:
    customer = make_customer()
    push = mpesa.push(customer.id, PRICE).stk_request_id
    clock.advance(STK_SEND_GIVE_UP_AFTER + timedelta(seconds=1))  # Daraja was down 10 minutes
    with services.unit_of_work() as uow:  # the sweep reads its list...
        assert push in queued_stk_requests(uow, STK_SEND_GIVE_UP_AFTER)
    # ...meanwhile a send job claims the push and Safaricom accepts it...
    in_transaction(services, lambda uow: claim_stk_send(uow, push))
    in_transaction(services, lambda uow: mark_stk_sent(uow, push, "m-1", "ws_CO_SLN0001"))
    _give_up(services, push)  # ...and the sweep gives it up
    assert mpesa.stk_request(push).status == "pending"


def test_a_prompt_sent_is_one_log_line(
    mpesa: Any,
    tasks: Any,
    slow_safaricom: SlowSafaricom,
    expired_customer: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    slow_safaricom.lose_answers_of = set()
    customer = expired_customer()
    queued = mpesa.push(customer.id, PRICE)
    with caplog.at_level(logging.INFO, logger="jobs.payments"):
        run_send(tasks, queued.stk_request_id)
    lines = [record.getMessage() for record in caplog.records]
    assert lines == [f"STK prompt sent: KES 1,500 to {queued.phone} for {customer.account_number}"]
