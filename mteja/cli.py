"""The ``mteja`` command: set up, manage, and start each process role."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from core.actors import Actor
from core.crypto import SecretKeyError
from core.db import upgrade_to_head
from core.display import kes, local_time, speed
from core.errors import DomainError
from core.lookup import find, resolve
from core.models import Plan
from core.phones import display_phone
from core.queries import customer_card
from core.settings import Settings
from core.usecases.customers import NewCustomer, create_customer
from core.usecases.network import (
    RouterChange,
    RouterSpec,
    add_pool,
    add_router,
    edit_router,
    list_routers,
)
from core.usecases.plans import PlanSpec, add_plan, get_plan_by_name, list_plans
from core.usecases.staff import add_staff, list_staff
from mteja.bootstrap import NotInitialized, System, build_system
from mteja.customer_details_cli import add_customer_detail_commands
from mteja.demo_ports import (
    DEMO_AT_PORT,
    DEMO_DARAJA_PORT,
    DEMO_MOMBASA_ROUTER_PORT,
    DEMO_NAIROBI_ROUTER_PORT,
    DEMO_WEB_PORT,
)
from mteja.documents import invoice_commands, receipt_commands
from mteja.envfile import ensure_at_callback_token, ensure_callback_token, ensure_secret_key
from mteja.install import (
    AnotherInstall,
    FoundBy,
    Install,
    find_install,
    settings_of,
    where_to_create,
)
from mteja.mpesa_cli import add_callback_commands
from mteja.render import card_text, presence_text
from routers.sync import Presence, RouterSync, librouteros_factory

app = typer.Typer(
    help="mteja: run a small ISP's subscribers, plans and payments.", no_args_is_help=True
)
router_app = typer.Typer(help="MikroTik routers.", no_args_is_help=True)
pool_app = typer.Typer(help="Address pools of routers.", no_args_is_help=True)
plan_app = typer.Typer(help="Plans (packages).", no_args_is_help=True)
customer_app = typer.Typer(help="Customers.", no_args_is_help=True)
staff_app = typer.Typer(help="Staff allowed to use the bot.", no_args_is_help=True)
app.add_typer(router_app, name="router")
app.add_typer(pool_app, name="pool")
app.add_typer(plan_app, name="plan")
app.add_typer(customer_app, name="customer")
app.add_typer(staff_app, name="staff")

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def fail(message: str) -> NoReturn:
    """One line on stderr naming the problem, and a non-zero exit."""
    err.print(f"error: {message}", markup=False)
    raise typer.Exit(1)


def load_settings(install: Install | None = None) -> Settings:
    """The settings of ``install`` (default: the one this command runs in, see mteja.install)."""
    try:
        return settings_of(install or current_install())
    except ValidationError as exc:
        problems = "; ".join(
            f"MTEJA_{'_'.join(str(part) for part in error['loc']).upper()}: {error['msg']}"
            for error in exc.errors()
        )
        fail(f"bad setting: {problems}")


def current_install() -> Install:
    """The install this command works on; a command outside any install stops here, before it
    could create an empty database. One found above the working directory is named on stderr."""
    install = find_install()
    if not install.exists:
        fail(
            f"no mteja install in {install.home} or any directory above it: run 'mteja init' "
            "to make one here, or set MTEJA_HOME to an install's directory"
        )
    if install.found_by is FoundBy.ABOVE:
        err.print(f"using the install in {install.home}", markup=False)
    return install


def install_to_create() -> Install:
    """Where ``mteja init`` or ``mteja demo`` works: never inside another install silently."""
    try:
        install = where_to_create()
    except AnotherInstall as exc:
        fail(str(exc))
    install.home.mkdir(parents=True, exist_ok=True)
    return install


@contextmanager
def opened_system(*, queue: bool = False) -> Iterator[System]:
    """The system for this command; domain errors become one-line messages.

    ``queue``: hand what the command changes to the workers at once (router sync, SMS) instead
    of leaving it to the periodic sweeps.
    """
    try:
        system = build_system(load_settings())
    except (NotInitialized, SecretKeyError) as exc:
        fail(str(exc))
    if queue:
        from mteja.queueing import build_queue

        build_queue(system)
    try:
        yield system
    except DomainError as exc:
        fail(exc.message)
    finally:
        system.close()


ACTOR = Actor.cli()


@app.command()
def init() -> None:
    """Create a secret key and callback tokens in .env if none are set, and migrate the database
    to the latest schema. The install is MTEJA_HOME, or the working directory (not one inside
    another install)."""
    install = install_to_create()
    env_file = install.env_file
    out.print(f"install: {install.home}")
    if ensure_secret_key(env_file):
        out.print("created MTEJA_SECRET_KEY in .env (back it up: stored passwords need it)")
    if ensure_callback_token(env_file):
        out.print("created MTEJA_CALLBACK_TOKEN in .env (the secret part of the M-Pesa URLs)")
    database_url = load_settings(install).database_url
    # On an upgrade, a new token would turn the plain /ussd and /sms/* URLs already pasted into
    # the Africa's Talking dashboard into 404s: subscribers would lose USSD and SMS at once.
    # So only a new install gets one; an upgrade is told how to move to it.
    if _is_new_database(database_url):
        if ensure_at_callback_token(env_file):
            out.print(
                "created MTEJA_AT_CALLBACK_TOKEN in .env (the secret part of the Africa's Talking "
                "URLs: 'mteja africastalking urls' prints them)"
            )
    elif not load_settings(install).at_callback_token:
        out.print(
            "note: MTEJA_AT_CALLBACK_TOKEN is not set, so /ussd and /sms/* take any caller the "
            "allow-list lets through; set it in .env, run 'mteja africastalking urls' and paste "
            "those URLs into the Africa's Talking dashboard (docs/operations.md, Upgrades)"
        )
    settings = load_settings(install)
    upgrade_to_head(settings.database_url)
    out.print(f"database ready: {_safe_url(settings.database_url)}")


def _is_new_database(url: str) -> bool:
    """True when mteja has never migrated this database (a new install, not an upgrade)."""
    from core.db import current_revision, make_engine

    engine = make_engine(url)
    try:
        return current_revision(engine) is None
    finally:
        engine.dispose()


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@router_app.command("add")
def router_add(
    name: str,
    host: Annotated[str, typer.Option(help="Address of the router's API")],
    username: Annotated[str, typer.Option(help="API user")],
    password: Annotated[str, typer.Option(help="API password (stored encrypted)")],
    port: Annotated[int | None, typer.Option(help="API port (8728, or 8729 with --tls)")] = None,
    tls: Annotated[bool, typer.Option("--tls", help="Use api-ssl")] = False,
) -> None:
    """Register a MikroTik router."""
    with opened_system() as system, system.services.unit_of_work() as uow:
        api_port = port if port is not None else (8729 if tls else 8728)
        router = add_router(uow, ACTOR, RouterSpec(name, host, api_port, username, password, tls))
        uow.commit()
        out.print(f"router {router.name} added ({router.host}:{router.api_port})")


@router_app.command("edit")
def router_edit(
    name: str,
    host: Annotated[str | None, typer.Option(help="New address of the router's API")] = None,
    port: Annotated[int | None, typer.Option(help="New API port")] = None,
    username: Annotated[str | None, typer.Option(help="New API user")] = None,
    password: Annotated[
        str | None, typer.Option(help="New API password (stored encrypted)")
    ] = None,
    tls: Annotated[bool | None, typer.Option("--tls/--no-tls", help="Use api-ssl or not")] = None,
) -> None:
    """Change a router's address, port, API login or TLS; the next check reaches it there."""
    change = RouterChange(host, port, username, password, tls)
    with opened_system() as system, system.services.unit_of_work() as uow:
        router = edit_router(uow, ACTOR, name, change)
        uow.commit()
        tls_text = " (tls)" if router.use_tls else ""
        out.print(f"router {router.name} now {router.host}:{router.api_port}{tls_text}")


@router_app.command("list")
def router_list() -> None:
    """List routers with their status."""
    with opened_system() as system, system.services.unit_of_work() as uow:
        table = Table("name", "host", "port", "tls", "status", "last seen", "pools")
        zone = system.settings.zone
        for router in list_routers(uow):
            table.add_row(
                router.name,
                router.host,
                str(router.api_port),
                "yes" if router.use_tls else "no",
                router.status,
                local_time(router.last_seen_at, zone),
                ", ".join(pool.cidr for pool in router.pools) or "-",
            )
        out.print(table)


@pool_app.command("add")
def pool_add(router: str, cidr: str) -> None:
    """Add an address pool (CIDR) to a router; its first address is left for the router."""
    with opened_system() as system, system.services.unit_of_work() as uow:
        pool = add_pool(uow, ACTOR, router, cidr)
        uow.commit()
        out.print(f"pool {pool.cidr} added to {router}")


@plan_app.command("add")
def plan_add(
    name: str,
    connection_type: Annotated[str, typer.Option("--type", help="pppoe, hotspot or static")],
    price: Annotated[int, typer.Option(help="Price in whole KES")],
    download: Annotated[str, typer.Option(help="Download speed, e.g. 10M")],
    upload: Annotated[str, typer.Option(help="Upload speed, e.g. 5M")],
    days: Annotated[int | None, typer.Option(help="Validity in days")] = None,
    hours: Annotated[int | None, typer.Option(help="Validity in hours (hotspot)")] = None,
    cap_mb: Annotated[int | None, typer.Option(help="Data cap in MB")] = None,
    throttle: Annotated[
        str | None,
        typer.Option(
            help="Speed over the data cap until renewal: 1M, or 2M/512k (download/upload); "
            "without it, a customer over the cap is blocked"
        ),
    ] = None,
) -> None:
    """Create a plan."""
    with opened_system() as system, system.services.unit_of_work() as uow:
        spec = PlanSpec(
            name, connection_type, price, download, upload, days, hours, cap_mb, throttle
        )
        plan = add_plan(uow, ACTOR, spec)
        uow.commit()
        out.print(
            f"plan {plan.name} added: {speed(plan.download, plan.upload)}, "
            f"{kes(plan.price_kes)} / {plan.validity_text}",
            markup=False,
        )
        if plan.data_cap_mb is not None:
            out.print(f"data cap {plan.data_cap_mb} MB per period; over it: {_over_cap(plan)}")


def _over_cap(plan: Plan) -> str:
    """What a customer over the plan's data cap gets: ``throttled to 2M down / 1M up``."""
    if plan.throttle_download is None or plan.throttle_upload is None:
        return "blocked"
    return f"throttled to {speed(plan.throttle_download, plan.throttle_upload)}"


@plan_app.command("list")
def plan_list() -> None:
    """List active plans."""
    with opened_system() as system, system.services.unit_of_work() as uow:
        table = Table("name", "type", "price", "speed", "validity", "cap")
        for plan in list_plans(uow):
            cap = f"{plan.data_cap_mb} MB, then {_over_cap(plan)}" if plan.data_cap_mb else "-"
            table.add_row(
                plan.name,
                plan.connection_type,
                kes(plan.price_kes),
                speed(plan.download, plan.upload),
                plan.validity_text,
                cap,
            )
        out.print(table)


@customer_app.command("add")
def customer_add(
    name: Annotated[str, typer.Option(help="Full name")],
    phone: Annotated[str, typer.Option(help="Phone, any format (0712…, +254712…)")],
    plan: Annotated[str, typer.Option(help="Plan name")],
    router: Annotated[str, typer.Option(help="Router name")],
    connection_type: Annotated[
        str | None, typer.Option("--type", help="pppoe, hotspot or static (default: the plan's)")
    ] = None,
    username: Annotated[str | None, typer.Option(help="Login (generated if omitted)")] = None,
    password: Annotated[str | None, typer.Option(help="Password (generated if omitted)")] = None,
    ip: Annotated[
        str | None, typer.Option(help="IP address (picked from the pool if omitted)")
    ] = None,
    email: Annotated[str | None, typer.Option()] = None,
    address: Annotated[str | None, typer.Option(help="Physical address")] = None,
    notes: Annotated[str | None, typer.Option()] = None,
    parent: Annotated[str | None, typer.Option(help="Parent account (sub-account)")] = None,
    paid: Annotated[str | None, typer.Option(help="cash, mpesa, bank or cheque")] = None,
    amount: Annotated[
        int | None, typer.Option(help="First amount in KES (default: plan + fee)")
    ] = None,
    reference: Annotated[str | None, typer.Option(help="Payment reference / receipt")] = None,
    installation_fee: Annotated[int, typer.Option(help="Installation fee in KES")] = 0,
    activate: Annotated[bool, typer.Option("--activate/--no-activate")] = True,
    auto_renew: Annotated[bool, typer.Option("--auto-renew/--no-auto-renew")] = True,
) -> None:
    """Add a customer; prints the new account number first."""
    with opened_system(queue=True) as system, system.services.unit_of_work() as uow:
        chosen_type = connection_type or get_plan_by_name(uow, plan).connection_type
        form = NewCustomer(
            full_name=name,
            phone=phone,
            connection_type=chosen_type,
            plan=plan,
            router=router,
            username=username,
            password=password,
            ip_address=ip,
            email=email,
            physical_address=address,
            notes=notes,
            auto_renew=auto_renew,
            parent=parent,
            payment_method=paid,
            amount_kes=amount,
            payment_reference=reference,
            installation_fee_kes=installation_fee,
            activate=activate,
        )
        created = create_customer(uow, ACTOR, form)
        uow.commit()
        customer = created.customer
        out.print(customer.account_number)
        out.print(f"login {customer.username} / {created.password} (shown once)", markup=False)
        expires = local_time(customer.expires_at, system.settings.zone)
        out.print(f"status {customer.status}, expires {expires}")


@customer_app.command("show")
def customer_show(
    reference: Annotated[str, typer.Argument(help="Account number, phone, username or IP")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object")] = False,
    live: Annotated[
        bool, typer.Option("--live", help="Ask the router whether the customer is online")
    ] = False,
) -> None:
    """Show the customer card."""
    with opened_system() as system:
        with system.services.unit_of_work() as uow:
            card = customer_card(uow, resolve(uow, reference))
        presence = _presence(system, card.id) if live else None
        if as_json:
            values = card.to_json()
            if presence is not None:
                values["online"] = presence.state
            sys.stdout.write(json.dumps(values, sort_keys=True) + "\n")
            return
        now = system.services.clock.now()
        out.print(card_text(card, system.settings.zone, now), markup=False)
        if presence is not None:
            out.print(f"  router says {presence_text(presence)}", markup=False)


@customer_app.command("usage")
def customer_usage(
    reference: Annotated[str, typer.Argument(help="Account number, phone, username or IP")],
    first: Annotated[
        str | None, typer.Option("--from", help="First day, YYYY-MM-DD (default: 30 days ago)")
    ] = None,
    last: Annotated[
        str | None, typer.Option("--to", help="Last day, YYYY-MM-DD (default: today)")
    ] = None,
    chart: Annotated[
        Path | None, typer.Option(help="Write the daily chart (PNG) to this file")
    ] = None,
    live: Annotated[
        bool, typer.Option("--live/--no-live", help="Ask the router for the live session")
    ] = True,
) -> None:
    """Show a customer's data usage: the session, this period against the cap, daily totals."""
    from bot.chart import usage_chart
    from bot.usage_view import usage_text, usage_title
    from core.usage import check_range, default_range, usage_report

    with opened_system() as system:
        with system.services.unit_of_work() as uow:
            customer = resolve(uow, reference)
            start, end = default_range(uow)
            start = _day(first, "--from") if first else start
            end = _day(last, "--to") if last else end
            check_range(start, end)
            report = usage_report(uow, customer, start, end)
        presence = _presence(system, report.customer_id) if live else None
        now = system.services.clock.now()
        out.print(usage_text(report, presence, system.settings.zone, now), markup=False)
        if chart is not None:
            chart.write_bytes(usage_chart(report.days, usage_title(report)))
            out.print(f"chart of {len(report.days)} day(s) written to {chart}", markup=False)


def _day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"{option} takes a day as YYYY-MM-DD, not {text!r}")


def _presence(system: System, customer_id: int) -> Presence:
    # A person is waiting: short timeouts bound the wait when the router is down.
    gateways = librouteros_factory(connect_timeout=2.0, command_timeout=3.0)
    return RouterSync(system.services, gateways).presence(customer_id)


@customer_app.command("find")
def customer_find(text: str) -> None:
    """Find customers by account number, phone, username, IP or part of the name."""
    with opened_system() as system, system.services.unit_of_work() as uow:
        matches = find(uow, text)
        if not matches:
            out.print(f"no customers match {text!r}", markup=False)
            return
        table = Table("account", "name", "phone", "plan", "status", "expires")
        zone = system.settings.zone
        for customer in matches:
            table.add_row(
                customer.account_number,
                customer.full_name,
                display_phone(customer.phone) if customer.phone else "-",
                customer.plan.name,
                customer.status,
                local_time(customer.expires_at, zone),
            )
        out.print(table)


@staff_app.command("add")
def staff_add(
    telegram_user_id: int,
    name: str,
    role: Annotated[str, typer.Option(help="owner, admin, agent or viewer")],
) -> None:
    """Allow a Telegram user to use the bot with a role."""
    with opened_system() as system, system.services.unit_of_work() as uow:
        member = add_staff(uow, ACTOR, telegram_user_id, name, role)
        uow.commit()
        out.print(f"{member.name} ({member.telegram_user_id}) is now {member.role}")


@staff_app.command("list")
def staff_list() -> None:
    """List staff and their roles."""
    with opened_system() as system, system.services.unit_of_work() as uow:
        table = Table("telegram id", "name", "role", "since")
        for member in list_staff(uow):
            table.add_row(
                str(member.telegram_user_id),
                member.name,
                member.role,
                local_time(member.created_at, system.settings.zone),
            )
        out.print(table)


@app.command()
def web(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
    workers: Annotated[
        int, typer.Option(help="Processes sharing the port (each one event loop): up to one a core")
    ] = 1,
) -> None:
    """Serve the web app (health, and the USSD/SMS/M-Pesa callbacks as they land)."""
    from mteja.web import serve, serving_problem

    with opened_system() as system:  # the database is ready before any process starts
        settings = system.settings
    problem = serving_problem(settings, workers)
    if problem is not None:
        fail(problem)
    serve(settings, host=host, port=port, workers=workers)


@app.command()
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
    import logging

    from mteja.queueing import build_queue

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    with opened_system() as system:
        queue = build_queue(system)
        consumer = queue.huey.create_consumer(
            workers=workers, worker_type="thread", periodic=periodic, check_worker_health=True
        )
        consumer.run()


mpesa_app = typer.Typer(help="M-Pesa (Safaricom Daraja).", no_args_is_help=True)
app.add_typer(mpesa_app, name="mpesa")
add_callback_commands(mpesa_app, opened_system, out)
add_customer_detail_commands(customer_app, opened_system, fail, out)


@mpesa_app.command("register-urls")
def mpesa_register_urls() -> None:
    """Tell Safaricom where to send paybill validation and confirmation callbacks."""
    from payments import callback_urls
    from payments.daraja import DarajaError

    settings = load_settings()
    if not settings.callback_token:
        fail("MTEJA_CALLBACK_TOKEN is not set: run 'mteja init'")
    problem = callback_urls.callback_url_problem(settings.public_url, settings.callback_token)
    if problem is not None:
        fail(problem)
    from mteja.queueing import daraja_client

    client = daraja_client(settings)
    if client is None:
        fail("set MTEJA_MPESA_CONSUMER_KEY, _CONSUMER_SECRET, _SHORTCODE and _PASSKEY first")
    confirmation = callback_urls.c2b_confirmation_url(settings.public_url, settings.callback_token)
    validation = callback_urls.c2b_validation_url(settings.public_url, settings.callback_token)
    try:
        answer = client.register_c2b_urls(confirmation, validation)
    except DarajaError as exc:
        fail(f"Safaricom refused: {exc}")
    out.print(f"registered with Safaricom: {answer.get('ResponseDescription', answer)}")
    # The token is the URLs' secret: not echoed.
    out.print(f"  confirmation {callback_urls.c2b_confirmation_url(settings.public_url, '…')}")
    out.print(f"  validation   {callback_urls.c2b_validation_url(settings.public_url, '…')}")


@app.command("fake-daraja")
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


@app.command("fake-africastalking")
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


africastalking_app = typer.Typer(help="Africa's Talking (USSD and SMS).", no_args_is_help=True)
app.add_typer(africastalking_app, name="africastalking")


@africastalking_app.command("urls")
def africastalking_urls() -> None:
    """Print the callback URLs to paste into the Africa's Talking dashboard."""
    from ussd import africastalking_urls as urls

    settings = load_settings()
    if not settings.public_url.strip():
        fail("MTEJA_PUBLIC_URL is not set: set it to the https address mteja is served at")
    token = settings.at_callback_token
    if not token:
        fail("MTEJA_AT_CALLBACK_TOKEN is not set: run 'mteja init'")
    # Printed whole, token and all: the operator pastes these, and they are the secret.
    out.print(f"USSD callback          {urls.ussd_url(settings.public_url, token)}", markup=False)
    out.print(
        f"SMS inbound callback   {urls.sms_inbound_url(settings.public_url, token)}", markup=False
    )
    out.print(
        f"SMS delivery reports   {urls.sms_delivery_url(settings.public_url, token)}", markup=False
    )


@customer_app.command("stk")
def customer_stk(
    reference: Annotated[str, typer.Argument(help="Account number, phone, username or IP")],
    amount: Annotated[int | None, typer.Option(help="KES (default: what renews the plan)")] = None,
    phone: Annotated[
        str | None, typer.Option(help="Phone to prompt (default: the customer's)")
    ] = None,
) -> None:
    """Send an M-Pesa STK push (PIN prompt) to the customer's phone; a worker sends it."""
    from core.usecases.stk import request_stk_push
    from mteja.queueing import build_queue

    with opened_system() as system:
        build_queue(system)
        with system.services.unit_of_work() as uow:
            customer = resolve(uow, reference)
            queued = request_stk_push(uow, customer.id, ACTOR, amount, phone, channel="staff")
            uow.commit()
        out.print(f"STK push of {kes(queued.amount_kes)} to {queued.phone} queued")


@app.command("simulate-router")
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
) -> None:
    """Run the RouterOS API simulator (for the demo, tests and trying mteja without a MikroTik)."""
    from sim.routeros import run_simulator

    out.print(f"RouterOS API simulator on {host}:{port} (user {username})")
    run_simulator(
        host,
        port,
        username,
        password,
        identity=identity,
        download_rate=download_rate,
        upload_rate=upload_rate,
    )


@app.command()
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


# -- the staff bot ---------------------------------------------------------------------------------


@app.command()
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


@app.command("bot")
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
    import logging

    from mteja.staffbot import TelegramNotConfigured, run_bot
    from mteja.staffbot import set_webhook as register_webhook

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    with opened_system() as system:
        try:
            if set_webhook:
                out.print(f"webhook registered: {register_webhook(system)}", markup=False)
                return
            run_bot(system)
        except TelegramNotConfigured as exc:
            fail(str(exc))


app.add_typer(invoice_commands(opened_system, fail, out), name="invoice")
app.add_typer(receipt_commands(opened_system, fail, out), name="receipt")


if __name__ == "__main__":  # pragma: no cover
    app()
