"""The staff desk's pages: the Staff page and the tickets."""

from __future__ import annotations

from starlette.routing import Route

from web.console.framework import Console
from web.console.staff_pages import staff_routes
from web.console.ticket_pages import ticket_routes


def staffdesk_routes(console: Console) -> list[Route]:
    return [*staff_routes(console), *ticket_routes(console)]
