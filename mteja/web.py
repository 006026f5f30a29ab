"""Building the web app from settings, and serving it (``mteja web``) in one or more processes.

uvicorn starts each worker process afresh and calls ``create_app`` there (``APP_FACTORY``), so
every process makes its own engine, connection pools and queue connection; its lifespan checks
the database before the process takes requests and closes the connections at shutdown.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace

import anyio.to_thread
from huey.storage import RedisStorage
from starlette.applications import Starlette

from core.db import current_revision
from core.settings import Settings
from core.unit_of_work import CoreServices
from mteja.bootstrap import NotInitialized, System, build_system
from mteja.install import find_install, settings_of
from mteja.logs import configure_logging
from mteja.metrics import PrometheusMetrics, render
from mteja.queueing import Queue, build_queue
from mteja.staffbot import presence_lookup, with_telegram_webhook
from payments.callback_urls import callback_url_problem
from payments.routes import MpesaWebConfig, parse_allowed
from web.app import WebConfig
from web.app import create_app as create_web_app
from web.console import ConsoleConfig
from web.health import MetricsEndpoint

log = logging.getLogger(__name__)

# What uvicorn imports in each worker process (with factory=True).
APP_FACTORY = "mteja.web:create_app"


def web_config(settings: Settings) -> WebConfig:
    """M-Pesa callbacks are served only once a callback token is set (``mteja init`` makes one);
    USSD and SMS callbacks always, from the addresses in MTEJA_AT_ALLOWED_IPS, at paths ending in
    MTEJA_AT_CALLBACK_TOKEN (bare when it is empty)."""
    africastalking = parse_allowed(settings.at_allowed_ips)
    at_token = settings.at_callback_token
    if not at_token:
        log.warning(
            "MTEJA_AT_CALLBACK_TOKEN is empty: /ussd, /sms/inbound and /sms/delivery accept any "
            "caller MTEJA_AT_ALLOWED_IPS (%s) lets through; run 'mteja init' to make a token",
            settings.at_allowed_ips,
        )
    console = ConsoleConfig(public_url=settings.public_url)
    if not settings.callback_token:
        log.warning("MTEJA_CALLBACK_TOKEN is empty: M-Pesa callbacks are disabled")
        return WebConfig(
            africastalking_networks=africastalking,
            africastalking_token=at_token,
            console=console,
        )
    problem = callback_url_problem(settings.public_url, settings.callback_token)
    if problem is not None and settings.mpesa_shortcode:
        log.warning("Safaricom will not deliver M-Pesa callbacks: %s", problem)
    return WebConfig(
        mpesa=MpesaWebConfig(
            callback_token=settings.callback_token,
            allowed_networks=parse_allowed(settings.mpesa_allowed_ips),
            shortcode=settings.mpesa_shortcode,
        ),
        africastalking_networks=africastalking,
        africastalking_token=at_token,
        console=console,
    )


def build_app(
    settings: Settings,
    services: CoreServices,
    *,
    metrics: PrometheusMetrics | None = None,
    queue: Queue | None = None,
) -> Starlette:
    """The app of ``settings``; with ``metrics``, /metrics serves them (see mteja.metrics);
    with ``queue``, /readyz checks it and /metrics tells its length."""
    config = web_config(settings)
    if metrics is not None:
        endpoint = MetricsEndpoint(
            lambda: render(
                metrics,
                services.session_factory,
                queue.huey.pending_count if queue is not None else None,
            ),
            settings.metrics_token,
        )
        config = replace(config, metrics=endpoint)
    if queue is not None:
        config = replace(config, queue_ping=queue_ping(queue))
    app = create_web_app(services, config, presence=presence_lookup(services))
    # The staff bot's webhook (POST /telegram/{secret}), only when Telegram is configured for it.
    return with_telegram_webhook(app, settings, services)


def trusted_proxies(settings: Settings) -> str | None:
    """What uvicorn's forwarded_allow_ips should be: only named proxies are believed."""
    return settings.trusted_proxies or None


def create_app() -> Starlette:
    """The app of one ``mteja web`` process, for uvicorn's ``factory=True``: settings are read
    from the environment (and the install's ``.env``) here, in the process that will serve them."""
    settings = settings_of(find_install())
    configure_logging(settings.log_format)
    system = build_system(settings, require_schema=False)
    metrics = PrometheusMetrics()
    # So what the web app records is queued for the workers (and counted).
    queue = build_queue(system, metrics=metrics)
    app = build_app(settings, system.services, metrics=metrics, queue=queue)
    return with_process_lifespan(app, system, queue)


def queue_ping(queue: Queue) -> Callable[[], None]:
    """Raises when the job queue's storage (Redis, or the SQLite file) does not answer."""

    def ping() -> None:
        queue.huey.pending_count()

    return ping


def with_process_lifespan(app: Starlette, system: System, queue: Queue) -> Starlette:
    """``app``, whose lifespan first checks that the database answers and has its schema (or the
    process does not start), and at shutdown closes this process's connections."""
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(served: Starlette) -> AsyncIterator[None]:
        await anyio.to_thread.run_sync(_check_database, system)
        try:
            async with inner(served):
                yield
        finally:
            system.close()
            if isinstance(queue.huey.storage, RedisStorage):
                queue.huey.storage.pool.disconnect()

    app.router.lifespan_context = lifespan
    return app


def _check_database(system: System) -> None:
    if current_revision(system.engine) is None:
        raise NotInitialized("the database is empty: run 'mteja init' first")


def serving_problem(settings: Settings, workers: int) -> str | None:
    """Why ``workers`` processes cannot serve these settings, or None. Any number may take the
    Telegram webhook: staff's forms and confirmations are in the database (bot_conversations),
    not in the process that got the update."""
    if workers < 1:
        return "--workers must be at least 1"
    return None


def serve(
    settings: Settings,
    *,
    host: str,
    port: int,
    workers: int = 1,
    log_level: str = "info",
    access_log: bool = True,
) -> None:
    """Serve the web app on ``host:port`` with ``workers`` processes sharing the socket, until
    stopped. Each process reads the settings from the environment, as ``settings`` were read."""
    import uvicorn

    configure_logging(settings.log_format)  # the supervising process's own lines, with workers
    uvicorn.run(
        APP_FACTORY,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        access_log=access_log,
        proxy_headers=True,
        forwarded_allow_ips=trusted_proxies(settings),
        # Each process's create_app sends uvicorn's records to mteja's handler (MTEJA_LOG_FORMAT).
        log_config=None,
    )
