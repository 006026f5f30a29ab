"""Periodic tasks that run once per slot, however many schedulers enqueue them.

Only one ``mteja worker`` should run the scheduler, but nothing stops an operator starting two;
each would enqueue every periodic task at every slot. A task registered here first claims its
slot in the database (core.periodic_runs), which works across machines and on both queue
backends; a run that loses the claim logs it and does nothing. The crontab and the slot both
come from ``every_minutes``, so they cannot disagree.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import datetime
from typing import ParamSpec, TypeVar

from huey import Huey, crontab
from huey.api import TaskWrapper

from core.periodic_runs import claim_slot, slot_start
from core.retry import in_transaction
from core.unit_of_work import CoreServices, UnitOfWork

log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")


def once_per_slot_task(
    huey: Huey, name: str, *, every_minutes: int, services: Callable[[], CoreServices]
) -> Callable[[Callable[P, R]], TaskWrapper]:
    """Register the decorated function as huey periodic task ``name``, run at the minutes of each
    hour that ``every_minutes`` divides; a run whose slot another run already claimed returns
    None without calling it. ``services`` is called when the task runs (its clock gives the
    slot)."""
    schedule = crontab(minute="*" if every_minutes == 1 else f"*/{every_minutes}")

    def register(body: Callable[P, R]) -> TaskWrapper:
        @functools.wraps(body)
        def run_if_first(*args: P.args, **kwargs: P.kwargs) -> R | None:
            won, slot = in_transaction(services(), functools.partial(_claim, name, every_minutes))
            if not won:
                log.info("%s: the run for %s already started elsewhere; skipping", name, slot)
                return None
            return body(*args, **kwargs)

        # huey is untyped: applied as a call rather than a decorator so mypy keeps our signature.
        task: TaskWrapper = huey.periodic_task(schedule, name=name)(run_if_first)
        return task

    return register


def _claim(name: str, every_minutes: int, uow: UnitOfWork) -> tuple[bool, datetime]:
    slot = slot_start(uow.clock.now(), every_minutes)
    return claim_slot(uow, name, slot), slot
