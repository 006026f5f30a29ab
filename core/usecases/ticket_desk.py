"""Staff working the tickets subscribers open: list, show, assign, comment, close, reopen.

Agents and above handle tickets; anyone who may look reads them. Closing texts the subscriber
the resolution in their language; comments are for staff only and never leave mteja.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Select, select

from core import audit, messages
from core.actors import Actor, Permission, require
from core.errors import InvalidInput, TicketClosed, TicketNotFound
from core.models import Customer, StaffMember, Ticket, TicketComment
from core.unit_of_work import UnitOfWork
from core.usecases.preferences import language_of
from core.usecases.sms import queue_sms
from core.usecases.staff import find_staff, member_of
from core.usecases.tickets import TicketStatus

MAX_COMMENT = 1000
# The resolution is texted: long enough to say what was done, short enough for two SMS.
MAX_RESOLUTION = 240
STATUS_FILTERS = ("open", "closed", "all")
NOBODY = ("nobody", "none", "-")


@dataclass(frozen=True)
class TicketRow:
    """A ticket as lists show it. ``assignee`` is the staff member's name, None if unassigned."""

    id: int
    customer_id: int
    account_number: str
    customer_name: str
    category: str
    status: str
    channel: str
    opened_at: datetime
    assignee: str | None


@dataclass(frozen=True)
class CommentLine:
    author: str
    text: str
    at: datetime


@dataclass(frozen=True)
class TicketView(TicketRow):
    """One ticket with everything staff need to act on it, comments oldest first."""

    phone: str
    note: str | None
    resolution: str | None
    closed_at: datetime | None
    closed_by: str | None
    comments: list[CommentLine] = field(default_factory=list)


def _tickets() -> Select[Ticket, Customer, StaffMember]:
    # Deleted customers' tickets are gone for staff: their text and phone are erased anyway.
    return (
        select(Ticket, Customer, StaffMember)
        .join(Customer, Customer.id == Ticket.customer_id)
        .outerjoin(StaffMember, StaffMember.id == Ticket.assignee_id)
        .where(Customer.deleted_at.is_(None))
    )


def _row(ticket: Ticket, customer: Customer, assignee: StaffMember | None) -> TicketRow:
    return TicketRow(
        ticket.id,
        customer.id,
        customer.account_number,
        customer.full_name,
        ticket.category,
        ticket.status,
        ticket.channel,
        ticket.created_at,
        assignee.name if assignee else None,
    )


def list_tickets(
    uow: UnitOfWork,
    status: str = "open",
    assignee: str | None = None,
    actor: Actor | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[TicketRow]:
    """Tickets oldest first, ``limit`` of them after the first ``offset``. ``status``: open,
    closed or all; ``assignee``: a staff member as ``find_staff`` reads them, "me"
    (``actor``), or "nobody" for the unassigned."""
    wanted = status.strip().lower()
    if wanted not in STATUS_FILTERS:
        raise InvalidInput(f"status is one of {', '.join(STATUS_FILTERS)}, not {status!r}")
    query = _tickets()
    if wanted != "all":
        query = query.where(Ticket.status == wanted)
    if assignee is not None:
        if assignee.strip().lower() in NOBODY:
            query = query.where(Ticket.assignee_id.is_(None))
        else:
            query = query.where(Ticket.assignee_id == _staff(uow, assignee, actor).id)
    ordered = query.order_by(Ticket.created_at, Ticket.id)
    found = uow.session.execute(ordered.limit(limit).offset(max(offset, 0)))
    return [_row(*row) for row in found]


def customer_tickets(uow: UnitOfWork, customer_id: int, limit: int = 100) -> list[TicketRow]:
    """The customer's tickets, open and closed, newest first."""
    found = uow.session.execute(
        _tickets()
        .where(Ticket.customer_id == customer_id)
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())
        .limit(limit)
    )
    return [_row(*row) for row in found]


def ticket_details(uow: UnitOfWork, ticket_id: int) -> TicketView:
    """Ticket ``ticket_id`` with its comments; TicketNotFound if there is none (for staff)."""
    found = uow.session.execute(_tickets().where(Ticket.id == ticket_id)).first()
    if found is None:
        raise TicketNotFound(f"no ticket #{ticket_id}")
    ticket, customer, assignee = found
    comments = [
        CommentLine(comment.author, comment.text, comment.created_at)
        for comment in uow.session.scalars(
            select(TicketComment)
            .where(TicketComment.ticket_id == ticket_id)
            .order_by(TicketComment.created_at, TicketComment.id)
        )
    ]
    row = _row(ticket, customer, assignee)
    return TicketView(
        **row.__dict__,
        phone=ticket.phone,
        note=ticket.note,
        resolution=ticket.resolution,
        closed_at=ticket.closed_at,
        closed_by=ticket.closed_by,
        comments=comments,
    )


def assign_ticket(uow: UnitOfWork, actor: Actor, ticket_id: int, who: str) -> TicketView:
    """Give an open ticket to a staff member ("me", a name, a Telegram id), or "nobody"."""
    require(actor, Permission.HANDLE_TICKETS)
    ticket, customer = _locked(uow, ticket_id)
    if ticket.status != TicketStatus.OPEN:
        raise TicketClosed(f"ticket #{ticket_id} is closed; reopen it first")
    member = None if who.strip().lower() in NOBODY else _staff(uow, who, actor)
    before = uow.session.get(StaffMember, ticket.assignee_id) if ticket.assignee_id else None
    ticket.assignee_id = member.id if member else None
    audit.record(
        uow,
        actor,
        "ticket.assign",
        customer=customer,
        entity_type="ticket",
        entity_id=ticket.id,
        before={"assignee": before.name if before else None},
        after={"assignee": member.name if member else None},
    )
    return ticket_details(uow, ticket_id)


def comment_on_ticket(uow: UnitOfWork, actor: Actor, ticket_id: int, text: str) -> TicketView:
    """Add a staff-only note to a ticket, open or closed."""
    require(actor, Permission.HANDLE_TICKETS)
    body = _text(text, MAX_COMMENT, "a comment needs some text")
    ticket, customer = _locked(uow, ticket_id)
    _add_comment(uow, actor, ticket, body)
    audit.record(
        uow,
        actor,
        "ticket.comment",
        customer=customer,
        entity_type="ticket",
        entity_id=ticket.id,
        after={"comment": body},
    )
    return ticket_details(uow, ticket_id)


def close_ticket(uow: UnitOfWork, actor: Actor, ticket_id: int, resolution: str) -> TicketView:
    """Close an open ticket with what was done; the subscriber is texted that resolution."""
    require(actor, Permission.HANDLE_TICKETS)
    said = _text(resolution, MAX_RESOLUTION, "closing a ticket needs a resolution")
    ticket, customer = _locked(uow, ticket_id)
    if ticket.status != TicketStatus.OPEN:
        raise TicketClosed(f"ticket #{ticket_id} is already closed")
    ticket.status = TicketStatus.CLOSED.value
    ticket.closed_at = uow.clock.now()
    ticket.closed_by = actor.label
    ticket.resolution = said
    audit.record(
        uow,
        actor,
        "ticket.close",
        customer=customer,
        entity_type="ticket",
        entity_id=ticket.id,
        before={"status": TicketStatus.OPEN.value},
        after={"status": TicketStatus.CLOSED.value},
        reason=said,
    )
    if ticket.phone:
        body = messages.render(
            "ticket_resolved",
            language_of(uow, ticket.phone),
            isp=uow.config.isp_name,
            ticket=ticket.id,
            resolution=said,
        )
        queue_sms(uow, ticket.phone, body, f"ticket:{ticket.id}", customer.id)
    return ticket_details(uow, ticket_id)


def reopen_ticket(uow: UnitOfWork, actor: Actor, ticket_id: int, reason: str) -> TicketView:
    """Open a closed ticket again (the problem came back); the reason is kept as a comment."""
    require(actor, Permission.HANDLE_TICKETS)
    why = _text(reason, MAX_COMMENT, "reopening a ticket needs a reason")
    ticket, customer = _locked(uow, ticket_id)
    if ticket.status == TicketStatus.OPEN:
        raise InvalidInput(f"ticket #{ticket_id} is open already")
    before = {"status": ticket.status, "resolution": ticket.resolution}
    ticket.status = TicketStatus.OPEN.value
    ticket.closed_at = None
    ticket.closed_by = None
    ticket.resolution = None
    _add_comment(uow, actor, ticket, f"reopened: {why}")
    audit.record(
        uow,
        actor,
        "ticket.reopen",
        customer=customer,
        entity_type="ticket",
        entity_id=ticket.id,
        before=before,
        after={"status": TicketStatus.OPEN.value, "resolution": None},
        reason=why,
    )
    return ticket_details(uow, ticket_id)


def _locked(uow: UnitOfWork, ticket_id: int) -> tuple[Ticket, Customer]:
    """The ticket, locked for this transaction, and its live customer."""
    ticket = uow.session.scalars(
        select(Ticket)
        .where(Ticket.id == ticket_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    customer = uow.session.get(Customer, ticket.customer_id) if ticket else None
    if ticket is None or customer is None or customer.deleted_at is not None:
        raise TicketNotFound(f"no ticket #{ticket_id}")
    return ticket, customer


def _staff(uow: UnitOfWork, who: str, actor: Actor | None) -> StaffMember:
    if who.strip().lower() != "me":
        return find_staff(uow, who)
    member = member_of(uow, actor) if actor else None
    if member is None:
        name = actor.name if actor else "nobody"
        raise InvalidInput(f"'me' is a staff member of the bot; the {name} is not: name one")
    return member


def _text(text: str, limit: int, missing: str) -> str:
    cleaned = " ".join(text.split())
    if not cleaned:
        raise InvalidInput(missing)
    if len(cleaned) > limit:
        raise InvalidInput(f"at most {limit} characters, not {len(cleaned)}")
    return cleaned


def _add_comment(uow: UnitOfWork, actor: Actor, ticket: Ticket, text: str) -> None:
    uow.session.add(
        TicketComment(
            ticket_id=ticket.id, author=actor.label, text=text, created_at=uow.clock.now()
        )
    )
