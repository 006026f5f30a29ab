"""``POST /telegram/{secret}``: Telegram delivers updates to the web app instead of being polled.

The route is added around the web app (which knows nothing of Telegram). Both the path and
Telegram's ``X-Telegram-Bot-Api-Secret-Token`` header must carry the secret. Updates go onto the
application's queue and are acknowledged at once; the application processes them as in polling.
If Telegram cannot be reached when the web app starts, the rest of the app still serves (M-Pesa
callbacks must not wait on Telegram) and the bot starts on the next webhook delivery.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application

log = logging.getLogger(__name__)

MAX_UPDATE_BYTES = 1_000_000
SECRET_HEADER = "x-telegram-bot-api-secret-token"

TelegramApplication = Application[Any, Any, Any, Any, Any, Any]


class _Bot:
    """Starts the application once, on start-up or, failing that, on the next delivery."""

    def __init__(self, application: TelegramApplication) -> None:
        self.application = application
        self.lock = asyncio.Lock()

    async def ready(self) -> bool:
        async with self.lock:
            if self.application.running:
                return True
            try:
                await self.application.initialize()
                await self.application.start()
                if self.application.post_init is not None:  # as run_polling does
                    await self.application.post_init(self.application)
            except TelegramError as failure:
                log.error("the Telegram bot could not start: %s", failure)
                return False
            return True

    async def stop(self) -> None:
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()


def _same(given: str, secret: str) -> bool:
    return hmac.compare_digest(given.encode(), secret.encode())


def with_webhook(inner: Starlette, application: TelegramApplication, secret: str) -> Starlette:
    """``inner`` with the webhook route in front of it, and the bot run by its lifespan."""
    if not secret:
        raise ValueError("a webhook needs a secret")
    bot = _Bot(application)

    async def receive(request: Request) -> Response:
        """One update from Telegram."""
        if not _same(request.path_params["secret"], secret):
            return Response(status_code=404)
        if not _same(request.headers.get(SECRET_HEADER, ""), secret):
            log.warning("webhook call without Telegram's secret header from %s", request.client)
            return Response(status_code=403)
        body = await request.body()
        if len(body) > MAX_UPDATE_BYTES:
            return Response(status_code=413)
        try:
            data = json.loads(body)
        except ValueError:
            return Response(status_code=400)
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            return Response(status_code=400)
        if not await bot.ready():
            return Response(status_code=503)  # Telegram delivers it again later
        update = Update.de_json(data, application.bot)
        await application.update_queue.put(update)
        return Response(status_code=200)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await bot.ready()
        try:
            async with inner.router.lifespan_context(inner):
                yield
        finally:
            await bot.stop()

    return Starlette(
        routes=[
            Route("/telegram/{secret}", receive, methods=["POST"]),
            Mount("/", app=inner),
        ],
        lifespan=lifespan,
    )
