"""Gives every HTTP request a correlation id: a sane incoming ``X-Request-ID`` or a new one,
held in ``core.correlation.current`` while the request runs and returned in the response."""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core import correlation

HEADER = "X-Request-ID"


class CorrelationMiddleware:
    """Pure ASGI middleware, so the id is set in the context the app and the server log in."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = correlation.accepted(Headers(scope=scope).get(HEADER))
        token = correlation.current.set(request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            correlation.current.reset(token)
