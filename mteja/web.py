"""Building the web app from settings."""

from __future__ import annotations

import logging

from starlette.applications import Starlette

from core.settings import Settings
from core.unit_of_work import CoreServices
from mteja.staffbot import with_telegram_webhook
from ussd.app import WebConfig, create_app
from ussd.routes.mpesa import MpesaWebConfig, parse_allowed

log = logging.getLogger(__name__)


def web_config(settings: Settings) -> WebConfig:
    """M-Pesa callbacks are served only once a callback token is set (``mteja init`` makes one);
    USSD and SMS callbacks always, from the addresses in MTEJA_AT_ALLOWED_IPS."""
    africastalking = parse_allowed(settings.at_allowed_ips)
    if not settings.callback_token:
        log.warning("MTEJA_CALLBACK_TOKEN is empty: M-Pesa callbacks are disabled")
        return WebConfig(africastalking_networks=africastalking)
    return WebConfig(
        mpesa=MpesaWebConfig(
            callback_token=settings.callback_token,
            allowed_networks=parse_allowed(settings.mpesa_allowed_ips),
            shortcode=settings.mpesa_shortcode,
        ),
        africastalking_networks=africastalking,
    )


def build_app(settings: Settings, services: CoreServices) -> Starlette:
    app = create_app(services, web_config(settings))
    # The staff bot's webhook (POST /telegram/{secret}), only when Telegram is configured for it.
    return with_telegram_webhook(app, settings, services)


def trusted_proxies(settings: Settings) -> str | None:
    """What uvicorn's forwarded_allow_ips should be: only named proxies are believed."""
    return settings.trusted_proxies or None
