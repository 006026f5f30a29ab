"""The staff web console under /staff/: lists and forms at a desk, over the same core use cases
as the bot. Each module registers the routes of one part (login, dashboard, customers, ...)."""

from __future__ import annotations

from starlette.routing import BaseRoute, Mount, Router
from starlette.staticfiles import StaticFiles

from core.unit_of_work import CoreServices
from web.console.customer_list import customer_list_routes
from web.console.customer_page import customer_page_routes
from web.console.customer_tabs import customer_tab_routes
from web.console.dashboard import dashboard_routes
from web.console.framework import PREFIX, Console, ConsoleConfig, PresenceLookup
from web.console.headers import ConsoleHeaders
from web.console.login import login_routes
from web.console.provisioning import provisioning_routes
from web.console.staffdesk import staffdesk_routes

__all__ = ["ConsoleConfig", "console_mount"]


def console_mount(
    services: CoreServices, config: ConsoleConfig, presence: PresenceLookup | None = None
) -> Mount:
    console = Console(services, config, presence)
    routes: list[BaseRoute] = [
        Mount("/static", app=StaticFiles(packages=[("web.console", "static")]), name="static"),
        *login_routes(console),
        *dashboard_routes(console),
        # /customers/new before /customers/{account}.
        *provisioning_routes(console),
        *customer_tab_routes(console),
        *staffdesk_routes(console),
        *customer_page_routes(console),
        *customer_list_routes(console),
    ]
    return Mount(PREFIX, app=ConsoleHeaders(Router(routes=routes)))
