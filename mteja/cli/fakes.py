"""The stand-ins for the outside world (``fake-daraja``, ``fake-africastalking``,
``simulate-router``) and ``mteja demo``, which runs a small ISP on them.

Production never imports ``sim``: each command imports its fake inside itself, so only running
one of these commands loads it.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Annotated

import typer

from core.db import upgrade_to_head
from core.errors import DomainError
from mteja.cli.shared import fail, install_to_create, load_settings, out
from mteja.demo_ports import (
    DEMO_AT_PORT,
    DEMO_DARAJA_PORT,
    DEMO_MOMBASA_ROUTER_PORT,
    DEMO_NAIROBI_ROUTER_PORT,
    DEMO_WEB_PORT,
)
from mteja.envfile import ensure_at_callback_token, ensure_callback_token, ensure_secret_key


def fake_daraja(
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8099,
    outcome: Annotated[
        str,
        typer.Option(help="STK outcome: paid, cancelled, timeout, wrong_pin, insufficient, never"),
    ] = "paid",
    delay: Annotated[float, typer.Option(help="Seconds before the STK callback")] = 2.0,
) -> None:
    """Run a fake Safaricom Daraja (sandbox credentials) for the demo and tests."""
    from sim.daraja.server import run_fake_daraja

    out.print(f"fake Daraja on http://127.0.0.1:{port} (sandbox shortcode 174379)")
    run_fake_daraja("127.0.0.1", port, default_outcome=outcome, default_delay_seconds=delay)


def fake_africastalking(
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8098,
    web_url: Annotated[
        str,
        typer.Option(
            help="mteja's web app, where delivery reports and inbound SMS go "
            "(at paths ending in MTEJA_AT_CALLBACK_TOKEN)"
        ),
    ] = "http://127.0.0.1:8000",
    auto_deliver: Annotated[
        bool,
        typer.Option("--auto-deliver/--no-auto-deliver", help="Report each SMS as delivered"),
    ] = True,
    delay: Annotated[float, typer.Option(help="Seconds before the delivery report")] = 2.0,
) -> None:
    """Run a fake Africa's Talking SMS API for the demo (set MTEJA_AT_BASE_URL to its URL)."""
    from sim.africastalking import DEFAULT_API_KEY, DEFAULT_USERNAME, run_fake_africastalking
    from ussd.africastalking_urls import sms_delivery_url, sms_inbound_url

    token = load_settings().at_callback_token
    out.print(
        f"fake Africa's Talking on http://127.0.0.1:{port} "
        f"(username {DEFAULT_USERNAME}, API key {DEFAULT_API_KEY})",
        markup=False,
    )
    run_fake_africastalking(
        "127.0.0.1",
        port,
        delivery_url=sms_delivery_url(web_url, token),
        inbound_url=sms_inbound_url(web_url, token),
        auto_deliver=auto_deliver,
        delivery_delay_seconds=delay,
    )


def simulate_router(
    port: Annotated[int, typer.Option(help="API port to listen on")] = 8728,
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    username: Annotated[str, typer.Option(help="API user")] = "admin",
    password: Annotated[str, typer.Option(help="API password")] = "",
    identity: Annotated[str, typer.Option(help="/system/identity name")] = "MikroTik",
    download_rate: Annotated[
        float, typer.Option(min=0, help="Bytes per second each subscriber session downloads")
    ] = 0.0,
    upload_rate: Annotated[
        float, typer.Option(min=0, help="Bytes per second each subscriber session uploads")
    ] = 0.0,
    tls_cert: Annotated[
        Path | None, typer.Option(help="Serve api-ssl (TLS) with this PEM certificate")
    ] = None,
    tls_key: Annotated[Path | None, typer.Option(help="The PEM private key of --tls-cert")] = None,
) -> None:
    """Run the RouterOS API simulator (for the demo, tests and trying mteja without a MikroTik)."""
    from sim.routeros import run_simulator

    if (tls_cert is None) != (tls_key is None):
        fail("--tls-cert and --tls-key go together")
    context = None
    if tls_cert is not None and tls_key is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        try:
            context.load_cert_chain(tls_cert, tls_key)
        except (OSError, ssl.SSLError) as error:
            fail(f"cannot load {tls_cert} and {tls_key}: {error}")
    tls = ", TLS" if context else ""
    out.print(f"RouterOS API simulator on {host}:{port} (user {username}{tls})")
    run_simulator(
        host,
        port,
        username,
        password,
        identity,
        context,
        download_rate=download_rate,
        upload_rate=upload_rate,
    )


def demo(
    serve: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Keep the web app running")
    ] = True,
    port: Annotated[int, typer.Option(min=1, max=65535, help="Web port")] = DEMO_WEB_PORT,
    daraja_port: Annotated[
        int, typer.Option(min=1, max=65535, help="Fake M-Pesa (Daraja) port")
    ] = DEMO_DARAJA_PORT,
    africastalking_port: Annotated[
        int, typer.Option(min=1, max=65535, help="Fake Africa's Talking port")
    ] = DEMO_AT_PORT,
    nairobi_router_port: Annotated[
        int, typer.Option(min=1, max=65535, help="API port of the simulated router demo-nairobi")
    ] = DEMO_NAIROBI_ROUTER_PORT,
    mombasa_router_port: Annotated[
        int, typer.Option(min=1, max=65535, help="API port of the simulated router demo-mombasa")
    ] = DEMO_MOMBASA_ROUTER_PORT,
) -> None:
    """Seed a small demo ISP on the embedded defaults, show it, and serve the web app."""
    from mteja.demo import run_demo
    from mteja.demo_ports import DemoPorts, PortBusy, check_ports

    ports = DemoPorts(
        port, daraja_port, africastalking_port, nairobi_router_port, mombasa_router_port
    )
    if serve:
        try:
            check_ports(ports)  # before anything is written or started
        except PortBusy as exc:
            fail(str(exc))
    install = install_to_create()
    if ensure_secret_key(install.env_file):
        out.print(f"created MTEJA_SECRET_KEY in {install.env_file}")
    ensure_callback_token(install.env_file)  # the fake M-Pesa posts to the real callback URLs
    ensure_at_callback_token(install.env_file)  # and the fake Africa's Talking to its own
    settings = load_settings(install)
    upgrade_to_head(settings.database_url)
    try:
        run_demo(settings, out, serve=serve, ports=ports, env_file=install.env_file)
    except DomainError as exc:
        fail(exc.message)
