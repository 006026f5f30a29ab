"""The long-running roles (``mteja web``, ``worker``, ``bot``) and ``console``, the bot at a prompt.

Each imports what it runs inside the command, so ``mteja --help`` and the short commands do not
load the web server, the queue consumer or python-telegram-bot.
"""

from __future__ import annotations

from typing import Annotated

import typer

from mteja.cli.shared import fail, opened_system, out
from mteja.metrics_files import use_metrics_dir


def web(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
    workers: Annotated[
        int, typer.Option(help="Processes sharing the port (each one event loop): up to one a core")
    ] = 1,
) -> None:
    """Serve the web app (health, metrics, and the USSD/SMS/M-Pesa callbacks as they land)."""
    with opened_system() as system:  # the database is ready before any process starts
        settings = system.settings
    # Before mteja.web imports prometheus_client; the worker processes inherit it.
    use_metrics_dir(settings.metrics_dir)
    from mteja.web import serve, serving_problem

    problem = serving_problem(settings, workers)
    if problem is not None:
        fail(problem)
    serve(settings, host=host, port=port, workers=workers)


def worker(
    workers: Annotated[int, typer.Option(help="Worker threads")] = 4,
    periodic: Annotated[
        bool,
        typer.Option(
            "--periodic/--no-periodic",
            help="Run the periodic tasks (sweeps, checks, reconciles): on one worker; a second "
            "one's runs of a slot already taken are skipped",
        ),
    ] = True,
) -> None:
    """Run the job consumer: router syncs, expiry at the second, sweeps and reconciles."""
    with opened_system() as system:
        # Before prometheus_client is imported: the web processes' /metrics add these counts.
        use_metrics_dir(system.settings.metrics_dir)
        from mteja.logs import configure_logging
        from mteja.metrics import PrometheusMetrics
        from mteja.queueing import build_queue

        configure_logging(system.settings.log_format)
        queue = build_queue(system, metrics=PrometheusMetrics())
        consumer = queue.huey.create_consumer(
            workers=workers, worker_type="thread", periodic=periodic, check_worker_health=True
        )
        consumer.run()


def console(
    as_user: Annotated[
        int | None,
        typer.Option(
            "--as",
            help="Act as this staff member (their Telegram user id); "
            "default: the command-line operator, as owner",
        ),
    ] = None,
) -> None:
    """The staff bot's commands at a prompt, without Telegram (type quit to leave)."""
    from mteja.staffbot import run_console

    with opened_system() as system:
        run_console(system, as_user)


def bot_command(
    set_webhook: Annotated[
        bool,
        typer.Option(
            "--set-webhook",
            help="Register MTEJA_PUBLIC_URL/telegram/<secret> with Telegram and exit "
            "(then 'mteja web' receives the updates)",
        ),
    ] = False,
) -> None:
    """Run the Telegram staff bot by long polling (MTEJA_TELEGRAM_TOKEN)."""
    from mteja.logs import configure_logging
    from mteja.staffbot import TelegramNotConfigured, run_bot
    from mteja.staffbot import set_webhook as register_webhook

    with opened_system() as system:
        try:
            if set_webhook:
                out.print(f"webhook registered: {register_webhook(system)}", markup=False)
                return
            # Only the long-running bot takes over the process's logging.
            configure_logging(system.settings.log_format)
            run_bot(system)
        except TelegramNotConfigured as exc:
            fail(str(exc))
