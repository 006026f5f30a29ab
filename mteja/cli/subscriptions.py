"""``mteja customer cancel``: end a customer's paid time now, through the same core use case as
the bot's /unsubscribe."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from core.display import kes, local_time
from core.lookup import resolve
from core.usecases.cancellation import Refund, cancel_subscription
from mteja.cli.customers import customer_app
from mteja.cli.shared import ACTOR, opened_system, out


@customer_app.command("cancel")
def customer_cancel(
    reference: Annotated[str, typer.Argument(help="Account number, phone, username or IP")],
    reason: Annotated[str, typer.Option(help="Why the subscription is cancelled (kept)")],
    refund: Annotated[
        str, typer.Option(help="credit: the unused value goes to the balance; forfeit: it is lost")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object")] = False,
) -> None:
    """Cancel the subscription: paid time ends now; the unused value (per second, rounded down)
    is credited or forfeited. Afterwards the customer may be deleted."""
    with opened_system(queue=True) as system:
        with system.services.unit_of_work() as uow:
            customer = resolve(uow, reference)
            account = customer.account_number
            done = cancel_subscription(uow, customer.id, ACTOR, reason, refund)
            uow.commit()
        was = local_time(done.previous_expires_at, system.settings.zone)
    if as_json:
        result = {
            "account_number": account,
            "ended_at": done.ended_at.isoformat(),
            "previous_expires_at": done.previous_expires_at.isoformat(),
            "unused_value_kes": done.unused_value_kes,
            "refund": done.refund.value,
            "credited_kes": done.credited_kes,
            "balance_kes": done.balance_kes,
        }
        sys.stdout.write(json.dumps(result, sort_keys=True) + "\n")
        return
    out.print(f"{account} cancelled (paid until {was})", markup=False)
    if done.refund is Refund.CREDIT:
        out.print(
            f"  unused {kes(done.unused_value_kes)} credited; balance {kes(done.balance_kes)}",
            markup=False,
        )
    else:
        out.print(f"  unused {kes(done.unused_value_kes)} forfeited", markup=False)
