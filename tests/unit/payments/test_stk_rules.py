"""The table of core/stk_rules.py, row by row: what an STK result is believed for."""

from __future__ import annotations

import pytest

from core.stk_rules import (
    PushFacts,
    PushStatus,
    ReceiptHolder,
    ResultFacts,
    Verdict,
    decide,
    pick_unconfirmed,
)

PHONE = "+254712345678"
OPEN = [PushStatus.QUEUED, PushStatus.SENDING, PushStatus.PENDING, PushStatus.UNCONFIRMED]
NOT_PAID = [*OPEN, PushStatus.FAILED, PushStatus.ERROR]


def push(status: PushStatus, *, by_query: bool = False) -> PushFacts:
    return PushFacts(status, 1500, PHONE, credited_by_query=by_query)


def paid(
    amount: int = 1500,
    holder: ReceiptHolder = ReceiptHolder.NOBODY,
    held: int | None = None,
    phone: str | None = PHONE,
) -> ResultFacts:
    return ResultFacts(True, amount, phone, holder, held)


@pytest.mark.parametrize("status", OPEN)
def test_not_paid_fails_an_open_push(status: PushStatus) -> None:
    assert decide(push(status), ResultFacts(False)).verdict is Verdict.FAIL


@pytest.mark.parametrize("status", [PushStatus.FAILED, PushStatus.ERROR, PushStatus.PAID])
def test_not_paid_leaves_a_settled_push(status: PushStatus) -> None:
    assert decide(push(status), ResultFacts(False)).verdict is Verdict.NOTHING


def test_not_paid_after_a_query_said_paid_is_flagged() -> None:
    decision = decide(push(PushStatus.PAID, by_query=True), ResultFacts(False))
    assert decision.verdict is Verdict.FLAG and "query said paid" in decision.reason


@pytest.mark.parametrize("status", [*NOT_PAID, PushStatus.PAID])
@pytest.mark.parametrize("amount", [1, 1499, 1501, 150_000])
def test_another_amount_is_flagged_whatever_the_push(status: PushStatus, amount: int) -> None:
    decision = decide(push(status), paid(amount))
    assert decision.verdict is Verdict.FLAG and "KES 1,500" in decision.reason


def test_another_phone_is_flagged_and_a_masked_one_is_no_evidence() -> None:
    assert decide(push(PushStatus.PENDING), paid(phone="+254700000001")).verdict is Verdict.FLAG
    assert decide(push(PushStatus.PENDING), paid(phone=None)).verdict is Verdict.CREDIT


@pytest.mark.parametrize(
    ("pushed", "result", "verdict"),
    [
        (push(PushStatus.PAID), paid(holder=ReceiptHolder.THIS_PUSH, held=1500), Verdict.NOTHING),
        (push(PushStatus.PAID, by_query=True), paid(), Verdict.BIND),
        (
            push(PushStatus.PAID, by_query=True),
            paid(holder=ReceiptHolder.SAME_CUSTOMER, held=1500),
            Verdict.FLAG,
        ),
        (push(PushStatus.PAID), paid(), Verdict.FLAG),
        (push(PushStatus.PENDING), paid(), Verdict.CREDIT),
        (push(PushStatus.FAILED), paid(), Verdict.CREDIT),
        (push(PushStatus.PENDING), paid(holder=ReceiptHolder.UNMATCHED, held=1500), Verdict.CREDIT),
        (push(PushStatus.PENDING), paid(holder=ReceiptHolder.UNMATCHED, held=5000), Verdict.FLAG),
        (
            push(PushStatus.PENDING),
            paid(holder=ReceiptHolder.SAME_CUSTOMER, held=1500),
            Verdict.LINK,
        ),
        (
            push(PushStatus.PENDING),
            paid(holder=ReceiptHolder.SAME_CUSTOMER, held=500),
            Verdict.FLAG,
        ),
        (
            push(PushStatus.PENDING),
            paid(holder=ReceiptHolder.OTHER_CUSTOMER, held=1500),
            Verdict.FLAG,
        ),
    ],
)
def test_a_paid_result_by_who_holds_its_receipt(
    pushed: PushFacts, result: ResultFacts, verdict: Verdict
) -> None:
    assert decide(pushed, result).verdict is verdict


def test_an_unknown_checkout_goes_to_the_one_unconfirmed_push_and_waits_for_one_being_sent() -> (
    None
):
    assert pick_unconfirmed([(7, PushStatus.UNCONFIRMED)]) == 7
    assert pick_unconfirmed([]) is None
    assert pick_unconfirmed([(7, PushStatus.SENDING)]) is None
    assert pick_unconfirmed([(7, PushStatus.UNCONFIRMED), (8, PushStatus.SENDING)]) is None
    assert pick_unconfirmed([(7, PushStatus.UNCONFIRMED), (8, PushStatus.UNCONFIRMED)]) is None
