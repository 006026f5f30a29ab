"""Notes, and the customer's login: sent by SMS, or shown to an admin."""

from __future__ import annotations

from bot.answers import Answer, Button
from bot.commands.card import customer_label, resolved_customer
from bot.context import Context
from bot.parsing import BadArguments, CommandLine
from core.display import local_time
from core.lookup import get_customer
from core.phones import display_phone
from core.usecases.account_details import add_note, send_login, show_password


def _card_and_history(customer_id: int) -> tuple[tuple[Button, ...], ...]:
    return ((Button("Card", f"c:{customer_id}"), Button("History", f"a:hist:{customer_id}")),)


def cmd_note(ctx: Context, line: CommandLine) -> Answer:
    """``/note REF TEXT``: a dated note, kept in the customer's history."""
    text = line.rest(1)
    if not text:
        raise BadArguments("write the note after the customer")
    customer_id, who = resolved_customer(ctx, line.word(0))
    with ctx.uow() as uow:
        event = add_note(uow, customer_id, ctx.actor, text)
        at = event.at
        uow.commit()
    return Answer(
        f"Note kept on {who} ({local_time(at, ctx.zone)}, {ctx.actor.name}).",
        _card_and_history(customer_id),
    )


def note_hint(ctx: Context, customer_id: int) -> Answer:
    with ctx.uow() as uow:
        customer = get_customer(uow, customer_id, for_update=False)
        who, account = customer.full_name, customer.account_number
    return Answer(f"Add a note to {who}: type\n/note {account} TEXT")


def do_send_login(ctx: Context, customer_id: int) -> Answer:
    with ctx.uow() as uow:
        message = send_login(uow, customer_id, ctx.actor)
        phone, body = message.phone, message.body
        uow.commit()
    return Answer(
        f"Login sent by SMS to {display_phone(phone)}:\n{body}", _card_and_history(customer_id)
    )


def do_show_password(ctx: Context, customer_id: int) -> Answer:
    username, who = customer_label(ctx, customer_id)
    with ctx.uow() as uow:
        password = show_password(uow, customer_id, ctx.actor)
        uow.commit()
    return Answer(
        f"Login of {who}: {username} / {password}\nThis look is recorded in the audit log.",
        _card_and_history(customer_id),
    )


def cmd_login(ctx: Context, line: CommandLine) -> Answer:
    """``/login REF`` sends the login by SMS; ``/login REF show`` shows the password (admins)."""
    customer_id, _ = resolved_customer(ctx, line.word(0))
    what = (line.optional_word(1) or "sms").lower()
    if what == "show":
        return do_show_password(ctx, customer_id)
    if what != "sms":
        raise BadArguments("add nothing to send it by SMS, or 'show' to see the password")
    return do_send_login(ctx, customer_id)
