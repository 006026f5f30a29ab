"""The expiry-reminder sweep: every 15 minutes, queue the reminders and expired notices now due.

The rules (which offsets, sending hours, STOP, once per expiry) are core's
(core.usecases.reminders); this task only finds what is due and queues it in small
transactions, so a sweep over thousands of customers never holds one long lock. A second
scheduler started by mistake does not make it run twice: each 15-minute slot is claimed once in
the database (jobs.periodic), and each notice is checked against the outbox before it is queued.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from huey import Huey
from huey.api import TaskWrapper

from core.retry import in_transaction
from core.unit_of_work import CoreServices, UnitOfWork
from core.usecases.reminders import Notice, ReminderPolicy, due_notices, queue_notices
from jobs.memory import big_task
from jobs.periodic import once_per_slot_task

BATCH = 200


@dataclass
class ReminderRuntime:
    services: CoreServices
    policy: ReminderPolicy


def send_due_reminders(services: CoreServices, policy: ReminderPolicy) -> int:
    """Queue every reminder and expired notice due now; returns how many were queued."""
    with services.unit_of_work() as uow:
        notices = due_notices(uow, policy)
    queued = 0
    for start in range(0, len(notices), BATCH):
        queued += in_transaction(services, partial(_queue, notices[start : start + BATCH]))
    return queued


def _queue(batch: list[Notice], uow: UnitOfWork) -> int:
    return queue_notices(uow, batch)


def register_reminder_tasks(huey: Huey, runtime: Callable[[], ReminderRuntime]) -> TaskWrapper:
    """Register the periodic reminder sweep on ``huey``; returns its task."""

    @big_task  # it read every customer due a reminder
    def expiry_reminders() -> int:
        """Queue the expiry reminders and expired notices due now."""
        env = runtime()
        return send_due_reminders(env.services, env.policy)

    return once_per_slot_task(
        huey, "expiry_reminders", every_minutes=15, services=lambda: runtime().services
    )(expiry_reminders)
