"""Daraja wire details shared by the client, the callback parsers and the fake server.

Daraja speaks Kenyan local time (`YYYYMMDDHHmmss`, Africa/Nairobi) everywhere, with no offset
in the text; we keep aware UTC datetimes inside mteja and convert at this edge only.
"""

from __future__ import annotations

import base64
import functools
import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "DARAJA_TIME_FORMAT",
    "format_daraja_time",
    "kenya_tz",
    "parse_daraja_time",
    "stk_password",
]

DARAJA_TIME_FORMAT = "%Y%m%d%H%M%S"
_DARAJA_TIME = re.compile(r"[0-9]{14}")


@functools.cache
def kenya_tz() -> tzinfo:
    """Africa/Nairobi, loaded on first use (reading the tz database is I/O, so not at import)."""
    try:
        return ZoneInfo("Africa/Nairobi")
    except ZoneInfoNotFoundError:
        # Slim images and Windows may lack the tz database. Kenya has been on UTC+3 with no
        # daylight saving since 1960, so a fixed offset gives the same answer for any M-Pesa time.
        return timezone(timedelta(hours=3), "EAT")


def format_daraja_time(instant: datetime) -> str:
    """Format an aware instant as Daraja's Kenyan local `YYYYMMDDHHmmss`."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("format_daraja_time needs an aware datetime (naive time is ambiguous)")
    return instant.astimezone(kenya_tz()).strftime(DARAJA_TIME_FORMAT)


def parse_daraja_time(text: str) -> datetime:
    """Parse Daraja's Kenyan local `YYYYMMDDHHmmss` into an aware UTC datetime.

    Raises ValueError when the text is not 14 digits or is not a real calendar time.
    """
    if not _DARAJA_TIME.fullmatch(text):
        raise ValueError(f"expected 14 digits YYYYMMDDHHmmss, got {text!r}")
    local = datetime.strptime(text, DARAJA_TIME_FORMAT).replace(tzinfo=kenya_tz())
    return local.astimezone(UTC)


def stk_password(shortcode: str, passkey: str, timestamp: str) -> str:
    """Daraja's STK Password: base64(shortcode + passkey + timestamp)."""
    return base64.b64encode(f"{shortcode}{passkey}{timestamp}".encode()).decode("ascii")
