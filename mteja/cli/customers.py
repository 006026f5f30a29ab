"""``mteja customer …``: add, show, find and list customers, their data usage, and an M-Pesa
prompt."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from core.customer_list import CustomerPage, export_customers, list_customers, read_filter
from core.display import balance_text, kes, local_time
from core.lookup import find, resolve
from core.phones import display_phone
from core.queries import customer_card
from core.usecases.customers import NewCustomer, create_customer
from core.usecases.plans import get_plan_by_name
from mteja.bootstrap import System
from mteja.cli.shared import ACTOR, fail, opened_system, out
from mteja.render import card_text, presence_text
from routers.sync import Presence, RouterSync, librouteros_factory

customer_app = typer.Typer(help="Customers.", no_args_is_help=True)


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
        int | None,
        typer.Option(help="Money received in KES (default: the first period's price + fee)"),
    ] = None,
    price: Annotated[
        int | None,
        typer.Option(
            help="The first period's own price in KES (prorated, discounted; 0 is free), "
            "instead of the plan's"
        ),
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
            first_price_kes=price,
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


FORMATS = ("table", "csv", "json")
DEFAULT_LIMIT = 50


@customer_app.command("list")
def customer_list(
    status: Annotated[
        str | None,
        typer.Option(help="active, expiring, expired, suspended or inactive"),
    ] = None,
    plan: Annotated[str | None, typer.Option(help="Plan name")] = None,
    router: Annotated[str | None, typer.Option(help="Router name")] = None,
    connection_type: Annotated[
        str | None, typer.Option("--type", help="pppoe, hotspot or static")
    ] = None,
    balance: Annotated[str | None, typer.Option(help="debt or credit")] = None,
    created_from: Annotated[
        str | None, typer.Option(help="Created on or after, YYYY-MM-DD")
    ] = None,
    created_to: Annotated[str | None, typer.Option(help="Created on or before, YYYY-MM-DD")] = None,
    expires_from: Annotated[
        str | None, typer.Option(help="Expiring on or after, YYYY-MM-DD")
    ] = None,
    expires_to: Annotated[
        str | None, typer.Option(help="Expiring on or before, YYYY-MM-DD")
    ] = None,
    sort: Annotated[str, typer.Option(help="name, expiry, balance or created")] = "name",
    limit: Annotated[
        int | None,
        typer.Option(help=f"At most this many (table, json: default {DEFAULT_LIMIT}; csv: all)"),
    ] = None,
    offset: Annotated[int, typer.Option(help="Skip this many first")] = 0,
    output_format: Annotated[str, typer.Option("--format", help="table, csv or json")] = "table",
) -> None:
    """List customers by status, plan, router, type, balance or dates: a table, CSV or JSON."""
    if output_format not in FORMATS:
        fail(f"--format must be one of {', '.join(FORMATS)}, not {output_format!r}")
    with opened_system() as system, system.services.unit_of_work() as uow:
        where = read_filter(
            uow,
            status=status,
            plan=plan,
            router=router,
            connection_type=connection_type,
            balance=balance,
            created_from=created_from,
            created_to=created_to,
            expires_from=expires_from,
            expires_to=expires_to,
            sort=sort,
        )
        if output_format == "csv":
            export = export_customers(uow, ACTOR, where, limit=limit, offset=offset)
            uow.commit()  # the audit entry of the export
            sys.stdout.write(export.content.decode())
            return
        page = list_customers(
            uow, ACTOR, where, limit=DEFAULT_LIMIT if limit is None else limit, offset=offset
        )
    if output_format == "json":
        values = {
            "filter": page.description,
            "total": page.total,
            "offset": page.offset,
            "customers": [row.to_json() for row in page.rows],
        }
        sys.stdout.write(json.dumps(values, sort_keys=True) + "\n")
        return
    _print_page(page, system.settings.zone)


def _print_page(page: CustomerPage, zone: ZoneInfo) -> None:
    if not page.rows:
        out.print(f"no customers ({page.total} match · {page.description})", markup=False)
        return
    table = Table("account", "name", "status", "plan", "router", "expires", "balance")
    for row in page.rows:
        table.add_row(
            row.account_number,
            row.full_name,
            "expiring" if row.expiring else row.status,
            row.plan,
            row.router or "-",
            local_time(row.expires_at, zone),
            balance_text(row.balance_kes),
        )
    out.print(table)
    last = page.offset + len(page.rows)
    out.print(f"{page.offset + 1}–{last} of {page.total} · {page.description}", markup=False)
