"""The real python-telegram-bot Application, long polling a local fake Bot API server.

``telegram`` is the fake server (sim.telegram): tests play staff through it (``says``,
``presses``, ``sends_file``) and read what the bot sent. ``bot_app`` runs the Application in a
thread of its own, as ``mteja bot`` does, and stops it after the test.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from bot.staffbot import StaffBot
from bot.telegram import ALLOWED_UPDATES, build_application
from core.actors import Actor
from core.clock import FrozenClock
from core.db import make_engine
from core.models import Base, Customer
from core.ports import RecordingDispatcher
from core.testing import services_for
from core.unit_of_work import CoreServices
from core.usecases.customers import NewCustomer, create_customer
from core.usecases.network import RouterSpec, add_pool, add_router
from core.usecases.plans import PlanSpec, add_plan
from core.usecases.staff import add_staff
from routers.sync import LiveSession, Presence
from sim.telegram import FakeTelegram

USER_IDS = {"owner": 1001, "admin": 1002, "agent": 1003, "viewer": 1004}
STRANGER_ID = 4242


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    """A SQLite file (the bot reads it from worker threads while the test reads it too)."""
    engine = make_engine(f"sqlite:///{tmp_path}/bot.db")
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def bot_services(engine: Engine, clock: FrozenClock) -> CoreServices:
    services = services_for(engine, clock=clock, dispatcher=RecordingDispatcher())
    with services.unit_of_work() as uow:
        cli = Actor.cli()
        add_router(
            uow, cli, RouterSpec("core-1", "127.0.0.1", 8728, "admin", "secret", plain_api=True)
        )
        add_pool(uow, cli, "core-1", "10.10.0.0/27")
        add_plan(uow, cli, PlanSpec("Home 10M", "pppoe", 1500, "10M", "5M", validity_days=30))
        add_plan(uow, cli, PlanSpec("Home 20M", "pppoe", 2500, "20M", "10M", validity_days=30))
        add_plan(uow, cli, PlanSpec("Daily 5M", "hotspot", 50, "5M", "2M", validity_hours=24))
        for role, user_id in USER_IDS.items():
            add_staff(uow, cli, user_id, f"{role.title()} Person", role)
        uow.commit()
    return services


@pytest.fixture
def add_customer(bot_services: CoreServices) -> Callable[..., Customer]:
    counter = iter(range(1, 100))

    def make(paid: int | None = None, **fields: Any) -> Customer:
        number = next(counter)
        form: dict[str, Any] = {
            "full_name": f"Wanjiku Kamau {number}",
            "phone": f"07123456{number:02d}",
            "connection_type": "pppoe",
            "plan": "Home 10M",
            "router": "core-1",
        }
        if paid is not None:
            form.update(payment_method="cash", amount_kes=paid)
        form.update(fields)
        with bot_services.unit_of_work() as uow:
            created = create_customer(uow, Actor.cli(), NewCustomer(**form))
            uow.commit()
            return created.customer

    return make


@pytest.fixture
def status_of(bot_services: CoreServices) -> Callable[[int], str]:
    def read(customer_id: int) -> str:
        with bot_services.unit_of_work() as uow:
            customer = uow.session.get(Customer, customer_id)
            assert customer is not None
            return customer.status

    return read


@dataclass
class SlowPresence:
    """The router's answer for the card; ``asked`` records the customers looked up."""

    asked: list[int] = field(default_factory=list)

    def __call__(self, customer_id: int) -> Presence:
        self.asked.append(customer_id)
        return Presence("online", LiveSession("10.10.0.2", "3h", 1_000_000, 20_000_000))


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        yield server


@pytest.fixture
def staff_bot(bot_services: CoreServices) -> StaffBot:
    return StaffBot(bot_services, presence=SlowPresence())


class BotThread:
    """The Application long polling in its own thread and event loop, like ``mteja bot``."""

    def __init__(self, application: Any) -> None:
        self.application = application
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.failed: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="bot", daemon=True)
        self._stop: asyncio.Event | None = None

    def start(self) -> BotThread:
        self.thread.start()
        if not self.ready.wait(20):
            raise RuntimeError("the bot did not start")
        if self.failed is not None:
            raise RuntimeError("the bot did not start") from self.failed
        return self

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._main())
        except BaseException as error:  # reported by start()
            self.failed = error
            self.ready.set()
        finally:
            self.loop.close()

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        application = self.application
        await application.initialize()
        assert application.updater is not None
        await application.updater.start_polling(
            poll_interval=0.0, timeout=1, allowed_updates=ALLOWED_UPDATES
        )
        await application.start()
        if application.post_init is not None:  # as run_polling does
            await application.post_init(application)
        self.ready.set()
        await self._stop.wait()
        await application.updater.stop()
        await application.stop()
        await application.shutdown()

    def stop(self) -> None:
        if self._stop is not None and self.thread.is_alive():
            self.loop.call_soon_threadsafe(self._stop.set)
        self.thread.join(30)
        assert not self.thread.is_alive(), "the bot did not stop"


@pytest.fixture
def bot_app(telegram: FakeTelegram, staff_bot: StaffBot) -> Iterator[BotThread]:
    application = build_application(staff_bot, telegram.token, base_url=telegram.base_url)
    running = BotThread(application).start()
    yield running
    running.stop()
