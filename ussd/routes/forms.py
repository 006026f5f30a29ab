"""Reading Africa's Talking callbacks: the right path token, a small URL-encoded form, from an
allowed address.

The body is read up to a limit and parsed here rather than by Starlette's form parser, so any
body (too large, not UTF-8, not a form, multipart garbage) becomes a clean ``BadForm`` and a 400,
never a 500. NUL characters are dropped: PostgreSQL cannot store them in text.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Sequence
from urllib.parse import parse_qsl

from starlette.requests import Request

from ussd.africastalking_urls import callback_path

MAX_FORM_BYTES = 16 * 1024
MAX_FIELDS = 32

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class BadForm(Exception):
    """The body is not a form we can read."""


async def read_form(request: Request) -> dict[str, str]:
    """The fields of a URL-encoded body (the last value wins); BadForm if unreadable."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_FORM_BYTES:
            raise BadForm("body too large")
        chunks.append(chunk)
    try:
        text = b"".join(chunks).decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except (UnicodeDecodeError, ValueError) as error:
        raise BadForm(str(error)) from error
    return {key: value.replace("\x00", "") for key, value in pairs}


def address_allowed(request: Request, networks: Sequence[Network] | None) -> bool:
    """Whether the caller's address is in ``networks`` (None allows any address)."""
    if networks is None:
        return True
    host = request.client.host if request.client else None
    try:
        address = ipaddress.ip_address(host or "")
    except ValueError:
        return False
    return any(address in network for network in networks)


def route_path(path: str, token: str) -> str:
    """The route for ``path``: ``path/{token}`` when a token is set, the bare ``path`` if not."""
    return callback_path(path, "{token}" if token else "")


def token_matches(request: Request, token: str) -> bool:
    """Whether the path's ``{token}`` is ``token`` (compared in constant time); an empty
    ``token`` means the routes are served without one, so any request matches."""
    if not token:
        return True
    given = str(request.path_params.get("token", ""))
    return hmac.compare_digest(given.encode(), token.encode())
