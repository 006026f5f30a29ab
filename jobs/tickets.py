"""Telling staff about a problem a subscriber reported (USSD "Report a problem")."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from huey import Huey
from huey.api import TaskWrapper

from core.ports import StaffNotifier
from core.unit_of_work import CoreServices
from core.usecases.tickets import ticket_alert_line


@dataclass
class TicketRuntime:
    services: CoreServices
    notifier: StaffNotifier


def register_ticket_tasks(huey: Huey, runtime: Callable[[], TicketRuntime]) -> TaskWrapper:
    """Register the staff alert for new tickets on ``huey``; returns its task."""

    def ticket_alert(ticket_id: int) -> None:
        """Send staff the ticket's alert line."""
        env = runtime()
        with env.services.unit_of_work() as uow:
            line = ticket_alert_line(uow, ticket_id)
        if line:
            env.notifier.notify(line)

    # huey is untyped: applied as a call rather than a decorator so mypy keeps our signature.
    task: TaskWrapper = huey.task(name="ticket_alert", retries=3, retry_delay=10)(ticket_alert)
    return task
