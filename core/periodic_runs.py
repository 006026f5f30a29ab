"""Periodic-task slots, each claimed once: a second scheduler cannot make a task run twice.

Every scheduler (``mteja worker`` without ``--no-periodic``) enqueues every periodic task at its
crontab minutes. The run that inserts the ``periodic_runs`` row for its (task, slot) does the
work; any other run of the same slot finds the row there and does nothing. The row is committed
before the work starts, so a run that crashes half way leaves its slot to the next one: a
periodic task runs at most once per slot, and every task here is a sweep that the next slot
repeats anyway.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite

from core.models import PeriodicRun
from core.unit_of_work import UnitOfWork

# Claims are only compared with claims of the same slot; two days is ample for a late run.
KEEP_CLAIMS_FOR = timedelta(days=2)


def slot_start(instant: datetime, every_minutes: int) -> datetime:
    """The start of the slot holding ``instant`` for a task run at the minutes of each hour that
    ``every_minutes`` divides (crontab ``*/N``; 1 is every minute, 60 or more is on the hour)."""
    if every_minutes < 1:
        raise ValueError(f"a periodic task runs every 1 minute or more, not {every_minutes}")
    minute = instant.minute - instant.minute % every_minutes
    return instant.replace(minute=minute, second=0, microsecond=0)


def claim_slot(uow: UnitOfWork, task_name: str, slot: datetime) -> bool:
    """Claim ``task_name``'s run of ``slot``; True when this caller is the first (it then does
    the work), False when another run has it. Commit before doing the work, so others see it.

    ON CONFLICT DO NOTHING: a second claim at the same moment waits for the first to commit and
    then inserts nothing, instead of failing on the primary key.
    """
    dialect = uow.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # RETURNING, not rowcount: an ORM insert reports no rowcount on PostgreSQL.
    inserted = uow.session.execute(
        insert(PeriodicRun)
        .values(task_name=task_name, slot_start=slot, claimed_at=uow.clock.now())
        .on_conflict_do_nothing(index_elements=["task_name", "slot_start"])
        .returning(PeriodicRun.task_name)
    ).scalar_one_or_none()
    won = inserted is not None
    if won:
        prune_claims(uow, task_name, slot - KEEP_CLAIMS_FOR)
    return won


def prune_claims(uow: UnitOfWork, task_name: str, before: datetime) -> int:
    """Delete ``task_name``'s claims of slots before ``before``; returns how many.

    Only the winner of a slot prunes, and only its own task's rows, so two pruning transactions
    never wait on each other's rows.
    """
    result = uow.session.execute(
        delete(PeriodicRun).where(
            PeriodicRun.task_name == task_name, PeriodicRun.slot_start < before
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
