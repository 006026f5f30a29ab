"""Two money paths interleaved at every step, on PostgreSQL (issue 14.3).

SQLite's whole-database write lock serializes everything and hides races; PostgreSQL takes row
locks, so two paths really interleave. The ``gate`` fixture (conftest.py) pauses the first path
before its n-th SQL statement, runs the second path to its end (or until it blocks on a lock the
first holds), then lets the first go on. n runs over every statement of the first path, and the
two paths swap roles, so each step of each is tried before and after the other's lock and commit.

Once, a paybill confirmation and an STK query read before locking the customer and both
credited one payment (KES 2,500 credited as 5,000).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select

from core.actors import Actor
from core.errors import InvalidTransition
from core.models import LedgerEntry, Payment
from core.retry import in_transaction
from core.unit_of_work import CoreServices
from core.usecases.billing import IncomingPayment, assign_payment, record_payment
from core.usecases.c2b import C2BConfirmation, confirm_c2b
from core.usecases.stk import StkResult, settle_stk, settle_stk_by_query
from core.vocabulary import LedgerKind

pytestmark = [
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
    pytest.mark.slow,  # each pair waits on gates between real transactions: seconds each
]

AMOUNT = 2500


@dataclass
class World:
    services: CoreServices
    customer_id: int
    account_number: str
    stk_request_id: int
    checkout: str
    phone: str


@pytest.fixture
def make_world(store: Any) -> Callable[[], World]:
    def make() -> World:
        customer = store.customer()
        checkout = store.sent_push(customer.id, AMOUNT)
        with store.services.unit_of_work() as uow:
            from core.models import StkRequest

            request = uow.session.scalars(
                select(StkRequest).where(StkRequest.checkout_request_id == checkout)
            ).one()
            stk_request_id = request.id
        return World(
            store.services,
            customer.id,
            customer.account_number,
            stk_request_id,
            checkout,
            customer.phone,
        )

    return make


# -- the paths -------------------------------------------------------------------------------------

_receipts = itertools.count(1)


def paybill(receipt: str | None = None) -> Callable[[World], Any]:
    def pay(world: World) -> Any:
        confirmation = C2BConfirmation(
            trans_id=receipt or f"SIP{next(_receipts):07d}",
            amount_kes=AMOUNT,
            bill_ref_number=world.account_number,
            paid_at=None,
            payer_phone=None,
            payer_name="JOHN DOE",
        )
        return in_transaction(world.services, lambda uow: confirm_c2b(uow, confirmation))

    return pay


def stk_callback(receipt: str, amount_kes: int = AMOUNT) -> Callable[[World], Any]:
    def call_back(world: World) -> Any:
        result = StkResult(
            checkout_request_id=world.checkout,
            result_code=0,
            result_description="The service request is processed successfully.",
            amount_kes=amount_kes,
            receipt=receipt,
            phone=world.phone,
        )
        return in_transaction(world.services, lambda uow: settle_stk(uow, result))

    return call_back


def stk_query_paid(world: World) -> Any:
    return in_transaction(
        world.services,
        lambda uow: settle_stk_by_query(uow, world.stk_request_id, 0, "paid"),
    )


def cash(world: World) -> Any:
    incoming = IncomingPayment(amount_kes=AMOUNT, method="cash")
    return in_transaction(
        world.services,
        lambda uow: record_payment(uow, world.customer_id, Actor.cli(), incoming),
    )


def credited(world: World) -> tuple[int, int]:
    """(payments, shillings credited) of the world's customer."""
    with world.services.unit_of_work() as uow:
        payments = uow.session.scalar(
            select(func.count(Payment.id)).where(Payment.customer_id == world.customer_id)
        )
        total = uow.session.scalar(
            select(func.coalesce(func.sum(LedgerEntry.amount_kes), 0)).where(
                LedgerEntry.customer_id == world.customer_id,
                LedgerEntry.kind == LedgerKind.PAYMENT.value,
            )
        )
        return int(payments or 0), int(total or 0)


# -- the interleavings -----------------------------------------------------------------------------


def test_a_paybill_payment_and_a_query_paid_push_are_two_payments(
    gate: Any, make_world: Callable[[], World]
) -> None:
    def check(world: World) -> None:
        assert credited(world) == (2, 2 * AMOUNT)

    assert gate.every_interleaving(make_world, paybill(), stk_query_paid, check) > 4


def test_a_callback_and_a_query_for_one_push_credit_it_once(
    gate: Any, make_world: Callable[[], World]
) -> None:
    receipts = (f"SIQ{number:07d}" for number in itertools.count())

    def callback(world: World) -> Any:
        return stk_callback(next(receipts))(world)

    def check(world: World) -> None:
        assert credited(world) == (1, AMOUNT)
        with world.services.unit_of_work() as uow:
            [reference] = uow.session.scalars(
                select(Payment.reference).where(Payment.customer_id == world.customer_id)
            )
        assert reference.startswith("SIQ"), "the receipt is bound to a query's credit"

    assert gate.every_interleaving(make_world, callback, stk_query_paid, check) > 4


def test_one_receipt_by_callback_and_by_paybill_is_one_payment(
    gate: Any, make_world: Callable[[], World]
) -> None:
    receipts = iter(f"SIR{number:07d}" for number in itertools.count())
    current: dict[int, str] = {}

    def receipt_of(world: World) -> str:
        return current.setdefault(world.customer_id, next(receipts))

    def check(world: World) -> None:
        assert credited(world) == (1, AMOUNT)

    assert (
        gate.every_interleaving(
            make_world,
            lambda world: stk_callback(receipt_of(world))(world),
            lambda world: paybill(receipt_of(world))(world),
            check,
        )
        > 4
    )


def test_two_callbacks_with_new_receipts_for_one_push_credit_it_once(
    gate: Any, make_world: Callable[[], World]
) -> None:
    receipts = (f"SIS{number:07d}" for number in itertools.count())

    def callback(world: World) -> Any:
        return stk_callback(next(receipts))(world)

    def check(world: World) -> None:
        assert credited(world) == (1, AMOUNT)

    assert gate.every_interleaving(make_world, callback, callback, check) > 4


def test_a_cash_payment_and_an_stk_callback_are_both_credited(
    gate: Any, make_world: Callable[[], World]
) -> None:
    receipts = (f"SIT{number:07d}" for number in itertools.count())

    def callback(world: World) -> Any:
        return stk_callback(next(receipts))(world)

    def check(world: World) -> None:
        assert credited(world) == (2, 2 * AMOUNT)

    assert gate.every_interleaving(make_world, cash, callback, check) > 4


def test_one_paybill_confirmation_delivered_twice_is_one_payment(
    gate: Any, make_world: Callable[[], World]
) -> None:
    receipts = iter(f"SIU{number:07d}" for number in itertools.count())
    current: dict[int, str] = {}

    def deliver(world: World) -> Any:
        return paybill(current.setdefault(world.customer_id, next(receipts)))(world)

    def check(world: World) -> None:
        assert credited(world) == (1, AMOUNT)

    assert gate.every_interleaving(make_world, deliver, deliver, check) > 4


def test_a_query_paid_push_and_staff_cash_are_both_credited(
    gate: Any, make_world: Callable[[], World]
) -> None:
    def check(world: World) -> None:
        assert credited(world) == (2, 2 * AMOUNT)

    assert gate.every_interleaving(make_world, stk_query_paid, cash, check) > 4


def test_staff_assigning_a_kept_receipt_and_its_redelivery_credit_it_once_without_deadlock(
    gate: Any, make_world: Callable[[], World]
) -> None:
    """/assign has no retry: it must never be a deadlock's victim (it once locked the payment
    before the customer, the reverse of every other path)."""
    receipts = iter(f"SIV{number:07d}" for number in itertools.count())
    kept: dict[int, str] = {}

    def keep_unmatched(world: World) -> str:
        if world.customer_id not in kept:
            receipt = kept[world.customer_id] = next(receipts)
            confirmation = C2BConfirmation(receipt, AMOUNT, "NO-SUCH-ACCOUNT", None, None, "JOHN")
            in_transaction(world.services, lambda uow: confirm_c2b(uow, confirmation))
        return kept[world.customer_id]

    def assign(world: World) -> Any:
        with world.services.unit_of_work() as uow:  # as the bot does: one try
            paid = assign_payment(uow, Actor.cli(), kept[world.customer_id], world.customer_id)
            uow.commit()
            return paid

    def redelivery(world: World) -> Any:
        return paybill(kept[world.customer_id])(world)

    def world_with_kept_money() -> World:
        world = make_world()
        keep_unmatched(world)
        return world

    def check(world: World) -> None:
        assert credited(world) == (1, AMOUNT)

    assert (
        gate.every_interleaving(
            world_with_kept_money,
            lambda world: _quietly(assign, world),
            lambda world: _quietly(redelivery, world),
            check,
        )
        > 4
    )


def _quietly(path: Callable[[World], Any], world: World) -> Any:
    """A path whose refusal is a right answer (the money was credited by the other)."""
    try:
        return path(world)
    except InvalidTransition:
        return None
