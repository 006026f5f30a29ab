"""The Starlette app: health, readiness and metrics (``web.health``), USSD, SMS callbacks,
M-Pesa callbacks, and the staff console.

Each channel keeps its routes in its own package (``ussd.routes``, ``payments.routes``); this
module only mounts them, with the console (``web.console``) under /staff/."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute

from core.unit_of_work import CoreServices
from payments.routes import MpesaWebConfig, mpesa_routes
from ussd.routes.forms import Network
from ussd.routes.sms import sms_routes
from ussd.routes.ussd import ussd_routes
from ussd.routes.work import DatabaseWork
from web.console import ConsoleConfig, console_mount
from web.console.framework import PresenceLookup
from web.correlation import CorrelationMiddleware
from web.health import MetricsEndpoint, health_routes


@dataclass(frozen=True)
class WebConfig:
    """``africastalking_networks``: where USSD and SMS callbacks may come from (None: anywhere);
    ``africastalking_token``: the secret last segment of their paths ("": the bare paths);
    ``console``: the staff console's settings (None: no console); ``metrics``: /metrics
    (None: not served); ``queue_ping``: raises when the job queue is unreachable (/readyz)."""

    mpesa: MpesaWebConfig | None = None
    africastalking_networks: tuple[Network, ...] | None = None
    africastalking_token: str = ""
    console: ConsoleConfig | None = None
    metrics: MetricsEndpoint | None = None
    queue_ping: Callable[[], None] | None = None


def create_app(
    services: CoreServices,
    config: WebConfig | None = None,
    *,
    presence: PresenceLookup | None = None,
) -> Starlette:
    """The web app over ``services``; nothing is opened until a request arrives. ``presence``
    lets the staff console ask a router whether a customer is online."""
    config = config or WebConfig()

    routes: list[BaseRoute] = health_routes(services, config.queue_ping, config.metrics)
    # USSD and SMS share a few database threads (see ussd.routes.work).
    database = DatabaseWork(services)
    at_networks, at_token = config.africastalking_networks, config.africastalking_token
    routes += ussd_routes(database, at_networks, at_token)
    routes += sms_routes(database, at_networks, at_token)
    if config.mpesa is not None:
        routes += mpesa_routes(services, config.mpesa)
    if config.console is not None:
        routes.append(console_mount(services, config.console, presence))
    return Starlette(routes=routes, middleware=[Middleware(CorrelationMiddleware)])
