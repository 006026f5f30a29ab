"""The real DarajaClient against FakeDarajaServer over HTTP, with a small receiver app standing in
for mteja's callback endpoints. Every server and thread started here is stopped here."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from payments.callbacks import (
    C2BPayment,
    MalformedCallback,
    StkCallback,
    c2b_accept,
    c2b_confirmation_ack,
    c2b_reject,
    parse_c2b,
    parse_stk_callback,
    stk_callback_ack,
)
from payments.daraja import DarajaClient
from sim.daraja.server import FakeDarajaServer
from sim.serving import BackgroundServer

OUR_THREAD_PREFIXES = ("uvicorn-background", "fake-daraja-callbacks")


class Receiver:
    """Our side of the wire: parses what Safaricom (the fake) posts, as mteja's handlers would.

    Validation accepts only account numbers starting with "MTJ-". Confirmations are kept per
    TransID, so a redelivered confirmation does not count twice.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.stk: list[StkCallback] = []
        self.validations: list[C2BPayment] = []
        self.confirmations: list[C2BPayment] = []
        self.payments: dict[str, C2BPayment] = {}
        self.malformed: list[str] = []
        self.base_url = ""
        self.app = Starlette(
            routes=[
                Route("/payments/stk", self._stk, methods=["POST"]),
                Route("/payments/c2b/validate", self._validate, methods=["POST"]),
                Route("/payments/c2b/confirm", self._confirm, methods=["POST"]),
            ]
        )

    def url(self, path: str) -> str:
        return self.base_url + path

    async def _stk(self, request: Request) -> JSONResponse:
        try:
            callback = parse_stk_callback(await request.body())
        except MalformedCallback as exc:
            with self._lock:
                self.malformed.append(exc.reason)
            return JSONResponse({"error": exc.reason}, status_code=400)
        with self._lock:
            self.stk.append(callback)
        return JSONResponse(stk_callback_ack())

    async def _validate(self, request: Request) -> JSONResponse:
        payment = parse_c2b(await request.body())
        with self._lock:
            self.validations.append(payment)
        if payment.bill_ref_number.startswith("MTJ-"):
            return JSONResponse(c2b_accept())
        return JSONResponse(c2b_reject("C2B00012"))

    async def _confirm(self, request: Request) -> JSONResponse:
        payment = parse_c2b(await request.body())
        with self._lock:
            self.confirmations.append(payment)
            self.payments.setdefault(payment.trans_id, payment)
        return JSONResponse(c2b_confirmation_ack())


class SettableClock:
    """A clock that only moves when told to."""

    def __init__(self) -> None:
        self.now = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture(autouse=True)
def no_leftover_threads() -> Iterator[None]:
    """Fail a test that leaves one of our server or callback threads running."""
    yield
    leftovers = [
        thread
        for thread in threading.enumerate()
        if thread.name.startswith(OUR_THREAD_PREFIXES) and thread.is_alive()
    ]
    for thread in leftovers:
        thread.join(timeout=5)
    assert [thread.name for thread in leftovers if thread.is_alive()] == []


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    app = Receiver()
    with BackgroundServer(app.app) as server:
        app.base_url = server.base_url
        yield app


@pytest.fixture
def fake_server() -> Iterator[FakeDarajaServer]:
    with FakeDarajaServer() as server:
        yield server


@pytest.fixture
def client(fake_server: FakeDarajaServer) -> Iterator[DarajaClient]:
    with DarajaClient(fake_server.daraja_config()) as daraja:
        yield daraja


@pytest.fixture
def settable_clock() -> SettableClock:
    return SettableClock()
