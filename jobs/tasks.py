"""The tasks. Each is a few lines calling routers.sync or a core use case.

Work for one router is serialized by a RouterLock; a task that finds its router busy is retried
a moment later. A router that cannot be reached makes the task fail and retry with backoff; the
customers stay ``sync_pending`` meanwhile, and the minute sweep re-enqueues them, so no change is
lost to a crash, a lost message or an outage.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from huey import Huey
from huey.api import TaskWrapper
from huey.exceptions import RetryTask

from core.ports import StaffNotifier
from core.retry import in_transaction
from core.unit_of_work import CoreServices
from core.usecases.periods import begin_due_periods
from core.usecases.service import (
    ExpiryOutcome,
    due_for_expiry,
    expire_due_batch,
    expire_if_due,
)
from core.usecases.staff_access import forget_old_logins
from jobs.locks import LeaseLost, RouterBusy, RouterLock, writing_under
from jobs.memory import big_task
from jobs.periodic import once_per_slot_task
from jobs.priorities import ROUTER_PRIORITY
from routers.desired import RemovedLogin
from routers.sync import RouterSync

log = logging.getLogger(__name__)

BUSY_RETRY_SECONDS = 0.5
BUSY_WAIT_SECONDS = 2.0
EXPIRY_BATCH = 500


@dataclass
class Runtime:
    """What tasks need, built by the composition root of the process running them."""

    services: CoreServices
    router_sync: RouterSync
    locks: RouterLock
    notifier: StaffNotifier


@dataclass
class Tasks:
    """Handles to enqueue each task."""

    sync_router: TaskWrapper
    expire_due: TaskWrapper
    drop_sessions: TaskWrapper
    remove_login: TaskWrapper
    reconcile_router: TaskWrapper
    check_routers: TaskWrapper
    sweep: TaskWrapper
    reconcile_all: TaskWrapper
    begin_periods: TaskWrapper


def _queued_key(router_id: int) -> str:
    return f"sync-queued:{router_id}"


def expiry_key(instant: datetime) -> str:
    """The storage key marking that an expiry run is scheduled for ``instant``'s second."""
    return f"expiry-at:{instant.replace(microsecond=0).isoformat()}"


def period_key(instant: datetime) -> str:
    """The storage key marking that a period-start run is scheduled for ``instant``'s second."""
    return f"period-at:{instant.replace(microsecond=0).isoformat()}"


def register_tasks(
    huey: Huey, runtime: Callable[[], Runtime], *, reconcile_every_minutes: int = 10
) -> Tasks:
    """Register every task on ``huey``; ``runtime`` is called when a task runs, so a process that
    only enqueues (the web app) never builds router connections."""

    def locked(router_id: int, work: Callable[[], Any]) -> Any:
        # Wait a moment for a busy router before going back through the schedule: most holds
        # are short, and a scheduled retry costs at least the scheduler's one-second tick.
        deadline = time.monotonic() + BUSY_WAIT_SECONDS
        while True:
            try:
                with runtime().locks.hold(router_id) as lease, writing_under(lease):
                    return work()
            except RouterBusy:
                if time.monotonic() >= deadline:
                    raise RetryTask(delay=BUSY_RETRY_SECONDS) from None
                time.sleep(0.05)
            except LeaseLost:
                # Stopped midway; what is still pending is done by whoever holds it next.
                raise RetryTask(delay=BUSY_RETRY_SECONDS) from None

    @huey.task(
        name="sync_router", priority=ROUTER_PRIORITY, retries=12, retry_delay=2, retry_backoff=1.5
    )
    def sync_router(router_id: int) -> int:
        """Converge every pending customer of one router."""
        # Cleared before reading the pending list: a change after this point queues a new run.
        huey.get(_queued_key(router_id))
        return int(locked(router_id, lambda: runtime().router_sync.sync_all_pending(router_id)))

    @huey.task(name="expire_due", priority=ROUTER_PRIORITY)
    def expire_due(scheduled_key: str | None = None) -> int:
        """Expire (or auto-renew) every customer whose paid time has run out."""
        if scheduled_key is not None:
            huey.get(scheduled_key)
        return expire_all_due(runtime().services)

    @huey.task(name="begin_periods", priority=ROUTER_PRIORITY)
    def begin_periods(scheduled_key: str | None = None) -> int:
        """Begin every paid period whose start has come: its plan, a new data allowance."""
        if scheduled_key is not None:
            huey.get(scheduled_key)
        return begin_all_due_periods(runtime().services)

    @huey.task(
        name="drop_sessions", priority=ROUTER_PRIORITY, retries=5, retry_delay=2, retry_backoff=2
    )
    def drop_sessions(customer_id: int) -> int:
        """Disconnect a customer's live sessions (staff 'disconnect')."""
        sync = runtime().router_sync
        router_id = sync.router_of(customer_id)
        if router_id is None:
            return 0
        return int(locked(router_id, lambda: sync.drop_sessions(customer_id)))

    @huey.task(
        name="remove_login", priority=ROUTER_PRIORITY, retries=12, retry_delay=2, retry_backoff=1.5
    )
    def remove_login(
        router_id: int, account_number: str | None, username: str, connection_type: str
    ) -> None:
        """Take a deleted or moved customer's entries off a router."""
        removed = RemovedLogin(account_number, username, connection_type)
        locked(router_id, lambda: runtime().router_sync.remove_login(router_id, removed))

    @huey.task(name="reconcile_router", retries=3, retry_delay=30)
    @big_task  # it held every customer of the router
    def reconcile_router(router_id: int) -> int:
        """Full reconcile of one router; returns the drift fixed."""
        report = locked(router_id, lambda: runtime().router_sync.reconcile(router_id))
        if report.drift:
            log.info("router %s: fixed %s drifted entries", router_id, report.drift)
            runtime().services.metrics.drift_repaired(
                report.drift_added, report.drift_changed, report.drift_removed
            )
        return int(report.drift)

    def services() -> CoreServices:
        return runtime().services

    @once_per_slot_task(huey, "check_routers", every_minutes=1, services=services)
    def check_routers() -> None:
        """Online/offline per router; tell staff of a change, and reconcile at once a router
        that came back or restarted (its uptime went back: it may have come back empty)."""
        sync = runtime().router_sync
        for router_id in sync.router_ids():
            health = sync.check(router_id)
            if health.changed and health.online and health.previous == "unknown":
                continue  # a router seen for the first time is not "back"
            if health.changed:
                name = _router_name(runtime().services, router_id)
                if health.online:
                    runtime().notifier.notify(f"Router {name} is back online; resyncing it now.")
                    reconcile_router(router_id)
                elif health.certificate_mismatch:
                    runtime().notifier.notify(
                        f"Router {name}: CERTIFICATE MISMATCH, not logged in (password not "
                        f"sent): {health.error}. If the router's certificate was replaced, "
                        f"confirm it with `mteja router fingerprint {name}` and pin it again."
                    )
                else:
                    runtime().notifier.notify(f"Router {name} is OFFLINE: {health.error}")
            elif health.restarted:
                name = _router_name(runtime().services, router_id)
                runtime().notifier.notify(
                    f"Router {name} restarted (its uptime went back); resyncing it now."
                )
                reconcile_router(router_id)

    @once_per_slot_task(huey, "sweep", every_minutes=1, services=services)
    def sweep() -> None:
        """The minute safety net: begin and expire what is due, re-enqueue pending syncs."""
        begin_all_due_periods(runtime().services)
        expire_all_due(runtime().services)
        for router_id in runtime().router_sync.routers_with_pending():
            # The marker may belong to a queued run that was lost (a worker killed holding it);
            # clearing it makes sure this sweep queues a run whatever became of that one.
            huey.get(_queued_key(router_id))
            enqueue_sync(huey, tasks, router_id)

    @once_per_slot_task(
        huey, "reconcile_all", every_minutes=max(1, reconcile_every_minutes), services=services
    )
    def reconcile_all() -> None:
        """Every N minutes (default 10), reconcile every router to repair drift."""
        for router_id in runtime().router_sync.router_ids():
            reconcile_router(router_id)

    @once_per_slot_task(huey, "forget_staff_logins", every_minutes=60, services=services)
    def forget_staff_logins() -> int:
        """Hourly: delete spent login links, ended web sessions and aged-out refusals (the
        audit log keeps every login)."""
        return in_transaction(runtime().services, forget_old_logins)

    tasks = Tasks(
        sync_router,
        expire_due,
        drop_sessions,
        remove_login,
        reconcile_router,
        check_routers,
        sweep,
        reconcile_all,
        begin_periods,
    )
    return tasks


def enqueue_sync(huey: Huey, tasks: Tasks, router_id: int) -> None:
    """Queue one sync of ``router_id`` unless one is already waiting (coalesces bursts)."""
    if huey.put_if_empty(_queued_key(router_id), "1"):
        tasks.sync_router(router_id)


def begin_all_due_periods(services: CoreServices) -> int:
    """Begin every due period, a batch per transaction; returns how many began."""
    begun = 0
    while True:
        with services.unit_of_work() as uow:
            done = begin_due_periods(uow, EXPIRY_BATCH)
            uow.commit()
        begun += done
        if done < EXPIRY_BATCH:
            return begun


def expire_all_due(services: CoreServices) -> int:
    """Expire or renew every due customer, a batch per transaction; returns how many."""
    handled = 0
    while True:
        try:
            with services.unit_of_work() as uow:
                outcomes = expire_due_batch(uow, EXPIRY_BATCH)
                uow.commit()
        except Exception:
            # One bad row must not stop everyone's expiry: redo this batch one by one.
            log.exception("batch expiry failed; expiring customers one at a time")
            return handled + _expire_one_by_one(services)
        done = sum(outcomes.values())
        handled += done
        if done < EXPIRY_BATCH:
            return handled


def _expire_one_by_one(services: CoreServices) -> int:
    with services.unit_of_work() as uow:
        due = due_for_expiry(uow, EXPIRY_BATCH)
    handled = 0
    for customer_id in due:
        try:
            with services.unit_of_work() as uow:
                outcome = expire_if_due(uow, customer_id)
                uow.commit()
        except Exception:
            log.exception("could not expire customer %s", customer_id)
            continue
        handled += outcome is not ExpiryOutcome.NOT_DUE
    return handled


def _router_name(services: CoreServices, router_id: int) -> str:
    from core.models import Router

    with services.unit_of_work() as uow:
        router = uow.session.get(Router, router_id)
        return router.name if router else str(router_id)
