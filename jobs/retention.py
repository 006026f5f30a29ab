"""The daily prune (core.usecases.retention), at 03:00 local time, when the ISP is quiet.

Checked hourly; the hourly slot claim makes sure the hour's run happens once, however many
schedulers enqueue it. A day whose 03:00 passes with no worker running is pruned the next day:
the prune removes whatever is old by then.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from huey import Huey
from huey.api import TaskWrapper

from core.actors import Actor
from core.unit_of_work import CoreServices
from core.usecases.retention import RetentionPolicy, prune
from jobs.periodic import once_per_slot_task

log = logging.getLogger(__name__)

PRUNE_HOUR = 3


@dataclass
class RetentionRuntime:
    services: CoreServices
    policy: RetentionPolicy
    hour: int = PRUNE_HOUR


def register_retention_task(huey: Huey, runtime: Callable[[], RetentionRuntime]) -> TaskWrapper:
    """Register the periodic prune on ``huey``; returns its task."""

    def prune_old_rows() -> int | None:
        """At the prune hour: remove what the retention settings say is old."""
        env = runtime()
        local_now = env.services.clock.now().astimezone(env.services.config.timezone)
        if local_now.hour != env.hour:
            return None
        report = prune(env.services, Actor.system(), env.policy)
        log.info(
            "pruned %s rows: %s",
            report.total,
            ", ".join(f"{label} {count}" for label, count in report.counts.items()),
        )
        return report.total

    return once_per_slot_task(huey, "prune", every_minutes=60, services=lambda: runtime().services)(
        prune_old_rows
    )
