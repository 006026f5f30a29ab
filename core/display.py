"""Showing times and money to people: local time zone, relative phrases, shillings."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo


def local_time(value: datetime | None, zone: ZoneInfo) -> str:
    """``2026-12-22 12:00`` in ``zone``, or ``never`` for no time."""
    if value is None:
        return "never"
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def relative(value: datetime | None, now: datetime) -> str:
    """``in 3 days``, ``2 hours ago``, ``in 5 minutes``: how far ``value`` is from ``now``."""
    if value is None:
        return "no expiry set"
    seconds = (value - now).total_seconds()
    future = seconds >= 0
    seconds = abs(seconds)
    units = ((86400, "day"), (3600, "hour"), (60, "minute"))
    chosen = next(((size, name) for size, name in units if seconds >= size), None)
    if chosen is None:
        return "now"
    size, name = chosen
    count = int(seconds // size)
    phrase = f"{count} {name}" + ("" if count == 1 else "s")
    return f"in {phrase}" if future else f"{phrase} ago"


def kes(amount: int) -> str:
    """``KES 1,500``."""
    return f"KES {amount:,}"


def balance_text(balance_kes: int) -> str:
    """``credit KES 200``, ``debt KES 300`` or ``KES 0``."""
    if balance_kes > 0:
        return f"credit {kes(balance_kes)}"
    if balance_kes < 0:
        return f"debt {kes(-balance_kes)}"
    return kes(0)
