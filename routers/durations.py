"""RouterOS durations (uptimes) as seconds."""

from __future__ import annotations

import re

_DURATION = re.compile(r"(\d+)([wdhms])")
_UNIT_SECONDS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(text: str | None) -> int | None:
    """Seconds in a RouterOS duration: ``1w2d3h4m5s``, ``3h4m``, ``0s``, or ``1d02:03:04`` and
    ``02:03:04`` as older versions print it; None when it is none of these."""
    if not text:
        return None
    text = text.strip()
    if ":" not in text:
        return _unit_seconds(text)
    split = max(text.rfind("w"), text.rfind("d")) + 1
    prefix, clock = text[:split], text[split:]
    before = _unit_seconds(prefix) if prefix else 0
    parts = clock.split(":")
    if before is None or len(parts) != 3 or not all(part.isdigit() for part in parts):
        return None
    hours, minutes, seconds = (int(part) for part in parts)
    return before + hours * 3600 + minutes * 60 + seconds


def _unit_seconds(text: str) -> int | None:
    matches = _DURATION.findall(text)
    if not matches or "".join(number + unit for number, unit in matches) != text:
        return None
    return sum(int(number) * _UNIT_SECONDS[unit] for number, unit in matches)
