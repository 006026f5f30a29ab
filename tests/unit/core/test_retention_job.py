"""The daily prune: run by the worker once a day, at the prune hour (local time)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from huey import MemoryHuey
from sqlalchemy import func, select

from core.clock import FrozenClock
from core.models import AuditEvent, PendingDeliveryReport
from core.unit_of_work import CoreServices
from core.usecases.retention import RetentionPolicy
from jobs.retention import RetentionRuntime, register_retention_task

# 03:00 in Nairobi (UTC+3).
THREE_LOCAL = datetime(2026, 11, 22, 0, 0, tzinfo=UTC)


def _old_report(services: CoreServices, at: datetime) -> None:
    with services.unit_of_work() as uow:
        uow.session.add(PendingDeliveryReport(provider_message_id="x", status="D", received_at=at))
        uow.commit()


def _left(services: CoreServices) -> tuple[int, int]:
    with services.unit_of_work() as uow:
        reports = uow.session.scalar(select(func.count()).select_from(PendingDeliveryReport))
        runs = uow.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "retention.prune")
        )
        return int(reports or 0), int(runs or 0)


def test_the_prune_runs_at_the_prune_hour_once_a_day(
    services: CoreServices, clock: FrozenClock
) -> None:
    huey = MemoryHuey("mteja", immediate=True, utc=True)
    task = register_retention_task(huey, lambda: RetentionRuntime(services, RetentionPolicy()))
    clock.set(THREE_LOCAL - timedelta(hours=1))
    _old_report(services, clock.now() - timedelta(days=91))

    task()
    assert _left(services) == (1, 0)  # 02:00: not yet

    clock.set(THREE_LOCAL + timedelta(minutes=1))
    task()
    assert _left(services) == (0, 1)

    clock.advance(timedelta(minutes=58))  # 03:59: the same hour's slot is taken
    task()
    assert _left(services) == (0, 1)
