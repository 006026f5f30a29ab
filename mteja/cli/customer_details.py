"""``mteja customer edit`` and ``mteja customer note``: details, the additional account number
and staff notes, through the same core use cases as the bot's /edit and /note."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer

from core import audit
from core.display import local_time
from core.lookup import resolve
from core.models import Router
from core.unit_of_work import UnitOfWork
from core.usecases.account_details import add_note
from core.usecases.customers import CustomerChanges, edit_customer
from mteja.cli.customers import customer_app
from mteja.cli.shared import ACTOR, fail, opened_system, out


def _details(uow: UnitOfWork, values: dict[str, Any]) -> dict[str, Any]:
    """An audit snapshot as staff read it: the router by name, not id."""
    shown = dict(values)
    router_id = shown.pop("router_id", None)
    router = uow.session.get(Router, router_id) if router_id is not None else None
    shown["router"] = router.name if router else None
    return shown


def _value(value: Any) -> str:
    return "-" if value is None or value == "" else str(value)


@customer_app.command("edit")
def customer_edit(
    reference: Annotated[str, typer.Argument(help="Account number, phone, username or IP")],
    name: Annotated[str | None, typer.Option(help="Full name")] = None,
    phone: Annotated[str | None, typer.Option(help="Phone number")] = None,
    email: Annotated[str | None, typer.Option(help='Email ("" clears it)')] = None,
    address: Annotated[str | None, typer.Option(help='Physical address ("" clears it)')] = None,
    notes: Annotated[str | None, typer.Option(help='The card\'s notes ("" clears them)')] = None,
    username: Annotated[str | None, typer.Option(help="Login username")] = None,
    ip: Annotated[str | None, typer.Option(help='IP address ("" picks one automatically)')] = None,
    router: Annotated[
        str | None, typer.Option(help="Move to this router: the login leaves the old one")
    ] = None,
    account2: Annotated[
        str | None,
        typer.Option(help='Additional account number (a second paybill reference; "" removes)'),
    ] = None,
    generate_account2: Annotated[
        bool, typer.Option("--generate-account2", help="Generate the additional account number")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object")] = False,
) -> None:
    """Change a customer's details; prints each change as before → after."""
    changes = CustomerChanges(
        full_name=name,
        phone=phone,
        email=email,
        physical_address=address,
        notes=notes,
        username=username,
        ip_address=ip,
        router=router,
        account_number2=account2,
        generate_account_number2=generate_account2,
    )
    if changes == CustomerChanges():
        fail("nothing to change: give at least one option (see --help)")
    with opened_system() as system, system.services.unit_of_work() as uow:
        customer = resolve(uow, reference)
        before = _details(uow, audit.snapshot(customer))
        edit_customer(uow, customer.id, ACTOR, changes)
        after = _details(uow, audit.snapshot(customer))
        account = customer.account_number
        uow.commit()
    old, new = audit.changed(before, after)
    changed = {key: [old.get(key), new.get(key)] for key in sorted(new)}
    if as_json:
        sys.stdout.write(
            json.dumps({"account_number": account, "changes": changed}, sort_keys=True) + "\n"
        )
        return
    if not changed:
        out.print(f"{account}: nothing changed", markup=False)
        return
    out.print(f"{account} edited", markup=False)
    for key, (was, now) in changed.items():
        out.print(f"  {key}: {_value(was)} → {_value(now)}", markup=False)


@customer_app.command("note")
def customer_note(
    reference: Annotated[str, typer.Argument(help="Account number, phone, username or IP")],
    text: Annotated[str, typer.Argument(help="The note, kept in the customer's history")],
) -> None:
    """Keep a dated note on a customer (shown in the history with who wrote it)."""
    with opened_system() as system:
        with system.services.unit_of_work() as uow:
            customer = resolve(uow, reference)
            event = add_note(uow, customer.id, ACTOR, text)
            account, at = customer.account_number, event.at
            uow.commit()
        when = local_time(at, system.settings.zone)
    out.print(f"note kept on {account} ({when}, {ACTOR.name})", markup=False)
