"""Finding a customer and showing the card."""

from __future__ import annotations

from bot.answers import Answer
from bot.context import Context
from bot.parsing import BadArguments, CommandLine
from bot.views import (
    card_buttons,
    card_text,
    customer_button,
    customer_line,
    family_buttons,
    presence_text,
)
from core.lookup import find, get_customer, resolve
from core.queries import CustomerCard, customer_card

# -- the card ------------------------------------------------------------------------------------


def card_answer(
    ctx: Context, customer_id: int, note: str | None = None, edit: bool = False
) -> Answer:
    """The customer card with its buttons; the router's view follows as a fuller version."""
    with ctx.uow() as uow:
        card = customer_card(uow, get_customer(uow, customer_id, for_update=False))
    return _card(ctx, card, note, edit)


def _card(ctx: Context, card: CustomerCard, note: str | None, edit: bool) -> Answer:
    buttons = card_buttons(card.id, card.status, ctx.actor) + family_buttons(card, ctx.actor)
    head = f"{note}\n\n" if note else ""
    now = ctx.now()
    lookup = ctx.presence
    if lookup is None:
        text = card_text(card, ctx.zone, now, presence="unknown (no router check here)")
        return Answer(head + text, buttons, edit=edit)

    def with_presence() -> Answer:
        presence = presence_text(lookup(card.id))
        return Answer(head + card_text(card, ctx.zone, now, presence), buttons, edit=True)

    return Answer(head + card_text(card, ctx.zone, now), buttons, edit=edit, then=with_presence)


def resolved_customer(ctx: Context, reference: str) -> tuple[int, str]:
    """The id of the customer ``reference`` names, and "Name (ACCOUNT)" to show."""
    with ctx.uow() as uow:
        customer = resolve(uow, reference)
        return customer.id, f"{customer.full_name} ({customer.account_number})"


def cmd_find(ctx: Context, line: CommandLine) -> Answer:
    """Customers matching the text, as buttons that open their cards."""
    text = line.text.strip()
    if not text:
        raise BadArguments()
    with ctx.uow() as uow:
        matches = find(uow, text)
        if not matches:
            return Answer(f"No customer matches {text!r}.")
        lines = [customer_line(customer, ctx.zone) for customer in matches]
        buttons = tuple((customer_button(customer),) for customer in matches)
    count = f"{len(matches)} customer{'s' if len(matches) != 1 else ''}"
    return Answer(f"{count} match {text!r}:\n" + "\n".join(lines), buttons)


def cmd_card(ctx: Context, line: CommandLine) -> Answer:
    """The customer card."""
    if not line.text.strip():
        raise BadArguments()
    with ctx.uow() as uow:
        card = customer_card(uow, resolve(uow, line.text))
    return _card(ctx, card, None, False)


def press_card(ctx: Context, customer_id: int) -> Answer:
    return card_answer(ctx, customer_id)


def press_reference(ctx: Context, reference: str) -> Answer:
    customer_id, _ = resolved_customer(ctx, reference)
    return card_answer(ctx, customer_id)


def customer_label(ctx: Context, customer_id: int) -> tuple[str, str]:
    with ctx.uow() as uow:
        customer = get_customer(uow, customer_id, for_update=False)
        return customer.username, f"{customer.full_name} ({customer.account_number})"
