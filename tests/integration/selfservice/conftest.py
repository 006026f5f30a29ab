"""Fixtures for self-service over real I/O: a migrated database (a SQLite file and PostgreSQL),
the real web app served by uvicorn, the fake Africa's Talking and the fake Daraja over HTTP,
and the real job wiring (``build_queue``) on an immediate in-memory huey.

Every server and thread started here is stopped here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from huey import MemoryHuey
from sqlalchemy import Engine, func, select

from core.actors import Actor
from core.models import Base
from core.ports import MpesaGateway, RecordingNotifier, SmsGateway
from core.settings import Settings
from core.unit_of_work import CoreConfig, CoreServices
from core.usecases.customers import NewCustomer, create_customer
from core.usecases.network import RouterSpec, add_pool, add_router
from core.usecases.plans import PlanSpec, add_plan
from jobs.locks import FileRouterLock
from mteja.bootstrap import System
from mteja.queueing import Queue, build_queue
from mteja.web import build_app
from sim.africastalking import FakeAfricasTalkingServer
from sim.routeros.memory_gateway import InMemoryRouterGateway
from sim.routeros.state import RouterState
from sim.serving import BackgroundServer
from ussd.sms.gateway import AfricasTalkingSms

WANJIKU = "+254712345678"
CALLBACK_TOKEN = "selfservice-token"
OUR_THREAD_PREFIXES = ("uvicorn-background", "fake-at-reports", "fake-daraja-callbacks")


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
def db_services(db_services: CoreServices) -> CoreServices:
    """The real database's services, with the ISP's names and paybill set."""
    db_services.config = CoreConfig(
        isp_name="Kasarani Net", support_phone="+254700000001", paybill_number="174379"
    )
    return db_services


@dataclass(frozen=True)
class Isp:
    wanjiku: int
    wanjiku_account: str
    router_state: RouterState


@pytest.fixture
def isp(db_services: CoreServices, staff: Actor) -> Isp:
    """One router with a pool, two PPPoE plans, and Wanjiku: Home 10M, never paid (inactive)."""
    with db_services.unit_of_work() as uow:
        add_router(
            uow, staff, RouterSpec("core-1", "127.0.0.1", 8728, "admin", "secret", plain_api=True)
        )
        add_pool(uow, staff, "core-1", "10.10.0.0/24")
        add_plan(uow, staff, PlanSpec("Home 10M", "pppoe", 1500, "10M", "5M", validity_days=30))
        add_plan(uow, staff, PlanSpec("Home 20M", "pppoe", 2500, "20M", "10M", validity_days=30))
        created = create_customer(
            uow,
            staff,
            # No welcome SMS: the tests count the self-service replies in the outbox.
            NewCustomer(
                "Wanjiku Kamau", "0712345678", "pppoe", "Home 10M", "core-1", send_welcome=False
            ),
        )
        uow.commit()
    return Isp(created.customer.id, created.customer.account_number, RouterState())


@pytest.fixture
def fake_at() -> Iterator[FakeAfricasTalkingServer]:
    with FakeAfricasTalkingServer() as server:
        yield server


@pytest.fixture
def at_sms(fake_at: FakeAfricasTalkingServer) -> AfricasTalkingSms:
    """The real adapter, pointed at the fake through its base URL."""
    fake = fake_at.fake
    return AfricasTalkingSms(fake.username, fake.api_key, base_url=fake_at.base_url)


@dataclass
class Stack:
    """The web app served over HTTP, and the queue wired to the given gateways."""

    base_url: str
    queue: Queue
    notifier: RecordingNotifier
    settings: Settings


@pytest.fixture
def serve(
    db_services: CoreServices, migrated_engine: Engine, tmp_path: Path, isp: Isp
) -> Iterator[Callable[..., Stack]]:
    """``serve(sms=..., mpesa=...)``: the web app on a free port, the jobs on an immediate huey
    (router work goes to an in-memory router)."""
    servers: list[BackgroundServer] = []

    def start(sms: SmsGateway, mpesa: MpesaGateway | None = None, **settings: Any) -> Stack:
        base = Settings(
            _env_file=None,
            callback_token=CALLBACK_TOKEN,
            mpesa_allowed_ips="*",
            mpesa_shortcode="174379",
            **settings,
        )
        system = System(base, migrated_engine, db_services)
        server = BackgroundServer(build_app(base, db_services)).start()
        servers.append(server)
        system.settings = base.model_copy(update={"public_url": server.base_url})
        notifier = RecordingNotifier()
        queue = build_queue(
            system,
            huey=MemoryHuey("selfservice", immediate=True, utc=True),
            gateways=lambda login: InMemoryRouterGateway(isp.router_state),
            locks=FileRouterLock(tmp_path / "locks"),
            notifier=notifier,
            mpesa=mpesa,
            sms=sms,
        )
        return Stack(server.base_url, queue, notifier, system.settings)

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def row_counts(db_services: CoreServices) -> Callable[[], dict[str, int]]:
    def counts() -> dict[str, int]:
        with db_services.unit_of_work() as uow:
            return {
                table.name: int(uow.session.scalar(select(func.count()).select_from(table)) or 0)
                for table in Base.metadata.sorted_tables
            }

    return counts


@pytest.fixture
def stored(db_services: CoreServices) -> Callable[..., list[Any]]:
    """``stored(Model, **equal)``: the rows of ``Model`` (detached), in key order."""

    def rows(model: type[Any], **equal: Any) -> list[Any]:
        with db_services.unit_of_work() as uow:
            query = select(model).filter_by(**equal).order_by(*model.__mapper__.primary_key)
            found = list(uow.session.scalars(query))
            uow.session.expunge_all()
            return found

    return rows
