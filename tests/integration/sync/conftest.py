"""Fixtures for the router-sync proofs: core on a real database, a simulated MikroTik over real TCP,
and the job queue wired between them.

``router_env`` is the usual starting point: services on SQLite or PostgreSQL (``database_url`` is
parametrized), one simulated router registered in the database, the plans every test uses, a
``RouterSync`` over librouteros, and ``router_mismatches`` to compare the router with what each
customer should have. The expectations here are written from the business rules (who may get on,
at what speed), not derived from ``routers.desired``, so they check it rather than repeat it.
"""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis
from huey import Huey, MemoryHuey, RedisHuey
from sqlalchemy import Engine, create_engine, select, text

from core.actors import Actor
from core.clock import FrozenClock
from core.db import make_engine, upgrade_to_head
from core.models import Base, Customer, Plan, Router, RouterSyncRun
from core.ports import RecordingNotifier
from core.settings import Settings
from core.unit_of_work import CoreServices
from core.usecases.customers import NewCustomer, create_customer
from core.usecases.network import RouterSpec, add_router
from core.usecases.plans import PlanSpec, add_plan
from jobs.locks import FileRouterLock
from mteja.bootstrap import System
from mteja.queueing import Queue, build_queue
from routers.sync import GatewayFactory, RouterSync, librouteros_factory
from sim.routeros import SimulatedRouter
from tests.conftest import TEST_REDIS_URL, redis_for_tests

API_USER = "mteja-api"
API_PASSWORD = "api-s3cret"

PPP_SECRET = "/ppp/secret"
PPP_PROFILE = "/ppp/profile"
HOTSPOT_USER = "/ip/hotspot/user"
HOTSPOT_PROFILE = "/ip/hotspot/user/profile"
QUEUE = "/queue/simple"
ADDRESS_LIST = "/ip/firewall/address-list"
CONFIG_MENUS = (PPP_SECRET, PPP_PROFILE, HOTSPOT_USER, HOTSPOT_PROFILE, QUEUE, ADDRESS_LIST)

# name, type, price, download, upload, validity
PLANS = (
    PlanSpec("Home 10M", "pppoe", 1500, "10M", "5M", validity_days=30),
    PlanSpec("Home 20M", "pppoe", 2500, "20M", "10M", validity_days=30),
    PlanSpec("Daily 5M", "hotspot", 50, "5M", "2M", validity_hours=24),
    PlanSpec("Weekly 8M", "hotspot", 300, "8M", "3M", validity_days=7),
    PlanSpec("Business 50M", "static", 8000, "50M", "25M", validity_days=30),
    PlanSpec("Business 100M", "static", 15000, "100M", "50M", validity_days=30),
)


def fast_gateways() -> GatewayFactory:
    """librouteros gateways with short timeouts, so a hung test fails in seconds."""
    return librouteros_factory(connect_timeout=2.0, command_timeout=5.0)


def start_simulator(identity: str = "kahawa-west") -> SimulatedRouter:
    return SimulatedRouter(username=API_USER, password=API_PASSWORD, identity=identity).start()


def register_router(services: CoreServices, staff: Actor, sim: SimulatedRouter, name: str) -> int:
    with services.unit_of_work() as uow:
        router = add_router(
            uow, staff, RouterSpec(name, sim.host, sim.port, API_USER, API_PASSWORD, plain_api=True)
        )
        uow.commit()
        return router.id


def add_plans(services: CoreServices, staff: Actor) -> None:
    with services.unit_of_work() as uow:
        for spec in PLANS:
            add_plan(uow, staff, spec)
        uow.commit()


def make_system(
    database_url: str, engine: Engine, services: CoreServices, lock_dir: Path
) -> System:
    # Explicit values for everything the router jobs read, so a developer's MTEJA_* variables
    # cannot change what these tests prove.
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        redis_url="",
        lock_dir=str(lock_dir),
        expired_profile="",
        reconcile_minutes=10,
    )
    return System(settings, engine, services)


def drain(huey: Huey, limit: int = 10_000) -> int:
    """Run every task waiting in a non-immediate huey's queue, including the ones the tasks
    enqueue; scheduled (future) tasks stay scheduled. Returns how many ran."""
    ran = 0
    while (task := huey.dequeue()) is not None:
        huey.execute(task)
        ran += 1
        assert ran < limit, "the queue never drained"
    return ran


# -- the independent expectation ------------------------------------------------------------


_SPEED = re.compile(r"^(\d+(?:\.\d+)?)([kKmMgG]?)$")


def bits(rate: str) -> tuple[int, ...]:
    """``5M/10M`` (or ``5000000/10000000``) as numbers, to compare spellings RouterOS may use."""
    numbers = []
    for part in rate.split(" ")[0].split("/"):
        match = _SPEED.match(part)
        assert match, f"not a rate: {rate!r}"
        scale = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9}[match.group(2).lower()]
        numbers.append(round(float(match.group(1)) * scale))
    return tuple(numbers)


def bare(address: str) -> str:
    return str(ipaddress.ip_interface(address).ip)


@dataclass
class Expectation:
    """What the router must hold for one customer, from the business rules."""

    account_number: str
    username: str
    connection_type: str
    password: str | None
    ip_address: str | None
    allowed: bool
    deleted: bool
    rate_limit: str  # upload/download


def expectations(services: CoreServices, router_id: int) -> list[Expectation]:
    """Every customer ever placed on ``router_id`` (deleted ones too), as the router should see
    them now: allowed in only when active with paid time left."""
    with services.unit_of_work() as uow:
        now = uow.clock.now()
        result = []
        for customer in uow.session.scalars(
            select(Customer).where(Customer.router_id == router_id).order_by(Customer.id)
        ):
            plan = uow.session.get(Plan, customer.plan_id)
            assert plan is not None
            result.append(
                Expectation(
                    account_number=customer.account_number,
                    username=customer.username,
                    connection_type=customer.connection_type,
                    password=(
                        uow.cipher.decrypt(customer.password_encrypted)
                        if customer.password_encrypted
                        else None
                    ),
                    ip_address=customer.ip_address,
                    allowed=(
                        customer.deleted_at is None
                        and customer.status == "active"
                        and customer.expires_at is not None
                        and customer.expires_at > now
                    ),
                    deleted=customer.deleted_at is not None,
                    rate_limit=f"{plan.upload}/{plan.download}",
                )
            )
        return result


def mismatches(services: CoreServices, sim: SimulatedRouter, router_id: int) -> list[str]:
    """Every way the simulator differs from what the database says (empty when converged)."""
    items = {menu: sim.items(menu) for menu in CONFIG_MENUS}
    problems: list[str] = []
    known = set()
    for expected in expectations(services, router_id):
        problems += _mismatches_of(expected, items, sim)
        known.add(f"mteja:{expected.account_number}")
    for menu in CONFIG_MENUS:
        for item in items[menu]:
            comment = item.get("comment", "")
            if comment.startswith("mteja:") and comment not in known:
                problems.append(f"stray {menu} entry of no customer here: {item}")
    return problems


def _tagged(items: list[dict[str, str]], account_number: str) -> list[dict[str, str]]:
    return [item for item in items if item.get("comment") == f"mteja:{account_number}"]


def _mismatches_of(
    expected: Expectation, items: dict[str, list[dict[str, str]]], sim: SimulatedRouter
) -> list[str]:
    who = f"{expected.account_number} ({expected.username})"
    if expected.deleted:
        leftovers = [
            f"{menu} {item.get('name') or item.get('address')}"
            for menu in CONFIG_MENUS
            for item in _tagged(items[menu], expected.account_number)
        ]
        return [f"{who} is deleted but the router still has {leftovers}"] if leftovers else []
    if expected.connection_type == "static":
        return _static_mismatches(expected, items, sim, who)
    login_menu, profile_menu = (
        (PPP_SECRET, PPP_PROFILE)
        if expected.connection_type == "pppoe"
        else (HOTSPOT_USER, HOTSPOT_PROFILE)
    )
    logins = _tagged(items[login_menu], expected.account_number)
    if len(logins) != 1:
        return [f"{who}: {len(logins)} entries in {login_menu}, expected 1: {logins}"]
    login = logins[0]
    problems = []
    wanted = {
        "name": expected.username,
        "password": expected.password,
        "disabled": "false" if expected.allowed else "true",
    }
    if expected.connection_type == "pppoe":
        wanted["service"] = "pppoe"
        wanted["remote-address"] = expected.ip_address
    for prop, value in wanted.items():
        if login.get(prop) != value:
            problems.append(f"{who}: {login_menu} {prop}={login.get(prop)!r}, expected {value!r}")
    profiles = [item for item in items[profile_menu] if item["name"] == login.get("profile")]
    if len(profiles) != 1 or bits(profiles[0].get("rate-limit", "0")) != bits(expected.rate_limit):
        problems.append(
            f"{who}: profile {login.get('profile')!r} is {profiles}, "
            f"expected rate-limit {expected.rate_limit}"
        )
    return problems


def _static_mismatches(
    expected: Expectation,
    items: dict[str, list[dict[str, str]]],
    sim: SimulatedRouter,
    who: str,
) -> list[str]:
    assert expected.ip_address is not None
    problems = []
    queues = _tagged(items[QUEUE], expected.account_number)
    if (
        len(queues) != 1
        or bare(queues[0]["target"]) != expected.ip_address
        or bits(queues[0]["max-limit"]) != bits(expected.rate_limit)
        or queues[0]["disabled"] != "false"
    ):
        problems.append(
            f"{who}: queue {queues}, expected {expected.ip_address} at {expected.rate_limit}"
        )
    if sim.is_blocked(expected.ip_address) == expected.allowed:
        problems.append(
            f"{who}: {expected.ip_address} blocked={not expected.allowed} expected, "
            f"address list: {_tagged(items[ADDRESS_LIST], expected.account_number)}"
        )
    return problems


# -- databases: migrated once per run, emptied per test ------------------------------------
# These override the root fixtures of the same names for this directory only: the root ones
# run every migration for every test, which would cost most of this suite's time. The schema
# is still built by the real migrations.

POSTGRES_ADMIN_URL = os.environ.get(
    "MTEJA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("schema") / "mteja.db"
    upgrade_to_head(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def sync_postgres_url() -> Iterator[str]:
    """A PostgreSQL database of this directory's own, migrated once and dropped at the end."""
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"mteja_sync_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        admin.dispose()
        reason = f"PostgreSQL at {POSTGRES_ADMIN_URL} is not reachable: {exc.__class__.__name__}"
        if IN_CI:
            pytest.fail(f"{reason} (CI must run the PostgreSQL tests)")
        pytest.skip(reason)
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    upgrade_to_head(url)
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _empty_postgres(url: str) -> None:
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database at the latest schema with no rows: a SQLite file, or PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "mteja.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("sync_postgres_url")
    _empty_postgres(url)
    return url


@pytest.fixture
def migrated_engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


# -- fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def sim() -> Iterator[SimulatedRouter]:
    """A simulated MikroTik on a free port, stopped at teardown."""
    router = start_simulator()
    try:
        yield router
    finally:
        router.stop()


@dataclass
class RouterEnv:
    """Core services on a real database, one simulated router registered as ``kahawa`` (no
    address pool: customers get an IP only when one is given), the plans of ``PLANS``, and a
    RouterSync over librouteros."""

    services: CoreServices
    clock: FrozenClock
    staff: Actor
    sim: SimulatedRouter
    router_id: int
    sync: RouterSync
    router_name: str = "kahawa"
    phones: Iterator[int] = field(default_factory=lambda: iter(range(12_000_000, 13_000_000)))

    def do(self, use_case: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run one use case in its own unit of work and commit (events dispatch after)."""
        with self.services.unit_of_work() as uow:
            result = use_case(uow, *args, **kwargs)
            uow.commit()
            return result

    def create(
        self,
        name: str,
        plan: str = "Home 10M",
        *,
        connection_type: str = "pppoe",
        paid: bool = True,
        **fields: Any,
    ) -> tuple[int, str]:
        """Add a customer (paid in cash unless ``paid=False``); returns (id, password)."""
        form = NewCustomer(
            full_name=name,
            phone=f"07{next(self.phones)}",
            connection_type=connection_type,
            plan=plan,
            router=self.router_name,
            payment_method="cash" if paid else None,
            **fields,
        )
        with self.services.unit_of_work() as uow:
            created = create_customer(uow, self.staff, form)
            customer_id = created.customer.id
            uow.commit()
        return customer_id, created.password

    def customer(self, customer_id: int) -> Customer:
        """The customer as stored now (detached; columns only)."""
        with self.services.unit_of_work() as uow:
            customer = uow.session.get(Customer, customer_id)
            assert customer is not None
            uow.session.expunge(customer)
            return customer

    def item(self, menu: str, **where: str) -> dict[str, str] | None:
        """The one item of ``menu`` whose properties equal ``where`` (None if none)."""
        found = [
            item
            for item in self.sim.items(menu)
            if all(item.get(key.replace("_", "-")) == value for key, value in where.items())
        ]
        assert len(found) <= 1, found
        return found[0] if found else None

    def speed_of(self, profile_menu: str, profile_name: str) -> tuple[int, ...]:
        """The rate-limit of a profile on the router, in bits per second."""
        profile = self.item(profile_menu, name=profile_name)
        assert profile is not None, f"no {profile_menu} named {profile_name!r}"
        return bits(profile.get("rate-limit", "0"))

    @staticmethod
    def speed(rate: str) -> tuple[int, ...]:
        """``5M/10M`` in bits per second, to compare with ``speed_of``."""
        return bits(rate)

    def pending(self) -> dict[int, str | None]:
        """Customers still waiting for the router: id → sync_error."""
        with self.services.unit_of_work() as uow:
            rows = uow.session.execute(
                select(Customer.id, Customer.sync_error).where(Customer.sync_pending.is_(True))
            )
            return {customer_id: error for customer_id, error in rows}

    def mismatches(self) -> list[str]:
        return mismatches(self.services, self.sim, self.router_id)

    def router(self) -> Router:
        """The router's row as stored now (status, last seen)."""
        with self.services.unit_of_work() as uow:
            router = uow.session.get(Router, self.router_id)
            assert router is not None
            uow.session.expunge(router)
            return router

    def reconcile_runs(self) -> list[RouterSyncRun]:
        """The recorded full reconciles of this router, oldest first."""
        with self.services.unit_of_work() as uow:
            runs = list(
                uow.session.scalars(
                    select(RouterSyncRun)
                    .where(RouterSyncRun.router_id == self.router_id)
                    .order_by(RouterSyncRun.id)
                )
            )
            uow.session.expunge_all()
            return runs


@pytest.fixture
def router_env(
    db_services: CoreServices, clock: FrozenClock, staff: Actor, sim: SimulatedRouter
) -> RouterEnv:
    router_id = register_router(db_services, staff, sim, "kahawa")
    add_plans(db_services, staff)
    return RouterEnv(
        db_services, clock, staff, sim, router_id, RouterSync(db_services, fast_gateways())
    )


@pytest.fixture
def system(
    database_url: str, migrated_engine: Engine, router_env: RouterEnv, tmp_path: Path
) -> System:
    """The composition root's System over the same database and services as ``router_env``."""
    return make_system(database_url, migrated_engine, router_env.services, tmp_path / "locks")


@pytest.fixture
def immediate_queue(system: System, tmp_path: Path) -> Queue:
    """The real tasks, run in-process the moment core commits (huey immediate mode)."""
    return build_queue(
        system,
        huey=MemoryHuey("mteja-test", immediate=True, utc=True),
        gateways=fast_gateways(),
        locks=FileRouterLock(tmp_path / "locks"),
        notifier=RecordingNotifier(),
    )


@pytest.fixture
def memory_queue(system: System, tmp_path: Path) -> Queue:
    """The real tasks on an in-memory queue that runs nothing until the test says so."""
    return build_queue(
        system,
        huey=MemoryHuey("mteja-test", utc=True),
        gateways=fast_gateways(),
        locks=FileRouterLock(tmp_path / "locks"),
        notifier=RecordingNotifier(),
    )


@pytest.fixture
def drain_queue() -> Callable[..., int]:
    """``drain_queue(huey)``: run every queued task (and those they enqueue) in this thread."""
    return drain


@pytest.fixture
def router_mismatches() -> Callable[[CoreServices, SimulatedRouter, int], list[str]]:
    """``router_mismatches(services, sim, router_id)``: how a router differs from the database."""
    return mismatches


@pytest.fixture
def more_routers(
    router_env: RouterEnv,
) -> Iterator[Callable[[int], list[tuple[int, str, SimulatedRouter]]]]:
    """``more_routers(n)``: n more simulated routers registered next to ``kahawa``, as
    (router id, name, simulator); all stopped at teardown."""
    started: list[SimulatedRouter] = []

    def add(count: int) -> list[tuple[int, str, SimulatedRouter]]:
        added = []
        for _ in range(count):
            name = f"router-{len(started) + 2}"
            sim = start_simulator(identity=name)
            started.append(sim)
            added.append(
                (register_router(router_env.services, router_env.staff, sim, name), name, sim)
            )
        return added

    yield add
    for sim in started:
        sim.stop()


@pytest.fixture
def system_for(
    database_url: str, migrated_engine: Engine, tmp_path: Path
) -> Callable[[CoreServices], System]:
    """``system_for(services)``: a System over this test's database, as a process would build."""
    return lambda services: make_system(database_url, migrated_engine, services, tmp_path / "locks")


@pytest.fixture
def router_gateways() -> GatewayFactory:
    """librouteros gateways with short timeouts."""
    return fast_gateways()


# -- Redis: the queue and leases of one test ---------------------------------------------------

REDIS_URL = TEST_REDIS_URL


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    client = redis_for_tests()
    yield client
    client.close()


def queue_keys(client: redis.Redis, name: str) -> list[bytes]:
    """Every key of the queue ``name``: huey's (under the name as huey cleans it: no dashes)
    and the router leases (under ``name`` itself)."""
    cleaned = RedisHuey(name, url=REDIS_URL).storage.name
    patterns = [f"huey.*.{cleaned}", f"huey.*.{cleaned}.*", f"{name}:*"]
    return sorted({key for pattern in patterns for key in client.scan_iter(match=pattern)})


def delete_queue_keys(client: redis.Redis, name: str) -> None:
    for key in queue_keys(client, name):
        client.delete(key)


@pytest.fixture
def queue_name(redis_client: redis.Redis) -> Iterator[str]:
    """A queue (and lock prefix) of this test's own; every key it made is deleted after."""
    name = f"mteja-test-{uuid.uuid4().hex[:12]}"
    yield name
    delete_queue_keys(redis_client, name)
