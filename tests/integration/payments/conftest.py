"""Fixtures for the M-Pesa integration tests: a small ISP on a real, migrated database (a SQLite
file and PostgreSQL), the real Starlette app in front of it, real Daraja payloads, short ways to
read back what was stored, and a ``Gate`` that interleaves two money paths on PostgreSQL."""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import httpx
import pytest
from sqlalchemy import Engine, event, func, select, text

from core import ledger
from core.actors import Actor
from core.clock import FrozenClock
from core.models import Customer, MpesaCallback, Payment, StkRequest, Subscription
from core.retry import in_transaction
from core.settings import SAFARICOM_CALLBACK_IPS, Settings
from core.unit_of_work import CoreServices
from core.usecases.customers import NewCustomer, create_customer
from core.usecases.network import RouterSpec, add_pool, add_router
from core.usecases.plans import PlanSpec, add_plan
from core.usecases.stk import mark_stk_sent, request_stk_push
from mteja.web import build_app
from payments.callback_urls import (
    CALLBACK_PREFIX,
    c2b_confirmation_path,
    c2b_validation_path,
    stk_callback_path,
)
from sim.daraja.wire import c2b_payload, stk_callback_payload

PLAN_PRICE_KES = 1500
SHORTCODE = "174379"
TOKEN = "cb-token-8f2e1c"
SAFARICOM_ADDRESS = "196.201.214.200"


@dataclass(frozen=True)
class Subscriber:
    id: int
    account_number: str
    phone: str


@dataclass(frozen=True)
class State:
    status: str
    expires_at: datetime | None
    balance_kes: int


class Store:
    """Reads back what the database holds, and makes customers and pushes through core."""

    def __init__(self, services: CoreServices, clock: FrozenClock, staff: Actor) -> None:
        self.services = services
        self.clock = clock
        self.staff = staff
        self._numbers = itertools.count(10)
        self._serial = itertools.count(1)

    def customer(self) -> Subscriber:
        number = next(self._numbers)
        form = NewCustomer(
            full_name=f"Achieng Otieno {number}",
            phone=f"0722{334400 + number:06d}",
            connection_type="pppoe",
            plan="Home 10M",
            router="core-1",
        )
        with self.services.unit_of_work() as uow:
            customer = create_customer(uow, self.staff, form).customer
            uow.commit()
            return Subscriber(customer.id, customer.account_number, customer.phone or "")

    def sent_push(self, customer_id: int, amount_kes: int) -> str:
        """A push Safaricom accepted; returns its CheckoutRequestID."""
        queued = in_transaction(
            self.services,
            lambda uow: request_stk_push(uow, customer_id, self.staff, amount_kes),
        )
        serial = next(self._serial)
        checkout = f"ws_CO_22112026120000{serial:06d}"
        in_transaction(
            self.services,
            lambda uow: mark_stk_sent(uow, queued.stk_request_id, f"29115-{serial}", checkout),
        )
        return checkout

    def state(self, customer_id: int) -> State:
        with self.services.unit_of_work() as uow:
            customer = uow.session.get(Customer, customer_id)
            assert customer is not None
            return State(customer.status, customer.expires_at, ledger.balance_kes(uow, customer_id))

    def payments(self) -> list[tuple[str | None, int, int | None]]:
        with self.services.unit_of_work() as uow:
            rows = uow.session.execute(
                select(Payment.reference, Payment.amount_kes, Payment.customer_id).order_by(
                    Payment.reference
                )
            )
            return [(row[0], row[1], row[2]) for row in rows]

    def periods(self, customer_id: int) -> int:
        with self.services.unit_of_work() as uow:
            count = uow.session.scalar(
                select(func.sum(Subscription.periods)).where(
                    Subscription.customer_id == customer_id
                )
            )
            return int(count or 0)

    def callbacks(self) -> list[MpesaCallback]:
        with self.services.unit_of_work() as uow:
            rows = list(uow.session.scalars(select(MpesaCallback).order_by(MpesaCallback.id)))
            for row in rows:
                uow.session.expunge(row)
            return rows

    def pushed_phone(self, checkout: str) -> str:
        """The phone our push of ``checkout`` prompted (a callback says so), or a stranger's."""
        with self.services.unit_of_work() as uow:
            phone = uow.session.scalar(
                select(StkRequest.phone).where(StkRequest.checkout_request_id == checkout)
            )
        return phone or "+254712345678"

    # -- real Daraja payloads -----------------------------------------------------------------

    def c2b(self, account: str, amount_kes: int, trans_id: str) -> dict[str, str]:
        return c2b_payload(
            trans_id=trans_id,
            paid_at=self.clock.now(),
            amount_kes=amount_kes,
            shortcode=SHORTCODE,
            account=account,
            balance_kes=100_000,
            msisdn="254708374149",
            first_name="John",
        )

    def stk(
        self, checkout: str, receipt: str, amount_kes: int, phone: str | None = None
    ) -> dict[str, Any]:
        return stk_callback_payload(
            merchant_request_id="29115-1",
            checkout_request_id=checkout,
            result_code=0,
            result_desc="The service request is processed successfully.",
            amount_kes=amount_kes,
            receipt_number=receipt,
            paid_at=self.clock.now(),
            phone=(phone or self.pushed_phone(checkout)).lstrip("+"),
        )


@pytest.fixture
def isp(db_services: CoreServices, staff: Actor) -> CoreServices:
    """db_services with a router (pool 10.20.0.0/24) and a PPPoE plan of KES 1500 / 30 days."""
    with db_services.unit_of_work() as uow:
        add_router(
            uow, staff, RouterSpec("core-1", "127.0.0.1", 8728, "admin", "secret", plain_api=True)
        )
        add_pool(uow, staff, "core-1", "10.20.0.0/24")
        add_plan(
            uow, staff, PlanSpec("Home 10M", "pppoe", PLAN_PRICE_KES, "10M", "5M", validity_days=30)
        )
        uow.commit()
    return db_services


@pytest.fixture
def store(isp: CoreServices, clock: FrozenClock, staff: Actor) -> Store:
    return Store(isp, clock, staff)


def settings_for(allowed_ips: str = SAFARICOM_CALLBACK_IPS) -> Settings:
    return Settings(
        callback_token=TOKEN,
        mpesa_allowed_ips=allowed_ips,
        mpesa_shortcode=SHORTCODE,
        _env_file=None,  # type: ignore[call-arg]
    )


class AppClient:
    """Talks to the real app in process; Safaricom's requests seem to come from ``source``."""

    def __init__(self, app: Any, source: str) -> None:
        self.transport = httpx.ASGITransport(app=app, client=(source, 40123))

    def post(self, path: str, body: bytes) -> httpx.Response:
        async def send() -> httpx.Response:
            async with httpx.AsyncClient(
                transport=self.transport, base_url="http://mteja.test"
            ) as client:
                return await client.post(
                    path, content=body, headers={"content-type": "application/json"}
                )

        return asyncio.run(send())


@pytest.fixture
def web(isp: CoreServices) -> Callable[..., AppClient]:
    """``web(source="196.201.214.200", allowed_ips=...)``: a client of the real app (built from
    Settings as ``mteja web`` builds it) whose requests come from ``source``."""

    def make(source: str = SAFARICOM_ADDRESS, allowed_ips: str = SAFARICOM_CALLBACK_IPS) -> Any:
        return AppClient(build_app(settings_for(allowed_ips), isp), source)

    return make


@pytest.fixture
def post() -> Callable[..., httpx.Response]:
    """``post(client, kind, payload_or_bytes, token=TOKEN, prefix=CALLBACK_PREFIX)`` to the
    callback route of ``kind`` (``prefix=LEGACY_CALLBACK_PREFIX``: its old /mpesa/ alias)."""
    paths = {
        "stk": stk_callback_path,
        "c2b_validation": c2b_validation_path,
        "c2b_confirmation": c2b_confirmation_path,
    }

    def send(
        client: AppClient,
        kind: str,
        payload: Any,
        token: str = TOKEN,
        prefix: str = CALLBACK_PREFIX,
    ) -> httpx.Response:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        return client.post(paths[kind](token, prefix), body)

    return send


# -- interleaving two paths on PostgreSQL (issue 14.3) ---------------------------------------------

# The longest the second path may run while the first is paused (it is seen blocked at once).
SECOND_PATH_LIMIT = 5.0
World = TypeVar("World")


class Gate:
    """Pauses one thread before its n-th SQL statement on ``engine`` until released.

    SQLite's whole-database write lock serializes everything and hides races; PostgreSQL takes
    row locks, so two paths really interleave. ``every_interleaving`` pauses the first path
    before each of its statements in turn, runs the second to its end (or until it blocks on a
    lock the first holds), then lets the first go on; then the two swap roles.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.thread: threading.Thread | None = None
        self.pause_at = 0
        self.count = 0
        self.reached = threading.Event()
        self.go = threading.Event()
        event.listen(engine, "before_cursor_execute", self._before)

    def _before(self, *args: Any) -> None:
        if threading.current_thread() is not self.thread:
            return
        self.count += 1
        if self.count == self.pause_at:
            self.reached.set()
            self.go.wait(timeout=30)

    def interleave(self, first: Callable[[], Any], second: Callable[[], Any], pause_at: int) -> int:
        """Run ``first`` paused before statement ``pause_at``, ``second`` in the gap; the
        number of statements ``first`` ran."""
        errors: list[BaseException] = []

        def run(path: Callable[[], Any]) -> None:
            try:
                path()
            except BaseException as exc:  # handed to the test
                errors.append(exc)

        self.count, self.pause_at = 0, pause_at
        self.reached.clear()
        self.go.clear()
        first_thread = threading.Thread(target=run, args=(first,))
        self.thread = first_thread
        first_thread.start()
        while not self.reached.wait(0.01) and first_thread.is_alive():
            pass
        second_thread = threading.Thread(target=run, args=(second,))
        second_thread.start()
        deadline = time.monotonic() + SECOND_PATH_LIMIT
        while second_thread.is_alive() and time.monotonic() < deadline:
            if first_thread.is_alive() and self._someone_waits_for_a_lock():
                break  # the second path waits for a lock the paused first path holds
            second_thread.join(0.005)
        self.go.set()
        first_thread.join(60)
        second_thread.join(60)
        self.thread = None
        assert not first_thread.is_alive() and not second_thread.is_alive(), "a path hung"
        if errors:
            raise errors[0]
        return self.count

    def _someone_waits_for_a_lock(self) -> bool:
        with self.engine.connect() as connection:
            waiting = connection.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
        return bool(waiting)

    def every_interleaving(
        self,
        make_world: Callable[[], World],
        first: Callable[[World], Any],
        second: Callable[[World], Any],
        check: Callable[[World], None],
    ) -> int:
        """Try ``first`` paused at each of its statements with ``second`` in between, then the
        other way round, each on a fresh ``make_world()``; ``check`` each end state. The number
        of interleavings tried."""
        tried = 0
        for one, other in ((first, second), (second, first)):
            for pause_at in itertools.count(1):
                world = make_world()
                ran = self.interleave(
                    lambda one=one, world=world: one(world),
                    lambda other=other, world=world: other(world),
                    pause_at,
                )
                check(world)
                tried += 1
                if ran < pause_at:  # the first path ended before reaching this statement
                    break
        return tried


@pytest.fixture
def gate(migrated_engine: Engine) -> Gate:
    """A ``Gate`` on the test database (meant for PostgreSQL)."""
    return Gate(migrated_engine)
