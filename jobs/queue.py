"""The huey instance: RedisHuey when MTEJA_REDIS_URL is set, SqliteHuey on a file otherwise."""

from __future__ import annotations

from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey

from core.settings import Settings

# The in-process queue's name; a real one is named by MTEJA_QUEUE_NAME (default "mteja").
QUEUE_NAME = "mteja"


def make_huey(settings: Settings, *, immediate: bool = False) -> Huey:
    """The queue for ``settings``; ``immediate`` runs tasks in-process at once (tests, scripts)."""
    if immediate:
        return MemoryHuey(QUEUE_NAME, immediate=True, utc=True)
    if settings.redis_url:
        return RedisHuey(settings.queue_name, url=settings.redis_url, utc=True)
    return SqliteHuey(settings.queue_name, filename=settings.huey_path, utc=True)
