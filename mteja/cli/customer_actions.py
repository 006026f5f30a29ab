"""``mteja customer plan|pay|debt|suspend|unsuspend|extend|disconnect|delete``: the bot's staff
actions for scripts, each through the same core use case as the bot.

Nothing asks first (a script cannot answer); what core refuses unless forced needs ``--force``.
Each prints one readable line, or with ``--json`` one object of the customer's state after it.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer

from core import ledger
from core.display import balance_text, kes, local_time
from core.errors import DeletionRefused, InvalidInput, SubAccountsRemain
from core.ledger import parse_amount
from core.lookup import resolve
from core.models import Customer
from core.unit_of_work import UnitOfWork
from core.usecases.billing import IncomingPayment, record_debt, record_payment
from core.usecases.customers import delete_customer
from core.usecases.service import (
    PlanChangeTiming,
    change_plan,
    disconnect,
    extend,
    parse_days_or_date,
    suspend,
    unsuspend,
)
from core.vocabulary import parse_choice
from mteja.cli.customers import customer_app
from mteja.cli.shared import ACTOR, fail, opened_system, out

Reference = Annotated[str, typer.Argument(help="Account number, phone, username or IP")]
AsJson = Annotated[bool, typer.Option("--json", help="One JSON object: the result")]
T = TypeVar("T")


def _parsed(parse: Callable[[str], T], text: str) -> T:
    """``parse(text)``, or core's reason as the one error line (before anything is opened)."""
    try:
        return parse(text)
    except InvalidInput as exc:
        fail(exc.message)


def _state(uow: UnitOfWork, customer: Customer) -> dict[str, Any]:
    """What a script checks after an action: status, plan, expiry (ISO UTC) and balance."""
    expires = customer.expires_at
    return {
        "account_number": customer.account_number,
        "status": customer.status,
        "plan": customer.plan.name,
        "pending_plan": customer.pending_plan.name if customer.pending_plan else None,
        "expires_at": expires.isoformat().replace("+00:00", "Z") if expires else None,
        "balance_kes": ledger.balance_kes(uow, customer.id),
    }


def _report(state: dict[str, Any], as_json: bool, note: str, zone_time: str) -> None:
    if as_json:
        sys.stdout.write(json.dumps(state, sort_keys=True) + "\n")
        return
    out.print(
        f"{state['account_number']}: {note}; status {state['status']}, expires {zone_time}, "
        f"balance {balance_text(state['balance_kes'])}",
        markup=False,
    )


@customer_app.command("plan")
def customer_plan(
    reference: Reference,
    plan: Annotated[str, typer.Argument(help="Plan name (quote names with spaces)")],
    when: Annotated[
        str, typer.Option(help="now (speed changes at once, expiry kept) or renewal")
    ] = PlanChangeTiming.RENEWAL.value,
    as_json: AsJson = False,
) -> None:
    """Change a customer's plan at the next renewal, or now (no refund or charge)."""
    timing = _parsed(lambda text: parse_choice(PlanChangeTiming, text, "--when"), when)
    with opened_system(queue=True) as system, system.services.unit_of_work() as uow:
        customer = resolve(uow, reference)
        change = change_plan(uow, customer.id, ACTOR, plan, timing)
        state = _state(uow, customer)
        uow.commit()
        expires = local_time(customer.expires_at, system.settings.zone)
    if timing is PlanChangeTiming.NOW:
        note = f"now on {state['plan']}"
    else:
        note = f"{state['pending_plan'] or state['plan']} starts at the next renewal"
    if change.cancelled_pending_plan:
        note += f" (the change to {change.cancelled_pending_plan} is cancelled)"
    state["cancelled_pending_plan"] = change.cancelled_pending_plan
    _report(state, as_json, note, expires)


@customer_app.command("pay")
def customer_pay(
    reference: Reference,
    amount: Annotated[str, typer.Argument(help="KES received: 1500, 1,500 or 'KES 1500'")],
    method: Annotated[
        str | None, typer.Option(help="cash, mpesa, bank or cheque", show_default=False)
    ] = None,
    receipt: Annotated[
        str | None,
        typer.Option("--reference", help="Receipt or reference (M-Pesa needs its receipt)"),
    ] = None,
    activate: Annotated[
        bool,
        typer.Option(
            "--activate/--no-activate",
            help="Renew as far as the balance goes, or keep the money as credit",
        ),
    ] = True,
    as_json: AsJson = False,
) -> None:
    """Record a payment; it renews as many periods as the balance covers (unless --no-activate).
    The same receipt twice is recorded once."""
    amount_kes = _parsed(parse_amount, amount)
    if method is None:
        fail("say how it was paid: --method cash, mpesa, bank or cheque")
    with opened_system(queue=True) as system, system.services.unit_of_work() as uow:
        customer = resolve(uow, reference)
        paid = record_payment(
            uow, customer.id, ACTOR, IncomingPayment(amount_kes, method, receipt), activate=activate
        )
        state = _state(uow, customer)
        uow.commit()
        expires = local_time(customer.expires_at, system.settings.zone)
    renewal = paid.renewal
    state.update(
        payment_id=paid.payment_id,
        duplicate=paid.duplicate,
        renewed_periods=renewal.periods if renewal else 0,
    )
    if paid.duplicate:
        note = "that payment was already recorded; nothing changed"
    else:
        note = f"payment of {kes(amount_kes)} ({method.strip().lower()}) recorded"
        if paid.customer_suspended:
            note += ", kept as credit (the customer is suspended)"
        elif renewal is None:
            note += ", kept as credit (not activated)"
        elif renewal.renewed:
            note += f", renewed {renewal.periods} × {renewal.plan_name}"
        elif renewal.shortfall_kes:
            note += f", {kes(renewal.shortfall_kes)} more renews"
    _report(state, as_json, note, expires)


@customer_app.command("debt")
def customer_debt(
    reference: Reference,
    amount: Annotated[str, typer.Argument(help="KES owed: 1500, 1,500 or 'KES 1500'")],
    note: Annotated[str | None, typer.Option(help="Why, kept with the debt")] = None,
    start: Annotated[
        bool,
        typer.Option(
            "--start/--no-start",
            help="Start one period now if the customer is not in service, or only record it",
        ),
    ] = True,
    as_json: AsJson = False,
) -> None:
    """Serve now, pay later: the balance goes negative by AMOUNT and one period starts if the
    customer is not in service (unless --no-start)."""
    amount_kes = _parsed(parse_amount, amount)
    with opened_system(queue=True) as system, system.services.unit_of_work() as uow:
        customer = resolve(uow, reference)
        result = record_debt(uow, customer.id, ACTOR, amount_kes, note, start_service=start)
        state = _state(uow, customer)
        uow.commit()
        expires = local_time(customer.expires_at, system.settings.zone)
    state["service_started"] = result.service_started
    text = f"debt of {kes(amount_kes)} recorded"
    if result.service_started:
        text += "; service started"
    _report(state, as_json, text, expires)


@customer_app.command("suspend")
def customer_suspend(
    reference: Reference,
    reason: Annotated[str, typer.Option(help="Why (kept in the history, shown on the card)")] = "",
    as_json: AsJson = False,
) -> None:
    """Cut service until someone unsuspends (paid time keeps running)."""
    with opened_system(queue=True) as system, system.services.unit_of_work() as uow:
        customer = resolve(uow, reference)
        suspend(uow, customer.id, ACTOR, reason)
        state = _state(uow, customer)
        uow.commit()
        expires = local_time(customer.expires_at, system.settings.zone)
    _report(state, as_json, "suspended", expires)


@customer_app.command("unsuspend")
def customer_unsuspend(
    reference: Reference,
    reason: Annotated[str | None, typer.Option(help="Why (kept in the history)")] = None,
    as_json: AsJson = False,
) -> None:
    """Lift a suspension; credit that arrived meanwhile renews an expired customer."""
    with opened_system(queue=True) as system, system.services.unit_of_work() as uow:
        customer = resolve(uow, reference)
        result = unsuspend(uow, customer.id, ACTOR, reason)
        state = _state(uow, customer)
        uow.commit()
        expires = local_time(customer.expires_at, system.settings.zone)
    note = f"unsuspended, now {result.status.value}"
    if result.renewal is not None and result.renewal.renewed:
        note += ", renewed from credit"
    _report(state, as_json, note, expires)


@customer_app.command("extend")
def customer_extend(
    reference: Reference,
    length: Annotated[
        str, typer.Argument(metavar="DAYS|YYYY-MM-DD", help="Days to add, or the last day")
    ],
    reason: Annotated[str | None, typer.Option(help="Why (kept with the extension)")] = None,
    as_json: AsJson = False,
) -> None:
    """Move expiry out by DAYS (from the later of now and the expiry) or to the end of a day."""
    days, until = _parsed(parse_days_or_date, length)
    with opened_system(queue=True) as system, system.services.unit_of_work() as uow:
        customer = resolve(uow, reference)
        extend(uow, customer.id, ACTOR, days=days, until=until, reason=reason)
        state = _state(uow, customer)
        uow.commit()
        expires = local_time(customer.expires_at, system.settings.zone)
    _report(state, as_json, f"expiry moved to {expires}", expires)


@customer_app.command("disconnect")
def customer_disconnect(
    reference: Reference,
    reason: Annotated[str | None, typer.Option(help="Why (kept in the history)")] = None,
) -> None:
    """Drop the live session; the customer may dial in again at once if their service allows."""
    with opened_system(queue=True) as system, system.services.unit_of_work() as uow:
        customer = resolve(uow, reference)
        disconnect(uow, customer.id, ACTOR, reason)
        account = customer.account_number
        uow.commit()
    out.print(f"{account}: disconnect queued; the router drops the live session", markup=False)


@customer_app.command("delete")
def customer_delete(
    reference: Reference,
    force: Annotated[
        bool, typer.Option("--force", help="Delete even with credit or paid time left")
    ] = False,
    reason: Annotated[str | None, typer.Option(help="Why (kept in the audit trail)")] = None,
) -> None:
    """Delete a customer (asks nothing): personal data erased, login removed from the router;
    payments and the audit trail stay, the account number is never reused."""
    with opened_system(queue=True) as system, system.services.unit_of_work() as uow:
        customer = resolve(uow, reference)
        account = customer.account_number
        try:
            delete_customer(uow, customer.id, ACTOR, force=force, reason=reason)
        except SubAccountsRemain:
            raise  # forcing never overrides live sub-accounts: core's words say so
        except DeletionRefused as refusal:
            fail(f"{refusal.message} (--force deletes anyway)")
        uow.commit()
    out.print(
        f"{account} deleted; payments and the audit trail are kept, the account number is "
        "never reused",
        markup=False,
    )
