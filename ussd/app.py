"""The Starlette app: health now; USSD, SMS and M-Pesa callbacks join as their issues land."""

from __future__ import annotations

import logging

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from core.unit_of_work import CoreServices

log = logging.getLogger(__name__)


def create_app(services: CoreServices) -> Starlette:
    """The web app over ``services``; nothing is opened until a request arrives."""

    async def healthz(request: Request) -> JSONResponse:
        """Liveness and database reachability, for the load balancer and monitoring."""
        try:
            with services.session_factory() as session:
                session.execute(text("select 1"))
        except Exception as exc:
            log.warning("health check: database unreachable: %s", exc)
            return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok"})

    return Starlette(routes=[Route("/healthz", healthz, methods=["GET"])])
