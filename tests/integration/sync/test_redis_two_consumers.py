"""Two huey consumers on Redis drain router work: one writer per router, routers in parallel.

As in a deployment on two machines, each consumer has its own System, huey instance, Redis lease
lock and gateway factory; they share the database, Redis and the three simulated routers. The
gateway factories are wrapped to take a census of *writing* gateways (one that has sent an add,
set or remove and is not closed yet) per router, which is what the per-router lock must keep to
one. Writes are slowed down on the simulators so that work overlaps when it can.
"""

from __future__ import annotations

import dataclasses
import random
import signal
import threading
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime

import pytest
import redis

from core.errors import DomainError
from core.ports import RecordingDispatcher, RecordingNotifier
from core.usecases.service import suspend, unsuspend
from jobs.locks import RedisRouterLock
from jobs.queue import PriorityRedisHuey
from mteja.queueing import build_queue
from tests.integration.sync.conftest import REDIS_URL, delete_queue_keys, queue_keys

# A database of the tests' own, not the 0 a deployment on this Redis most likely uses.
ROUTERS = 3
CUSTOMERS_PER_ROUTER = 40
SYNC_TASKS_PER_ROUTER = 6
WRITE_LATENCY = 0.01  # seconds per add/set on the simulators
CONVERGENCE_DEADLINE = 90.0  # seconds; a bound for a failing run, not a performance target

pytestmark = [pytest.mark.redis, pytest.mark.slow]


def test_a_queue_named_with_dashes_leaves_no_key_behind(redis_client: redis.Redis) -> None:
    name = f"mteja-test-{uuid.uuid4().hex[:12]}"
    huey = PriorityRedisHuey(name, url=REDIS_URL, utc=True)
    huey.storage.enqueue(b"a task")
    huey.storage.add_to_schedule(b"a scheduled task", datetime.now(UTC))
    huey.storage.put_data("a result", b"42")
    with RedisRouterLock(redis_client, prefix=name).hold(1):
        assert len(queue_keys(redis_client, name)) == 4  # queue, schedule, results, lease
    huey.storage.conn.set(f"{name}:router-lock:2", "a lease its worker never released")
    delete_queue_keys(redis_client, name)
    assert queue_keys(redis_client, name) == []
    assert list(redis_client.scan_iter(match=f"*{huey.storage.name}*")) == []


class WriterCensus:
    """Counts gateways that are writing to each router right now, and the most ever seen."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.writing: dict[int, int] = defaultdict(int)
        self.most: dict[int, int] = defaultdict(int)
        self.overlaps = 0  # a router's writer started while another router had one

    def started(self, router_id: int) -> None:
        with self._lock:
            if any(count for other, count in self.writing.items() if other != router_id):
                self.overlaps += 1
            self.writing[router_id] += 1
            self.most[router_id] = max(self.most[router_id], self.writing[router_id])

    def stopped(self, router_id: int) -> None:
        with self._lock:
            self.writing[router_id] -= 1

    def factory(self, inner):
        def make(login):
            return CountedGateway(self, login.router_id, inner(login))

        return make


class CountedGateway:
    """A RouterGateway that reports to the census from its first write until it is closed."""

    def __init__(self, census: WriterCensus, router_id: int, inner) -> None:
        self.census, self.router_id, self.inner = census, router_id, inner
        self.is_writing = False

    def _writing(self) -> None:
        if not self.is_writing:
            self.is_writing = True
            self.census.started(self.router_id)

    def print(self, menu, proplist=None, where=None):
        return self.inner.print(menu, proplist, where)

    def print_each(self, menu, proplist=None, where=None):
        return self.inner.print_each(menu, proplist, where)

    def add(self, menu, attrs):
        self._writing()
        return self.inner.add(menu, attrs)

    def set(self, menu, item_id, attrs):
        self._writing()
        return self.inner.set(menu, item_id, attrs)

    def remove(self, menu, item_ids):
        self._writing()
        return self.inner.remove(menu, item_ids)

    def print_many(self, menu, proplist, wheres):
        return self.inner.print_many(menu, proplist, wheres)

    def write_many(self, writes):
        if writes:
            self._writing()
        return self.inner.write_many(writes)

    def identity(self):
        return self.inner.identity()

    def resource(self):
        return self.inner.resource()

    def close(self):
        try:
            self.inner.close()
        finally:
            if self.is_writing:
                self.is_writing = False
                self.census.stopped(self.router_id)


@pytest.fixture
def busy_routers(router_env, more_routers):
    """Three simulated routers with many customers each, all waiting for their first sync, and
    writes on every router slowed down: [(router id, simulator)]."""
    env = router_env
    routers = [(env.router_id, env.router_name, env.sim), *more_routers(ROUTERS - 1)]
    for _, name, sim in routers:
        env.router_name = name
        for number in range(CUSTOMERS_PER_ROUTER):
            env.create(f"Subscriber {number}", username=f"{name}-sub{number}")
        sim.faults.set_latency(WRITE_LATENCY, command="add")
        sim.faults.set_latency(WRITE_LATENCY, command="set")
    env.router_name = "kahawa"
    assert len(env.pending()) == ROUTERS * CUSTOMERS_PER_ROUTER
    return [(router_id, sim) for router_id, _, sim in routers]


@dataclasses.dataclass
class Machines:
    """Two worker machines' queues, the census their gateways report to, and their consumers."""

    queues: list
    census: WriterCensus
    lock_clients: list
    consumers: list = dataclasses.field(default_factory=list)

    def start(self) -> None:
        # huey's consumer installs signal handlers; pytest gets its own back afterwards.
        numbers = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
        saved = {number: signal.getsignal(number) for number in numbers}
        try:
            for queue in self.queues:
                consumer = queue.huey.create_consumer(
                    workers=2,
                    worker_type="thread",
                    periodic=False,
                    max_delay=0.2,
                    check_worker_health=False,
                )
                consumer.start()
                self.consumers.append(consumer)
        finally:
            for number, handler in saved.items():
                signal.signal(number, handler)

    def stop(self) -> None:
        for consumer in self.consumers:
            consumer.stop(graceful=True)
        for client in self.lock_clients:
            client.close()


@pytest.fixture
def machines(router_env, system_for, router_gateways, redis_client, queue_name):
    """Two consumers, as on two machines: each its own System, huey, lease lock and gateways;
    they share the database, Redis and the routers. Staff's changes enqueue through the first."""
    census = WriterCensus()
    queues, lock_clients = [], []
    for _ in range(2):
        services = dataclasses.replace(router_env.services, dispatcher=RecordingDispatcher())
        lock_clients.append(redis.Redis.from_url(REDIS_URL))
        queues.append(
            build_queue(
                system_for(services),
                # The queue production runs on Redis: huey's sorted set (jobs.queue).
                huey=PriorityRedisHuey(queue_name, url=REDIS_URL, utc=True),
                gateways=census.factory(router_gateways),
                locks=RedisRouterLock(lock_clients[-1], prefix=queue_name),
                notifier=RecordingNotifier(),
            )
        )
        if len(queues) == 1:
            router_env.services.dispatcher = services.dispatcher
    running = Machines(queues, census, lock_clients)
    yield running
    running.stop()


def staff_at_work(env, customer_ids, stop: threading.Event, errors: list, seed: int = 3) -> None:
    """Suspend and unsuspend customers on every router until told to stop."""
    chooser = random.Random(seed)
    while not stop.is_set():
        customer_id = chooser.choice(customer_ids)
        try:
            if chooser.random() < 0.5:
                env.do(suspend, customer_id, env.staff, "unpaid")
            else:
                env.do(unsuspend, customer_id, env.staff)
        except DomainError:
            continue
        except Exception as error:
            errors.append(error)
            return
        stop.wait(0.02)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_consumers_never_write_one_router_at_once_and_work_routers_in_parallel(
    redis_client, router_env, busy_routers, machines, router_mismatches
):
    env, first = router_env, machines.queues[0]
    customer_ids = sorted(env.pending())
    for _ in range(SYNC_TASKS_PER_ROUTER):
        for router_id, _ in busy_routers:
            first.tasks.sync_router(router_id)

    machines.start()
    stop_staff, staff_errors = threading.Event(), []
    staff = threading.Thread(
        target=staff_at_work, args=(env, customer_ids, stop_staff, staff_errors)
    )
    staff.start()
    try:
        stop_staff.wait(2.0)
    finally:
        stop_staff.set()
        staff.join()
    deadline = time.monotonic() + CONVERGENCE_DEADLINE
    while (env.pending() or first.huey.pending_count()) and time.monotonic() < deadline:
        time.sleep(0.2)

    assert staff_errors == []
    assert env.pending() == {}
    for router_id, sim in busy_routers:
        assert router_mismatches(env.services, sim, router_id) == []
    assert dict(machines.census.most) == {router_id: 1 for router_id, _ in busy_routers}
    assert machines.census.overlaps >= 1, "no two routers were ever written at the same time"
