"""``/healthz`` (liveness), ``/readyz`` (readiness) and ``/metrics`` (Prometheus).

/healthz answers 200 whenever the process serves: a load balancer restarts what fails it, and a
database outage is not cured by restarting the web process. /readyz checks what a request
needs: the database and the job queue (503 when either fails) and reports the routers as the
last health check recorded them (an unreachable router never makes it fail: customers of the
other routers still pay). /metrics answers loopback clients, and other addresses only with
``Authorization: Bearer <MTEJA_METRICS_TOKEN>``; the address is the one uvicorn's proxy
handling left (MTEJA_TRUSTED_PROXIES), as for the M-Pesa allow-list.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select, text
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from core.models import Router
from core.unit_of_work import CoreServices

log = logging.getLogger(__name__)

METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass(frozen=True)
class MetricsEndpoint:
    """``render``: the exposition text; ``token``: the bearer token for non-loopback callers
    ("" = loopback only)."""

    render: Callable[[], bytes]
    token: str = ""


def health_routes(
    services: CoreServices,
    queue_ping: Callable[[], None] | None = None,
    metrics: MetricsEndpoint | None = None,
) -> list[BaseRoute]:
    """The routes; ``queue_ping`` raises when the job queue cannot be reached (None: no queue
    is checked); ``metrics`` None serves no /metrics."""

    async def healthz(request: Request) -> JSONResponse:
        """Liveness: the process serves requests."""
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> JSONResponse:
        """Readiness: the database and the queue answer; the routers as last seen."""
        body, ready = await run_in_threadpool(readiness, services, queue_ping)
        return JSONResponse(body, status_code=200 if ready else 503)

    routes: list[BaseRoute] = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
    ]
    if metrics is not None:

        async def serve_metrics(request: Request) -> Response:
            """Prometheus' text format, for loopback or the bearer of the metrics token."""
            if not _may_scrape(request, metrics.token):
                return PlainTextResponse("Forbidden", status_code=403)
            body = await run_in_threadpool(metrics.render)
            return Response(body, media_type=METRICS_CONTENT_TYPE)

        routes.append(Route("/metrics", serve_metrics, methods=["GET"]))
    return routes


def readiness(
    services: CoreServices, queue_ping: Callable[[], None] | None
) -> tuple[dict[str, object], bool]:
    """The /readyz body and whether the process is ready (database and queue answer)."""
    checks: dict[str, object] = {}
    ready = True
    routers: dict[str, str] = {}
    try:
        with services.session_factory() as session:
            session.execute(text("select 1"))
            routers = {name: status for name, status in session.execute(_ROUTER_STATES)}
        checks["database"] = "ok"
    except Exception as exc:
        log.warning("readiness: database unreachable: %s", exc)
        checks["database"] = "unreachable"
        ready = False
    if queue_ping is not None:
        try:
            queue_ping()
            checks["queue"] = "ok"
        except Exception as exc:
            log.warning("readiness: job queue unreachable: %s", exc)
            checks["queue"] = "unreachable"
            ready = False
    checks["routers"] = {
        "status": "ok" if all(state != "offline" for state in routers.values()) else "degraded",
        "unreachable": sorted(name for name, state in routers.items() if state == "offline"),
    }
    return {"status": "ok" if ready else "error", "checks": checks}, ready


_ROUTER_STATES = select(Router.name, Router.status).order_by(Router.name)


def _may_scrape(request: Request, token: str) -> bool:
    host = request.client.host if request.client else None
    if host is not None and _loopback(host):
        return True
    if not token:
        return False
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
