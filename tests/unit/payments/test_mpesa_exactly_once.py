"""A receipt is credited exactly once: repeated confirmations, the STK callback and the paybill
confirmation of the same receipt (either order), STK failures, callbacks for pushes we never
made, and a push settled by an STK query before its receipt is known."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from core.events import CallbackFlagged, CustomerNeedsSync, PaymentReceived, StkPushFailed
from core.retry import in_transaction
from core.stk_rules import Verdict
from core.usecases.notices import stk_failure_notices
from core.usecases.stk import PROVISIONAL_PREFIX

PRICE = 1500
PERIOD = timedelta(days=30)


def test_a_paybill_confirmation_repeated_is_credited_once(
    mpesa: Any, expired_customer: Any
) -> None:
    customer = expired_customer()
    first = mpesa.c2b(customer.account_number, PRICE, "SKC0000001")
    after_first = mpesa.state(customer.id)
    repeats = [
        mpesa.c2b(account, PRICE, trans_id)
        for account, trans_id in [
            (customer.account_number, "SKC0000001"),
            (customer.account_number.lower(), "skc0000001"),
            ("somebody else", "SKC0000001"),
        ]
    ]
    assert not first.duplicate and first.renewal is not None
    assert all(repeat.duplicate and repeat.payment_id == first.payment_id for repeat in repeats)
    assert mpesa.state(customer.id) == after_first
    assert mpesa.mpesa_payments() == [("SKC0000001", PRICE, customer.id)]


def test_redelivered_wire_confirmations_are_stored_each_time_and_credited_once(
    mpesa: Any, expired_customer: Any
) -> None:
    customer = expired_customer()
    payload = mpesa.c2b_payload(customer.account_number, 3000, "SKW0000001")
    answers = [mpesa.deliver("c2b_confirmation", payload) for _ in range(3)]
    assert {(a.status_code, a.body["ResultCode"]) for a in answers} == {(200, 0)}
    assert [c.status for c in mpesa.callbacks()] == ["processed"] * 3
    assert mpesa.mpesa_payments() == [("SKW0000001", 3000, customer.id)]
    assert mpesa.state(customer.id).balance_kes == 0  # two periods bought


@pytest.mark.parametrize("order", ["stk first", "paybill first"])
def test_one_receipt_by_stk_callback_and_by_paybill_confirmation_is_credited_once(
    mpesa: Any, clock: Any, expired_customer: Any, order: str
) -> None:
    customer = expired_customer()
    stk_request_id, checkout = mpesa.sent_push(customer.id)
    deliveries = {
        "stk": lambda: mpesa.stk(checkout, 0, "SKB0000001", PRICE),
        "paybill": lambda: mpesa.c2b(customer.account_number, PRICE, "SKB0000001"),
    }
    first, second = ("stk", "paybill") if order == "stk first" else ("paybill", "stk")
    deliveries[first]()
    deliveries[second]()
    deliveries[first]()
    state = mpesa.state(customer.id)
    assert state.status == "active" and state.balance_kes == 0
    assert state.expires_at == clock.now() + PERIOD
    assert mpesa.mpesa_payments() == [("SKB0000001", PRICE, customer.id)]
    request = mpesa.stk_request(stk_request_id)
    assert request.status == "paid" and request.payment_id is not None
    assert mpesa.credited_kes(customer.id) == PRICE + PRICE  # the first cash period, and this
    assert mpesa.periods(customer.id) == 2


def test_a_paid_stk_callback_renews_and_tells_the_router(
    mpesa: Any, clock: Any, events: Any, expired_customer: Any
) -> None:
    customer = expired_customer()
    _, checkout = mpesa.sent_push(customer.id)
    events.events.clear()
    settled = mpesa.stk(checkout, 0, "SKP0000001", PRICE)
    paid = settled.payment
    assert settled.verdict is Verdict.CREDIT and paid is not None and not paid.duplicate
    state = mpesa.state(customer.id)
    assert (state.status, state.balance_kes, state.sync_pending) == ("active", 0, True)
    assert state.expires_at == clock.now() + PERIOD
    assert CustomerNeedsSync(customer.id, 1) in events.events
    received = [(e.payment_id, e.customer_id) for e in events.of_type(PaymentReceived)]
    assert (paid.payment_id, customer.id) in received
    # Safaricom retries the callback: nothing more happens.
    events.events.clear()
    repeat = mpesa.stk(checkout, 0, "SKP0000001", PRICE)
    assert (repeat.verdict, repeat.payment) == (Verdict.NOTHING, None)
    assert mpesa.state(customer.id) == state
    assert events.of_type(PaymentReceived) == []


@pytest.mark.parametrize(
    ("code", "plain_words"),
    [
        (1032, "You cancelled the payment request."),
        (1037, "We could not reach your phone."),
        (2001, "Wrong M-Pesa PIN entered."),
        (1, "Your M-Pesa balance is not enough"),
        (1019, "expired before you completed it"),
        (4242, "The payment did not go through."),
    ],
)
def test_a_failed_push_is_recorded_and_explained(
    mpesa: Any, services: Any, events: Any, expired_customer: Any, code: int, plain_words: str
) -> None:
    services.config = replace(services.config, paybill_number="174379")
    customer = expired_customer()
    before = mpesa.state(customer.id)
    stk_request_id, checkout = mpesa.sent_push(customer.id)
    events.events.clear()
    settled = mpesa.stk(checkout, code, description=f"Daraja says {code}")
    assert (settled.verdict, settled.payment) == (Verdict.FAIL, None)
    request = mpesa.stk_request(stk_request_id)
    assert (request.status, request.result_code) == ("failed", code)
    assert request.result_description == f"Daraja says {code}"
    assert events.of_type(StkPushFailed) == [StkPushFailed(stk_request_id)]
    assert mpesa.state(customer.id) == before
    assert mpesa.mpesa_payments() == []
    line = in_transaction(services, lambda uow: stk_failure_notices(uow, stk_request_id))
    assert "failed" in line and customer.account_number in line
    [body] = [body for kind, body in mpesa.sms() if kind.startswith("stk_failed")]
    assert plain_words in body
    assert f"To pay for {customer.account_number}, use paybill 174379." in body
    # A repeated failure callback changes nothing and alerts nobody again.
    events.events.clear()
    assert mpesa.stk(checkout, code).verdict is Verdict.NOTHING
    assert events.events == []


def test_a_callback_for_a_push_we_never_made_changes_nothing(
    mpesa: Any, events: Any, expired_customer: Any
) -> None:
    customer = expired_customer()
    mpesa.sent_push(customer.id)
    before = mpesa.state(customer.id)
    assert mpesa.stk("ws_CO_NOT_OURS", 0, "SKX0000001", PRICE).unknown_checkout
    events.events.clear()
    answer = mpesa.deliver("stk", mpesa.stk_payload("ws_CO_NOT_OURS", "SKX0000001", PRICE))
    assert answer.status_code == 200  # acknowledged so Safaricom stops retrying...
    [stored] = mpesa.callbacks()
    assert (stored.status, stored.reference) == ("flagged", "ws_CO_NOT_OURS")  # ...but flagged
    assert events.of_type(CallbackFlagged) == [CallbackFlagged(stored.id, stored.error)]
    assert mpesa.state(customer.id) == before
    assert mpesa.mpesa_payments() == []


# -- settled by an STK query before any receipt arrived ------------------------------------------


def test_query_paid_credits_provisionally_and_the_stk_receipt_is_bound_to_it(
    mpesa: Any, expired_customer: Any
) -> None:
    customer = expired_customer()
    stk_request_id, checkout = mpesa.sent_push(customer.id)
    assert mpesa.query(stk_request_id, 0).verdict is Verdict.CREDIT
    [(reference, amount, owner)] = mpesa.mpesa_payments()
    assert reference.startswith(PROVISIONAL_PREFIX) and (amount, owner) == (PRICE, customer.id)
    credited = mpesa.state(customer.id)
    assert credited.status == "active"
    assert mpesa.stk(checkout, 0, "SKQ0000001", PRICE).verdict is Verdict.BIND
    assert mpesa.mpesa_payments() == [("SKQ0000001", PRICE, customer.id)]
    # The same receipt by paybill now, and the query answered again: still one credit.
    assert mpesa.c2b(customer.account_number, PRICE, "SKQ0000001").duplicate
    assert mpesa.query(stk_request_id, 0).verdict is Verdict.NOTHING
    assert mpesa.state(customer.id) == credited
    assert mpesa.mpesa_payments() == [("SKQ0000001", PRICE, customer.id)]


def test_query_paid_then_a_paybill_payment_of_the_same_amount_is_a_payment_of_its_own(
    mpesa: Any, expired_customer: Any
) -> None:
    customer = expired_customer()
    stk_request_id, checkout = mpesa.sent_push(customer.id)
    mpesa.query(stk_request_id, 0)
    paybill = mpesa.c2b(customer.account_number.lower(), PRICE, "SKQ0000002")
    assert not paybill.duplicate and paybill.customer_id == customer.id
    assert mpesa.stk(checkout, 0, "SKQ0000003", PRICE).verdict is Verdict.BIND
    assert mpesa.credited_kes(customer.id) == PRICE + 2 * PRICE
    assert sorted(ref for ref, _, _ in mpesa.mpesa_payments()) == ["SKQ0000002", "SKQ0000003"]


def test_query_failed_records_the_failure(mpesa: Any, events: Any, expired_customer: Any) -> None:
    customer = expired_customer()
    before = mpesa.state(customer.id)
    stk_request_id, _ = mpesa.sent_push(customer.id)
    events.events.clear()
    assert mpesa.query(stk_request_id, 1032, "Request cancelled by user").verdict is Verdict.FAIL
    assert mpesa.stk_request(stk_request_id).status == "failed"
    assert events.of_type(StkPushFailed) == [StkPushFailed(stk_request_id)]
    assert mpesa.state(customer.id) == before and mpesa.mpesa_payments() == []


def test_two_payments_of_one_amount_one_by_query_paid_push_one_by_paybill_are_both_credited(
    mpesa: Any, expired_customer: Any
) -> None:
    customer = expired_customer()
    stk_request_id, checkout = mpesa.sent_push(customer.id)
    mpesa.query(stk_request_id, 0)  # callback late: the query says paid, receipt unknown
    mpesa.c2b(customer.account_number, PRICE, "SKD0000002")  # a second, separate payment
    mpesa.stk(checkout, 0, "SKD0000001", PRICE)  # the push's own receipt, at last
    assert mpesa.credited_kes(customer.id) == PRICE + 2 * PRICE
    assert mpesa.periods(customer.id) == 1 + 2
    assert sorted(ref for ref, _, _ in mpesa.mpesa_payments()) == ["SKD0000001", "SKD0000002"]


def test_one_receipt_credited_by_paybill_and_by_query_is_flagged_for_staff(
    mpesa: Any, events: Any, expired_customer: Any
) -> None:
    # Daraja does not post STK payments to the paybill URL; were it ever to, and the callback
    # be late, the query's credit and the paybill's are one payment: staff are told.
    customer = expired_customer()
    stk_request_id, checkout = mpesa.sent_push(customer.id)
    mpesa.c2b(customer.account_number, PRICE, "SKE0000001")
    mpesa.query(stk_request_id, 0)
    events.events.clear()
    settled = mpesa.stk(checkout, 0, "SKE0000001", PRICE)
    assert settled.verdict is Verdict.FLAG and "credited twice" in settled.reason
    mpesa.deliver("stk", mpesa.stk_payload(checkout, "SKE0000001", PRICE))
    assert mpesa.callbacks()[-1].status == "flagged"
    assert len(events.of_type(CallbackFlagged)) == 1


def test_the_paybill_confirmation_of_a_push_receipt_links_the_push_without_a_second_credit(
    mpesa: Any, expired_customer: Any
) -> None:
    customer = expired_customer()
    stk_request_id, checkout = mpesa.sent_push(customer.id)
    mpesa.c2b(customer.account_number, PRICE, "SKE0000002")  # the same receipt, paybill first
    assert mpesa.stk(checkout, 0, "SKE0000002", PRICE).verdict is Verdict.LINK
    assert mpesa.stk_request(stk_request_id).status == "paid"
    assert mpesa.credited_kes(customer.id) == PRICE + PRICE
    assert mpesa.mpesa_payments() == [("SKE0000002", PRICE, customer.id)]


def test_a_paid_callback_after_the_query_said_failed_is_still_credited_once(
    mpesa: Any, expired_customer: Any
) -> None:
    customer = expired_customer()
    stk_request_id, checkout = mpesa.sent_push(customer.id)
    mpesa.query(stk_request_id, 1037, "DS timeout user cannot be reached")
    # The money moved after all: a receipt we are told of is never dropped.
    settled = mpesa.stk(checkout, 0, "SKF0000001", PRICE)
    assert settled.verdict is Verdict.CREDIT and settled.payment is not None
    assert mpesa.stk(checkout, 0, "SKF0000001", PRICE).verdict is Verdict.NOTHING
    assert mpesa.mpesa_payments() == [("SKF0000001", PRICE, customer.id)]
    assert mpesa.state(customer.id).status == "active"
    assert mpesa.periods(customer.id) == 1 + 1


def test_a_push_receipt_first_kept_unmatched_is_credited_to_the_push_customer_once(
    mpesa: Any, expired_customer: Any
) -> None:
    customer = expired_customer()
    _, checkout = mpesa.sent_push(customer.id)
    # The confirmation of the push's money came first, with an account reference we cannot read.
    assert mpesa.c2b("??", PRICE, "SKG0000001").customer_id is None
    settled = mpesa.stk(checkout, 0, "SKG0000001", PRICE)
    assert settled.verdict is Verdict.CREDIT and settled.payment is not None
    assert mpesa.c2b("??", PRICE, "SKG0000001").duplicate
    assert mpesa.mpesa_payments() == [("SKG0000001", PRICE, customer.id)]
    assert mpesa.credited_kes(customer.id) == PRICE + PRICE
    assert mpesa.state(customer.id).status == "active"


def test_two_query_paid_pushes_of_one_amount_and_their_receipts_credit_each_once(
    mpesa: Any, expired_customer: Any
) -> None:
    customer = expired_customer()
    first_request, first_checkout = mpesa.sent_push(customer.id)
    second_request, second_checkout = mpesa.sent_push(customer.id)
    # Safaricom's callbacks are late: both queries say paid, receipts unknown.
    mpesa.query(first_request, 0)
    mpesa.query(second_request, 0)
    # Each push's callback binds its own receipt to its own credit; a repeat changes nothing.
    assert mpesa.stk(second_checkout, 0, "SKH0000002", PRICE).verdict is Verdict.BIND
    assert mpesa.stk(first_checkout, 0, "SKH0000001", PRICE).verdict is Verdict.BIND
    assert mpesa.stk(first_checkout, 0, "SKH0000001", PRICE).verdict is Verdict.NOTHING
    assert mpesa.credited_kes(customer.id) == PRICE + 2 * PRICE
    assert sorted(ref for ref, _, _ in mpesa.mpesa_payments()) == ["SKH0000001", "SKH0000002"]
