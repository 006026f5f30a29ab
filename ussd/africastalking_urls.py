"""Where Africa's Talking sends its callbacks to mteja: USSD screens, inbound SMS, delivery reports.

Africa's Talking signs nothing and publishes no list of its addresses, so the secret is in the
path: with MTEJA_AT_CALLBACK_TOKEN set the callbacks are ``/ussd/<token>``,
``/sms/inbound/<token>`` and ``/sms/delivery/<token>`` (the URLs pasted into its dashboard, see
``mteja africastalking urls``). With no token the bare paths are used, open to any caller the
allow-list lets through. Every such URL mteja builds comes from the functions here.
"""

from __future__ import annotations

import secrets

__all__ = [
    "SMS_DELIVERY_PATH",
    "SMS_INBOUND_PATH",
    "USSD_PATH",
    "callback_path",
    "new_at_callback_token",
    "sms_delivery_url",
    "sms_inbound_url",
    "ussd_url",
]

USSD_PATH = "/ussd"
SMS_INBOUND_PATH = "/sms/inbound"
SMS_DELIVERY_PATH = "/sms/delivery"


def callback_path(path: str, token: str) -> str:
    """``path`` with the token as its last segment (``/ussd/<token>``), or bare without one."""
    return f"{path}/{token}" if token else path


def ussd_url(public_url: str, token: str) -> str:
    """The USSD service code's callback URL under ``public_url``."""
    return public_url.rstrip("/") + callback_path(USSD_PATH, token)


def sms_inbound_url(public_url: str, token: str) -> str:
    """The incoming-messages callback URL under ``public_url``."""
    return public_url.rstrip("/") + callback_path(SMS_INBOUND_PATH, token)


def sms_delivery_url(public_url: str, token: str) -> str:
    """The delivery-reports callback URL under ``public_url``."""
    return public_url.rstrip("/") + callback_path(SMS_DELIVERY_PATH, token)


def new_at_callback_token() -> str:
    """A random token for the Africa's Talking callback URLs (URL-safe, one path segment)."""
    return secrets.token_urlsafe(24)
