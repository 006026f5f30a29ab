"""Two schedulers enqueue every periodic task; each task's work is still done once per slot.

Each "scheduler" here is a queue of its own with the real tasks registered on it, as two
``mteja worker --periodic`` processes would have, sharing one database (SQLite and PostgreSQL).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from huey import MemoryHuey

from core.clock import FrozenClock
from core.ports import RecordingNotifier
from core.unit_of_work import CoreServices
from jobs.locks import FileRouterLock
from jobs.periodic import once_per_slot_task
from jobs.tasks import Runtime, register_tasks

NINE = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def scheduler() -> MemoryHuey:
    return MemoryHuey("mteja", immediate=True, utc=True)


class CountingSync:
    """Stands in for RouterSync: the sweep asks it once per run for the routers to re-sync."""

    def __init__(self) -> None:
        self.sweeps = 0

    def routers_with_pending(self) -> list[int]:
        self.sweeps += 1
        return []


def test_the_minute_sweep_runs_once_however_many_schedulers_enqueue_it(
    db_services: CoreServices, clock: FrozenClock, tmp_path: Path
) -> None:
    sync = CountingSync()
    runtime = Runtime(db_services, sync, FileRouterLock(tmp_path), RecordingNotifier())
    first, second = (register_tasks(scheduler(), lambda: runtime) for _ in range(2))
    clock.set(NINE)

    first.sweep()
    clock.advance(timedelta(seconds=2))  # the other scheduler's tick comes a moment later
    second.sweep()
    assert sync.sweeps == 1

    clock.advance(timedelta(minutes=1))
    second.sweep()
    first.sweep()
    assert sync.sweeps == 2


def test_a_losing_run_returns_without_calling_the_task(
    db_services: CoreServices, clock: FrozenClock
) -> None:
    calls: list[datetime] = []

    def record() -> str:
        calls.append(clock.now())
        return "done"

    tasks = [
        once_per_slot_task(huey, "probe", every_minutes=5, services=lambda: db_services)(record)
        for huey in (scheduler(), scheduler())
    ]
    clock.set(NINE + timedelta(minutes=5))
    assert tasks[0].call_local() == "done"
    clock.advance(timedelta(minutes=4, seconds=59))  # 09:09:59, still the 09:05 slot
    assert tasks[1].call_local() is None
    assert tasks[0].call_local() is None
    clock.advance(timedelta(seconds=1))  # 09:10: the next slot
    assert tasks[1].call_local() == "done"
    assert calls == [NINE + timedelta(minutes=5), NINE + timedelta(minutes=10)]


def test_the_crontab_follows_the_period(db_services: CoreServices) -> None:
    task = once_per_slot_task(scheduler(), "probe", every_minutes=15, services=lambda: db_services)(
        lambda: None
    )
    minutes = [m for m in range(60) if task.s().validate_datetime(NINE.replace(minute=m))]
    assert minutes == [0, 15, 30, 45]
