"""Comparing values as RouterOS means them, not as they are spelled.

RouterOS may print a value differently from how it was written: ``yes`` comes back ``true``,
``5M/10M`` in a queue's max-limit comes back in bits, a target ``10.0.0.5`` gains ``/32``.
"""

from __future__ import annotations

import re

_BOOLEAN = {"yes": "true", "true": "true", "no": "false", "false": "false"}
_RATE = re.compile(r"^(\d+(?:\.\d+)?)([kKmMgG]?)$")
_UNITS = {"": 1, "k": 1_000, "m": 1_000_000, "g": 1_000_000_000}


def _bits(text: str) -> float | None:
    match = _RATE.match(text)
    if not match:
        return None
    return float(match.group(1)) * _UNITS[match.group(2).lower()]


def _rate(text: str) -> str:
    first, _, rest = text.partition(" ")
    parts = first.split("/")
    numbers = [_bits(part) for part in parts]
    if any(number is None for number in numbers):
        return text
    return "/".join(f"{number:.0f}" for number in numbers if number is not None) + (
        " " + rest if rest else ""
    )


def normalize(prop: str, value: str) -> str:
    """``value`` of property ``prop`` in a canonical spelling."""
    if prop in ("disabled",):
        return _BOOLEAN.get(value.lower(), value)
    if prop in ("rate-limit", "max-limit"):
        return _rate(value)
    if prop in ("target", "address", "remote-address"):
        return ",".join(part.removesuffix("/32") for part in value.split(","))
    return value


def same(prop: str, wanted: str, actual: str) -> bool:
    """Whether the router's ``actual`` value is the ``wanted`` one."""
    return normalize(prop, wanted) == normalize(prop, actual)
