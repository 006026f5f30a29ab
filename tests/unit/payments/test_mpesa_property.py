"""Property: however Safaricom delivers a set of receipts (duplicates, any order, by STK callback,
by paybill confirmation or both, with failed pushes and callbacks for pushes we never made mixed
in), every balance is the sum of that customer's distinct receipts less what renewals charged,
there is one payment per distinct receipt, and every expiry is what the money buys.

Each delivery goes the way a real one does: the raw body is stored (store_callback) and then
handled (payments.handling.handle), with real Daraja payloads. Customers start with nothing
paid and the clock is frozen, so n shillings buy exactly n // price periods from that instant.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.testing import TEST_EPOCH

# Hypothesis runs hundreds of examples: seconds to a minute; CI runs them, the edit loop skips them.
pytestmark = pytest.mark.slow

PRICE = 1500
PERIOD = timedelta(days=30)
AMOUNTS = [50, 500, 1000, 1499, 1500, 2000, 3000, 4500]
ACCOUNT_STYLES = ["exact", "lower", "no prefix", "spaced"]


@dataclass(frozen=True)
class Receipt:
    number: int
    customer: int | None  # None: an account number that names nobody (kept unmatched)
    amount_kes: int
    channels: tuple[str, ...]  # "stk" (a push we made) and/or "c2b" (paybill confirmation)

    @property
    def trans_id(self) -> str:
        return f"SP{self.number:08d}"


@dataclass(frozen=True)
class Delivery:
    kind: str  # "stk", "c2b", "stk_failed" or "stk_unknown"
    index: int  # the receipt (or failed push) it belongs to
    account_style: str = "exact"


@dataclass(frozen=True)
class Scenario:
    customers: int
    receipts: tuple[Receipt, ...]
    failed_pushes: tuple[int, ...]  # customer of each push that ends unpaid
    deliveries: tuple[Delivery, ...]


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    customers = draw(st.integers(1, 3))
    who = st.integers(0, customers - 1)
    receipts = []
    for number in range(draw(st.integers(1, 7))):
        customer = draw(st.one_of(who, who, who, st.none()))
        channels = (
            ("c2b",)
            if customer is None
            else draw(st.sampled_from([("stk",), ("c2b",), ("stk", "c2b")]))
        )
        receipts.append(Receipt(number, customer, draw(st.sampled_from(AMOUNTS)), channels))
    failed = tuple(draw(st.lists(who, max_size=2)))
    deliveries: list[Delivery] = []
    for receipt in receipts:
        for channel in receipt.channels:
            for _ in range(draw(st.integers(1, 3))):
                style = draw(st.sampled_from(ACCOUNT_STYLES)) if channel == "c2b" else "exact"
                deliveries.append(Delivery(channel, receipt.number, style))
    for index in range(len(failed)):
        deliveries += [Delivery("stk_failed", index)] * draw(st.integers(1, 2))
    deliveries += [Delivery("stk_unknown", 0)] * draw(st.integers(0, 1))
    order = draw(st.permutations(deliveries))
    return Scenario(customers, tuple(receipts), failed, tuple(order))


def _typed(account: str, style: str) -> str:
    code = account.split("-", 1)[1]
    return {
        "exact": account,
        "lower": account.lower(),
        "no prefix": code,
        "spaced": f" {account[:3]} {code[:3]} {code[3:]} ",
    }[style]


# Each example starts from an emptied database (the fresh_world factory), so the function-scoped
# fixture carries no state from one example to the next. Settlements by STK query (provisional
# credits matched to receipts by amount) are tested case by case in test_mpesa_exactly_once.py.
@settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scenario=scenarios())
def test_any_delivery_sequence_credits_each_receipt_once(fresh_world: Any, scenario: Scenario):
    mpesa, subscribers = fresh_world(scenario.customers)
    checkouts: dict[int, str] = {}
    for receipt in scenario.receipts:
        if "stk" in receipt.channels:
            assert receipt.customer is not None
            _, checkouts[receipt.number] = mpesa.sent_push(
                subscribers[receipt.customer].id, receipt.amount_kes
            )
    failed_checkouts = [
        mpesa.sent_push(subscribers[who].id, PRICE)[1] for who in scenario.failed_pushes
    ]

    for delivery in scenario.deliveries:
        receipt = scenario.receipts[delivery.index] if delivery.kind in ("stk", "c2b") else None
        if delivery.kind == "stk":
            assert receipt is not None
            payload = mpesa.stk_payload(
                checkouts[receipt.number], receipt.trans_id, receipt.amount_kes
            )
            answer = mpesa.deliver("stk", payload)
        elif delivery.kind == "c2b":
            assert receipt is not None
            account = (
                "NOBODY-123"
                if receipt.customer is None
                else _typed(subscribers[receipt.customer].account_number, delivery.account_style)
            )
            payload = mpesa.c2b_payload(account, receipt.amount_kes, receipt.trans_id)
            answer = mpesa.deliver("c2b_confirmation", payload)
        elif delivery.kind == "stk_failed":
            payload = mpesa.stk_payload(failed_checkouts[delivery.index], None, None, 1032)
            answer = mpesa.deliver("stk", payload)
        else:
            answer = mpesa.deliver("stk", mpesa.stk_payload("ws_CO_NOT_OURS", "SPX0000000", 10))
        assert (answer.status_code, answer.body["ResultCode"]) == (200, 0)

    # One payment per distinct receipt, to the right customer (or unmatched), for its amount.
    expected_payments = sorted(
        (
            receipt.trans_id,
            receipt.amount_kes,
            None if receipt.customer is None else subscribers[receipt.customer].id,
        )
        for receipt in scenario.receipts
    )
    assert sorted(mpesa.mpesa_payments(), key=lambda row: row[0]) == expected_payments
    for index, subscriber in enumerate(subscribers):
        total = sum(r.amount_kes for r in scenario.receipts if r.customer == index)
        periods = total // PRICE
        state = mpesa.state(subscriber.id)
        assert mpesa.credited_kes(subscriber.id) == total
        assert state.balance_kes == total - periods * PRICE
        assert mpesa.periods(subscriber.id) == periods
        if periods:
            assert (state.status, state.expires_at) == ("active", TEST_EPOCH + periods * PERIOD)
        else:
            assert (state.status, state.expires_at) == ("inactive", None)
    # Every body was kept; only the callback for a push we never made needs a person.
    statuses = [callback.status for callback in mpesa.callbacks()]
    assert len(statuses) == len(scenario.deliveries)
    unknown = sum(1 for d in scenario.deliveries if d.kind == "stk_unknown")
    assert statuses.count("flagged") == unknown
    assert statuses.count("processed") == len(statuses) - unknown
