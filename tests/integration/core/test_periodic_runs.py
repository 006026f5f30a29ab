"""Periodic-task slots are claimed once, on SQLite and PostgreSQL: the first claim of a task's
slot wins, every other claim of it loses, and old claims are pruned by the winners."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from core.clock import FrozenClock
from core.models import PeriodicRun
from core.periodic_runs import KEEP_CLAIMS_FOR, claim_slot
from core.retry import in_transaction
from core.testing import run_together
from core.unit_of_work import CoreServices

SLOT = datetime(2026, 11, 22, 9, 15, tzinfo=UTC)


def claim(services: CoreServices, task_name: str, slot: datetime) -> bool:
    return in_transaction(services, lambda uow: claim_slot(uow, task_name, slot))


def claims(services: CoreServices) -> list[tuple[str, datetime]]:
    with services.unit_of_work() as uow:
        rows = uow.session.execute(
            select(PeriodicRun.task_name, PeriodicRun.slot_start).order_by(
                PeriodicRun.task_name, PeriodicRun.slot_start
            )
        )
        return [(name, slot) for name, slot in rows]


def test_the_second_claim_of_a_slot_loses(db_services: CoreServices) -> None:
    assert claim(db_services, "sweep", SLOT) is True
    assert claim(db_services, "sweep", SLOT) is False
    assert claims(db_services) == [("sweep", SLOT)]


def test_of_claims_made_at_the_same_instant_exactly_one_wins(db_services: CoreServices) -> None:
    results = run_together([lambda: claim(db_services, "expiry_reminders", SLOT)] * 6)
    assert sorted(results) == [False] * 5 + [True]


def test_other_slots_and_other_tasks_are_claimed_separately(db_services: CoreServices) -> None:
    assert claim(db_services, "sweep", SLOT) is True
    assert claim(db_services, "sweep", SLOT + timedelta(minutes=1)) is True
    assert claim(db_services, "check_routers", SLOT) is True
    assert claim(db_services, "check_routers", SLOT) is False
    assert len(claims(db_services)) == 3


def test_a_claim_that_is_rolled_back_leaves_the_slot_free(db_services: CoreServices) -> None:
    with db_services.unit_of_work() as uow:
        assert claim_slot(uow, "sweep", SLOT) is True  # never committed
    assert claim(db_services, "sweep", SLOT) is True


def test_winning_a_slot_prunes_the_task_s_claims_older_than_two_days(
    db_services: CoreServices, clock: FrozenClock
) -> None:
    old = SLOT - KEEP_CLAIMS_FOR - timedelta(minutes=15)
    recent = SLOT - KEEP_CLAIMS_FOR + timedelta(minutes=15)
    for slot in (old, recent):
        assert claim(db_services, "expiry_reminders", slot) is True
    assert claim(db_services, "sweep", old) is True
    clock.set(SLOT)

    assert claim(db_services, "expiry_reminders", SLOT) is True

    assert claims(db_services) == [
        ("expiry_reminders", recent),
        ("expiry_reminders", SLOT),
        ("sweep", old),  # another task's rows are left to that task's own winners
    ]
    assert claim(db_services, "sweep", SLOT) is True
    assert ("sweep", old) not in claims(db_services)


def test_a_losing_claim_prunes_nothing(db_services: CoreServices) -> None:
    old = SLOT - KEEP_CLAIMS_FOR - timedelta(hours=1)
    assert claim(db_services, "sweep", old) is True
    assert claim(db_services, "sweep", SLOT) is True
    assert claim(db_services, "sweep", old) is True  # a very late run of an old slot, say
    assert claim(db_services, "sweep", SLOT) is False
    assert claims(db_services) == [("sweep", old), ("sweep", SLOT)]
