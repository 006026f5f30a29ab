"""``mteja demo``: a small ISP seeded on the embedded defaults, shown, and served."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select

from core.actors import Actor
from core.clock import FrozenClock, SystemClock
from core.display import kes, local_time, speed
from core.lookup import resolve
from core.models import Customer, Router
from core.queries import customer_card, needs_attention, stats
from core.settings import Settings
from core.unit_of_work import CoreServices
from core.usecases.billing import IncomingPayment, record_debt, record_unmatched_payment
from core.usecases.customers import NewCustomer, create_customer, reveal_password
from core.usecases.network import (
    RouterChange,
    RouterSpec,
    add_pool,
    add_router,
    edit_router,
    list_routers,
    router_login,
)
from core.usecases.plans import PlanSpec, add_plan
from core.usecases.service import suspend
from core.usecases.staff import add_staff, list_staff
from core.usecases.staff_access import issue_login_link
from mteja.bootstrap import System, build_system
from mteja.demo_log import event_lines
from mteja.demo_ports import DemoPorts
from mteja.demo_serve import (
    CtrlC,
    demo_settings,
    outside_world,
    staff_bot,
    what_to_try,
)
from mteja.envfile import PUBLIC_URL_VARIABLE, record_value
from mteja.render import card_text
from routers.sync import RouterSync, librouteros_factory
from sim.routeros import SimulatedRouter

DEMO_ROUTER = "demo-nairobi"
DEMO_ROUTER_MOMBASA = "demo-mombasa"
# Bytes per second each demo session downloads and uploads (about 1.7 GB and 170 MB a day).
DEMO_TRAFFIC = (20_000.0, 2_000.0)
ACTOR = Actor.cli()
# The staff member the demo's console login link is for (an owner; not a real Telegram user).
DEMO_OWNER_TELEGRAM_ID = 100_000_001
DEMO_OWNER_NAME = "Demo Owner"

PLANS = [
    PlanSpec("Home 5M", "pppoe", 1500, "5M", "2M", validity_days=30),
    PlanSpec("Home 10M", "pppoe", 2500, "10M", "5M", validity_days=30),
    PlanSpec("Home 20M", "pppoe", 3500, "20M", "10M", validity_days=30),
    PlanSpec("Hotspot 24 Hours", "hotspot", 50, "5M", "2M", validity_hours=24),
    PlanSpec("Hotspot Weekly", "hotspot", 300, "5M", "2M", validity_days=7),
    PlanSpec("Business 50M", "static", 8000, "50M", "50M", validity_days=30),
]

# (name, phone, plan, days ago paid (None = never), method, state)
CUSTOMERS: list[tuple[str, str, str, int | None, str, str]] = [
    ("Wanjiru Kamau", "0712345678", "Home 10M", 3, "mpesa", "active"),
    ("Otieno Ochieng", "0722000111", "Home 5M", 12, "cash", "active"),
    ("Achieng Atieno", "0733000222", "Home 20M", 20, "mpesa", "active"),
    ("Kiprono Kiptoo", "0711000333", "Home 10M", 27, "mpesa", "active"),
    ("Mwangi Njoroge", "0798000444", "Home 5M", 1, "bank", "active"),
    ("Fatuma Hassan", "0701000555", "Home 10M", 8, "mpesa", "active"),
    ("Wafula Barasa", "0790000666", "Home 20M", 15, "cash", "active"),
    ("Nyambura Wairimu", "0745000777", "Home 5M", 29, "mpesa", "active"),
    ("Chebet Jeptoo", "0757000888", "Home 10M", 5, "mpesa", "active"),
    ("Mutua Musyoka", "0768000999", "Home 5M", 18, "cheque", "active"),
    ("Auma Akinyi", "0112000123", "Hotspot 24 Hours", 0, "mpesa", "active"),
    ("Kamau Githinji", "0113000234", "Hotspot Weekly", 2, "mpesa", "active"),
    ("Zawadi Mwende", "0114000345", "Hotspot 24 Hours", 0, "cash", "active"),
    ("Juma Omondi", "0715000456", "Business 50M", 10, "bank", "active"),
    ("Neema Wanjala", "0716000567", "Business 50M", 25, "mpesa", "active"),
    ("Onyango Odhiambo", "0717000678", "Home 10M", 33, "mpesa", "expired"),
    ("Wambui Muthoni", "0718000789", "Home 5M", 36, "cash", "expired"),
    ("Kibet Rotich", "0719000890", "Home 20M", 40, "mpesa", "expired"),
    ("Halima Abdi", "0720000901", "Hotspot 24 Hours", 2, "mpesa", "expired"),
    ("Maina Kariuki", "0721000012", "Home 10M", 31, "mpesa", "expired"),
    ("Njeri Gathoni", "0723000123", "Home 5M", 10, "mpesa", "suspended"),
    ("Ouma Okoth", "0724000234", "Home 10M", 6, "cash", "suspended"),
    ("Wekesa Simiyu", "0725000345", "Home 5M", None, "", "inactive"),
    ("Moraa Kerubo", "0726000456", "Home 10M", None, "", "inactive"),
    ("Langat Cheruiyot", "0727000567", "Home 5M", None, "", "debt"),
    ("Adhiambo Awino", "0728000678", "Home 10M", None, "", "debt"),
]


def run_demo(
    settings: Settings,
    out: Console,
    *,
    serve: bool,
    ports: DemoPorts,
    env_file: Path | None = None,
) -> None:
    """Seed (once), print what there is, and serve everything unless ``serve`` is False.

    ``env_file``: where the served web app's address is recorded as ``MTEJA_PUBLIC_URL``, so
    commands run beside the demo (``mteja africastalking urls``) print the demo's real URLs.
    """
    settings = demo_settings(settings, ports)
    system = build_system(settings)
    try:
        if _seeded(system.services):
            out.print("demo data already present; showing it")
            _move_routers(system.services, ports)
        else:
            _refuse_if_real_data(system.services)
            seed(system.services, ports)
            out.print("seeded a demo ISP: 2 routers, 6 plans, customers in every status")
        _keep_demo_owner(system.services)
        show(system.services, settings, out, hints=not serve)
        if serve:
            if env_file is not None:
                record_value(env_file, PUBLIC_URL_VARIABLE, ports.web_url)
            serve_demo(system, out, ports)
    finally:
        system.close()


def _keep_demo_owner(services: CoreServices) -> None:
    """The owner the console link logs in (added to a demo seeded before there was one)."""
    with services.unit_of_work() as uow:
        if not any(m.telegram_user_id == DEMO_OWNER_TELEGRAM_ID for m in list_staff(uow)):
            add_staff(uow, ACTOR, DEMO_OWNER_TELEGRAM_ID, DEMO_OWNER_NAME, "owner")
            uow.commit()


def console_login_url(services: CoreServices, web_url: str) -> str:
    """A fresh one-time link into the staff console for the demo's owner."""
    with services.unit_of_work() as uow:
        link = issue_login_link(uow, ACTOR, str(DEMO_OWNER_TELEGRAM_ID))
        uow.commit()
    return f"{web_url.rstrip('/')}/staff/login/link/{link.token}"


def _router_ports(ports: DemoPorts) -> dict[str, int]:
    return {DEMO_ROUTER: ports.nairobi_router, DEMO_ROUTER_MOMBASA: ports.mombasa_router}


def _move_routers(services: CoreServices, ports: DemoPorts) -> None:
    """Point the seeded routers at the API ports of this run's flags."""
    with services.unit_of_work() as uow:
        for router in list_routers(uow):
            port = _router_ports(ports).get(router.name)
            if port is not None and router.api_port != port:
                edit_router(uow, ACTOR, router.name, RouterChange(api_port=port))
        uow.commit()


def serve_demo(system: System, out: Console, ports: DemoPorts) -> None:
    """Fakes, simulated routers, a worker and the web app in this process until Ctrl-C."""
    from mteja.queueing import build_queue
    from mteja.web import build_app
    from sim.serving import BackgroundServer

    settings = system.settings
    with (
        outside_world(settings, ports),
        demo_routers(system) as simulators,
        staff_bot(settings, out),
    ):
        sync = RouterSync(system.services, librouteros_factory())
        for router_id in simulators:
            sync.reconcile(router_id)
        online = dial_in(system.services, simulators)
        out.print(f"\n{online} paid-up customers are connected to the simulated routers.")
        queue = build_queue(system)
        consumer = queue.huey.create_consumer(workers=2, worker_type="thread", periodic=True)
        consumer.start()
        try:
            # After consumer.start(), which installs huey's own handlers (they would only flag
            # a consumer loop this demo does not run, and Ctrl-C would be lost).
            with (
                CtrlC() as ctrl_c,
                BackgroundServer(build_app(settings, system.services), port=ports.web),
                event_lines(out),
            ):
                # Printed only now that the web app answers, so every hint works when copied.
                out.print(
                    "\nRunning: RouterOS simulators "
                    + ", ".join(f"127.0.0.1:{sim.port}" for sim in simulators.values())
                    + f", fake M-Pesa {ports.daraja_url}, fake Africa's Talking "
                    f"{ports.africastalking_url}, a worker, and the web app on {ports.web_url}.",
                    markup=False,
                )
                out.print(
                    f"Staff console: {console_login_url(system.services, ports.web_url)} "
                    "(one-time link, 15 minutes)",
                    markup=False,
                    highlight=False,
                    soft_wrap=True,
                )
                account, phone, amount = _sample_subscriber(system.services)
                hints = what_to_try(
                    ports, account, phone, amount, at_callback_token=settings.at_callback_token
                )
                out.print(hints, markup=False, highlight=False)
                out.print("\nAs it happens (payments, M-Pesa prompts, SMS, router changes):")
                ctrl_c.wait()
        finally:
            consumer.stop(graceful=True)
        out.print("stopped")


def _sample_subscriber(services: CoreServices) -> tuple[str, str, int]:
    """An expired PPPoE subscriber and what renews them: paying it brings them back online."""
    from core.usecases.renewal import amount_to_renew

    with services.unit_of_work() as uow:
        customer = (
            uow.session.scalars(
                select(Customer)
                .where(Customer.status == "expired", Customer.connection_type == "pppoe")
                .order_by(Customer.id)
                .limit(1)
            ).first()
            or uow.session.scalars(select(Customer).order_by(Customer.id).limit(1)).one()
        )
        amount = amount_to_renew(uow, customer) or customer.plan.price_kes
        return customer.account_number, customer.phone or "+254712345678", amount


def dial_in(services: CoreServices, simulators: dict[int, SimulatedRouter]) -> int:
    """Connect every customer the router should let in, as their home routers would."""
    connected = 0
    with services.unit_of_work() as uow:
        customers = uow.session.scalars(select(Customer).where(Customer.deleted_at.is_(None)))
        for customer in customers:
            simulator = simulators.get(customer.router_id or 0)
            password = reveal_password(uow, customer)
            if simulator is None or password is None or customer.connection_type == "static":
                continue
            service = "hotspot" if customer.connection_type == "hotspot" else "pppoe"
            connected += simulator.connect(customer.username, password, service)
    return connected


@contextmanager
def demo_routers(system: System) -> Iterator[dict[int, SimulatedRouter]]:
    """A RouterOS simulator for each registered router, on its host port and credentials."""
    with system.services.unit_of_work() as uow:
        logins = [router_login(uow, router.id) for router in list_routers(uow)]
    simulators: dict[int, SimulatedRouter] = {}
    try:
        for login in logins:
            simulator = SimulatedRouter(
                username=login.username,
                password=login.password,
                identity=login.name,
                host=login.host,
                port=login.api_port,
            )
            simulators[login.router_id] = simulator.start()
            # Sessions move data, so the usage sample every 5 minutes has something to count.
            simulator.set_subscriber_traffic(*DEMO_TRAFFIC)
        yield simulators
    finally:
        for simulator in simulators.values():
            simulator.stop()


def _seeded(services: CoreServices) -> bool:
    with services.unit_of_work() as uow:
        return uow.session.scalar(select(Router.id).where(Router.name == DEMO_ROUTER)) is not None


def _refuse_if_real_data(services: CoreServices) -> None:
    from core.errors import Conflict

    with services.unit_of_work() as uow:
        if uow.session.scalar(select(func.count(Customer.id))):
            raise Conflict(
                "this database already has customers: run the demo in an empty directory"
            )


def seed(services: CoreServices, ports: DemoPorts | None = None) -> None:
    """Create the demo ISP, backdating payments with a moving clock so expiries are realistic."""
    now = SystemClock().now()
    clock = FrozenClock(now - timedelta(days=60))
    seeding = dataclasses.replace(services, clock=clock)
    with seeding.unit_of_work() as uow:
        for name, port in _router_ports(ports or DemoPorts()).items():
            add_router(
                uow, ACTOR, RouterSpec(name, "127.0.0.1", port, "admin", "demo", plain_api=True)
            )
        add_pool(uow, ACTOR, DEMO_ROUTER, "10.20.0.0/24")
        add_pool(uow, ACTOR, DEMO_ROUTER_MOMBASA, "10.30.0.0/24")
        for spec in PLANS:
            add_plan(uow, ACTOR, spec)
        uow.commit()
    plan_types = {spec.name: spec.connection_type for spec in PLANS}
    for index, (name, phone, plan, days_ago, method, state) in enumerate(CUSTOMERS):
        clock.set(now - timedelta(days=days_ago if days_ago is not None else 45, hours=index))
        if state == "expired" and plan_types[plan] == "hotspot":
            clock.set(now - timedelta(days=days_ago or 2))
        router = DEMO_ROUTER if index % 3 else DEMO_ROUTER_MOMBASA
        with seeding.unit_of_work() as uow:
            created = create_customer(
                uow,
                ACTOR,
                NewCustomer(
                    full_name=name,
                    phone=phone,
                    connection_type=plan_types[plan],
                    plan=plan,
                    router=router,
                    payment_method=method or None,
                    payment_reference=_receipt(index) if method == "mpesa" else None,
                    activate=days_ago is not None,
                    send_welcome=False,  # the demo's customers are long-standing ones
                ),
            )
            uow.commit()
        customer_id = created.customer.id
        clock.set(now)
        with seeding.unit_of_work() as uow:
            if state == "suspended":
                suspend(uow, customer_id, ACTOR, "unpaid installation")
            elif state == "debt":
                record_debt(uow, customer_id, ACTOR, 1500, "pays on Friday")
            uow.commit()
    _expire_lapsed(seeding)
    with seeding.unit_of_work() as uow:
        record_unmatched_payment(
            uow,
            Actor.mpesa(),
            IncomingPayment(
                1500,
                "mpesa",
                "SKZ9UNMTCH",
                payer_name="PETER",
                account_reference="WRONG1",
                source="c2b",
            ),
        )
        uow.commit()


def _expire_lapsed(services: CoreServices) -> None:
    from core.usecases.service import due_for_expiry, expire_if_due

    with services.unit_of_work() as uow:
        due = due_for_expiry(uow)
    for customer_id in due:
        with services.unit_of_work() as uow:
            expire_if_due(uow, customer_id)
            uow.commit()


def _receipt(index: int) -> str:
    return f"SKD{index:03d}DEMO"[:10]


def show(services: CoreServices, settings: Settings, out: Console, *, hints: bool = True) -> None:
    """Print the plans, the customers, one card and the attention list (and what to try)."""
    zone = settings.zone
    now = services.clock.now()
    with services.unit_of_work() as uow:
        from core.usecases.plans import list_plans

        plans = Table("plan", "type", "price", "speed", "validity", title="Plans")
        for plan in list_plans(uow):
            plans.add_row(
                plan.name,
                plan.connection_type,
                kes(plan.price_kes),
                speed(plan.download, plan.upload),
                plan.validity_text,
            )
        out.print(plans)
        customers = Table("account", "name", "plan", "status", "expires", title="Customers")
        rows = uow.session.scalars(
            select(Customer).where(Customer.deleted_at.is_(None)).order_by(Customer.id)
        )
        first = None
        for customer in rows:
            first = first or customer.account_number
            customers.add_row(
                customer.account_number,
                customer.full_name,
                customer.plan.name,
                customer.status,
                local_time(customer.expires_at, zone),
            )
        out.print(customers)
        if first is not None:
            out.print("\nCustomer card:")
            out.print(card_text(customer_card(uow, resolve(uow, first)), zone, now), markup=False)
        attention = needs_attention(uow)
        out.print(f"\nNeeds attention ({len(attention)}):")
        for item in attention[:8]:
            out.print(f"  - {item.summary}", markup=False)
        numbers = stats(uow)
        out.print(
            f"\nRevenue this month {kes(numbers.revenue_month_kes)}; "
            f"active {numbers.customers_by_status['active']}, "
            f"expired {numbers.customers_by_status['expired']}"
        )
        if not hints:
            return
        out.print(
            "\nTry:\n"
            f"  mteja customer show {first}\n"
            "  mteja customer find wanjiru\n"
            "  mteja customer show 0712345678 --json\n"
            "  mteja plan list"
        )
