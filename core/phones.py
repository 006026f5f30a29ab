"""Phone numbers, stored in E.164 (``+254712345678``) whatever form they were typed in."""

from __future__ import annotations

from functools import lru_cache

import phonenumbers

from core.errors import InvalidPhone

DEFAULT_REGION = "KE"
# Parsing with phonenumbers costs more CPU than the query that answers a USSD screen, and the
# same subscribers' phones come back all day (every screen of a session sends the phone). The
# answer depends only on the text and the region (phonenumbers' metadata is fixed for the
# process), so it is kept: one entry per subscriber phone of a 100,000-subscriber ISP (about
# 23 MB when full, measured), least recently used dropped first. Refusals are not kept
# (lru_cache does not cache a raise), so garbage cannot fill it with entries never seen again.
PHONE_CACHE_SIZE = 100_000
DISPLAY_CACHE_SIZE = 4_096  # the support phone, shown on every screen, and staff views


def normalize_phone(text: str, region: str = DEFAULT_REGION) -> str:
    """Return ``text`` as E.164, or raise InvalidPhone.

    ``0712345678``, ``+254712345678``, ``254712345678`` and ``0112345678`` are all understood with
    Kenya as the default region.
    """
    return _normalized(text, region)


@lru_cache(maxsize=PHONE_CACHE_SIZE)
def _normalized(text: str, region: str) -> str:
    raw = text.strip()
    digits = raw.lstrip("+")
    # "254712345678" without the plus is how M-Pesa and many spreadsheets write numbers.
    country_code = str(phonenumbers.country_code_for_region(region))
    if not raw.startswith("+") and digits.isdigit() and digits.startswith(country_code):
        national_length = len(digits) - len(country_code)
        if national_length >= 8:
            raw = "+" + digits
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(f"{text.strip()!r} is not a phone number") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhone(f"{text.strip()!r} is not a valid phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def try_normalize_phone(text: str, region: str = DEFAULT_REGION) -> str | None:
    """Like normalize_phone, but None instead of an error (for searches)."""
    try:
        return normalize_phone(text, region)
    except InvalidPhone:
        return None


@lru_cache(maxsize=DISPLAY_CACHE_SIZE)
def display_phone(e164: str) -> str:
    """A phone as people in its country write it (``0712 345678`` in Kenya)."""
    # Kept for the reason normalize_phone is: a pure function of its text, called per screen.
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
