"""Retention (``mteja prune``) over a database with old and new rows of every kind, on SQLite and
PostgreSQL: exactly the old prunable rows go; money, audit and raw callbacks stay."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select

from core.actors import Actor
from core.clock import FrozenClock
from core.models import (
    AuditEvent,
    Customer,
    DailyUsage,
    LedgerEntry,
    MpesaCallback,
    Payment,
    PendingDeliveryReport,
    RouterSyncRun,
    SmsMessage,
    StaffLoginLink,
    Subscription,
    UsageReading,
)
from core.testing import seed_pppoe_customers
from core.unit_of_work import CoreServices
from core.usecases.billing import IncomingPayment, record_payment
from core.usecases.retention import RetentionPolicy, prune
from core.usecases.staff import add_staff

POLICY = RetentionPolicy(
    sync_runs_days=30, delivery_reports_days=90, sms_bodies_days=180, usage_readings_days=35
)
OLD = timedelta(days=400)
RECENT = timedelta(days=2)


def _seed(services: CoreServices, clock: FrozenClock, staff: Actor) -> None:
    """Two customers, each with old and recent rows of every kind; the clock then moves 400 days
    on, so what was made at the start is old and what is made at the end is recent."""
    start = clock.now()
    router_id, ids = seed_pppoe_customers(services, staff, 3)
    with services.unit_of_work() as uow:
        add_staff(uow, staff, 1001, "Wanjiru", "owner")
        uow.commit()
    # The third customer's session is old but was never seen to end: its reading stays.
    _reading(services, router_id, ids[2], start, ended=False)
    for reader, at in ((ids[0], start), (ids[1], start + OLD - RECENT)):
        clock.set(at)
        _rows_at(services, staff, router_id, ids[:2], at)
        _reading(services, router_id, reader, at, ended=True)
    clock.set(start + OLD)


def _rows_at(services: CoreServices, staff: Actor, router_id: int, ids: list[int], at: Any) -> None:
    with services.unit_of_work() as uow:
        for customer_id in ids:
            record_payment(
                uow,
                customer_id,
                staff,
                IncomingPayment(1500, "cash", reference=f"R{customer_id}-{at:%Y%m%d}"),
            )
        uow.session.add(
            RouterSyncRun(
                router_id=router_id,
                kind="sync",
                started_at=at,
                finished_at=at,
                customers=2,
                drift=0,
                writes=0,
            )
        )
        uow.session.add(PendingDeliveryReport(provider_message_id="x", status="D", received_at=at))
        for status in ("delivered", "queued"):
            uow.session.add(
                SmsMessage(
                    phone="+254712000000",
                    kind="notice",
                    body=f"hello {status}",
                    status=status,
                    created_at=at,
                )
            )
        uow.session.add(MpesaCallback(kind="c2b", received_at=at, body="{}", status="processed"))
        uow.session.add(
            StaffLoginLink(
                token_hash=f"{at:%Y%m%d}".ljust(64, "0"),
                staff_id=1,
                created_at=at,
                expires_at=at + timedelta(minutes=15),
            )
        )
        uow.commit()


def _reading(
    services: CoreServices, router_id: int, customer_id: int, at: Any, *, ended: bool
) -> None:
    """A customer's last reading, whose bytes the daily totals already hold."""
    with services.unit_of_work() as uow:
        uow.session.add(
            UsageReading(
                customer_id=customer_id,
                router_id=router_id,
                session_key="*1",
                started_at=at - timedelta(hours=1),
                uptime_seconds=3600,
                download_bytes=1000,
                upload_bytes=100,
                sampled_at=at,
                ended_at=at + timedelta(minutes=5) if ended else None,
            )
        )
        uow.session.add(
            DailyUsage(
                customer_id=customer_id,
                day=date(at.year, at.month, at.day),
                download_bytes=1000,
                upload_bytes=100,
            )
        )
        uow.commit()


COUNTED = (
    Customer,
    Payment,
    LedgerEntry,
    Subscription,
    MpesaCallback,
    RouterSyncRun,
    PendingDeliveryReport,
    SmsMessage,
    StaffLoginLink,
    UsageReading,
    DailyUsage,
)


def _counts(services: CoreServices) -> dict[str, int]:
    with services.unit_of_work() as uow:
        counts = {
            model.__tablename__: uow.session.scalar(select(func.count()).select_from(model))
            for model in COUNTED
        }
        counts["audit"] = uow.session.scalar(select(func.count()).select_from(AuditEvent))
        counts["sms bodies"] = uow.session.scalar(
            select(func.count()).select_from(SmsMessage).where(SmsMessage.body != "")
        )
        return counts


def _daily_total(services: CoreServices) -> int:
    with services.unit_of_work() as uow:
        return int(
            uow.session.scalar(
                select(func.sum(DailyUsage.download_bytes + DailyUsage.upload_bytes))
            )
        )


def _money(services: CoreServices) -> list[Any]:
    with services.unit_of_work() as uow:
        return [
            list(uow.session.execute(select(model.__table__)))
            for model in (Payment, LedgerEntry, Subscription, MpesaCallback)
        ]


def test_prune_removes_exactly_the_old_prunable_rows(
    db_services: CoreServices, clock: FrozenClock, staff: Actor
) -> None:
    _seed(db_services, clock, staff)
    before, daily, money = _counts(db_services), _daily_total(db_services), _money(db_services)

    report = prune(db_services, staff, POLICY, batch=1)

    assert report.counts == {
        "router sync runs": 1,
        "SMS delivery reports": 1,
        "SMS bodies": 1,  # the old delivered one; the old queued one keeps its text
        "usage readings": 1,
        "staff login links and sessions": 2,  # both links are expired
    }
    after = _counts(db_services)
    assert after == {
        **before,
        "router_sync_runs": before["router_sync_runs"] - 1,
        "sms_pending_delivery_reports": before["sms_pending_delivery_reports"] - 1,
        "sms bodies": before["sms bodies"] - 1,
        "usage_readings": before["usage_readings"] - 1,
        "staff_login_links": 0,
        "audit": before["audit"] + 1,  # the run's summary
    }
    assert _daily_total(db_services) == daily
    assert _money(db_services) == money
    with db_services.unit_of_work() as uow:
        blanked = uow.session.scalars(select(SmsMessage).where(SmsMessage.body == "")).one()
        assert blanked.status == "delivered" and blanked.created_at < clock.now() - RECENT
        summary = uow.session.scalars(
            select(AuditEvent.after).where(AuditEvent.action == "retention.prune")
        ).one()
    assert summary == report.counts


def test_dry_run_counts_and_changes_nothing(
    db_services: CoreServices, clock: FrozenClock, staff: Actor
) -> None:
    _seed(db_services, clock, staff)
    before = _counts(db_services)

    report = prune(db_services, staff, POLICY, dry_run=True)

    assert report.dry_run
    assert report.counts["router sync runs"] == 1 and report.counts["SMS bodies"] == 1
    assert _counts(db_services) == before


def test_zero_days_keeps_that_kind_for_ever(
    db_services: CoreServices, clock: FrozenClock, staff: Actor
) -> None:
    _seed(db_services, clock, staff)

    report = prune(db_services, staff, RetentionPolicy(0, 0, 0, 0))

    assert report.counts == {"staff login links and sessions": 2}
