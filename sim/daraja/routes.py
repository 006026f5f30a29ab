"""The fake Daraja's HTTP face: Daraja's routes plus /_fake control routes.

Handlers only translate: JSON in, a FakeDaraja method call, JSON out; a FakeRequestError
becomes a Daraja-style error body (`requestId`, `errorCode`, `errorMessage`).

Control endpoints (for the demo and for other processes):
  POST /_fake/outcome   {"phone": "0708374149"?, "outcome": "paid", "delay_seconds": 1.5?}
  POST /_fake/paybill   {"account": "MTJ-4K7Q2D9", "amount_kes": 100, "phone"?, "trans_id"?,
                         "first_name"?}
  POST /_fake/redeliver {"trans_id": "SKL4ABC123"}
  GET  /_fake/state
"""

from __future__ import annotations

import contextlib
import json
import secrets
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sim.daraja.wire import FakeRequestError

if TYPE_CHECKING:
    from sim.daraja.server import FakeDaraja

__all__ = ["build_app"]

_INVALID_PAYLOAD = FakeRequestError("400.002.05", "Invalid Request Payload")


def _daraja_error(error: FakeRequestError) -> JSONResponse:
    return JSONResponse(
        {
            "requestId": secrets.token_hex(8),
            "errorCode": error.error_code,
            "errorMessage": error.error_message,
        },
        status_code=error.http_status,
    )


def _control_error(message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=400)


async def _json_object(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body())
    except ValueError:
        raise _INVALID_PAYLOAD from None
    if not isinstance(body, dict):
        raise _INVALID_PAYLOAD
    return body


def build_app(fake: FakeDaraja) -> Starlette:
    """A Starlette app serving `fake`; shutting the app down stops the fake's callbacks."""

    def api(
        operation: Callable[[dict[str, Any]], dict[str, str]],
    ) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> JSONResponse:
            try:
                fake.check_token(request.headers.get("authorization", ""))
                return JSONResponse(operation(await _json_object(request)))
            except FakeRequestError as error:
                return _daraja_error(error)

        return endpoint

    async def oauth(request: Request) -> JSONResponse:
        try:
            token = fake.issue_token(
                request.query_params.get("grant_type"), request.headers.get("authorization", "")
            )
        except FakeRequestError as error:
            return _daraja_error(error)
        return JSONResponse(token)

    async def control_outcome(request: Request) -> JSONResponse:
        try:
            body = await _json_object(request)
            delay = body.get("delay_seconds")
            fake.set_outcome(
                body.get("outcome", ""),
                phone=body.get("phone"),
                delay_seconds=float(delay) if delay is not None else None,
            )
        except FakeRequestError as error:
            return _control_error(error.error_message)
        except (ValueError, TypeError) as exc:
            return _control_error(str(exc))
        return JSONResponse({"ok": True})

    async def control_paybill(request: Request) -> JSONResponse:
        try:
            body = await _json_object(request)
            options = {key: body[key] for key in ("phone", "trans_id", "first_name") if key in body}
            # pay_bill blocks on HTTP to our receiver, which may be served by this very loop.
            outcome = await run_in_threadpool(
                fake.pay_bill, str(body["account"]), body["amount_kes"], **options
            )
        except FakeRequestError as error:
            return _control_error(error.error_message)
        except (KeyError, ValueError, TypeError) as exc:
            return _control_error(f"bad paybill request: {exc!r}")
        return JSONResponse(
            {
                "trans_id": outcome.trans_id,
                "accepted": outcome.accepted,
                "reason": outcome.reason,
                "payload": outcome.payload,
            }
        )

    async def control_redeliver(request: Request) -> JSONResponse:
        try:
            body = await _json_object(request)
            sent = await run_in_threadpool(fake.redeliver_confirmation, str(body["trans_id"]))
        except FakeRequestError as error:
            return _control_error(error.error_message)
        except (KeyError, ValueError) as exc:
            return _control_error(f"cannot redeliver: {exc!r}")
        return JSONResponse({"status_code": sent.status_code})

    async def control_state(request: Request) -> JSONResponse:
        return JSONResponse(fake.snapshot())

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await run_in_threadpool(fake.close)

    return Starlette(
        routes=[
            Route("/oauth/v1/generate", oauth, methods=["GET"]),
            Route("/mpesa/stkpush/v1/processrequest", api(fake.accept_stk_push), methods=["POST"]),
            Route("/mpesa/stkpushquery/v1/query", api(fake.query_stk_push), methods=["POST"]),
            Route("/mpesa/c2b/v1/registerurl", api(fake.register_urls), methods=["POST"]),
            Route("/mpesa/c2b/v2/registerurl", api(fake.register_urls), methods=["POST"]),
            Route("/_fake/outcome", control_outcome, methods=["POST"]),
            Route("/_fake/paybill", control_paybill, methods=["POST"]),
            Route("/_fake/redeliver", control_redeliver, methods=["POST"]),
            Route("/_fake/state", control_state, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
