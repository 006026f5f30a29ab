"""Problems subscribers report ("no internet", "slow", "other"), and the alert staff get."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from sqlalchemy import select

from core import audit
from core.actors import Actor
from core.display import local_time
from core.events import TicketOpened
from core.models import Customer, Ticket
from core.phones import display_phone
from core.unit_of_work import UnitOfWork
from core.usecases.selfservice import owned_customer

# Someone whose internet is down dials again and again; within this window the same problem
# is the same ticket, so staff get one alert, not ten.
REPEAT_WINDOW = timedelta(hours=2)
MAX_NOTE = 500


class TicketCategory(StrEnum):
    NO_INTERNET = "no_internet"
    SLOW = "slow"
    OTHER = "other"


class TicketStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


_STAFF_WORDS = {
    TicketCategory.NO_INTERNET: "NO INTERNET",
    TicketCategory.SLOW: "SLOW internet",
    TicketCategory.OTHER: "a problem (other)",
}


def staff_words(category: str) -> str:
    """How a category reads in staff alerts and lists ("NO INTERNET")."""
    try:
        return _STAFF_WORDS[TicketCategory(category)]
    except ValueError:
        return category


@dataclass(frozen=True)
class OpenedTicket:
    """``new`` is False when the same problem was already open (no second staff alert)."""

    ticket_id: int
    new: bool


def open_ticket(
    uow: UnitOfWork,
    phone: str,
    customer_id: int,
    category: TicketCategory,
    channel: str,
    note: str | None = None,
) -> OpenedTicket:
    """Record a problem with one of ``phone``'s accounts; staff are alerted after commit."""
    customer = owned_customer(uow, phone, customer_id)
    now = uow.clock.now()
    repeat = uow.session.scalar(
        select(Ticket.id).where(
            Ticket.customer_id == customer.id,
            Ticket.category == category.value,
            Ticket.status == TicketStatus.OPEN.value,
            Ticket.created_at > now - REPEAT_WINDOW,
        )
    )
    if repeat is not None:
        return OpenedTicket(repeat, new=False)
    ticket = Ticket(
        customer_id=customer.id,
        phone=phone,
        category=category.value,
        channel=channel,
        status=TicketStatus.OPEN.value,
        note=note.strip()[:MAX_NOTE] if note and note.strip() else None,
        created_at=now,
    )
    uow.session.add(ticket)
    uow.session.flush()
    audit.record(
        uow,
        Actor.subscriber(phone),
        "ticket.open",
        customer=customer,
        entity_type="ticket",
        entity_id=ticket.id,
        after={"category": ticket.category, "channel": channel},
    )
    uow.publish(TicketOpened(ticket.id))
    return OpenedTicket(ticket.id, new=True)


def ticket_alert_line(uow: UnitOfWork, ticket_id: int) -> str | None:
    """The staff alert for a new ticket (None if it is gone)."""
    ticket = uow.session.get(Ticket, ticket_id)
    if ticket is None:
        return None
    customer = uow.session.get(Customer, ticket.customer_id)
    if customer is None:
        return None
    zone = uow.config.timezone
    router = (
        f"router {customer.router.name} ({customer.router.status})"
        if customer.router
        else "no router"
    )
    line = (
        f"Ticket #{ticket.id}: {staff_words(ticket.category)}"
        f" from {customer.full_name} ({customer.account_number}, {display_phone(ticket.phone)}) "
        f"by {ticket.channel.upper()}. {customer.plan.name}, {customer.status}, expires "
        f"{local_time(customer.expires_at, zone)}, {router}."
    )
    if ticket.note:
        line += f' Says: "{ticket.note}"'
    return line
