"""Where Safaricom sends its callbacks to mteja, and the words Daraja refuses in those URLs.

Daraja's documentation: callback URLs (RegisterURL's ConfirmationURL and ValidationURL, the STK
push's CallBackURL) containing "MPesa", "M-Pesa", "Safaricom" or a variant, in any case, are
filtered out and blocked. So mteja's callback paths live under ``/payments/``. The older
``/mpesa/`` paths are still served (an install may have registered them by hand) but are never
built: every callback URL mteja hands to Daraja comes from the functions here.
"""

from __future__ import annotations

import re
import secrets
from urllib.parse import unquote

__all__ = [
    "CALLBACK_PREFIX",
    "LEGACY_CALLBACK_PREFIX",
    "c2b_confirmation_path",
    "c2b_confirmation_url",
    "c2b_validation_path",
    "c2b_validation_url",
    "callback_url_problem",
    "forbidden_word",
    "new_callback_token",
    "stk_callback_path",
    "stk_callback_url",
]

CALLBACK_PREFIX = "/payments"
# Served as an alias only: Daraja blocks callback URLs with this word in them.
LEGACY_CALLBACK_PREFIX = "/mpesa"

# "mpesa", "m-pesa", "m_pesa", "m.pesa", "m pesa" and "safaricom", any case.
_FORBIDDEN = re.compile(r"m[-_. ]?pesa|safaricom", re.IGNORECASE)


def stk_callback_path(token: str, prefix: str = CALLBACK_PREFIX) -> str:
    """``/payments/stk/<token>``: where STK push results arrive."""
    return f"{prefix}/stk/{token}"


def c2b_validation_path(token: str, prefix: str = CALLBACK_PREFIX) -> str:
    """``/payments/c2b/validation/<token>``: where paybill payments are offered for validation."""
    return f"{prefix}/c2b/validation/{token}"


def c2b_confirmation_path(token: str, prefix: str = CALLBACK_PREFIX) -> str:
    """``/payments/c2b/confirmation/<token>``: where completed paybill payments arrive."""
    return f"{prefix}/c2b/confirmation/{token}"


def stk_callback_url(public_url: str, token: str) -> str:
    """The STK push CallBackURL under ``public_url``."""
    return public_url.rstrip("/") + stk_callback_path(token)


def c2b_validation_url(public_url: str, token: str) -> str:
    """The C2B ValidationURL under ``public_url``."""
    return public_url.rstrip("/") + c2b_validation_path(token)


def c2b_confirmation_url(public_url: str, token: str) -> str:
    """The C2B ConfirmationURL under ``public_url``."""
    return public_url.rstrip("/") + c2b_confirmation_path(token)


def forbidden_word(url: str) -> str | None:
    """The first word Daraja blocks in ``url`` (percent-decoded first), or None if it has none."""
    found = _FORBIDDEN.search(unquote(url))
    return found.group(0) if found else None


def callback_url_problem(public_url: str, token: str) -> str | None:
    """Why Daraja would block the callback URLs built from these settings, or None."""
    word = forbidden_word(public_url)
    if word is not None:
        return (
            f"MTEJA_PUBLIC_URL {public_url} contains {word!r}: Safaricom blocks callback URLs "
            "containing 'mpesa', 'm-pesa' or 'safaricom' in any case; serve mteja at an "
            "address without them"
        )
    word = forbidden_word(token)
    if word is not None:
        return (
            f"MTEJA_CALLBACK_TOKEN contains {word!r}, which Safaricom blocks in callback URLs: "
            "set a new random token"
        )
    return None


def new_callback_token() -> str:
    """A random token for the callback URLs, never one Daraja would block."""
    while True:
        token = secrets.token_urlsafe(24)
        if forbidden_word(token) is None:
            return token
