"""Adding customers and what they are provisioned on: the Add Customer form, plans, routers and
their address pools. One entry point for the console's route list."""

from __future__ import annotations

from starlette.routing import Route

from web.console.customer_new import customer_new_routes
from web.console.framework import Console
from web.console.plans import plans_routes
from web.console.routers import routers_routes


def provisioning_routes(console: Console) -> list[Route]:
    return [*customer_new_routes(console), *plans_routes(console), *routers_routes(console)]
