"""``POST /ussd/{token}``: Africa's Talking asks for the next screen of a USSD session.

The path ends in MTEJA_AT_CALLBACK_TOKEN (a wrong one gets a 404 and changes nothing); with no
token set it is the bare ``/ussd`` (see ussd.africastalking_urls).

Form fields: ``sessionId``, ``serviceCode``, ``phoneNumber`` (``+2547…``), ``networkCode`` and
``text`` (every answer so far joined by ``*``; empty on the first screen). The reply is
``text/plain`` starting ``CON `` (more to come) or ``END `` (finished), at most 160 characters.
Only database work happens here (an STK push is queued, never sent inline), well within the
10 seconds Africa's Talking waits. A request missing its fields gets a 400 and changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from ussd.africastalking_urls import USSD_PATH
from ussd.menu import answer_ussd, read_ussd
from ussd.routes.forms import (
    BadForm,
    Network,
    address_allowed,
    read_form,
    route_path,
    token_matches,
)
from ussd.routes.work import DatabaseWork

log = logging.getLogger(__name__)

# Far more than any session types (40 answers of a few digits), far less than a form allows.
MAX_TEXT = 400


def ussd_routes(
    database: DatabaseWork, allowed: Sequence[Network] | None = None, token: str = ""
) -> list[Route]:
    """The USSD route, at ``/ussd/{token}`` (bare ``/ussd`` when ``token`` is empty);
    ``allowed`` limits callers (None: any address)."""

    async def ussd(request: Request) -> Response:
        """The next screen of the session."""
        if not token_matches(request, token):
            return PlainTextResponse("Not Found", status_code=404)
        if not address_allowed(request, allowed):
            log.warning("refused USSD request from %s", request.client)
            return PlainTextResponse("END Forbidden", status_code=403)
        try:
            form = await read_form(request)
        except BadForm:
            return PlainTextResponse("END Bad request", status_code=400)
        phone = form.get("phoneNumber", "").strip()
        text = form.get("text")
        if not form.get("sessionId") or not phone or text is None or len(text) > MAX_TEXT:
            return PlainTextResponse("END Bad request", status_code=400)
        if text == "":
            database.services.metrics.ussd_session_started()
        # Most requests only show a screen: read-only, so they never wait for a write lock.
        reply = await database.read(lambda uow: read_ussd(uow, phone, text))
        if reply is None:  # the last answer asks for an action: carry it out in a writing one
            reply = await database.run(lambda uow: answer_ussd(uow, phone, text))
        return PlainTextResponse(reply.body)

    return [Route(route_path(USSD_PATH, token), ussd, methods=["POST"])]
