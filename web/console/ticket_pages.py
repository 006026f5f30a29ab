"""Tickets subscribers opened: the list (open, closed or all; mine; paged) and one ticket with
its comments, where agents and above comment, assign, close (the subscriber is texted the
resolution, by core) and reopen. The same core calls as the bot's /tickets and /ticket."""

from __future__ import annotations

from collections.abc import Callable

from starlette.responses import Response
from starlette.routing import Route

from core.actors import Permission
from core.errors import InvalidInput, TicketNotFound
from core.unit_of_work import UnitOfWork
from core.usecases.staff_access import staff_roster
from core.usecases.ticket_desk import (
    MAX_COMMENT,
    MAX_RESOLUTION,
    STATUS_FILTERS,
    TicketView,
    assign_ticket,
    close_ticket,
    comment_on_ticket,
    list_tickets,
    reopen_ticket,
    ticket_details,
)
from core.usecases.tickets import staff_words
from web.console.framework import PREFIX, Console, View

PAGE_SIZE = 25
MAX_TICKET_ID = 2**62
TICKETS_PATH = PREFIX + "/tickets"


def _page_number(view: View) -> int:
    text = view.query("page", "1")
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= 100_000:
        raise InvalidInput(f"page is a number from 1, not {text[:20]!r}")
    return int(text)


def _mine(view: View) -> bool:
    text = view.query("mine")
    if text not in ("", "1"):
        raise InvalidInput("mine is 1 or absent")
    return text == "1"


def ticket_list(view: View) -> Response:
    status = view.query("status", "open")
    mine, page = _mine(view), _page_number(view)
    with view.uow(read_only=True) as uow:
        found = list_tickets(
            uow,
            status,
            "me" if mine else None,
            view.actor,
            limit=PAGE_SIZE + 1,
            offset=(page - 1) * PAGE_SIZE,
        )
    params = {"status": status, "mine": "1" if mine else "", "page": page}
    return view.render(
        "tickets/list.html",
        tickets=found[:PAGE_SIZE],
        has_next=len(found) > PAGE_SIZE,
        page=page,
        status=status,
        mine=mine,
        statuses=STATUS_FILTERS,
        params=params,
        category_words=staff_words,
    )


def _ticket_id(view: View) -> int:
    ticket_id: int = view.request.path_params["ticket_id"]
    if ticket_id > MAX_TICKET_ID:  # beyond any database integer: no such ticket
        raise TicketNotFound(f"no ticket #{str(ticket_id)[:20]}…")
    return ticket_id


def ticket_page(view: View) -> Response:
    with view.uow(read_only=True) as uow:
        ticket = ticket_details(uow, _ticket_id(view))
        roster = staff_roster(uow) if view.can(Permission.HANDLE_TICKETS) else []
    return view.render(
        "tickets/ticket.html",
        ticket=ticket,
        roster=roster,
        category_words=staff_words,
        max_comment=MAX_COMMENT,
        max_resolution=MAX_RESOLUTION,
    )


def _change(view: View, work: Callable[[UnitOfWork], TicketView], done: str) -> Response:
    ticket_id = _ticket_id(view)
    with view.uow() as uow:
        work(uow)
        uow.commit()
    return view.redirect(f"{TICKETS_PATH}/{ticket_id}", flash=done)


def ticket_comment(view: View) -> Response:
    text, ticket_id = view.field("text"), _ticket_id(view)
    return _change(
        view, lambda uow: comment_on_ticket(uow, view.actor, ticket_id, text), "Comment added."
    )


def ticket_assign(view: View) -> Response:
    who, ticket_id = view.field("who").strip(), _ticket_id(view)
    if not who:
        raise InvalidInput("assign to whom? choose a staff member, or nobody")

    with view.uow() as uow:
        ticket = assign_ticket(uow, view.actor, ticket_id, who)
        uow.commit()
    done = f"Assigned to {ticket.assignee}." if ticket.assignee else "Nobody is assigned now."
    return view.redirect(f"{TICKETS_PATH}/{ticket_id}", flash=done)


def ticket_close(view: View) -> Response:
    resolution, ticket_id = view.field("resolution"), _ticket_id(view)
    return _change(
        view,
        lambda uow: close_ticket(uow, view.actor, ticket_id, resolution),
        f"Ticket #{ticket_id} closed; the subscriber is told the resolution by SMS.",
    )


def ticket_reopen(view: View) -> Response:
    reason, ticket_id = view.field("reason"), _ticket_id(view)
    return _change(
        view,
        lambda uow: reopen_ticket(uow, view.actor, ticket_id, reason),
        f"Ticket #{ticket_id} is open again.",
    )


def ticket_routes(console: Console) -> list[Route]:
    handle = Permission.HANDLE_TICKETS
    one = "/tickets/{ticket_id:int}"
    return [
        Route("/tickets", console.page(ticket_list), methods=["GET"]),
        Route(one, console.page(ticket_page), methods=["GET"]),
        Route(one + "/comment", console.action(ticket_comment, handle), methods=["POST"]),
        Route(one + "/assign", console.action(ticket_assign, handle), methods=["POST"]),
        Route(one + "/close", console.action(ticket_close, handle), methods=["POST"]),
        Route(one + "/reopen", console.action(ticket_reopen, handle), methods=["POST"]),
    ]
