"""Helpers for tests and benchmarks: a ready CoreServices on any database URL."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from core.clock import Clock, FrozenClock
from core.crypto import SecretBox, new_secret_key
from core.db import make_engine, make_read_session_factory, make_session_factory, upgrade_to_head
from core.models import Base
from core.ports import EventDispatcher, RecordingDispatcher
from core.unit_of_work import CoreConfig, CoreServices

TEST_EPOCH = datetime(2026, 11, 22, 9, 0, 0, tzinfo=UTC)


def services_for(
    engine: Engine,
    *,
    clock: Clock | None = None,
    dispatcher: EventDispatcher | None = None,
    config: CoreConfig | None = None,
    secret_key: str | None = None,
) -> CoreServices:
    """CoreServices on ``engine``; a frozen clock and a recording dispatcher by default."""
    return CoreServices(
        session_factory=make_session_factory(engine),
        clock=clock or FrozenClock(TEST_EPOCH),
        cipher=SecretBox(secret_key or new_secret_key()),
        config=config or CoreConfig(),
        dispatcher=dispatcher or RecordingDispatcher(),
        read_session_factory=make_read_session_factory(engine),
    )


def in_memory_engine() -> Engine:
    """A private in-memory SQLite database with the schema created from the models."""
    from sqlalchemy.pool import StaticPool

    engine = make_engine("sqlite://", poolclass=StaticPool)
    Base.metadata.create_all(engine)
    return engine


def migrated_engine(url: str) -> Engine:
    """An engine on ``url`` after running every migration."""
    upgrade_to_head(url)
    return make_engine(url)


def run_together(jobs: list[Callable[[], Any]]) -> list[Any]:
    """Start every job at the same instant, each in its own thread; their results, or the
    exceptions they raised, in order (for tests of concurrent transactions)."""
    barrier = threading.Barrier(len(jobs), timeout=60)
    results: list[Any] = [None] * len(jobs)

    def worker(index: int, job: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[index] = job()
        except BaseException as exc:  # handed to the caller
            results[index] = exc

    threads = [threading.Thread(target=worker, args=item) for item in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return results


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (for a test server)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def seed_pppoe_customers(services: CoreServices, actor: Any, count: int) -> tuple[int, list[int]]:
    """A router ``core-1`` (plain API), the plan ``Home 10M`` and ``count`` PPPoE customers
    ``Customer i`` whose passwords are ``secret-i``, each in its own transaction: the small
    ISP the operations tests (backup, retention, key rotation) start from. Returns the
    router's id and the customers' ids."""
    from core.usecases.customers import NewCustomer, create_customer
    from core.usecases.network import RouterSpec, add_router
    from core.usecases.plans import PlanSpec, add_plan

    with services.unit_of_work() as uow:
        spec = RouterSpec("core-1", "10.0.0.1", 8728, "api", "router-pw", plain_api=True)
        router_id = add_router(uow, actor, spec).id
        add_plan(uow, actor, PlanSpec("Home 10M", "pppoe", 1500, "10M", "5M", validity_days=30))
        uow.commit()
    customer_ids = []
    for index in range(count):
        with services.unit_of_work() as uow:
            created = create_customer(
                uow,
                actor,
                NewCustomer(
                    full_name=f"Customer {index}",
                    phone=f"+2547120000{index:02d}",
                    connection_type="pppoe",
                    plan="Home 10M",
                    router="core-1",
                    password=f"secret-{index}",
                    send_welcome=False,
                ),
            )
            uow.commit()
            customer_ids.append(created.customer.id)
    return router_id, customer_ids
