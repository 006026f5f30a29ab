"""Needs attention: what staff should look at (core.queries.needs_attention, as the bot's
/attention), and the form that gives an unmatched payment to a customer (as /assign)."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from core.actors import Permission
from core.display import payment_note
from core.errors import CustomerNotFound, InvalidInput, PaymentNotFound
from core.lookup import resolve
from core.queries import AttentionItem, needs_attention
from core.reports import unmatched_payment
from core.usecases.billing import assign_payment
from web.console.framework import PREFIX, Console, View

# The bot's /attention headings, in its order.
HEADINGS = {
    "ticket": "Tickets subscribers opened",
    "mpesa_callback": "M-Pesa callbacks not credited (check them against the statement)",
    "unsettled_push": "STK pushes Safaricom never answered (check the statement)",
    "unreceipted_credit": "STK pushes credited on Safaricom's word, no receipt yet",
    "unmatched_payment": "Money nobody was matched to",
    "sync_error": "Routers refused a change",
    "expired": "Expired in the last 7 days",
}


def attention(view: View) -> Response:
    """Every kind of item under its heading; unmatched money with its assign form."""
    with view.uow(read_only=True) as uow:
        items = needs_attention(uow)
    groups: list[tuple[str, str, list[AttentionItem]]] = [
        (kind, heading, [item for item in items if item.kind == kind])
        for kind, heading in HEADINGS.items()
    ]
    return view.render(
        "attention.html",
        total=len(items),
        groups=[group for group in groups if group[2]],
        may_assign=view.can(Permission.RECORD_PAYMENT),
    )


def assign(view: View) -> Response:
    """Credit an unmatched payment to the customer staff named (as /assign RECEIPT REF)."""
    receipt = view.field("reference").strip().upper()
    account = view.field("account").strip()
    if not receipt:
        raise InvalidInput("which payment? Its receipt is missing")
    if not account:
        raise InvalidInput("give the account number of the customer who paid")
    with view.uow() as uow:
        try:
            customer = resolve(uow, account)
        except CustomerNotFound as exc:  # a typing mistake in a form: bad input, not a page
            raise InvalidInput(str(exc)) from None
        waiting = unmatched_payment(uow, receipt)
        # Not waiting: core says why (already credited, or no such payment).
        method = waiting.method if waiting is not None else "mpesa"
        try:
            paid = assign_payment(uow, view.actor, receipt, customer.id, method=method)
        except PaymentNotFound as exc:
            raise InvalidInput(str(exc)) from None
        assert waiting is not None
        note = payment_note(paid, waiting.amount_kes, method, view.services.config.timezone)
        account_number = customer.account_number
        uow.commit()
    return view.redirect(
        f"{PREFIX}/attention", flash=f"{receipt} credited to {account_number}. {note}"
    )


def attention_routes(console: Console) -> list[BaseRoute]:
    return [
        Route("/attention", console.page(attention), methods=["GET"]),
        Route(
            "/attention/assign",
            console.action(assign, permission=Permission.RECORD_PAYMENT),
            methods=["POST"],
        ),
    ]
