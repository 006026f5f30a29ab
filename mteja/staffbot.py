"""Building the staff bot from settings: the console, the Telegram application, the notifier."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette

from bot.console import PROMPT, Console
from bot.context import PresenceLookup
from bot.staffbot import Caller, StaffBot
from core.actors import Actor
from core.settings import Settings
from core.unit_of_work import CoreServices, UnitOfWork
from mteja.bootstrap import System
from mteja.queueing import build_queue
from routers.sync import RouterSync, librouteros_factory

if TYPE_CHECKING:
    from telegram.ext import Application

    TelegramApplication = Application[Any, Any, Any, Any, Any, Any]

# A person is waiting for the card: short timeouts bound the wait when a router is down.
PRESENCE_CONNECT_TIMEOUT = 2.0
PRESENCE_COMMAND_TIMEOUT = 3.0
CONSOLE_USER_ID = 0


def presence_lookup(services: CoreServices) -> PresenceLookup:
    gateways = librouteros_factory(PRESENCE_CONNECT_TIMEOUT, PRESENCE_COMMAND_TIMEOUT)
    return RouterSync(services, gateways).presence


def staff_bot(services: CoreServices, public_url: str) -> StaffBot:
    """The command layer as Telegram users reach it: only registered staff. ``public_url``:
    where the web console is (its login links)."""
    return StaffBot(services, presence=presence_lookup(services), public_url=public_url)


def _command_line_operator(uow: UnitOfWork, user_id: int) -> Actor:
    return Actor.cli()


def run_console(system: System, as_user: int | None) -> None:
    """The staff commands at this terminal, as ``as_user`` (a staff member's Telegram user id)
    or, by default, as the operator at the server's command line (an owner)."""
    if as_user is None:
        bot = StaffBot(
            system.services,
            presence=presence_lookup(system.services),
            identify=_command_line_operator,
            public_url=system.settings.public_url,
        )
        caller = Caller(CONSOLE_USER_ID, "console")
    else:
        bot = staff_bot(system.services, system.settings.public_url)
        caller = Caller(as_user, "console")
    build_queue(system)  # so actions reach the routers through the workers
    Console(bot, caller, _print, Path.cwd()).run(_input_lines())


def _print(text: str) -> None:
    print(text, flush=True)


def _input_lines() -> Iterator[str]:
    interactive = sys.stdin.isatty()
    while True:
        try:
            line = input(PROMPT) if interactive else sys.stdin.readline()
        except (EOFError, KeyboardInterrupt):
            return
        if not interactive and not line:
            return
        yield line


# -- Telegram ------------------------------------------------------------------------------------


class TelegramNotConfigured(Exception):
    """MTEJA_TELEGRAM_TOKEN (or another needed setting) is empty."""


def telegram_application(settings: Settings, services: CoreServices) -> TelegramApplication:
    """The python-telegram-bot Application over the staff bot, from settings."""
    from bot.telegram import build_application

    if not settings.telegram_token:
        raise TelegramNotConfigured("set MTEJA_TELEGRAM_TOKEN (from @BotFather) first")
    return build_application(
        staff_bot(services, settings.public_url),
        settings.telegram_token,
        base_url=settings.telegram_base_url,
    )


def run_bot(system: System) -> None:
    """Serve staff by long polling until stopped (Ctrl-C or SIGTERM)."""
    from bot.telegram import ALLOWED_UPDATES

    application = telegram_application(system.settings, system.services)
    build_queue(system)  # so actions reach the routers through the workers
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per long poll otherwise
    application.run_polling(allowed_updates=ALLOWED_UPDATES)


def webhook_url(settings: Settings) -> str:
    return f"{settings.public_url.rstrip('/')}/telegram/{settings.telegram_webhook_secret}"


def set_webhook(system: System) -> str:
    """Tell Telegram to deliver updates to this web app; returns the URL (secret elided)."""
    from bot.telegram import ALLOWED_UPDATES

    settings = system.settings
    if not settings.telegram_webhook_secret:
        raise TelegramNotConfigured("set MTEJA_TELEGRAM_WEBHOOK_SECRET first")
    application = telegram_application(settings, system.services)

    async def register() -> None:
        async with application.bot as bot:
            await bot.set_webhook(
                webhook_url(settings),
                secret_token=settings.telegram_webhook_secret,
                allowed_updates=ALLOWED_UPDATES,
            )

    asyncio.run(register())
    return f"{settings.public_url.rstrip('/')}/telegram/…"


def with_telegram_webhook(app: Starlette, settings: Settings, services: CoreServices) -> Starlette:
    """``app`` with ``POST /telegram/{secret}`` when a token and a webhook secret are set."""
    if not (settings.telegram_token and settings.telegram_webhook_secret):
        return app
    from bot.webhook import with_webhook

    application = telegram_application(settings, services)
    return with_webhook(app, application, settings.telegram_webhook_secret)
