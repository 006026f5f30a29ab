"""The daily summary for the staff chat, at 08:00 local time, with a 30-day chart.

Checked every ten minutes; within the summary hour the first check sends it, and a key in the
queue's storage makes sure it is sent once a day even with the check running often.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from huey import Huey
from huey.api import TaskWrapper

from core.ports import StaffNotifier
from core.reports import DayFigures, daily_summary, summary_text
from core.unit_of_work import CoreServices
from jobs.periodic import once_per_slot_task

log = logging.getLogger(__name__)

SUMMARY_HOUR = 8


@runtime_checkable
class PictureNotifier(Protocol):
    """A StaffNotifier that can also send a picture (the Telegram one can)."""

    def notify_with_picture(self, text: str, png: bytes, filename: str = ...) -> None: ...


Chart = Callable[[Sequence[DayFigures]], bytes]


@dataclass
class ReportRuntime:
    services: CoreServices
    notifier: StaffNotifier
    chart: Chart | None = None
    hour: int = SUMMARY_HOUR


def send_daily_summary(runtime: ReportRuntime) -> str:
    """Build the summary and send it (with the chart when the notifier takes pictures)."""
    with runtime.services.unit_of_work() as uow:
        summary = daily_summary(uow)
    text = summary_text(summary)
    notifier = runtime.notifier
    if runtime.chart is not None and isinstance(notifier, PictureNotifier):
        png = runtime.chart(summary.series)
        notifier.notify_with_picture(text, png, f"mteja-{summary.day.isoformat()}.png")
    else:
        notifier.notify(text)
    return text


def register_report_tasks(huey: Huey, runtime: Callable[[], ReportRuntime]) -> TaskWrapper:
    """Register the periodic daily summary on ``huey``; returns its task."""

    def daily_summary_task() -> bool:
        """Send the daily summary if it is the summary hour and it was not sent today."""
        env = runtime()
        local_now = env.services.clock.now().astimezone(env.services.config.timezone)
        if local_now.hour != env.hour:
            return False
        if not huey.put_if_empty(f"daily-summary:{local_now.date().isoformat()}", "1"):
            return False
        send_daily_summary(env)
        return True

    return once_per_slot_task(
        huey, "daily_summary", every_minutes=10, services=lambda: runtime().services
    )(daily_summary_task)
