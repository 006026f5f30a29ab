"""The huey instance: a priority queue on Redis when MTEJA_REDIS_URL is set, SqliteHuey on a file
otherwise.

Tasks carry a priority (jobs.priorities): a worker always takes the most urgent waiting task
first. SqliteHuey and MemoryHuey order by priority natively; on Redis that takes huey's
sorted-set queue (``PriorityRedisStorage``).
"""

from __future__ import annotations

import logging
import struct
import time
from typing import Any

from huey import Huey, MemoryHuey, SqliteHuey
from huey.storage import PriorityRedisStorage

from core.settings import Settings

log = logging.getLogger(__name__)

# The in-process queue's name; a real one is named by MTEJA_QUEUE_NAME (default "mteja").
QUEUE_NAME = "mteja"

# 2**50 microseconds (about 35 years) before now: the time prefix of a task moved from the list.
_LEGACY_HEAD_START_MICROSECONDS = 2**50

# Moves one task from the list older versions queued on into the sorted set: RPOP takes the
# oldest, and both steps happen in Redis at once, so a task is never lost or doubled between.
_MOVE_LEGACY_TASK = """
local task = redis.call('RPOP', KEYS[1])
if task then
    redis.call('ZADD', KEYS[2], 0, ARGV[1] .. task)
end
return task
"""


class PriorityRedisQueue(PriorityRedisStorage):
    """huey's sorted-set Redis queue under a key of its own.

    Versions before the priority queue kept the same queue name's tasks in a Redis list
    (``huey.redis.<name>``). A worker moves whatever waits there over at its first dequeue,
    then at least every ``LEGACY_CHECK_SECONDS`` and whenever the queue runs empty: during a
    rolling upgrade an old web process may still be pushing to the list, and its router sync
    must not wait for a quiet moment. Moved tasks go in at priority 0 ahead of every newer
    priority-0 task, in the order they were queued, each in one step inside Redis, so none is
    lost or run twice.
    """

    LEGACY_CHECK_SECONDS = 5.0

    def __init__(self, name: str = "huey", **kwargs: Any) -> None:
        super().__init__(name, **kwargs)
        self.legacy_queue_key: str = f"huey.redis.{self.name}"
        self.queue_key = f"huey.priority.{self.name}"
        self._move_legacy = self.conn.register_script(_MOVE_LEGACY_TASK)
        self._legacy_checked_at: float | None = None

    def move_legacy_tasks(self) -> int:
        self._legacy_checked_at = time.monotonic()
        moved = 0
        while True:
            # huey orders equal priorities by an 8-byte time prefix; this one is far in the past,
            # so the old tasks come before newer ones and keep their own order among themselves.
            prefix = struct.pack(">Q", int(time.time() * 1e6) - _LEGACY_HEAD_START_MICROSECONDS)
            if self._move_legacy(keys=[self.legacy_queue_key, self.queue_key], args=[prefix]):
                moved += 1
            else:
                break
        if moved:
            log.info("moved %s task(s) from the old list queue to the priority queue", moved)
        return moved

    def dequeue(self) -> bytes | None:
        checked = self._legacy_checked_at
        if checked is None or time.monotonic() - checked >= self.LEGACY_CHECK_SECONDS:
            self.move_legacy_tasks()
        task: bytes | None = super().dequeue()
        if task is None and self.move_legacy_tasks():
            task = super().dequeue()
        return task

    def queue_size(self) -> int:
        """What waits, the old list's tasks not yet moved included (/metrics shows it)."""
        return int(self.conn.zcard(self.queue_key)) + int(self.conn.llen(self.legacy_queue_key))

    def flush_queue(self) -> None:
        self.conn.delete(self.queue_key, self.legacy_queue_key)


class PriorityRedisHuey(Huey):
    storage_class = PriorityRedisQueue


def make_huey(settings: Settings, *, immediate: bool = False) -> Huey:
    """The queue for ``settings``; ``immediate`` runs tasks in-process at once (tests, scripts)."""
    if immediate:
        return MemoryHuey(QUEUE_NAME, immediate=True, utc=True)
    if settings.redis_url:
        return PriorityRedisHuey(settings.queue_name, url=settings.redis_url, utc=True)
    return SqliteHuey(settings.queue_name, filename=settings.huey_path, utc=True)
