"""Usage sampling: every 5 minutes, read each router's session counters once.

The periodic task only queues one ``sample_usage`` per router, so routers are read in parallel by
as many workers as there are. A sample is a read, not a write: it takes no router lock (the
database refuses a sample older than the router's last recorded one, so two overlapping samples
never count the same bytes twice). A router that does not answer is skipped: counters are
cumulative, so the next sample counts what this one missed, and no retry is needed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from huey import Huey
from huey.api import TaskWrapper

from jobs.memory import big_task
from jobs.periodic import once_per_slot_task
from routers.gateway import RouterError
from routers.usage import UsageSampler

log = logging.getLogger(__name__)

SAMPLE_EVERY_MINUTES = 5


@dataclass
class UsageRuntime:
    sampler: UsageSampler


@dataclass
class UsageTasks:
    sample_usage: TaskWrapper
    sample_all_usage: TaskWrapper


def register_usage_tasks(huey: Huey, runtime: Callable[[], UsageRuntime]) -> UsageTasks:
    """Register the per-router sample and the 5-minute periodic task that queues it."""

    def sample_usage(router_id: int) -> int:
        """Record one sample of a router's sessions; returns the sessions matched to customers."""
        try:
            result = runtime().sampler.sample(router_id)
        except RouterError as error:
            log.warning("router %s: no usage sample this time: %s", router_id, error)
            return 0
        sample = result.sample
        log.info(
            "router %s: usage of %d session(s) (%d new, %d counter resets), caps changed: %d",
            router_id,
            sample.customers,
            sample.new_sessions,
            sample.counter_resets,
            len(result.cap_outcomes),
        )
        return sample.customers

    # huey is untyped: applied as a call rather than a decorator so mypy keeps our signature.
    # It held every live session of the router.
    sample_task: TaskWrapper = huey.task(name="sample_usage")(big_task(sample_usage))

    def sample_all_usage() -> int:
        """Queue a usage sample of every router; returns how many were queued."""
        router_ids = runtime().sampler.router_ids()
        for router_id in router_ids:
            sample_task(router_id)
        return len(router_ids)

    periodic = once_per_slot_task(
        huey,
        "sample_all_usage",
        every_minutes=SAMPLE_EVERY_MINUTES,
        services=lambda: runtime().sampler.services,
    )(sample_all_usage)
    return UsageTasks(sample_task, periodic)
