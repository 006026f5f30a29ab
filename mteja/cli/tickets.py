"""``mteja ticket``: the problems subscribers report, worked from the server's command line.

The operator acts as the command line (an owner): ``assign`` names the staff member; "me" is
for staff in the bot.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer

from core.display import local_time, relative
from core.phones import display_phone
from core.unit_of_work import UnitOfWork
from core.usecases.ticket_desk import (
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
from mteja.cli.shared import ACTOR, opened_system, out

Change = Callable[[UnitOfWork], TicketView]

TicketId = Annotated[int, typer.Argument(help="The ticket's number (mteja ticket list)")]
AsJson = Annotated[bool, typer.Option("--json", help="JSON instead of text")]


ticket_app = typer.Typer(help="Tickets: problems subscribers reported.", no_args_is_help=True)


def change(work: Change, done: str | None = None) -> None:
    with opened_system(queue=True) as system, system.services.unit_of_work() as uow:
        ticket = work(uow)
        uow.commit()
    if done:
        out.print(done, markup=False)
    out.print(ticket_text(ticket, system.settings.zone, system.services.clock.now()), markup=False)


@ticket_app.command("list")
def ticket_list(
    status: Annotated[str, typer.Option(help="open, closed or all")] = "open",
    assignee: Annotated[
        str | None, typer.Option(help="A staff member's name or Telegram id, or 'nobody'")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Tickets, oldest first: number, age, account, problem, who has it."""
    with opened_system() as system, system.services.unit_of_work(read_only=True) as uow:
        tickets = list_tickets(uow, status, assignee, ACTOR)
        now = system.services.clock.now()
    if as_json:
        _json([asdict(ticket) for ticket in tickets])
        return
    if not tickets:
        wanted = status.strip().lower()
        out.print(f"No {'' if wanted == 'all' else wanted + ' '}tickets.")
        return
    for ticket in tickets:
        out.print(_line(ticket, relative(ticket.opened_at, now)), markup=False)


@ticket_app.command("show")
def ticket_show(ticket_id: TicketId, as_json: AsJson = False) -> None:
    """One ticket with its comments."""
    with opened_system() as system, system.services.unit_of_work(read_only=True) as uow:
        ticket = ticket_details(uow, ticket_id)
    if as_json:
        _json(asdict(ticket))
        return
    out.print(ticket_text(ticket, system.settings.zone, system.services.clock.now()), markup=False)


@ticket_app.command("assign")
def ticket_assign(
    ticket_id: TicketId,
    who: Annotated[str, typer.Argument(help="A staff member's name or Telegram id, or nobody")],
) -> None:
    """Give a ticket to a staff member (or 'nobody')."""
    change(lambda uow: assign_ticket(uow, ACTOR, ticket_id, who))


@ticket_app.command("comment")
def ticket_comment(
    ticket_id: TicketId, text: Annotated[str, typer.Argument(help="A note for staff")]
) -> None:
    """Add a note for staff; the subscriber never sees it."""
    change(lambda uow: comment_on_ticket(uow, ACTOR, ticket_id, text))


@ticket_app.command("close")
def ticket_close(
    ticket_id: TicketId,
    resolution: Annotated[str, typer.Argument(help="What was done; texted to the subscriber")],
) -> None:
    """Close a ticket; the subscriber gets the resolution by SMS."""
    change(
        lambda uow: close_ticket(uow, ACTOR, ticket_id, resolution),
        f"Ticket #{ticket_id} closed; the subscriber is told by SMS.",
    )


@ticket_app.command("reopen")
def ticket_reopen(
    ticket_id: TicketId, reason: Annotated[str, typer.Argument(help="Why it is open again")]
) -> None:
    """Open a closed ticket again; the reason is kept as a comment."""
    change(lambda uow: reopen_ticket(uow, ACTOR, ticket_id, reason))


def _json(value: Any) -> None:
    def plain(item: Any) -> Any:
        return item.isoformat() if isinstance(item, datetime) else str(item)

    sys.stdout.write(json.dumps(value, default=plain, sort_keys=True) + "\n")


def _line(ticket: TicketRow, age: str) -> str:
    state = "" if ticket.status == TicketStatus.OPEN else f"  {ticket.status}"
    return (
        f"#{ticket.id}  {age}  {ticket.account_number} {ticket.customer_name}  "
        f"{staff_words(ticket.category)}  {ticket.assignee or 'unassigned'}{state}"
    )


def ticket_text(ticket: TicketView, zone: ZoneInfo, now: datetime) -> str:
    """A ticket and its comments, as the terminal shows it."""
    lines = [
        f"Ticket #{ticket.id}  {staff_words(ticket.category)}  {ticket.status}  opened "
        f"{relative(ticket.opened_at, now)}",
        f"  {ticket.customer_name} ({ticket.account_number})  "
        f"{display_phone(ticket.phone) if ticket.phone else 'no phone'}  by {ticket.channel}",
    ]
    if ticket.note:
        lines.append(f'  Says: "{ticket.note}"')
    lines.append(f"  Assigned to {ticket.assignee}" if ticket.assignee else "  Nobody assigned")
    if ticket.status != TicketStatus.OPEN:
        lines.append(f"  Closed {local_time(ticket.closed_at, zone)} by {ticket.closed_by}")
        lines.append(f"  Resolution: {ticket.resolution}")
    for comment in ticket.comments:
        lines.append(f"  {local_time(comment.at, zone)} {comment.author}: {comment.text}")
    return "\n".join(lines)
