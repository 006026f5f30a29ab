"""``mteja payment list``: the payments of some local days, as a table or a CSV to reconcile
against the M-Pesa statement; ``mteja payment assign``: money that matched no account, given
to a customer."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from core.display import kes
from core.lookup import resolve
from core.payment_list import export_payments, payments_between, read_days
from core.usecases.billing import assign_payment
from mteja.cli.shared import ACTOR, fail, opened_system, out

payment_app = typer.Typer(help="Payments received.", no_args_is_help=True)

FORMATS = ("table", "csv")


@payment_app.command("list")
def payment_list(
    first: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD (local)")],
    last: Annotated[str, typer.Option("--to", help="Last day, YYYY-MM-DD (local, inclusive)")],
    output_format: Annotated[str, typer.Option("--format", help="table or csv")] = "table",
) -> None:
    """Payments received from --from to --to, oldest first: a table, or CSV to reconcile."""
    if output_format not in FORMATS:
        fail(f"--format must be one of {', '.join(FORMATS)}, not {output_format!r}")
    with opened_system() as system, system.services.unit_of_work() as uow:
        start, end = read_days(first, last)
        if output_format == "csv":
            export = export_payments(uow, ACTOR, start, end)
            uow.commit()  # the audit entry of the export
            sys.stdout.write(export.content.decode())
            return
        lines = payments_between(uow, ACTOR, start, end)
    zone = system.settings.zone
    table = Table("received", "receipt", "method", "amount", "payer", "account", "status")
    for line in lines:
        payer = " ".join(part for part in (line.payer_name, line.payer_phone) if part)
        table.add_row(
            line.received_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
            line.reference or "-",
            line.method,
            kes(line.amount_kes),
            payer or "-",
            line.account_number or f"({line.account_reference or 'none'})",
            line.status,
        )
    out.print(table)
    total = sum(line.amount_kes for line in lines)
    out.print(f"{len(lines)} payment(s) from {start} to {end}, {kes(total)}", markup=False)


@payment_app.command("assign")
def payment_assign(
    reference: Annotated[str, typer.Argument(help="The unmatched payment's receipt, e.g. SKR…")],
    customer: Annotated[str, typer.Argument(help="Account number, phone, username or IP")],
    no_activate: Annotated[
        bool, typer.Option("--no-activate", help="Keep it as credit; do not renew now")
    ] = False,
    method: Annotated[str, typer.Option(help="The payment's method")] = "mpesa",
) -> None:
    """Give money that matched no account to a customer: credit, renew, audit (as /assign)."""
    with opened_system(queue=True) as system, system.services.unit_of_work() as uow:
        target = resolve(uow, customer)
        result = assign_payment(
            uow, ACTOR, reference, target.id, activate=not no_activate, method=method
        )
        account = target.account_number
        uow.commit()
    renewed = result.renewal is not None and result.renewal.renewed
    balance = kes(result.balance_kes or 0)
    out.print(
        f"{reference.strip().upper()} credited to {account}; balance {balance}"
        + ("; renewed" if renewed else ""),
        markup=False,
    )
