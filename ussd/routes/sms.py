"""Africa's Talking SMS callbacks.

Both paths end in MTEJA_AT_CALLBACK_TOKEN (``/sms/inbound/{token}``; a wrong token gets a 404 and
changes nothing, no reply is sent); with no token set they are the bare paths below.

- ``POST /sms/inbound`` (``from, to, text, date, id, linkId, networkCode``): a subscriber texted
  us. The keyword is carried out and the reply queued as SMS (ussd.sms.commands).
- ``POST /sms/delivery`` (``id, status, phoneNumber, networkCode, failureReason, retryCount``):
  what became of a message we sent; its stored status is updated.

A request that is not a readable form, lacks a required field, or names an unknown status gets
a 400 and changes nothing. A delivery report for a message we do not know is acknowledged (200)
and ignored, so Africa's Talking stops repeating it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from core.phones import try_normalize_phone
from core.usecases.sms_history import Delivery, record_delivery
from ussd.africastalking_urls import SMS_DELIVERY_PATH, SMS_INBOUND_PATH
from ussd.routes.forms import (
    BadForm,
    Network,
    address_allowed,
    read_form,
    route_path,
    token_matches,
)
from ussd.routes.work import DatabaseWork
from ussd.sms.commands import IncomingSms, answer_sms

log = logging.getLogger(__name__)

# Africa's Talking's delivery statuses and what they mean for our message.
DELIVERY_STATUSES: dict[str, Delivery] = {
    "Sent": Delivery.SENT,
    "Submitted": Delivery.SENT,
    "Buffered": Delivery.SENT,
    "Success": Delivery.DELIVERED,
    "Rejected": Delivery.FAILED,
    "Failed": Delivery.FAILED,
}
MAX_ID = 64
MAX_TEXT = 2000


def sms_routes(
    database: DatabaseWork, allowed: Sequence[Network] | None = None, token: str = ""
) -> list[Route]:
    """The inbound and delivery routes, each ending in ``/{token}`` when ``token`` is set;
    ``allowed`` limits callers (None: any address)."""
    region = database.services.config.default_region

    async def inbound(request: Request) -> Response:
        """A subscriber's SMS: do what it asks and queue the reply."""
        form = await _form(request, allowed, token)
        if isinstance(form, Response):
            return form
        phone = try_normalize_phone(form.get("from", ""), region)
        text = form.get("text")
        provider_id = form.get("id", "").strip()
        if phone is None or text is None or len(text) > MAX_TEXT or len(provider_id) > MAX_ID:
            return PlainTextResponse("bad request", status_code=400)
        incoming = IncomingSms(phone, text, provider_id or None, form.get("to", "").strip())
        await database.run(lambda uow: answer_sms(uow, incoming))
        return PlainTextResponse("OK")

    async def delivery(request: Request) -> Response:
        """A delivery report: update the stored message's status."""
        form = await _form(request, allowed, token)
        if isinstance(form, Response):
            return form
        message_id = form.get("id", "").strip()
        status = DELIVERY_STATUSES.get(form.get("status", "").strip())
        if not message_id or len(message_id) > MAX_ID or status is None:
            return PlainTextResponse("bad request", status_code=400)
        reason = form.get("failureReason") or None
        outcome = await database.run(lambda uow: record_delivery(uow, message_id, status, reason))
        return PlainTextResponse(outcome.value)

    return [
        Route(route_path(SMS_INBOUND_PATH, token), inbound, methods=["POST"]),
        Route(route_path(SMS_DELIVERY_PATH, token), delivery, methods=["POST"]),
    ]


async def _form(
    request: Request, allowed: Sequence[Network] | None, token: str
) -> dict[str, str] | Response:
    if not token_matches(request, token):
        return PlainTextResponse("Not Found", status_code=404)
    if not address_allowed(request, allowed):
        log.warning("refused SMS callback from %s", request.client)
        return PlainTextResponse("forbidden", status_code=403)
    try:
        return await read_form(request)
    except BadForm:
        return PlainTextResponse("bad request", status_code=400)
