"""The SmsGateway over Africa's Talking, with the official ``africastalking`` SDK.

What Africa's Talking answers, and what ``send`` makes of it:

- HTTP 2xx with ``SMSMessageData.Recipients[0].statusCode`` 100 (processed), 101 (sent) or 102
  (queued): ``SmsSent(messageId, cost, "sent")``; the delivery report comes later.
- A recipient refused for good (403 invalid phone, 404 unsupported number type, 406
  blacklisted, 409 do-not-disturb, 401/402/407/502 ...): ``SmsSent(None, cost, "failed",
  error)``; retrying will not help.
- 405 (our balance is insufficient), 500 and 501 (their side), a network error or timeout, an
  HTTP 5xx, or an answer we cannot read: ``GatewayUnavailable``; the send job retries later.
- An HTTP 4xx (bad credentials, bad sender id): ``GatewayRejected``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

import requests
from africastalking.Service import AfricasTalkingException
from africastalking.SMS import SMSService

from core.errors import InvalidPhone
from core.phones import normalize_phone
from core.ports import GatewayRejected, GatewayUnavailable, SmsSent

log = logging.getLogger(__name__)

ACCEPTED_CODES = {100, 101, 102}
RETRY_CODES = {405, 500, 501}
# The SDK raises one exception type with the response text for any non-2xx answer; these words
# are in Africa's Talking's texts for requests that are wrong rather than unlucky.
_REFUSAL_WORDS = ("authentication", "invalid", "missing", "not allowed", "unauthori", "forbidden")


class AfricasTalkingSms:
    """Sends one SMS per call to a ``+254…`` number; ``base_url`` points it at a fake."""

    def __init__(
        self,
        username: str,
        api_key: str,
        *,
        sender_id: str | None = None,
        base_url: str | None = None,
        region: str = "KE",
    ) -> None:
        if not username or not api_key:
            raise ValueError("Africa's Talking needs MTEJA_AT_USERNAME and MTEJA_AT_API_KEY")
        # The SDK's module-level initialize() keeps services in globals; one service object of
        # our own is the same client without process-wide state.
        self._service = SMSService(username, api_key)
        if base_url:
            # The SDK has no base-URL option. It builds every SMS URL from ``_baseUrl`` (which its
            # __init__ sets to https://api.africastalking.com/version1), so this one line is how
            # MTEJA_AT_BASE_URL reaches it, e.g. a local fake Africa's Talking for the demo.
            self._service._baseUrl = base_url.rstrip("/") + "/version1"
        self._sender_id = sender_id or None
        self._region = region

    def send(self, phone: str, body: str) -> SmsSent:
        """Send ``body`` to ``phone`` (any Kenyan form; sent as ``+254…``)."""
        try:
            recipient = normalize_phone(phone, self._region)
        except InvalidPhone as error:
            raise GatewayRejected(error.message) from error
        try:
            answer = self._service.send(body, [recipient], sender_id=self._sender_id)
        except requests.RequestException as error:
            raise GatewayUnavailable(f"Africa's Talking unreachable: {error}") from error
        except AfricasTalkingException as error:
            raise _classified(str(error)) from error
        except ValueError as error:  # the SDK's own phone check
            raise GatewayRejected(str(error)) from error
        return _read_answer(answer, recipient)


def _classified(text: str) -> GatewayUnavailable | GatewayRejected:
    detail = " ".join(text.split())[:300] or "no detail"
    if any(word in detail.lower() for word in _REFUSAL_WORDS):
        return GatewayRejected(f"Africa's Talking refused the request: {detail}")
    return GatewayUnavailable(f"Africa's Talking failed: {detail}")


def _read_answer(answer: Any, recipient: str) -> SmsSent:
    """Turn the ``SMSMessageData`` answer into SmsSent (see the module docstring)."""
    if isinstance(answer, str):
        try:
            answer = json.loads(answer)
        except ValueError as error:
            detail = f"unreadable answer from Africa's Talking: {answer[:200]!r}"
            raise GatewayUnavailable(detail) from error
    data = answer.get("SMSMessageData") if isinstance(answer, Mapping) else None
    if not isinstance(data, Mapping):
        raise GatewayUnavailable("Africa's Talking answered without SMSMessageData")
    recipients = data.get("Recipients")
    if not isinstance(recipients, list) or not recipients:
        # No recipient at all: AT says why in Message (e.g. "InvalidPhoneNumber").
        reason = str(data.get("Message") or "no recipient accepted")[:300]
        return SmsSent(None, None, "failed", reason)
    first = recipients[0] if isinstance(recipients[0], Mapping) else {}
    code = _int(first.get("statusCode"))
    status = str(first.get("status") or "")
    cost = str(first["cost"]) if first.get("cost") not in (None, "") else None
    message_id = first.get("messageId")
    if code in ACCEPTED_CODES and isinstance(message_id, str) and message_id not in ("", "None"):
        return SmsSent(message_id, cost, "sent")
    if code in RETRY_CODES or code is None:
        raise GatewayUnavailable(
            f"Africa's Talking could not send to {recipient}: {status or code}"
        )
    return SmsSent(None, cost, "failed", f"{code} {status}".strip())


def _int(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None
