"""``mteja customer login|details|sms|history``: what the bot's /login, /details, /sms and
/history do, for scripts. The same core use cases; a password is never printed unless asked
with ``login --show`` (audited, admins and owners)."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from core.display import local_time
from core.history import HistoryTab, customer_history
from core.lookup import resolve
from core.phones import display_phone
from core.usecases.account_details import send_login, show_password
from core.usecases.outreach import send_customer_sms, send_payment_details
from core.vocabulary import parse_choice
from mteja.cli.customers import customer_app
from mteja.cli.shared import ACTOR, opened_system, out

Reference = Annotated[str, typer.Argument(help="Account number, phone, username or IP")]


@customer_app.command("login")
def customer_login(
    reference: Reference,
    show: Annotated[
        bool, typer.Option("--show", help="Print the password instead of sending it (audited)")
    ] = False,
) -> None:
    """Send the customer their login by SMS (the password stays masked in the outbox)."""
    with opened_system(queue=True) as system, system.services.unit_of_work() as uow:
        customer = resolve(uow, reference)
        if show:
            password = show_password(uow, customer.id, ACTOR)
            username = customer.username
            uow.commit()
            out.print(f"{customer.account_number}: {username} / {password}", markup=False)
            return
        message = send_login(uow, customer.id, ACTOR)
        phone, body = message.phone, message.body
        uow.commit()
    out.print(f"login sent by SMS to {display_phone(phone)}: {body}", markup=False)


@customer_app.command("details")
def customer_details_sms(reference: Reference) -> None:
    """Send the customer how to pay (paybill, account number, amount that renews) by SMS."""
    with opened_system(queue=True) as system, system.services.unit_of_work() as uow:
        customer = resolve(uow, reference)
        message = send_payment_details(uow, customer.id, ACTOR)
        phone, body = message.phone, message.body
        uow.commit()
    out.print(f"sent by SMS to {display_phone(phone)}: {body}", markup=False)


@customer_app.command("sms")
def customer_sms(
    reference: Reference,
    text: Annotated[str, typer.Argument(help="The message (up to 459 characters)")],
) -> None:
    """Send the customer an SMS from staff (audited)."""
    with opened_system(queue=True) as system, system.services.unit_of_work() as uow:
        customer = resolve(uow, reference)
        message = send_customer_sms(uow, customer.id, ACTOR, text)
        phone = message.phone
        uow.commit()
    out.print(f"SMS queued to {display_phone(phone)}", markup=False)


@customer_app.command("history")
def customer_history_command(
    reference: Reference,
    tab: Annotated[str, typer.Option(help="all, payments, service, sms or audit")] = "all",
    page: Annotated[int, typer.Option(min=1, help="Page, newest first")] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines instead of text")] = False,
) -> None:
    """What happened to the customer, newest first: money, service changes, SMS, audit."""
    with opened_system() as system, system.services.unit_of_work() as uow:
        customer = resolve(uow, reference)
        chosen = parse_choice(HistoryTab, tab, "history tab")
        history = customer_history(uow, customer.id, chosen, page - 1)
        account = customer.account_number
    if as_json:
        for line in history.lines:
            entry = {
                "at": line.at.isoformat(),
                "kind": line.kind,
                "summary": line.summary,
                "by": line.by,
            }
            sys.stdout.write(json.dumps(entry) + "\n")
        return
    zone = system.settings.zone
    if not history.lines:
        out.print(f"{account}: nothing on this page", markup=False)
    for line in history.lines:
        by = f" ({line.by})" if line.by else ""
        out.print(f"{local_time(line.at, zone)}  {line.kind:<8} {line.summary}{by}", markup=False)
    if history.has_more:
        out.print(f"more: --page {page + 1}", markup=False)
