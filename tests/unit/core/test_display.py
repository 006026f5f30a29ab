"""How times, money and speeds read to staff: one function each."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.display import kes, relative, speed
from core.testing import TEST_EPOCH

DAY, HOUR, MINUTE = timedelta(days=1), timedelta(hours=1), timedelta(minutes=1)


@pytest.mark.parametrize(
    ("distance", "expected"),
    [
        (30 * DAY, "in 30 days"),
        # A fresh 30-day period seen a moment after it started.
        (30 * DAY - timedelta(seconds=5), "in 30 days"),
        (29 * DAY + 12 * HOUR, "in 30 days"),
        (29 * DAY + 12 * HOUR - timedelta(seconds=1), "in 29 days"),
        (DAY + 11 * HOUR, "in 1 day"),
        (DAY, "in 1 day"),
        (23 * HOUR + 59 * MINUTE, "in 24 hours"),
        (90 * MINUTE, "in 2 hours"),
        (MINUTE, "in 1 minute"),
        (timedelta(seconds=59), "now"),
        (-(2 * DAY + 13 * HOUR), "3 days ago"),
        (-(2 * DAY + 11 * HOUR), "2 days ago"),
    ],
)
def test_relative_rounds_to_the_nearest_whole_unit(distance: timedelta, expected: str) -> None:
    assert relative(TEST_EPOCH + distance, TEST_EPOCH) == expected


def test_kes_has_thousands_separators() -> None:
    assert (kes(0), kes(500), kes(1500), kes(1_250_000)) == (
        "KES 0",
        "KES 500",
        "KES 1,500",
        "KES 1,250,000",
    )


def test_speed_reads_download_first() -> None:
    assert speed("10M", "5M") == "10M down / 5M up"
