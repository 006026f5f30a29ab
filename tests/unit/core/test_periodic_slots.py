"""A periodic task's slot: its scheduled time floored to its period, as huey's crontab counts
minutes (``*/N`` is each minute of the hour that N divides)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from huey import crontab

from core.periodic_runs import slot_start


def at(hour: int, minute: int, second: int = 0, microsecond: int = 0) -> datetime:
    return datetime(2026, 11, 22, hour, minute, second, microsecond, tzinfo=UTC)


@pytest.mark.parametrize(
    ("instant", "every_minutes", "slot"),
    [
        (at(9, 7, 59, 999_999), 1, at(9, 7)),
        (at(9, 4, 59), 5, at(9, 0)),
        (at(9, 5, 0), 5, at(9, 5)),
        (at(9, 29, 30), 10, at(9, 20)),
        (at(9, 44, 1), 15, at(9, 30)),
        (at(9, 59, 59), 45, at(9, 45)),
        (at(9, 59, 59), 90, at(9, 0)),  # crontab */90 is on the hour only
    ],
)
def test_the_slot_is_the_instant_floored_to_the_period(
    instant: datetime, every_minutes: int, slot: datetime
) -> None:
    assert slot_start(instant, every_minutes) == slot


@pytest.mark.parametrize("every_minutes", [1, 5, 7, 10, 15, 45, 60, 90])
def test_each_scheduled_minute_starts_its_own_slot(every_minutes: int) -> None:
    schedule = crontab(minute="*" if every_minutes == 1 else f"*/{every_minutes}")
    scheduled = [m for m in range(60) if schedule(at(9, m))]
    assert [m for m in range(60) if slot_start(at(9, m, 30), every_minutes) == at(9, m)] == (
        scheduled
    )


def test_a_period_under_a_minute_is_refused() -> None:
    with pytest.raises(ValueError):
        slot_start(at(9, 0), 0)
