"""Retention: what mteja forgets after a while, so the database does not grow for ever.

``prune`` removes, per kind, what is older than that kind's setting (0 days = keep for ever):
router sync runs, SMS delivery reports waiting for a message, the text of old SMS (the row and
its status stay), the last usage reading of sessions that ended long ago, and spent staff login
links and sessions. Money (payments, ledger, invoices, receipts, subscriptions), raw M-Pesa
callbacks and the audit log are never touched, nor are the daily usage totals.

A usage reading holds no bytes of its own: the sample that stored it added its growth to the
daily and period totals in the same transaction, so every stored reading is already counted. It
is kept only to tell a continuing session from a new one; once its session has ended (and long
enough ago that it cannot come back), a later session counts from zero anyway.

Rows go in batches, one transaction each, so a large first prune never holds long locks; each
batch re-checks the condition on the rows it changes, so a row that became current meanwhile
(a reading a new sample rewrote) stays.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, func, select, update

from core import audit
from core.actors import Actor
from core.models import PendingDeliveryReport, RouterSyncRun, SmsMessage, UsageReading
from core.unit_of_work import CoreServices
from core.usecases.sms import SENDING
from core.usecases.staff_access import old_logins

BATCH = 5000
STAFF_LOGINS = "staff login links and sessions"


@dataclass(frozen=True)
class RetentionPolicy:
    """Days each kind is kept (0 = for ever), from the MTEJA_RETENTION_* settings."""

    sync_runs_days: int = 30
    delivery_reports_days: int = 90
    sms_bodies_days: int = 180
    usage_readings_days: int = 35


@dataclass
class PruneReport:
    """Rows removed (or, on a dry run, that would be) per kind, in the order they were pruned."""

    counts: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class _Kind:
    label: str
    model: type[Any]
    condition: ColumnElement[bool]
    # Columns set on the matching rows instead of deleting them (SMS text).
    blank: dict[str, Any] | None = None


def _kinds(policy: RetentionPolicy, now: datetime) -> list[_Kind]:
    def before(days: int) -> datetime:
        return now - timedelta(days=days)

    kinds: list[_Kind] = []
    if policy.sync_runs_days:
        cutoff = before(policy.sync_runs_days)
        kinds.append(_Kind("router sync runs", RouterSyncRun, RouterSyncRun.finished_at < cutoff))
    if policy.delivery_reports_days:
        cutoff = before(policy.delivery_reports_days)
        kinds.append(
            _Kind(
                "SMS delivery reports",
                PendingDeliveryReport,
                PendingDeliveryReport.received_at < cutoff,
            )
        )
    if policy.sms_bodies_days:
        cutoff = before(policy.sms_bodies_days)
        kinds.append(
            _Kind(
                "SMS bodies",
                SmsMessage,
                (SmsMessage.created_at < cutoff)
                & (SmsMessage.body != "")
                # A message still to be sent keeps its text (and its secret).
                & SmsMessage.status.not_in(("queued", SENDING)),
                blank={"body": "", "secret_encrypted": None},
            )
        )
    if policy.usage_readings_days:
        cutoff = before(policy.usage_readings_days)
        kinds.append(
            _Kind(
                "usage readings",
                UsageReading,
                UsageReading.ended_at.is_not(None) & (UsageReading.ended_at < cutoff),
            )
        )
    return kinds


def prune(
    services: CoreServices,
    actor: Actor,
    policy: RetentionPolicy,
    *,
    dry_run: bool = False,
    batch: int = BATCH,
) -> PruneReport:
    """Remove what ``policy`` says is old, ``batch`` rows per transaction, and audit one summary;
    with ``dry_run`` only count it and change nothing."""
    if batch < 1:
        raise ValueError("batch must be at least 1")
    now = services.clock.now()
    report = PruneReport(dry_run=dry_run)
    for kind in _kinds(policy, now):
        report.counts[kind.label] = (
            _count([kind], services) if dry_run else _prune_kind(services, kind, batch)
        )
    # Staff logins follow their own rules (core.usecases.staff_access), with no setting.
    logins = [_Kind(STAFF_LOGINS, model, condition) for model, condition in old_logins(now)]
    report.counts[STAFF_LOGINS] = (
        _count(logins, services)
        if dry_run
        else sum(_prune_kind(services, kind, batch) for kind in logins)
    )
    if not dry_run:
        with services.unit_of_work() as uow:
            audit.record(
                uow, actor, "retention.prune", entity_type="retention", after=report.counts
            )
            uow.commit()
    return report


def _count(kinds: list[_Kind], services: CoreServices) -> int:
    with services.unit_of_work() as uow:
        return sum(
            int(
                uow.session.scalar(
                    select(func.count()).select_from(kind.model).where(kind.condition)
                )
                or 0
            )
            for kind in kinds
        )


def _prune_kind(services: CoreServices, kind: _Kind, batch: int) -> int:
    (key,) = kind.model.__table__.primary_key.columns
    done = 0
    while True:
        with services.unit_of_work() as uow:
            keys = list(uow.session.scalars(select(key).where(kind.condition).limit(batch)))
            if not keys:
                return done
            # The condition again: a row that changed since it was read is left alone.
            chosen = key.in_(keys) & kind.condition
            if kind.blank is None:
                statement: Any = delete(kind.model).where(chosen)
            else:
                statement = update(kind.model).where(chosen).values(**kind.blank)
            result = uow.session.execute(statement.execution_options(synchronize_session=False))
            uow.commit()
        done += int(getattr(result, "rowcount", 0) or 0)
