"""A worker that loses its hold on a router stops writing to it at once (issue 19, item 8).

The Redis lock is a lease renewed every third of its length. If a renewal fails (Redis
unreachable) or finds the key gone or someone else's, the lease may lapse and another worker
take the router while this one is mid-sync: two writers on one router. The holder must stop
before its next write; what it left pending is converged by the next holder.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import redis
from huey import MemoryHuey

from core.ports import RecordingNotifier
from jobs.locks import (
    FileRouterLock,
    Lease,
    LeaseLost,
    RedisRouterLock,
    check_current_lease,
    writing_under,
)
from mteja.queueing import build_queue
from routers.guarded import GuardedGateway
from sim.routeros.memory_gateway import InMemoryRouterGateway
from tests.integration.sync.conftest import fast_gateways

REDIS_URL = os.environ.get("MTEJA_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
LEASE = 0.3  # seconds: renewed every 0.1 s


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        if IN_CI:
            pytest.fail(f"Redis at {REDIS_URL} is not reachable (CI must run the Redis tests)")
        pytest.skip(f"Redis at {REDIS_URL} is not reachable: {exc.__class__.__name__}")
    prefix = f"mteja-test-{uuid.uuid4().hex[:8]}"
    client.prefix_for_test = prefix  # type: ignore[attr-defined]
    yield client
    for key in client.scan_iter(match=f"{prefix}:*"):
        client.delete(key)


def _wait_until_lost(lease: Lease, seconds: float = 3.0) -> None:
    deadline = time.monotonic() + seconds
    while not lease.lost and time.monotonic() < deadline:
        time.sleep(0.01)


@pytest.mark.redis
def test_a_lease_taken_by_another_worker_is_lost_and_refuses_writes(
    redis_client: redis.Redis,
) -> None:
    prefix = redis_client.prefix_for_test  # type: ignore[attr-defined]
    lock = RedisRouterLock(redis_client, lease_seconds=LEASE, prefix=prefix)
    with lock.hold(7) as lease:
        lease.check()
        # The lease lapsed (a long pause) and another worker took the router.
        redis_client.set(f"{prefix}:router-lock:7", "another worker's token", px=5000)
        _wait_until_lost(lease)
        assert lease.lost
        with pytest.raises(LeaseLost):
            lease.check()
    # Leaving the block does not release the other worker's lease.
    assert redis_client.get(f"{prefix}:router-lock:7") == b"another worker's token"


class FlakyRedis(redis.Redis):  # type: ignore[misc]
    """A client whose scripts fail once ``down`` is set, as when Redis becomes unreachable."""

    down = False

    def eval(self, *args: Any, **kwargs: Any) -> Any:
        if self.down:
            raise redis.ConnectionError("Redis went away")
        return super().eval(*args, **kwargs)


@pytest.mark.redis
def test_a_renewal_that_fails_loses_the_lease_at_once(redis_client: redis.Redis) -> None:
    prefix = redis_client.prefix_for_test  # type: ignore[attr-defined]
    client = FlakyRedis.from_url(REDIS_URL, socket_timeout=5)
    lock = RedisRouterLock(client, lease_seconds=LEASE, prefix=prefix)
    with lock.hold(8) as lease:
        time.sleep(LEASE)  # renewed a few times
        assert not lease.lost
        client.down = True
        _wait_until_lost(lease, seconds=LEASE)  # the next renewal, a third of the lease on
        assert lease.lost and "renewal failed" in lease.reason
        client.down = False


@pytest.mark.redis
def test_a_lease_renewed_normally_is_kept_past_its_length(redis_client: redis.Redis) -> None:
    prefix = redis_client.prefix_for_test  # type: ignore[attr-defined]
    lock = RedisRouterLock(redis_client, lease_seconds=LEASE, prefix=prefix)
    with lock.hold(9) as lease:
        time.sleep(LEASE * 4)
        lease.check()
    assert redis_client.get(f"{prefix}:router-lock:9") is None


def test_a_guarded_gateway_writes_nothing_once_the_lease_is_lost() -> None:
    inner = InMemoryRouterGateway()
    gateway = GuardedGateway(inner, check_current_lease)
    lease = Lease(3)
    with writing_under(lease):
        gateway.add("/ppp/secret", {"name": "john", "password": "x"})
        lease.lose("renewal failed: ConnectionError")
        with pytest.raises(LeaseLost):
            gateway.add("/ppp/secret", {"name": "mary", "password": "y"})
        with pytest.raises(LeaseLost):
            gateway.write_many([])
        assert [item["name"] for item in gateway.print("/ppp/secret")] == ["john"]
    assert len(inner.writes) == 1
    # Outside a held lock there is no lease to check.
    gateway.add("/ppp/secret", {"name": "mary", "password": "y"})


class LosingLock:
    """A router lock whose lease is lost the moment it is taken."""

    def __init__(self, directory: Path) -> None:
        self.files = FileRouterLock(directory)
        self.holds = 0

    @contextmanager
    def hold(self, router_id: int) -> Iterator[Lease]:
        with self.files.hold(router_id) as lease:
            self.holds += 1
            lease.lose("renewal failed: test")
            yield lease


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_sync_task_that_lost_its_lease_writes_nothing_and_leaves_the_work_pending(
    router_env: Any, system: Any, tmp_path: Path
) -> None:
    env = router_env
    lock = LosingLock(tmp_path / "locks")
    queue = build_queue(
        system,
        huey=MemoryHuey("mteja-lease-test", utc=True),
        gateways=fast_gateways(),
        locks=lock,
        notifier=RecordingNotifier(),
    )
    env.create("John Kamau", username="john")
    before = env.sim.items("/ppp/secret")
    task = queue.huey.dequeue()
    assert task is not None
    queue.huey.execute(task)  # raises RetryTask inside huey: rescheduled, not lost
    assert lock.holds == 1
    assert env.sim.items("/ppp/secret") == before
    assert env.pending(), "the customer stays pending for the next holder"
