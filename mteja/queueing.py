"""Wiring the job queue: huey, the tasks, router locks, and the dispatcher core publishes to."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import redis
from huey import Huey

from core.ports import RecordingNotifier, StaffNotifier
from core.settings import Settings
from jobs.dispatch import HueyDispatcher
from jobs.locks import FileRouterLock, RedisRouterLock, RouterLock
from jobs.queue import make_huey
from jobs.tasks import Runtime, Tasks, register_tasks
from mteja.bootstrap import System
from routers.desired import SyncOptions
from routers.sync import GatewayFactory, RouterSync, librouteros_factory


@dataclass
class Queue:
    huey: Huey
    tasks: Tasks
    notifier: StaffNotifier


def router_locks(settings: Settings) -> RouterLock:
    """Redis leases when the queue is on Redis (several machines), file locks otherwise."""
    if settings.redis_url:
        return RedisRouterLock(redis.Redis.from_url(settings.redis_url))
    return FileRouterLock(Path(settings.lock_dir))


def build_queue(
    system: System,
    *,
    huey: Huey | None = None,
    gateways: GatewayFactory | None = None,
    notifier: StaffNotifier | None = None,
    locks: RouterLock | None = None,
) -> Queue:
    """Register the tasks and make core's events enqueue them."""
    settings = system.settings
    huey = huey or make_huey(settings)
    notifier = notifier or RecordingNotifier()
    cache: list[Runtime] = []

    def runtime() -> Runtime:
        # Built on first use: a process that only enqueues never opens router connections.
        if not cache:
            factory = gateways or librouteros_factory(
                settings.router_connect_timeout, settings.router_command_timeout
            )
            options = SyncOptions(expired_profile=settings.expired_profile or None)
            cache.append(
                Runtime(
                    services=system.services,
                    router_sync=RouterSync(system.services, factory, options),
                    locks=locks or router_locks(settings),
                    notifier=notifier,
                )
            )
        return cache[0]

    tasks = register_tasks(huey, runtime, reconcile_every_minutes=settings.reconcile_minutes)
    system.services.dispatcher = HueyDispatcher(huey, tasks)
    return Queue(huey, tasks, notifier)
