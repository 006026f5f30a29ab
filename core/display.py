"""Showing times, money and speeds to people: local time zone, relative phrases, shillings."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from core.usecases.billing import DebtResult, PaymentResult


def local_time(value: datetime | None, zone: ZoneInfo) -> str:
    """``2026-12-22 12:00`` in ``zone``, or ``never`` for no time."""
    if value is None:
        return "never"
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def local_date(value: datetime, zone: ZoneInfo) -> str:
    """``12 Mar 2025``: the day ``value`` falls on in ``zone``."""
    day = value.astimezone(zone)
    return f"{day.day} {day:%b %Y}"


def customer_since(created_at: datetime, subscriptions: int, paid_kes: int, zone: ZoneInfo) -> str:
    """A card's quick stats: ``Since 12 Mar 2025 · 14 subscriptions · KES 35,000 paid``."""
    periods = f"{subscriptions} subscription{'' if subscriptions == 1 else 's'}"
    return f"Since {local_date(created_at, zone)} · {periods} · {kes(paid_kes)} paid"


def relative(value: datetime | None, now: datetime) -> str:
    """``in 3 days``, ``2 hours ago``, ``in 5 minutes``: how far ``value`` is from ``now``.

    The largest unit that fits, rounded to the nearest whole one (a half rounds up): a 30-day
    period seen a moment after it began reads ``in 30 days``, and so does anything from 29½ days.
    """
    if value is None:
        return "no expiry set"
    seconds = int((value - now).total_seconds())
    future = seconds >= 0
    seconds = abs(seconds)
    units = ((86400, "day"), (3600, "hour"), (60, "minute"))
    chosen = next(((size, name) for size, name in units if seconds >= size), None)
    if chosen is None:
        return "now"
    size, name = chosen
    count = (seconds + size // 2) // size
    phrase = f"{count} {name}" + ("" if count == 1 else "s")
    return f"in {phrase}" if future else f"{phrase} ago"


def kes(amount: int) -> str:
    """``KES 1,500``."""
    return f"KES {amount:,}"


def speed(download: str, upload: str) -> str:
    """``10M down / 5M up``: a plan's (or a throttle's) speeds as staff see them everywhere."""
    return f"{download} down / {upload} up"


def balance_text(balance_kes: int) -> str:
    """``credit KES 200``, ``debt KES 300`` or ``KES 0``."""
    if balance_kes > 0:
        return f"credit {kes(balance_kes)}"
    if balance_kes < 0:
        return f"debt {kes(-balance_kes)}"
    return kes(0)


def data_amount(byte_count: int) -> str:
    """``850 MB``, ``12.3 GB``, ``1.25 TB``: decimal units, as ISPs sell data (1 GB = 10⁹ bytes)."""
    if byte_count >= 10**12:
        return f"{_trimmed(byte_count / 10**12, 2)} TB"
    if byte_count >= 10**9:
        return f"{_trimmed(byte_count / 10**9, 1)} GB"
    if byte_count >= 10**7:
        return f"{byte_count / 10**6:.0f} MB"
    return f"{_trimmed(byte_count / 10**6, 1)} MB"


def bit_rate(bytes_per_second: float) -> str:
    """``512 kbit/s``, ``2.4 Mbit/s``: a transfer rate as speeds are sold (bits, decimal)."""
    bits = bytes_per_second * 8
    if bits >= 10**9:
        return f"{_trimmed(bits / 10**9, 2)} Gbit/s"
    if bits >= 10**6:
        return f"{_trimmed(bits / 10**6, 1)} Mbit/s"
    return f"{bits / 10**3:.0f} kbit/s"


def _trimmed(value: float, decimals: int) -> str:
    text = f"{value:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def duration_text(length: timedelta) -> str:
    """``3d 4h``, ``1h 2m``, ``5m``, ``40s``: the two largest units."""
    seconds = max(0, int(length.total_seconds()))
    parts = []
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m"), (1, "s")):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return " ".join(parts[:2]) or "0s"


def payment_note(paid: PaymentResult, amount_kes: int, method: str, zone: ZoneInfo) -> str:
    """What staff are told after recording a payment: renewed, kept as credit, or a duplicate."""
    if paid.duplicate:
        return "That payment was already recorded; nothing changed."
    credited = paid.amount_kes if paid.amount_kes is not None else amount_kes
    note = f"Payment of {kes(credited)} ({method}) recorded."
    if credited != amount_kes:
        note += (
            f" The reference matched money that had arrived unmatched: its own {kes(credited)} "
            f"was credited, not the {kes(amount_kes)} typed."
        )
    renewal = paid.renewal
    if paid.customer_suspended:
        note += " The customer is SUSPENDED: the money stays as credit."
    elif renewal is None:
        note += " Not activated: it stays as credit."
    elif renewal.renewed:
        note += (
            f" Renewed {renewal.periods} × {renewal.plan_name} until "
            f"{local_time(renewal.expires_at, zone)}."
        )
    elif renewal.shortfall_kes:
        note += f" {kes(renewal.shortfall_kes)} more renews."
    if paid.balance_kes is not None:
        note += f" Balance: {balance_text(paid.balance_kes)}."
    return note


def debt_note(result: DebtResult, amount_kes: int, start_service: bool, zone: ZoneInfo) -> str:
    """What staff are told after recording a debt: the balance, and whether service started."""
    text = f"Debt of {kes(amount_kes)} recorded; balance {balance_text(result.balance_kes)}."
    if result.service_started:
        text += f" Service started until {local_time(result.expires_at, zone)}."
    elif not start_service:
        text += " Service not started."
    return text
