"""Tickets subscribers opened: ``/tickets``, ``/ticket N``, ``/comment``, ``/close``."""

from __future__ import annotations

from collections.abc import Callable

from bot.answers import Answer, Button, rows
from bot.context import Context
from bot.parsing import BadArguments, CommandLine
from core.actors import Permission, can
from core.display import local_time, relative
from core.phones import display_phone
from core.unit_of_work import UnitOfWork
from core.usecases.ticket_desk import (
    NOBODY,
    STATUS_FILTERS,
    TicketRow,
    TicketView,
    assign_ticket,
    close_ticket,
    comment_on_ticket,
    list_tickets,
    reopen_ticket,
    ticket_details,
)
from core.usecases.tickets import TicketStatus, staff_words

MAX_LIST_BUTTONS = 12


def ticket_number(word: str) -> int:
    """``12`` or ``#12``."""
    digits = word.removeprefix("#")
    if not (digits.isascii() and digits.isdigit()):
        raise BadArguments(f"{word!r} is not a ticket number (see /tickets)")
    return int(digits)


def cmd_tickets(ctx: Context, line: CommandLine) -> Answer:
    """``/tickets [open|closed|all] [mine|NAME|nobody]``: oldest first."""
    words = line.words
    # The first word is a status if it is one; whatever follows names whose tickets.
    status = words.pop(0).lower() if words and words[0].lower() in STATUS_FILTERS else "open"
    assignee = " ".join(words) or None
    if assignee is not None and assignee.lower() in ("me", "mine"):
        assignee = "me"
    with ctx.uow() as uow:
        tickets = list_tickets(uow, status, assignee, ctx.actor)
    title = {"open": "Open tickets", "closed": "Closed tickets"}.get(status, "Tickets")
    if assignee is not None and assignee.lower() in NOBODY:
        title += " nobody is assigned"
    elif assignee is not None:
        title += f" assigned to {ctx.actor.name if assignee == 'me' else assignee}"
    if not tickets:
        return Answer(f"No {title[0].lower()}{title[1:]}. 👍")
    lines = [_line(ctx, ticket) for ticket in tickets]
    buttons = [Button(f"#{ticket.id}", f"tk:{ticket.id}") for ticket in tickets[:MAX_LIST_BUTTONS]]
    return Answer(f"{title} ({len(tickets)}), oldest first:\n" + "\n".join(lines), rows(buttons, 4))


def _line(ctx: Context, ticket: TicketRow) -> str:
    who = ticket.assignee or "unassigned"
    state = "" if ticket.status == TicketStatus.OPEN else f" · {ticket.status}"
    return (
        f"#{ticket.id} {relative(ticket.opened_at, ctx.now())} · {ticket.account_number} "
        f"{ticket.customer_name} · {staff_words(ticket.category)} · {who}{state}"
    )


def cmd_ticket(ctx: Context, line: CommandLine) -> Answer:
    """``/ticket N``, ``/ticket N assign NAME|me|nobody``, ``/ticket N reopen REASON``."""
    ticket_id = ticket_number(line.word(0))
    action = (line.optional_word(1) or "").lower()
    if not action:
        return show_ticket(ctx, ticket_id)
    if action == "assign":
        who = line.rest(2)
        if not who:
            raise BadArguments("assign to whom? a name, me, or nobody")
        return _change(ctx, lambda uow: assign_ticket(uow, ctx.actor, ticket_id, who))
    if action == "reopen":
        reason = line.rest(2)
        if not reason:
            raise BadArguments("say why it is reopened: /ticket N reopen REASON")
        return _change(ctx, lambda uow: reopen_ticket(uow, ctx.actor, ticket_id, reason))
    raise BadArguments()


def cmd_comment(ctx: Context, line: CommandLine) -> Answer:
    """``/comment N TEXT``: a note for staff on a ticket."""
    ticket_id = ticket_number(line.word(0))
    text = line.rest(1)
    if not text:
        raise BadArguments()
    return _change(ctx, lambda uow: comment_on_ticket(uow, ctx.actor, ticket_id, text))


def cmd_close(ctx: Context, line: CommandLine) -> Answer:
    """``/close N RESOLUTION``: close a ticket; the subscriber is texted the resolution."""
    ticket_id = ticket_number(line.word(0))
    resolution = line.rest(1)
    if not resolution:
        raise BadArguments("say what was done: the subscriber gets it by SMS")
    answer = _change(ctx, lambda uow: close_ticket(uow, ctx.actor, ticket_id, resolution))
    done = f"Ticket #{ticket_id} closed; the subscriber is told by SMS.\n\n"
    return Answer(done + answer.text, answer.buttons)


def show_ticket(ctx: Context, ticket_id: int, edit: bool = False) -> Answer:
    with ctx.uow() as uow:
        ticket = ticket_details(uow, ticket_id)
    return _view(ctx, ticket, edit)


def press_assign_to_me(ctx: Context, ticket_id: int) -> Answer:
    answer = _change(ctx, lambda uow: assign_ticket(uow, ctx.actor, ticket_id, "me"))
    return Answer(answer.text, answer.buttons, edit=True, toast="Assigned to you.")


def press_close(ctx: Context, ticket_id: int) -> Answer:
    return Answer(
        f"To close it, send /close {ticket_id} WHAT WAS DONE\n"
        "The subscriber gets that by SMS; your comments stay with staff."
    )


def _change(ctx: Context, work: Callable[[UnitOfWork], TicketView]) -> Answer:
    """Run a change to one ticket, commit, and show the ticket as it now is."""
    with ctx.uow() as uow:
        ticket = work(uow)
        uow.commit()
    return _view(ctx, ticket)


def _view(ctx: Context, ticket: TicketView, edit: bool = False) -> Answer:
    now = ctx.now()
    lines = [
        f"Ticket #{ticket.id} · {staff_words(ticket.category)} · {ticket.status} · opened "
        f"{relative(ticket.opened_at, now)}",
        f"{ticket.customer_name} ({ticket.account_number}) · "
        f"{display_phone(ticket.phone) if ticket.phone else 'no phone'} · "
        f"by {ticket.channel.upper()}",
    ]
    if ticket.note:
        lines.append(f'Says: "{ticket.note}"')
    lines.append(f"Assigned to {ticket.assignee}" if ticket.assignee else "Nobody assigned yet")
    if ticket.status != TicketStatus.OPEN:
        lines.append(
            f"Closed {local_time(ticket.closed_at, ctx.zone)} by {ticket.closed_by or '?'}"
        )
        lines.append(f"Resolution: {ticket.resolution or '(none)'}")
    if ticket.comments:
        lines += ["", "Comments:"]
        lines += [
            f"{local_time(comment.at, ctx.zone)} {comment.author}: {comment.text}"
            for comment in ticket.comments
        ]
    buttons: list[Button] = []
    if ticket.status == TicketStatus.OPEN and can(ctx.actor, Permission.HANDLE_TICKETS):
        # Only a Telegram staff member can be "me"; the console's operator (the command line) not.
        if ticket.assignee != ctx.actor.name and ctx.actor.id.isdigit():
            buttons.append(Button("🙋 Assign to me", f"tm:{ticket.id}"))
        buttons.append(Button("✅ Close", f"tc:{ticket.id}"))
    buttons.append(Button("Card", f"c:{ticket.customer_id}"))
    return Answer("\n".join(lines), (tuple(buttons),), edit=edit)
