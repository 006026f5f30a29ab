"""Kenyan mobile numbers as M-Pesa wants them (`2547XXXXXXXX`) and as we store them (E.164)."""

from __future__ import annotations

import re

__all__ = ["InvalidPhoneNumber", "normalize_msisdn", "to_e164", "try_e164"]

# Safaricom and the other Kenyan mobile operators hand out 07xx and 01xx numbers, i.e.
# 254 followed by 7 or 1 and eight more digits. Landlines (020...) cannot receive an STK push.
_KENYAN_MOBILE = re.compile(r"254[17][0-9]{8}")
# People type numbers with spaces, dashes, dots or brackets; none of them carry meaning.
_SEPARATORS = re.compile(r"[\s\-.()]")


class InvalidPhoneNumber(ValueError):
    """The text is not a Kenyan mobile number that M-Pesa can charge."""


def normalize_msisdn(raw: str) -> str:
    """Return `raw` as Daraja's MSISDN form `2547XXXXXXXX` / `2541XXXXXXXX`.

    Accepts `+2547…`, `2547…`, `07…` and `01…` (and the same with `1` after 254), with
    spaces or dashes in between. Raises InvalidPhoneNumber for anything else.
    """
    if not isinstance(raw, str):
        raise InvalidPhoneNumber(f"phone number must be text, got {type(raw).__name__}")
    compact = _SEPARATORS.sub("", raw)
    if compact.startswith("+"):
        candidate = compact[1:]
    elif compact.startswith("0") and len(compact) == 10:
        candidate = "254" + compact[1:]
    else:
        candidate = compact
    if not _KENYAN_MOBILE.fullmatch(candidate):
        raise InvalidPhoneNumber(
            f"{raw!r} is not a Kenyan mobile number (expected 07XXXXXXXX, 01XXXXXXXX or +254...)"
        )
    return candidate


def to_e164(raw: str) -> str:
    """Return `raw` as E.164 (`+2547XXXXXXXX`); raises InvalidPhoneNumber like normalize_msisdn."""
    return "+" + normalize_msisdn(raw)


def try_e164(raw: str) -> str | None:
    """Return `raw` as E.164, or None when it is not a full Kenyan mobile number (e.g. masked)."""
    try:
        return to_e164(raw)
    except InvalidPhoneNumber:
        return None
