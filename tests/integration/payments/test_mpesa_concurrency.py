"""Callbacks for the same few customers delivered at once from many threads, with the same receipts
repeated across threads and arriving by both channels, on SQLite and PostgreSQL: every receipt is
credited exactly once and every balance and expiry is exact."""

from __future__ import annotations

import json
import random
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from core.retry import in_transaction
from core.testing import TEST_EPOCH
from core.usecases.billing import IncomingPayment, record_payment
from core.usecases.c2b import C2BConfirmation, confirm_c2b
from core.usecases.mpesa_callbacks import store_callback
from mteja.web import build_app
from payments.callback_urls import c2b_confirmation_path, stk_callback_path
from payments.handling import handle
from sim.serving import BackgroundServer

PRICE = 1500
PERIOD = timedelta(days=30)
THREADS = 8
AMOUNTS = [500, 1000, 1500, 2000, 3000]


@dataclass(frozen=True)
class Receipt:
    trans_id: str
    customer: int
    amount_kes: int
    channels: tuple[str, ...]


def _receipts(customers: int, count: int) -> list[Receipt]:
    channel_sets = [("stk",), ("c2b",), ("stk", "c2b")]
    return [
        Receipt(
            f"SKC{number:07d}",
            number % customers,
            AMOUNTS[number % len(AMOUNTS)],
            channel_sets[(number // customers) % len(channel_sets)],
        )
        for number in range(count)
    ]


def _deliveries(store: Any, receipts: list[Receipt], subscribers: list[Any]) -> list[Any]:
    """(kind, body) for one delivery of each receipt on each of its channels."""
    deliveries = []
    for receipt in receipts:
        subscriber = subscribers[receipt.customer]
        if "stk" in receipt.channels:
            checkout = store.sent_push(subscriber.id, receipt.amount_kes)
            payload = store.stk(checkout, receipt.trans_id, receipt.amount_kes)
            deliveries.append(("stk", json.dumps(payload).encode()))
        if "c2b" in receipt.channels:
            account = subscriber.account_number
            if receipt.amount_kes % 1000:
                account = account.lower()
            payload = store.c2b(account, receipt.amount_kes, receipt.trans_id)
            deliveries.append(("c2b_confirmation", json.dumps(payload).encode()))
    return deliveries


def _run_in_threads(work: Any, deliveries: list[Any]) -> list[BaseException]:
    """Each thread delivers every callback, in its own shuffled order; all start at once."""
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def run(seed: int) -> None:
        order = deliveries[:]
        random.Random(seed).shuffle(order)
        start.wait()
        for kind, body in order:
            try:
                work(kind, body)
            except BaseException as error:  # reported below, with the others
                errors.append(error)

    threads = [threading.Thread(target=run, args=(seed,)) for seed in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a delivery thread hung"
    return errors


def _check_exact(store: Any, receipts: list[Receipt], subscribers: list[Any]) -> None:
    """One payment per receipt, exact balances and periods, and the expiry those periods make."""
    assert store.payments() == sorted(
        (r.trans_id, r.amount_kes, subscribers[r.customer].id) for r in receipts
    )
    wrong_expiry = []
    for index, subscriber in enumerate(subscribers):
        total = sum(r.amount_kes for r in receipts if r.customer == index)
        periods = total // PRICE
        state = store.state(subscriber.id)
        assert state.balance_kes == total - periods * PRICE, subscriber
        assert store.periods(subscriber.id) == periods, subscriber
        expected = TEST_EPOCH + periods * PERIOD if periods else None
        if state.expires_at != expected:
            wrong_expiry.append((subscriber.account_number, state.expires_at, expected))
    assert wrong_expiry == []


def test_many_threads_delivering_the_same_receipts_credit_each_once(store: Any) -> None:
    subscribers = [store.customer() for _ in range(3)]
    receipts = _receipts(len(subscribers), 12)
    deliveries = _deliveries(store, receipts, subscribers)

    def deliver(kind: str, body: bytes) -> None:
        callback = in_transaction(
            store.services, lambda uow: store_callback(uow, kind, body, "196.201.214.200")
        )
        answer = handle(store.services, callback.id, kind, body, "174379")
        assert answer.status_code == 200, answer.body

    errors = _run_in_threads(deliver, deliveries)
    assert errors == []
    _check_exact(store, receipts, subscribers)
    statuses = [callback.status for callback in store.callbacks()]
    assert statuses == ["processed"] * (THREADS * len(deliveries))


def test_many_clients_posting_to_the_running_app_at_once_credit_each_once(store: Any) -> None:
    from core.settings import Settings

    subscribers = [store.customer() for _ in range(2)]
    receipts = _receipts(len(subscribers), 6)
    deliveries = _deliveries(store, receipts, subscribers)
    settings = Settings(
        callback_token="tok",
        mpesa_allowed_ips="127.0.0.1",
        mpesa_shortcode="174379",
        _env_file=None,  # type: ignore[call-arg]
    )
    paths = {"stk": stk_callback_path("tok"), "c2b_confirmation": c2b_confirmation_path("tok")}
    with BackgroundServer(build_app(settings, store.services)) as server:
        local = threading.local()

        def post(kind: str, body: bytes) -> None:
            if not hasattr(local, "client"):
                local.client = httpx.Client(base_url=server.base_url, timeout=60)
            answer = local.client.post(paths[kind], content=body)
            assert answer.status_code == 200, answer.text

        errors = _run_in_threads(post, deliveries)
    assert errors == []
    _check_exact(store, receipts, subscribers)
    assert len(store.callbacks()) == THREADS * len(deliveries)


# PostgreSQL only: SQLite takes its write lock at BEGIN, so there the second payment reads after
# the first commits and cannot be caught waiting on a row lock.
@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_paybill_payment_that_waits_for_another_extends_from_the_new_expiry(
    store: Any, staff: Any, database_url: str
) -> None:
    customer = store.customer()
    services = store.services
    waiting: dict[str, Any] = {}

    def pay_by_paybill() -> None:
        confirmation = C2BConfirmation(
            "SKL0000002", PRICE, customer.account_number, None, None, "JOHN"
        )
        try:
            waiting["result"] = in_transaction(services, lambda uow: confirm_c2b(uow, confirmation))
        except BaseException as error:
            waiting["error"] = error

    second = threading.Thread(target=pay_by_paybill)
    with services.unit_of_work() as first:
        # The first payment holds the customer's row lock, not yet committed...
        record_payment(first, customer.id, staff, IncomingPayment(PRICE, "mpesa", "SKL0000001"))
        second.start()
        # ...while the paybill confirmation of a second one waits for that lock.
        _wait_for_a_blocked_lock(services)
        first.commit()
    second.join(timeout=30)
    assert "error" not in waiting and not second.is_alive()
    state = store.state(customer.id)
    assert (store.periods(customer.id), state.balance_kes) == (2, 0)
    assert state.expires_at == TEST_EPOCH + 2 * PERIOD


def _wait_for_a_blocked_lock(services: Any, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    with services.session_factory() as session:
        while time.monotonic() < deadline:
            waiting = session.scalar(text("select count(*) from pg_locks where not granted"))
            session.rollback()
            if waiting:
                return
            time.sleep(0.05)
    raise AssertionError("the second payment never waited for the customer's lock")
