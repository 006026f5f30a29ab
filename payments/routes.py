"""Safaricom's callbacks: STK results, C2B validation and confirmation.

Served at ``/payments/stk|c2b/validation|c2b/confirmation/{token}`` (built in
payments.callback_urls: Daraja blocks callback URLs containing "mpesa"), and at the same paths
under the old ``/mpesa/`` prefix for installs that registered those by hand.

Checked before they are believed: the secret token in the path (wrong → 404), the source address
against the allow-list (outside → 403, logged), the body size (over 64 KiB → 400). The raw body is
stored before it is parsed, then handled; the database work is quick and router work is queued,
so Safaricom gets its answer fast.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core.retry import in_transaction
from core.unit_of_work import CoreServices
from core.usecases.mpesa_callbacks import finish_callback, store_callback
from payments.callback_urls import (
    CALLBACK_PREFIX,
    LEGACY_CALLBACK_PREFIX,
    c2b_confirmation_path,
    c2b_validation_path,
    stk_callback_path,
)
from payments.callbacks import MAX_CALLBACK_BYTES
from payments.handling import C2B_CONFIRMATION, C2B_VALIDATION, STK, Handled, handle

log = logging.getLogger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# The path parameter that carries the callback token.
TOKEN_PARAM = "{token}"


@dataclass(frozen=True)
class MpesaWebConfig:
    """The callback token, the allowed source networks (None = any) and our shortcode."""

    callback_token: str
    allowed_networks: tuple[Network, ...] | None
    shortcode: str = ""


def parse_allowed(text: str) -> tuple[Network, ...] | None:
    """``"*"`` allows any address; otherwise comma-separated addresses or CIDR blocks."""
    if text.strip() == "*":
        return None
    return tuple(
        ipaddress.ip_network(part.strip(), strict=False) for part in text.split(",") if part.strip()
    )


def _allowed(address: str | None, networks: Sequence[Network] | None) -> bool:
    if networks is None:
        return True
    if address is None:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


async def _read_bounded(request: Request) -> tuple[bytes, bool]:
    """The body, cut at one byte over the limit; True if it was too large."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_CALLBACK_BYTES:
            break
    body = b"".join(chunks)
    return body[: MAX_CALLBACK_BYTES + 1], size > MAX_CALLBACK_BYTES


def mpesa_routes(services: CoreServices, config: MpesaWebConfig) -> list[Route]:
    """The three callback routes, at their ``/payments/`` paths and their old ``/mpesa/`` ones."""

    def endpoint(kind: str) -> Callable[[Request], Awaitable[Response]]:
        async def receive(request: Request) -> Response:
            token = str(request.path_params.get("token", ""))
            if not config.callback_token or not hmac.compare_digest(
                token.encode(), config.callback_token.encode()
            ):
                return JSONResponse({"error": "not found"}, status_code=404)
            address = request.client.host if request.client else None
            if not _allowed(address, config.allowed_networks):
                log.warning("refused M-Pesa %s callback from %s (not allow-listed)", kind, address)
                return JSONResponse({"error": "forbidden"}, status_code=403)
            body, too_large = await _read_bounded(request)
            # One trip to a worker thread for both transactions: storing, then handling.
            handled = await run_in_threadpool(
                _store_and_handle, services, kind, body, address, too_large, config.shortcode
            )
            return JSONResponse(handled.body, status_code=handled.status_code)

        return receive

    stk, validation, confirmation = (
        endpoint(STK),
        endpoint(C2B_VALIDATION),
        endpoint(C2B_CONFIRMATION),
    )
    # The /payments/ paths, then the old /mpesa/ ones as aliases of the same endpoints.
    return [
        route
        for prefix in (CALLBACK_PREFIX, LEGACY_CALLBACK_PREFIX)
        for route in (
            Route(stk_callback_path(TOKEN_PARAM, prefix), stk, methods=["POST"]),
            Route(c2b_validation_path(TOKEN_PARAM, prefix), validation, methods=["POST"]),
            Route(c2b_confirmation_path(TOKEN_PARAM, prefix), confirmation, methods=["POST"]),
        )
    ]


def _store_and_handle(
    services: CoreServices,
    kind: str,
    body: bytes,
    address: str | None,
    too_large: bool,
    shortcode: str,
) -> Handled:
    """Keep the raw body (committed on its own, before anything reads it), then handle it."""
    callback = in_transaction(services, lambda uow: store_callback(uow, kind, body, address))
    if too_large:
        in_transaction(
            services,
            lambda uow: finish_callback(uow, callback.id, "malformed", error="body over 64 KiB"),
        )
        services.metrics.callback_handled(kind, "malformed")
        return Handled(
            400, {"ResultCode": 1, "ResultDesc": "Malformed: body larger than 64 KiB"}, "malformed"
        )
    return handle(services, callback.id, kind, body, shortcode)
