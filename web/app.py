"""The Starlette app: health, USSD, SMS callbacks, M-Pesa callbacks, and the staff console.

Each channel keeps its routes in its own package (``ussd.routes``, ``payments.routes``); this
module only mounts them, with the console (``web.console``) under /staff/."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from core.unit_of_work import CoreServices
from payments.routes import MpesaWebConfig, mpesa_routes
from ussd.routes.forms import Network
from ussd.routes.sms import sms_routes
from ussd.routes.ussd import ussd_routes
from ussd.routes.work import DatabaseWork
from web.console import ConsoleConfig, console_mount
from web.console.framework import PresenceLookup

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WebConfig:
    """``africastalking_networks``: where USSD and SMS callbacks may come from (None: anywhere);
    ``africastalking_token``: the secret last segment of their paths ("": the bare paths);
    ``console``: the staff console's settings (None: no console)."""

    mpesa: MpesaWebConfig | None = None
    africastalking_networks: tuple[Network, ...] | None = None
    africastalking_token: str = ""
    console: ConsoleConfig | None = None


def create_app(
    services: CoreServices,
    config: WebConfig | None = None,
    *,
    presence: PresenceLookup | None = None,
) -> Starlette:
    """The web app over ``services``; nothing is opened until a request arrives. ``presence``
    lets the staff console ask a router whether a customer is online."""
    config = config or WebConfig()

    async def healthz(request: Request) -> JSONResponse:
        """Liveness and database reachability, for the load balancer and monitoring."""
        try:
            with services.session_factory() as session:
                session.execute(text("select 1"))
        except Exception as exc:
            log.warning("health check: database unreachable: %s", exc)
            return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok"})

    routes: list[BaseRoute] = [Route("/healthz", healthz, methods=["GET"])]
    # USSD and SMS share a few database threads (see ussd.routes.work).
    database = DatabaseWork(services)
    at_networks, at_token = config.africastalking_networks, config.africastalking_token
    routes += ussd_routes(database, at_networks, at_token)
    routes += sms_routes(database, at_networks, at_token)
    if config.mpesa is not None:
        routes += mpesa_routes(services, config.mpesa)
    if config.console is not None:
        routes.append(console_mount(services, config.console, presence))
    return Starlette(routes=routes)
