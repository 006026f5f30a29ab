"""Review of 1efb2dc (priority queue on Redis): a rolling upgrade with a web process of the
version before still pushing to the old list, what the queue reports as waiting, and whether
scheduled and retried tasks keep their priority."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import redis
from huey.exceptions import RetryTask

from jobs.priorities import ROUTER_PRIORITY
from jobs.queue import PriorityRedisHuey
from tests.integration.sync.conftest import REDIS_URL
from tests.integration.sync.test_queue_priority import real_queue

pytestmark = pytest.mark.redis


def _push_like_an_old_web_process(huey: PriorityRedisHuey, task) -> None:
    """What RedisHuey of the version before did with a task: LPUSH on huey.redis.<name>."""
    huey.storage.conn.lpush(huey.storage.legacy_queue_key, huey.serialize_task(task))


def test_an_old_web_process_s_router_sync_is_taken_while_new_work_keeps_coming(
    system,
    redis_client: redis.Redis,
    queue_name: str,
) -> None:
    """The old list is moved only when the priority queue is found empty. A web process not yet
    upgraded queues sync_router(7) on the list (and sets the sync-queued:7 marker, so upgraded
    processes queue no other run for router 7); upgraded processes keep a steady trickle of
    messages in the sorted set. The router sync waits behind all of it: each of the 20 tasks
    taken here was queued after it."""
    huey = PriorityRedisHuey(queue_name, url=REDIS_URL, utc=True)
    queue = real_queue(system, huey)
    _push_like_an_old_web_process(huey, queue.tasks.sync_router.s(7))
    queue.messages.payment_notices(0)

    taken = []
    for payment_id in range(1, 21):
        message = huey.dequeue()
        assert message is not None
        taken.append(message.name)
        queue.messages.payment_notices(payment_id)  # the next receipt arrives meanwhile

    assert "sync_router" in taken


def test_the_queue_length_counts_tasks_still_on_the_old_list(
    system,
    redis_client: redis.Redis,
    queue_name: str,
) -> None:
    """/metrics' queue length and /readyz read huey.pending_count(): ZCARD of the sorted set
    only. Tasks an old process queued on the list are invisible until a worker moves them."""
    huey = PriorityRedisHuey(queue_name, url=REDIS_URL, utc=True)
    queue = real_queue(system, huey)
    for payment_id in (1, 2, 3):
        _push_like_an_old_web_process(huey, queue.messages.payment_notices.s(payment_id))

    assert huey.pending_count() == 3


def test_scheduled_and_retried_router_tasks_keep_their_priority(
    system,
    redis_client: redis.Redis,
    queue_name: str,
) -> None:
    """Sound: huey's schedule puts the task back through Huey.enqueue, which passes
    task.priority to the storage; a retry reschedules the same task object."""
    huey = PriorityRedisHuey(queue_name, url=REDIS_URL, utc=True)
    queue = real_queue(system, huey)
    queue.tasks.sync_router.schedule(args=(7,), delay=1)
    later = datetime.now(UTC).replace(tzinfo=None) + timedelta(seconds=5)
    for task in huey.read_schedule(later):
        huey.enqueue(task)
    [(_, score)] = redis_client.zrange(huey.storage.queue_key, 0, -1, withscores=True)
    assert score == -ROUTER_PRIORITY

    @huey.task(name="review_flaky", priority=ROUTER_PRIORITY, retries=1, retry_delay=1)
    def flaky() -> None:
        raise RetryTask()

    huey.dequeue()  # drop the sync
    flaky()
    huey.execute(huey.dequeue())  # fails: rescheduled with its retry delay
    for task in huey.read_schedule(later):
        huey.enqueue(task)
    [(_, score)] = redis_client.zrange(huey.storage.queue_key, 0, -1, withscores=True)
    assert score == -ROUTER_PRIORITY
