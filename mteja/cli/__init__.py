"""The ``mteja`` command: set up, manage, and start each process role.

One module per noun; this one only assembles them, in the order ``mteja --help`` lists them.
Heavy and ``sim`` imports stay inside the commands, so ``mteja --help`` is fast and production
never loads a fake.
"""

from __future__ import annotations

import typer

from mteja.cli import (
    attention,
    backups,
    customer_actions,
    customer_details,
    customer_messages,
    fakes,
    processes,
    retention,
    setup,
    subscriptions,
)
from mteja.cli.africastalking import africastalking_app
from mteja.cli.customers import customer_app
from mteja.cli.invoices import invoice_app, receipt_app
from mteja.cli.mpesa import mpesa_app
from mteja.cli.network import pool_app, router_app
from mteja.cli.payments import payment_app
from mteja.cli.plans import plan_app
from mteja.cli.secrets import secrets_app
from mteja.cli.staff import staff_app
from mteja.cli.tickets import ticket_app

__all__ = ["app"]

# Modules that add commands to a group defined elsewhere (imported for that effect).
_ = (customer_actions, customer_details, customer_messages, subscriptions)

app = typer.Typer(
    help="mteja: run a small ISP's subscribers, plans and payments.", no_args_is_help=True
)

app.command()(setup.init)
app.command()(processes.web)
app.command()(processes.worker)
app.command("fake-daraja")(fakes.fake_daraja)
app.command("fake-africastalking")(fakes.fake_africastalking)
app.command("simulate-router")(fakes.simulate_router)
app.command()(fakes.demo)
app.command()(processes.console)
app.command("bot")(processes.bot_command)
app.command()(attention.attention)
app.command()(retention.prune)
app.command("backup")(backups.backup_command)
app.command("restore")(backups.restore_command)

app.add_typer(router_app, name="router")
app.add_typer(pool_app, name="pool")
app.add_typer(plan_app, name="plan")
app.add_typer(customer_app, name="customer")
app.add_typer(payment_app, name="payment")
app.add_typer(staff_app, name="staff")
app.add_typer(ticket_app, name="ticket")
app.add_typer(mpesa_app, name="mpesa")
app.add_typer(africastalking_app, name="africastalking")
app.add_typer(secrets_app, name="secrets")
app.add_typer(invoice_app, name="invoice")
app.add_typer(receipt_app, name="receipt")
