"""What an STK result is believed for: the table of cases, in one place.

An STK callback (or query) is believed only for what it can prove: its own push (the
CheckoutRequestID we stored), the amount we pushed, once. What it cannot prove is kept and
flagged for staff, never credited automatically and never dropped.

``decide`` is a pure function of what we recorded about the push and what the result says:

| the result says            | the push                                  | verdict                 |
|----------------------------|-------------------------------------------|-------------------------|
| not paid                   | queued, sending, pending, unconfirmed     | FAIL (subscriber told)  |
| not paid                   | failed, error                             | NOTHING (settled)       |
| not paid                   | paid by a query's receipt-less credit     | FLAG (Safaricom         |
|                            |                                           | contradicts itself)     |
| not paid                   | paid with a receipt                       | NOTHING (settled)       |
| paid, amount ≠ pushed      | any                                       | FLAG, credit nothing    |
| paid, phone ≠ pushed       | any (a masked or absent phone is no       | FLAG, credit nothing    |
|                            | evidence either way)                      |                         |
| paid, the push's receipt   | paid                                      | NOTHING (a repeat)      |
| paid, new receipt          | paid by a query's receipt-less credit     | BIND the receipt to it  |
| paid, receipt held by      | paid by a query's receipt-less credit     | FLAG (one payment       |
| another payment            |                                           | credited twice)         |
| paid, another receipt      | paid with a receipt                       | FLAG (second receipt)   |
| paid, new receipt          | not paid (any other status)               | CREDIT the pushed amount|
| paid, receipt kept         | not paid                                  | CREDIT: that payment is |
| unmatched, of the pushed   |                                           | the push's customer's   |
| amount                     |                                           |                         |
| paid, receipt credited to  | not paid                                  | LINK the push to it     |
| the push's customer, of    |                                           |                         |
| the pushed amount          |                                           |                         |
| paid, receipt held for     | not paid                                  | FLAG                    |
| another amount             |                                           |                         |
| paid, receipt credited to  | not paid                                  | FLAG                    |
| another customer           |                                           |                         |

A paid callback whose CheckoutRequestID we never stored (the send's answer was lost) is matched
by ``pick_unconfirmed``: to the one unconfirmed push of its phone and amount, only while no push
of that phone and amount is still being sent (the callback may be that one's: it waits), and
never when the callback's phone is masked or missing. Otherwise it is flagged.

A result for a push whose customer has been deleted since is flagged; real money of the pushed
amount is kept as an unmatched payment for staff to assign.

A paybill (C2B) confirmation proves its own receipt and is credited by it; Daraja posts STK
results to the push's CallBackURL only, so a paybill payment is never taken for a push's money.
Should Safaricom ever send both for one payment whose STK callback was lost, the query's
receipt-less credit stays in the needs-attention queue until a receipt is bound to it, and the
late callback flags the pair ("credited twice"): staff see it either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from core.display import kes


class PushStatus(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    PENDING = "pending"
    UNCONFIRMED = "unconfirmed"
    PAID = "paid"
    FAILED = "failed"
    ERROR = "error"


OPEN_STATUSES = frozenset(
    {PushStatus.QUEUED, PushStatus.SENDING, PushStatus.PENDING, PushStatus.UNCONFIRMED}
)


class Verdict(StrEnum):
    FAIL = "fail"
    CREDIT = "credit"
    LINK = "link"
    BIND = "bind"
    NOTHING = "nothing"
    FLAG = "flag"


class ReceiptHolder(StrEnum):
    """Who already holds the result's receipt number."""

    NOBODY = "nobody"
    THIS_PUSH = "this_push"  # the payment the push is linked to
    UNMATCHED = "unmatched"  # a payment kept for staff, no customer yet
    SAME_CUSTOMER = "same_customer"  # another payment of the push's customer
    OTHER_CUSTOMER = "other_customer"


@dataclass(frozen=True)
class PushFacts:
    status: PushStatus
    amount_kes: int
    phone: str
    # The push is linked to a payment: a query's receipt-less credit, or one with a receipt.
    credited_by_query: bool = False


@dataclass(frozen=True)
class ResultFacts:
    paid: bool
    amount_kes: int | None = None
    phone: str | None = None
    receipt_holder: ReceiptHolder = ReceiptHolder.NOBODY
    # The amount of the payment that already holds the receipt, if one does.
    held_amount_kes: int | None = None


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    reason: str = ""


def decide(push: PushFacts, result: ResultFacts) -> Decision:
    """The verdict of the table above for one push and one result."""
    if not result.paid:
        if push.status in OPEN_STATUSES:
            return Decision(Verdict.FAIL)
        if push.status is PushStatus.PAID and push.credited_by_query:
            return Decision(
                Verdict.FLAG,
                "the STK query said paid (and it was credited) but the callback says it failed",
            )
        return Decision(Verdict.NOTHING, "already settled")
    if result.amount_kes != push.amount_kes:
        return Decision(
            Verdict.FLAG,
            f"the callback says {kes(result.amount_kes or 0)} for a push of {kes(push.amount_kes)}",
        )
    if result.phone is not None and result.phone != push.phone:
        return Decision(
            Verdict.FLAG, f"the callback's phone {result.phone} is not the pushed {push.phone}"
        )
    holder = result.receipt_holder
    if push.status is PushStatus.PAID:
        if holder is ReceiptHolder.THIS_PUSH:
            return Decision(Verdict.NOTHING, "a repeat")
        if not push.credited_by_query:
            return Decision(Verdict.FLAG, "a second receipt for a push already paid")
        if holder is ReceiptHolder.NOBODY:
            return Decision(Verdict.BIND)
        return Decision(
            Verdict.FLAG,
            "the push was credited by an STK query and its receipt was credited too: "
            "one payment credited twice",
        )
    if holder is ReceiptHolder.NOBODY:
        return Decision(Verdict.CREDIT)
    if holder is ReceiptHolder.OTHER_CUSTOMER:
        return Decision(Verdict.FLAG, "the receipt is already credited to another customer")
    if result.held_amount_kes != push.amount_kes:
        return Decision(
            Verdict.FLAG,
            f"the receipt is already recorded for {kes(result.held_amount_kes or 0)}, "
            f"not the pushed {kes(push.amount_kes)}",
        )
    if holder is ReceiptHolder.UNMATCHED:
        return Decision(Verdict.CREDIT)
    return Decision(Verdict.LINK)


def pick_unconfirmed(candidates: list[tuple[int, PushStatus]]) -> int | None:
    """The push a paid callback with an unknown CheckoutRequestID is for, from the pushes of
    its phone and amount that are unconfirmed or being sent (see the module docstring)."""
    if len(candidates) != 1:
        return None
    push_id, status = candidates[0]
    return push_id if status is PushStatus.UNCONFIRMED else None
