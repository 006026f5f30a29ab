"""Two changes to one customer at once are serialized: row lock on PostgreSQL, BEGIN IMMEDIATE on
SQLite. Each thread uses its own unit of work, released together by a barrier."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from core.errors import InvalidTransition
from core.models import Payment, Subscription
from core.testing import TEST_EPOCH, run_together
from core.unit_of_work import CoreServices, UnitOfWork
from core.usecases.billing import (
    IncomingPayment,
    PaymentResult,
    record_payment,
    record_unmatched_payment,
)
from core.usecases.service import suspend

THREADS = 8
PERIOD = timedelta(days=30)
T = TypeVar("T")


class Retries:
    """Counts how often a unit of work had to be retried after IntegrityError."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    def add(self) -> None:
        with self._lock:
            self.count += 1


def committed(
    services: CoreServices, use_case: Callable[[UnitOfWork], T], retries: Retries | None = None
) -> T:
    """Run ``use_case`` in its own unit of work and commit, retrying the whole unit of work on
    IntegrityError the way an adapter must (the second try sees the winner's row)."""
    for attempt in range(5):
        try:
            with services.unit_of_work() as uow:
                result = use_case(uow)
                uow.commit()
                return result
        except IntegrityError:
            if retries is None or attempt == 4:
                raise
            retries.add()
    raise AssertionError("unreachable")


def _count(services: CoreServices, model: Any, **where: Any) -> int:
    with services.unit_of_work() as uow:
        query = select(func.count()).select_from(model).filter_by(**where)
        return int(uow.session.scalar(query) or 0)


def _no_errors(results: list[Any]) -> None:
    errors = [result for result in results if isinstance(result, BaseException)]
    assert errors == []


def test_concurrent_payments_end_with_exact_balance_and_expiry(
    isp_db, staff, new_customer, state
) -> None:
    customer_id = new_customer(paid=1500)  # active until TEST_EPOCH + 30 days
    per_thread = 3

    def pay_three(thread: int) -> Callable[[], list[PaymentResult]]:
        def job() -> list[PaymentResult]:
            return [
                committed(
                    isp_db,
                    lambda uow, n=n: record_payment(
                        uow, customer_id, staff, IncomingPayment(1000, "mpesa", f"RK{thread}X{n}")
                    ),
                )
                for n in range(per_thread)
            ]

        return job

    results = run_together([pay_three(thread) for thread in range(THREADS)])
    _no_errors(results)

    # 24 payments of 1000 = 24000 = 16 periods of 1500, whatever the order they landed in.
    final = state(customer_id)
    assert final["balance_kes"] == 0
    assert final["expires_at"] == TEST_EPOCH + (1 + 16) * PERIOD
    assert final["status"] == "active"
    assert _count(isp_db, Payment, customer_id=customer_id) == 1 + THREADS * per_thread
    assert _count(isp_db, Subscription, customer_id=customer_id) == 1 + 16
    renewed = sum(result.renewal.periods for thread in results for result in thread)
    assert renewed == 16


def test_the_same_receipt_from_many_threads_is_credited_once(
    isp_db, staff, new_customer, state
) -> None:
    customer_id = new_customer()
    retries = Retries()

    def pay() -> PaymentResult:
        return committed(
            isp_db,
            lambda uow: record_payment(
                uow, customer_id, staff, IncomingPayment(1500, "mpesa", "RKSAME01")
            ),
            retries,
        )

    results = run_together([pay] * THREADS)
    _no_errors(results)
    assert [result.duplicate for result in results].count(False) == 1
    assert len({result.payment_id for result in results}) == 1
    final = state(customer_id)
    assert (final["balance_kes"], final["expires_at"]) == (0, TEST_EPOCH + PERIOD)
    assert _count(isp_db, Payment, reference="RKSAME01") == 1
    assert retries.count <= THREADS - 1  # a loser retries at most once, then sees the winner


def test_the_same_receipt_for_different_customers_is_credited_once(
    isp_db, staff, new_customer, state
) -> None:
    """No customer row is shared, so nothing serializes these but the unique index: the losers
    hit IntegrityError, retry, and then find the winner's payment."""
    customers = [new_customer(full_name=f"Customer {n}") for n in range(THREADS)]
    retries = Retries()

    def pay(customer_id: int) -> Callable[[], PaymentResult]:
        return lambda: committed(
            isp_db,
            lambda uow: record_payment(
                uow, customer_id, staff, IncomingPayment(1500, "mpesa", "RKSHARED")
            ),
            retries,
        )

    results = run_together([pay(customer_id) for customer_id in customers])
    _no_errors(results)
    winners = [result for result in results if not result.duplicate]
    assert len(winners) == 1
    assert {result.customer_id for result in results} == {winners[0].customer_id}
    balances = sorted(state(customer_id)["balance_kes"] for customer_id in customers)
    assert balances == [0] * THREADS
    assert _count(isp_db, Payment, reference="RKSHARED") == 1
    assert retries.count <= THREADS - 1
    paid = [cid for cid in customers if state(cid)["status"] == "active"]
    assert paid == [winners[0].customer_id]


def test_an_unmatched_receipt_from_many_threads_is_kept_once(isp_db, staff) -> None:
    retries = Retries()

    def keep() -> PaymentResult:
        return committed(
            isp_db,
            lambda uow: record_unmatched_payment(
                uow, staff, IncomingPayment(700, "mpesa", "RKLOST01", account_reference="X")
            ),
            retries,
        )

    results = run_together([keep] * THREADS)
    _no_errors(results)
    assert [result.duplicate for result in results].count(False) == 1
    assert len({result.payment_id for result in results}) == 1
    assert _count(isp_db, Payment, reference="RKLOST01") == 1
    assert retries.count <= THREADS - 1


@pytest.mark.parametrize("round_number", range(3))
def test_payments_racing_a_suspension_leave_a_consistent_state(
    isp_db, staff, new_customer, state, round_number: int
) -> None:
    customer_id = new_customer(paid=1500)
    payers = THREADS // 2

    def pay(n: int) -> Callable[[], PaymentResult]:
        return lambda: committed(
            isp_db,
            lambda uow: record_payment(
                uow, customer_id, staff, IncomingPayment(1500, "cash", f"R{round_number}P{n}")
            ),
        )

    def suspend_now() -> Any:
        return committed(isp_db, lambda uow: suspend(uow, customer_id, staff, "race"))

    results = run_together([pay(n) for n in range(payers)] + [suspend_now] * (THREADS - payers))

    suspensions = results[payers:]
    refused = [result for result in suspensions if isinstance(result, InvalidTransition)]
    assert len(refused) == len(suspensions) - 1, suspensions
    _no_errors(results[:payers])

    final = state(customer_id)
    periods_bought = _count(isp_db, Subscription, customer_id=customer_id) - 1
    renewed = sum(result.renewal.periods for result in results[:payers])
    assert final["status"] == "suspended"
    assert renewed == periods_bought
    # Payments before the suspension renewed; those after it stayed as credit.
    assert final["balance_kes"] == (payers - periods_bought) * 1500
    assert final["expires_at"] == TEST_EPOCH + (1 + periods_bought) * PERIOD
    blocked = [result for result in results[:payers] if result.customer_suspended]
    assert len(blocked) == payers - periods_bought
    assert final["sync_pending"] is True
