"""A worker takes router work before messages: a payment's reconnection or an expiry's cut-off
never waits behind a backlog of receipts. On SqliteHuey and on Redis (huey's sorted-set queue),
and a Redis queue that an older version filled as a list loses none of its tasks."""

from __future__ import annotations

from pathlib import Path

import pytest
from huey import Huey, RedisHuey

from core.settings import Settings
from jobs.queue import PriorityRedisHuey, PriorityRedisQueue, make_huey
from mteja.queueing import Queue, build_queue
from tests.integration.sync.conftest import REDIS_URL

# The order a worker takes enqueue_a_burst's tasks in.
ROUTER_WORK_FIRST = [
    "sync_router",
    "expire_due",
    "payment_notices",
    "payment_notices",
    "payment_notices",
    "send_sms",
]


def real_queue(system, huey: Huey) -> Queue:
    return build_queue(system, huey=huey)


def taken_in_order(huey: Huey) -> list[str]:
    """The names of the waiting tasks, in the order a worker takes them."""
    names = []
    while (message := huey.dequeue()) is not None:
        names.append(message.name)
    return names


def enqueue_a_burst(queue: Queue) -> None:
    """Receipts queued first, then the router sync of the payment that came last."""
    for payment_id in (1, 2, 3):
        queue.messages.payment_notices(payment_id)
    queue.tasks.sync_router(7)
    queue.messages.send_sms(9)
    queue.tasks.expire_due()


def test_sqlite_queue_takes_router_work_first(system, tmp_path: Path) -> None:
    settings = Settings(
        huey_path=str(tmp_path / "queue.db"),
        redis_url="",
        _env_file=None,  # type: ignore[call-arg]
    )
    queue = real_queue(system, make_huey(settings))
    enqueue_a_burst(queue)
    assert taken_in_order(queue.huey) == ROUTER_WORK_FIRST


@pytest.mark.redis
def test_redis_queue_takes_router_work_first(system, redis_client, queue_name: str) -> None:
    settings = Settings(
        redis_url=REDIS_URL,
        queue_name=queue_name,
        _env_file=None,  # type: ignore[call-arg]
    )
    huey = make_huey(settings)
    assert isinstance(huey, PriorityRedisHuey)
    queue = real_queue(system, huey)
    enqueue_a_burst(queue)
    assert huey.pending_count() == 6
    assert taken_in_order(huey) == ROUTER_WORK_FIRST


@pytest.mark.redis
def test_tasks_an_older_version_queued_as_a_list_are_all_taken_oldest_first(
    system, redis_client, queue_name: str
) -> None:
    # What a worker of the version before found waiting: RedisHuey's list, under the old key.
    old = real_queue(system, RedisHuey(queue_name, url=REDIS_URL, utc=True))
    for payment_id in (1, 2, 3):
        old.messages.payment_notices(payment_id)
    legacy_key = old.huey.storage.queue_key
    assert redis_client.llen(legacy_key) == 3

    huey = PriorityRedisHuey(queue_name, url=REDIS_URL, utc=True)
    storage = huey.storage
    assert isinstance(storage, PriorityRedisQueue)
    assert storage.legacy_queue_key == legacy_key
    assert storage.queue_key != legacy_key
    new = real_queue(system, huey)
    new.tasks.sync_router(7)  # queued by an upgraded web process meanwhile

    taken = []
    while (message := huey.dequeue()) is not None:
        taken.append((message.name, message.args))
    assert taken == [
        ("sync_router", (7,)),
        ("payment_notices", (1,)),
        ("payment_notices", (2,)),
        ("payment_notices", (3,)),
    ]
    assert redis_client.exists(legacy_key) == 0


@pytest.mark.redis
def test_moving_the_old_list_is_one_step_per_task(redis_client, queue_name: str) -> None:
    storage = PriorityRedisQueue(queue_name, url=REDIS_URL)
    redis_client.lpush(storage.legacy_queue_key, b"first", b"second")  # "first" is oldest
    assert storage.move_legacy_tasks() == 2
    assert storage.move_legacy_tasks() == 0
    assert storage.enqueued_items() == [b"first", b"second"]
