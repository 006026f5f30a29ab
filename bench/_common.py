"""Shared set-up for the benchmarks: a database, a simulated router, customers in bulk, timers.

Nothing here is timed by itself; each benchmark says what it measures. Customers are inserted in
bulk (one statement per batch) as rows consistent with what ``create_customer`` plus a cash
payment leaves behind: an active customer with an encrypted password, an address from the
router's pool, a payment, the ledger credit and plan charge (balance 0, so the expiry path does
its real auto-renew check and finds too little credit), and one subscription period.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import ipaddress
import math
import os
import pstats
import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import wraps
from pathlib import Path
from typing import Any, cast

import redis
from huey import RedisHuey
from sqlalchemy import Engine, Table, bindparam, create_engine, insert, select, text, update
from sqlalchemy.engine import make_url

from bench.results import emit_result as emit_result  # re-exported for the benchmarks
from core import account_numbers
from core.actors import Actor
from core.clock import Clock, SystemClock
from core.crypto import new_secret_key
from core.models import Customer, LedgerEntry, Payment, Plan, Subscription
from core.ports import EventDispatcher
from core.testing import migrated_engine, services_for
from core.unit_of_work import CoreConfig, CoreServices
from core.usecases.network import RouterSpec, add_pool, add_router
from core.usecases.plans import PlanSpec, add_plan
from core.usecases.staff import add_staff
from jobs.queue import PriorityRedisHuey
from routers.sync import RouterSync, librouteros_factory
from sim.routeros import SimulatedRouter

API_USER = "mteja-api"
API_PASSWORD = "bench-api-pw"
ROUTER_NAME = "bench-router"
POOL = ipaddress.IPv4Network("10.64.0.0/16")
PLAN = PlanSpec("Home 10M", "pppoe", 1500, "10M", "5M", validity_days=30)
SPARE_PLAN = PlanSpec("Home 20M", "pppoe", 2500, "20M", "10M", validity_days=30)
PPP_SECRET = "/ppp/secret"
INSERT_BATCH = 2000
DEFAULT_PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
ACTOR = Actor.cli()


# -- command line --------------------------------------------------------------------------------


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """``--db`` and ``--pg-admin-url``, shared by every benchmark."""
    parser.add_argument(
        "--db",
        choices=("sqlite", "postgresql"),
        default="sqlite",
        help="SQLite file in a temp dir (default), or a fresh PostgreSQL database",
    )
    parser.add_argument(
        "--pg-admin-url",
        default=DEFAULT_PG_ADMIN_URL,
        help="PostgreSQL server to create (and drop) a scratch database on",
    )


# -- database ------------------------------------------------------------------------------------


@contextmanager
def scratch_database(kind: str, directory: Path, pg_admin_url: str) -> Iterator[str]:
    """The URL of an empty database: a SQLite file in ``directory``, or a PostgreSQL database
    created for this run and dropped after it."""
    if kind == "sqlite":
        yield f"sqlite:///{directory / 'mteja.db'}"
        return
    name = f"mteja_bench_{secrets.token_hex(4)}"
    admin = create_engine(
        pg_admin_url.replace("postgresql://", "postgresql+psycopg://", 1),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(pg_admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def database_label(url: str) -> str:
    return make_url(url).get_backend_name()


# -- the bench world -----------------------------------------------------------------------------


@dataclass
class BenchEnv:
    """Core on a migrated database, one simulated router registered, two plans, one pool."""

    url: str
    engine: Engine
    services: CoreServices
    secret_key: str
    sim: SimulatedRouter
    router_id: int
    plan: Plan
    spare_plan: Plan

    def router_sync(self) -> RouterSync:
        return RouterSync(self.services, librouteros_factory())


def open_env(
    url: str,
    sim: SimulatedRouter,
    *,
    clock: Clock | None = None,
    dispatcher: EventDispatcher | None = None,
) -> BenchEnv:
    """Migrate ``url`` and register ``sim`` and the plans through core's own use cases."""
    engine = migrated_engine(url)
    secret_key = new_secret_key()
    services = services_for(
        engine,
        clock=clock or SystemClock(),
        dispatcher=dispatcher,
        config=CoreConfig(),
        secret_key=secret_key,
    )
    with services.unit_of_work() as uow:
        router = add_router(
            uow,
            ACTOR,
            RouterSpec(ROUTER_NAME, sim.host, sim.port, API_USER, API_PASSWORD, plain_api=True),
        )
        plan = add_plan(uow, ACTOR, PLAN)
        spare_plan = add_plan(uow, ACTOR, SPARE_PLAN)
        uow.commit()
    with services.unit_of_work() as uow:
        add_pool(uow, ACTOR, ROUTER_NAME, str(POOL))
        uow.commit()
    return BenchEnv(url, engine, services, secret_key, sim, router.id, plan, spare_plan)


def start_simulator() -> SimulatedRouter:
    return SimulatedRouter(username=API_USER, password=API_PASSWORD, identity="bench").start()


@contextmanager
def bench_world(args: argparse.Namespace) -> Iterator[tuple[Path, str, SimulatedRouter]]:
    """A temp directory, a scratch database of ``--db`` and a started RouterOS simulator, all
    gone afterwards: what every benchmark runs in. Yields (directory, database URL, simulator)."""
    import tempfile

    with (
        tempfile.TemporaryDirectory(prefix="mteja-bench-") as tmp,
        scratch_database(args.db, Path(tmp), args.pg_admin_url) as url,
    ):
        sim = start_simulator()
        try:
            yield Path(tmp), url, sim
        finally:
            sim.stop()


# -- customers in bulk ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BenchCustomer:
    customer_id: int
    username: str
    password: str
    account_number: str


def insert_customers(
    env: BenchEnv,
    count: int,
    expires_at: Callable[[int], datetime],
    *,
    sync_pending: bool = True,
    first: int = 0,
    fields: Callable[[int], dict[str, Any]] | None = None,
) -> list[BenchCustomer]:
    """``count`` active PPPoE customers on the bench router (numbered from ``first``), paid in
    cash for one period that ends at ``expires_at(number)``; one transaction per batch.
    ``fields(number)``: columns of customer ``number`` to set otherwise (a name, a status, ...)."""
    services, plan = env.services, env.plan
    now = services.clock.now()
    taken: set[str] = set()
    created: list[BenchCustomer] = []
    for start in range(first, first + count, INSERT_BATCH):
        numbers = range(start, min(first + count, start + INSERT_BATCH))
        rows: list[dict[str, Any]] = []
        batch: list[tuple[str, str, str]] = []
        for number in numbers:
            account = _fresh_account_number(services.config.account_prefix, taken)
            username = f"sub{number:06d}"
            password = f"pw-{number:06d}-{secrets.token_hex(3)}"
            batch.append((username, password, account))
            rows.append(
                {
                    "account_number": account,
                    "full_name": f"Subscriber {number}",
                    "phone": f"+2547{number:08d}",
                    "connection_type": "pppoe",
                    "username": username,
                    "password_encrypted": services.cipher.encrypt(password),
                    "plan_id": plan.id,
                    "router_id": env.router_id,
                    # .1 is the router's own address in its pool
                    "ip_address": str(POOL.network_address + 2 + number),
                    "status": "active",
                    "expires_at": expires_at(number),
                    "auto_renew": True,
                    "sync_pending": sync_pending,
                    "sync_version": 1,
                    "created_at": now,
                    "updated_at": now,
                }
                | (fields(number) if fields is not None else {})
            )
        with services.unit_of_work() as uow:
            session = uow.session
            ids = list(
                session.scalars(
                    insert(Customer).returning(Customer.id, sort_by_parameter_order=True), rows
                )
            )
            payment_ids = list(
                session.scalars(
                    insert(Payment).returning(Payment.id, sort_by_parameter_order=True),
                    [
                        {
                            "customer_id": customer_id,
                            "method": "cash",
                            "amount_kes": plan.price_kes,
                            "source": "staff",
                            "received_at": now,
                            "recorded_by": ACTOR.label,
                            "created_at": now,
                        }
                        for customer_id in ids
                    ],
                )
            )
            ledger = []
            for customer_id, payment_id in zip(ids, payment_ids, strict=True):
                ledger.append(
                    _ledger_row(customer_id, "payment", plan.price_kes, "cash payment", now)
                    | {"payment_id": payment_id}
                )
                ledger.append(
                    _ledger_row(
                        customer_id, "plan_charge", -plan.price_kes, f"1 × {plan.name}", now
                    )
                )
            session.execute(insert(LedgerEntry), ledger)
            session.execute(
                insert(Subscription),
                [
                    {
                        "customer_id": customer_id,
                        "plan_id": plan.id,
                        "starts_at": row["expires_at"] - plan.period,
                        "ends_at": row["expires_at"],
                        "price_kes": plan.price_kes,
                        "funded_by": "balance",
                        "created_at": now,
                    }
                    for customer_id, row in zip(ids, rows, strict=True)
                ],
            )
            uow.commit()
        created += [
            BenchCustomer(customer_id, username, password, account)
            for customer_id, (username, password, account) in zip(ids, batch, strict=True)
        ]
    return created


def _fresh_account_number(prefix: str, taken: set[str]) -> str:
    while True:
        account = account_numbers.generate(prefix)
        if account not in taken:
            taken.add(account)
            return account


def _ledger_row(
    customer_id: int, kind: str, amount_kes: int, description: str, now: datetime
) -> dict[str, Any]:
    return {
        "customer_id": customer_id,
        "kind": kind,
        "amount_kes": amount_kes,
        "payment_id": None,
        "description": description,
        "actor": ACTOR.label,
        "created_at": now,
    }


def set_expiry(env: BenchEnv, expiries: dict[int, datetime]) -> None:
    """Move each customer's paid end (and its subscription's end) to the given instant, as if
    they had all paid one period earlier; the router is unaffected (they stay allowed in)."""
    customers = cast(Table, Customer.__table__)
    subscriptions = cast(Table, Subscription.__table__)
    params = [{"cid": cid, "at": at} for cid, at in expiries.items()]
    with env.services.unit_of_work() as uow:
        connection = uow.session.connection()
        connection.execute(
            update(customers)
            .where(customers.c.id == bindparam("cid"))
            .values(expires_at=bindparam("at", type_=customers.c.expires_at.type)),
            params,
        )
        connection.execute(
            update(subscriptions)
            .where(subscriptions.c.customer_id == bindparam("cid"))
            .values(ends_at=bindparam("at", type_=subscriptions.c.ends_at.type)),
            params,
        )
        uow.commit()


def sync_until_converged(sync: RouterSync, router_id: int) -> int:
    """Run ``sync_pending`` until nothing is pending; returns how many customers it verified."""
    verified = 0
    while True:
        report = sync.sync_pending(router_id)
        if report.customers == 0:
            return verified
        verified += len(report.verified)
        if report.failed:
            sample = list(report.failed.items())[:3]
            raise RuntimeError(f"sync failed for {len(report.failed)} customers: {sample}")


def pending_count(env: BenchEnv) -> int:
    with env.services.unit_of_work() as uow:
        return len(
            list(uow.session.scalars(select(Customer.id).where(Customer.sync_pending.is_(True))))
        )


# -- the router side -----------------------------------------------------------------------------


def secret_flags(sim: SimulatedRouter) -> dict[str, str]:
    """name → disabled for every PPP secret, read in process (no API round trip)."""
    rows = sim.state.execute(PPP_SECRET, "print", {".proplist": "name,disabled"}).rows
    return {row["name"]: row["disabled"] for row in rows}


def disabled_count(sim: SimulatedRouter) -> int:
    result = sim.state.execute(PPP_SECRET, "print", {"count-only": ""}, ["?disabled=true"])
    return int(result.ret or 0)


# -- timing and profiling ------------------------------------------------------------------------


class PhaseTimer:
    """Wall time (and this process's CPU time, all threads) spent in named methods, by wrapping
    them on the given object only. CPU time barely moves with other load on the machine."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self.calls: dict[str, int] = {}

    def wrap(self, target: Any, method: str, label: str | None = None) -> None:
        name = label or method
        original = getattr(target, method)

        @wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            started, cpu_started = time.perf_counter(), time.process_time()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started
                self.cpu[name] = self.cpu.get(name, 0.0) + time.process_time() - cpu_started
                self.calls[name] = self.calls.get(name, 0) + 1

        setattr(target, method, timed)

    def line(self, name: str) -> str:
        return (
            f"{self.seconds.get(name, 0.0):7.2f} s (cpu {self.cpu.get(name, 0.0):6.2f} s) in "
            f"{self.calls.get(name, 0)} call(s)"
        )


def wrap_router_sync(timer: PhaseTimer, sync: RouterSync | type[RouterSync]) -> None:
    """Time the phases of a RouterSync (or of the class, for instances built elsewhere):
    DB read + decrypt, router I/O, DB bookkeeping."""
    timer.wrap(sync, "_states", "load: decrypt + desired state")
    timer.wrap(sync, "_converge", "router: converge (read, write, read back)")
    timer.wrap(sync, "_record", "db: record synced (clear sync_pending)")
    timer.wrap(sync, "_save_run", "db: save sync run")


@contextmanager
def maybe_profiled(enabled: bool, label: str, top: int = 25) -> Iterator[None]:
    """cProfile the block (this thread only) and print the top functions by own and total time."""
    if not enabled:
        yield
        return
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        yield
    finally:
        profiler.disable()
        for order in ("tottime", "cumulative"):
            stream = io.StringIO()
            stats = pstats.Stats(profiler, stream=stream).strip_dirs().sort_stats(order)
            stats.print_stats(top)
            print(f"\n--- cProfile of {label}, by {order} (timings inflated by profiling) ---")
            print(_trim_profile(stream.getvalue()))


def _trim_profile(report: str) -> str:
    lines = report.splitlines()
    for index, line in enumerate(lines):
        if line.strip().startswith("ncalls"):
            return "\n".join(lines[index:])
    return report


@dataclass
class Stopwatch:
    """Wall and process CPU seconds (all threads, so the in-process simulator's work too)."""

    wall: float = 0.0
    cpu: float = 0.0

    @contextmanager
    def running(self) -> Iterator[Stopwatch]:
        started, cpu_started = time.perf_counter(), time.process_time()
        try:
            yield self
        finally:
            self.wall += time.perf_counter() - started
            self.cpu += time.process_time() - cpu_started


def load_average() -> str:
    """The 1, 5 and 15 minute load averages: other work on the machine skews every figure."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def sleep_until(instant: datetime) -> None:
    delay = (instant - datetime.now(UTC)).total_seconds()
    if delay > 0:
        time.sleep(delay)


def next_whole_second(after: datetime, plus: float = 0.0) -> datetime:
    moment = after + timedelta(seconds=plus)
    return moment.replace(microsecond=0) + timedelta(seconds=1)


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (no interpolation): the value at or below which ``fraction`` lie."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), math.ceil(fraction * len(ordered))))
    return ordered[rank - 1]


def ratio_line(label: str, mteja: Stopwatch, bare: Stopwatch, target: float = 0.8) -> str:
    """The headline: wall seconds of each, bare/mteja, and the same ratio in CPU seconds."""
    ratio = bare.wall / mteja.wall if mteja.wall else float("inf")
    cpu_ratio = bare.cpu / mteja.cpu if mteja.cpu else float("inf")
    verdict = "meets" if ratio >= target else "MISSES"
    return (
        f"{label}: mteja {mteja.wall:.2f} s, bare librouteros loop {bare.wall:.2f} s, "
        f"ratio {ratio:.2f} (target >= {target:.2f}: {verdict}); in CPU seconds: "
        f"mteja {mteja.cpu:.2f}, bare {bare.cpu:.2f}, ratio {cpu_ratio:.2f}"
    )


def add_bench_owner(env: BenchEnv, telegram_user_id: int) -> None:
    """The staff owner a bench acts as (through the bot or a console login link)."""
    with env.services.unit_of_work() as uow:
        add_staff(uow, ACTOR, telegram_user_id, "Bench Owner", "owner")
        uow.commit()


def latency_row(label: str, times: Sequence[float] | None, width: int) -> str:
    """``label`` and the p50, p95, p99 and max of ``times`` (ms) in columns; the heading when
    ``times`` is None."""
    if times is None:
        return f"{label:<{width}} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8}"
    return (
        f"{label:<{width}} {percentile(times, 0.5):8.2f} {percentile(times, 0.95):8.2f} "
        f"{percentile(times, 0.99):8.2f} {max(times):8.2f}"
    )


def prepare_database(engine: Engine, trigram_index: bool) -> None:
    """The database as autovacuum keeps a live one: statistics gathered and, on PostgreSQL, the
    trigram index's pending list (where GIN puts fresh rows) merged in; optionally without the
    trigram index migration 0006 adds on PostgreSQL."""
    postgresql = engine.dialect.name == "postgresql"
    if not trigram_index:
        with engine.begin() as connection:
            connection.execute(text("DROP INDEX ix_customers_name_trgm"))
    # VACUUM cannot run inside a transaction.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE" if postgresql else "ANALYZE"))


def forget_redis_keys(redis_url: str, queue_name: str) -> None:
    """Delete a run's queue (the priority queue and the old list), schedule, results and router
    leases from Redis."""

    PriorityRedisHuey(queue_name, url=redis_url).storage.flush_all()
    RedisHuey(queue_name, url=redis_url).storage.flush_all()
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"*{queue_name}*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()
