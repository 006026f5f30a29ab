"""Phone numbers, stored in E.164 (``+254712345678``) whatever form they were typed in."""

from __future__ import annotations

from functools import lru_cache

import phonenumbers

from core.errors import InvalidPhone

DEFAULT_REGION = "KE"
# Parsing with phonenumbers costs more CPU than the query that answers a USSD screen, and the
# same phone comes back with every screen of a USSD session and every SMS of a conversation.
# The answer depends only on the text and the region (phonenumbers' metadata is fixed for the
# process), so the recent ones are kept, least recently used dropped first: 10,000 covers every
# session open at once at any ISP mteja serves, in about 2.3 MB per process (230 bytes an
# entry, measured; a cache of every subscriber's phone would cost 23 MB in each web, worker
# and bot process). Refusals are not kept (lru_cache does not cache a raise).
PHONE_CACHE_SIZE = 10_000
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
