"""`mteja worker` as real processes: SIGKILL one in the middle of an expiry sweep, start another,
and every expired customer still ends up cut off on the router, with nothing left pending.

Set up the way an operator would: ``mteja init`` in an empty directory configured by MTEJA_*
variables only (SQLite database, SqliteHuey queue file, file locks). The router is a simulated
MikroTik in this test process; routers, plans and customers are created through core against the
same database file. The customers' paid time has just run out when the first worker starts, so its
startup sweep expires them and the router sync starts disabling their secrets — slowly, because
the simulator delays each write — and the worker is killed part-way through.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.actors import Actor
from core.clock import FrozenClock
from core.crypto import new_secret_key
from core.db import make_engine
from core.models import Customer
from core.testing import services_for
from core.unit_of_work import CoreServices
from core.usecases.customers import NewCustomer, create_customer
from core.usecases.network import RouterSpec, add_router
from core.usecases.plans import PlanSpec, add_plan
from routers.sync import RouterSync, librouteros_factory
from sim.routeros import SimulatedRouter

CUSTOMERS = 300
WRITE_LATENCY = 0.02  # seconds per secret write: the sweep takes long enough to be interrupted
DEADLINE = 90.0  # seconds to converge after the restart; a bound for a failing run only
PPP_SECRET = "/ppp/secret"
MTEJA = [sys.executable, "-m", "mteja.cli"]

pytestmark = pytest.mark.timeout(240)


@pytest.fixture
def workdir(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """An initialised mteja directory and the environment its processes run with."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("MTEJA_")}
    env.update(
        MTEJA_DATABASE_URL=f"sqlite:///{tmp_path / 'mteja.db'}",
        MTEJA_HUEY_PATH=str(tmp_path / "queue.db"),
        MTEJA_LOCK_DIR=str(tmp_path / "locks"),
        MTEJA_SECRET_KEY=new_secret_key(),
        MTEJA_REDIS_URL="",
        MTEJA_ROUTER_CONNECT_TIMEOUT="2",
        MTEJA_ROUTER_COMMAND_TIMEOUT="10",
    )
    subprocess.run([*MTEJA, "init"], cwd=tmp_path, env=env, check=True, capture_output=True)
    return tmp_path, env


@pytest.fixture
def sim() -> Iterator[SimulatedRouter]:
    with SimulatedRouter(username="mteja-api", password="api-s3cret") as router:
        yield router


@pytest.fixture
def services(workdir: tuple[Path, dict[str, str]]) -> Iterator[CoreServices]:
    """Core on the workers' database, its clock a day behind: customers on a one-day plan
    bought now have paid time that ends at about the real present."""
    _, env = workdir
    engine = make_engine(env["MTEJA_DATABASE_URL"])
    yield services_for(
        engine,
        clock=FrozenClock(datetime.now(UTC) - timedelta(days=1)),
        secret_key=env["MTEJA_SECRET_KEY"],
    )
    engine.dispose()


class Worker:
    """One `mteja worker` process, its output kept in a file for failure messages."""

    def __init__(self, workdir: Path, env: dict[str, str], name: str) -> None:
        self.log = workdir / f"{name}.log"
        with self.log.open("wb") as output:
            self.process = subprocess.Popen(
                [*MTEJA, "worker", "--workers", "2"],
                cwd=workdir,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> int | None:
        """SIGTERM (huey's shutdown signal), then SIGKILL if it does not go."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        return self.process.returncode


@pytest.fixture
def workers(workdir: tuple[Path, dict[str, str]]) -> Iterator[list[Worker]]:
    """Start workers with ``workers.append(...)``-style calls through ``start``; all stopped."""
    started: list[Worker] = []
    yield started
    for worker in started:
        worker.stop()


def seed_isp(services: CoreServices, sim: SimulatedRouter) -> int:
    """A router, a one-day plan and CUSTOMERS paid customers, synced and online."""
    staff = Actor.cli()
    with services.unit_of_work() as uow:
        router = add_router(
            uow,
            staff,
            RouterSpec("kahawa", sim.host, sim.port, sim.username, sim.password, plain_api=True),
        )
        add_plan(uow, staff, PlanSpec("Day 5M", "pppoe", 50, "5M", "2M", validity_days=1))
        router_id = router.id
        uow.commit()
    with services.unit_of_work() as uow:
        for number in range(CUSTOMERS):
            created = create_customer(
                uow,
                staff,
                NewCustomer(
                    full_name=f"Subscriber {number}",
                    phone=f"07{12_000_000 + number}",
                    connection_type="pppoe",
                    plan="Day 5M",
                    router="kahawa",
                    username=f"sub{number}",
                    password=f"pass{number}",
                    payment_method="cash",
                    auto_renew=False,
                ),
            )
            assert created.customer.status == "active"
        uow.commit()
    sync = RouterSync(services, librouteros_factory(2.0, 10.0))
    assert len(sync.sync_pending(router_id).verified) == CUSTOMERS
    # Known online, so a worker's first health check finds no change and reconciles nothing:
    # what follows is the expiry sweep's work alone.
    assert sync.check(router_id).online
    for number in range(CUSTOMERS):
        assert sim.connect(f"sub{number}", f"pass{number}")
    return router_id


def disabled_secrets(sim: SimulatedRouter) -> int:
    return sum(item["disabled"] == "true" for item in sim.items(PPP_SECRET))


def still_pending(services: CoreServices) -> int:
    with services.unit_of_work() as uow:
        return int(
            uow.session.scalar(
                select(func.count(Customer.id)).where(Customer.sync_pending.is_(True))
            )
        )


def test_a_worker_killed_mid_sweep_is_replaced_and_every_expiry_reaches_the_router(
    workdir, sim, services, workers
):
    directory, env = workdir
    seed_isp(services, sim)
    assert disabled_secrets(sim) == 0
    sim.faults.set_latency(WRITE_LATENCY, menu=PPP_SECRET, command="set")

    first = Worker(directory, env, "worker-1")
    workers.append(first)
    deadline = time.monotonic() + DEADLINE
    while disabled_secrets(sim) == 0 and time.monotonic() < deadline:
        assert first.process.poll() is None, first.output()
        time.sleep(0.02)
    first.kill()
    cut_off = disabled_secrets(sim)
    assert 0 < cut_off < CUSTOMERS, f"killed after {cut_off} of {CUSTOMERS}\n{first.output()}"

    second = Worker(directory, env, "worker-2")
    workers.append(second)
    deadline = time.monotonic() + DEADLINE
    while disabled_secrets(sim) < CUSTOMERS and time.monotonic() < deadline:
        assert second.process.poll() is None, second.output()
        time.sleep(0.2)
    while still_pending(services) and time.monotonic() < deadline:
        time.sleep(0.2)

    assert disabled_secrets(sim) == CUSTOMERS, second.output()
    assert still_pending(services) == 0, second.output()
    assert sim.sessions() == [], "an expired customer is still online"
    assert not sim.connect("sub0", "pass0")
    assert second.stop() is not None
