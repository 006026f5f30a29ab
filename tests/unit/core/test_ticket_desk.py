"""Staff work the tickets subscribers open: list, show, assign, comment, close (SMS), reopen."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from core.errors import InvalidInput, NotFound, PermissionDenied, TicketClosed
from core.models import Customer, SmsMessage
from core.queries import needs_attention
from core.usecases.customers import delete_customer
from core.usecases.preferences import set_language
from core.usecases.staff import add_staff
from core.usecases.ticket_desk import (
    assign_ticket,
    close_ticket,
    comment_on_ticket,
    list_tickets,
    reopen_ticket,
    ticket_details,
)
from core.usecases.tickets import TicketCategory, open_ticket

PHONE = "+254712345678"


@pytest.fixture
def desk(run, staff, agent, admin, viewer) -> None:
    """The actors of conftest as registered staff (their Telegram ids are 2, 3, 4)."""
    for actor in (admin, agent, viewer):
        run(add_staff, staff, int(actor.id), actor.name, actor.role.value)


@pytest.fixture
def ticket(run, make_customer, desk):
    """Open a ticket for a new customer; returns (ticket id, customer id)."""

    def open_one(category=TicketCategory.NO_INTERNET, note=None, **fields):
        fields.setdefault("phone", "0712345678")
        customer_id = make_customer(paid=1500, **fields)
        opened = run(open_ticket, PHONE, customer_id, category, "ussd", note)
        return opened.ticket_id, customer_id

    return open_one


def _sms(services, customer_id):
    with services.unit_of_work() as uow:
        return list(
            uow.session.scalars(
                select(SmsMessage.body).where(
                    SmsMessage.customer_id == customer_id, SmsMessage.kind.like("ticket%")
                )
            )
        )


def test_open_tickets_are_listed_oldest_first_with_account_category_and_assignee(
    run, services, clock, ticket, agent
) -> None:
    first, _ = ticket(TicketCategory.SLOW)
    clock.advance(timedelta(hours=3))
    second, customer_id = ticket(TicketCategory.OTHER, note="router lights off")
    run(assign_ticket, agent, second, "me")
    with services.unit_of_work() as uow:
        rows = list_tickets(uow)
        account = uow.session.get(Customer, customer_id)
        assert account is not None
        account_number = account.account_number
    assert [row.id for row in rows] == [first, second]
    assert (rows[1].account_number, rows[1].category, rows[1].assignee) == (
        account_number,
        "other",
        "Otieno Agent",
    )
    assert rows[0].assignee is None and rows[0].opened_at < rows[1].opened_at


def test_list_filters_by_status_and_assignee(run, services, ticket, agent, admin) -> None:
    mine, _ = ticket()
    theirs, _ = ticket()
    done, _ = ticket()
    run(assign_ticket, agent, mine, "me")
    run(assign_ticket, agent, theirs, "amina")
    run(close_ticket, agent, done, "Replaced the cable")
    with services.unit_of_work() as uow:
        assert [r.id for r in list_tickets(uow)] == [mine, theirs]
        assert [r.id for r in list_tickets(uow, status="closed")] == [done]
        assert [r.id for r in list_tickets(uow, status="all")] == [mine, theirs, done]
        assert [r.id for r in list_tickets(uow, assignee="Otieno")] == [mine]
        assert [r.id for r in list_tickets(uow, assignee="me", actor=admin)] == [theirs]
        assert [r.id for r in list_tickets(uow, assignee="nobody", status="all")] == [done]
        with pytest.raises(InvalidInput, match="status is one of open, closed, all"):
            list_tickets(uow, status="pending")


def test_list_pages_with_limit_and_offset(run, services, ticket) -> None:
    ids = [ticket()[0] for _ in range(5)]
    with services.unit_of_work() as uow:
        assert [r.id for r in list_tickets(uow, limit=2)] == ids[:2]
        assert [r.id for r in list_tickets(uow, limit=2, offset=2)] == ids[2:4]
        assert [r.id for r in list_tickets(uow, limit=2, offset=4)] == ids[4:]
        assert list_tickets(uow, limit=2, offset=6) == []


def test_assign_by_name_or_telegram_id_and_refusals(run, services, ticket, agent, viewer) -> None:
    ticket_id, _ = ticket()
    assert run(assign_ticket, agent, ticket_id, "vera viewer").assignee == "Vera Viewer"
    assert run(assign_ticket, agent, ticket_id, "3").assignee == "Otieno Agent"
    assert run(assign_ticket, agent, ticket_id, "nobody").assignee is None
    with pytest.raises(NotFound, match="no staff member called 'zed'"):
        run(assign_ticket, agent, ticket_id, "zed")
    with pytest.raises(PermissionDenied, match=r"your role \(viewer\) may not handle tickets"):
        run(assign_ticket, viewer, ticket_id, "me")
    with pytest.raises(NotFound, match="no ticket #999"):
        run(assign_ticket, agent, 999, "me")


def test_an_ambiguous_name_is_refused_with_the_candidates(run, staff, ticket, agent) -> None:
    ticket_id, _ = ticket()
    run(add_staff, staff, 77, "Otieno Mwangi", "agent")
    with pytest.raises(InvalidInput, match="'otieno' could be Otieno Agent or Otieno Mwangi"):
        run(assign_ticket, agent, ticket_id, "otieno")


def test_the_command_line_cannot_assign_to_itself(run, staff, ticket) -> None:
    ticket_id, _ = ticket()
    with pytest.raises(InvalidInput, match="'me' is a staff member"):
        run(assign_ticket, staff, ticket_id, "me")


def test_comments_are_kept_in_order_and_shown_with_the_ticket(
    run, services, clock, ticket, agent, admin
) -> None:
    ticket_id, _ = ticket(note="cable cut")
    run(comment_on_ticket, agent, ticket_id, "  Called, no answer ")
    clock.advance(timedelta(minutes=5))
    run(comment_on_ticket, admin, ticket_id, "Technician sent")
    with services.unit_of_work() as uow:
        shown = ticket_details(uow, ticket_id)
    assert shown.note == "cable cut" and shown.status == "open"
    assert [(c.author, c.text) for c in shown.comments] == [
        ("staff:Otieno Agent", "Called, no answer"),
        ("staff:Amina Admin", "Technician sent"),
    ]
    with pytest.raises(InvalidInput, match="a comment needs some text"):
        run(comment_on_ticket, agent, ticket_id, "   ")


def test_closing_needs_a_resolution_and_texts_the_subscriber_without_the_comments(
    run, services, ticket, agent, audit_events
) -> None:
    ticket_id, customer_id = ticket()
    run(comment_on_ticket, agent, ticket_id, "staff only: he owes us")
    with pytest.raises(InvalidInput, match="closing a ticket needs a resolution"):
        run(close_ticket, agent, ticket_id, " ")
    shown = run(close_ticket, agent, ticket_id, "Replaced the cable")
    assert (shown.status, shown.resolution, shown.closed_by) == (
        "closed",
        "Replaced the cable",
        "staff:Otieno Agent",
    )
    body = _sms(services, customer_id)
    assert body == [f"mteja ISP: your ticket #{ticket_id} is resolved: Replaced the cable"]
    assert "owes" not in body[0]
    with pytest.raises(TicketClosed, match=f"ticket #{ticket_id} is already closed"):
        run(close_ticket, agent, ticket_id, "again")
    assert len(_sms(services, customer_id)) == 1
    [closed] = audit_events("ticket.close")
    assert (closed.actor_name, closed.customer_id, closed.entity_id) == (
        "Otieno Agent",
        customer_id,
        ticket_id,
    )
    assert closed.reason == "Replaced the cable"


def test_the_closing_sms_speaks_the_phones_language(run, services, ticket, agent) -> None:
    ticket_id, customer_id = ticket()
    run(set_language, PHONE, "sw")
    run(close_ticket, agent, ticket_id, "Tumebadilisha waya")
    assert _sms(services, customer_id) == [
        f"mteja ISP: tiketi yako #{ticket_id} imeshughulikiwa: Tumebadilisha waya"
    ]


def test_reopen_a_closed_ticket(run, ticket, agent, audit_events) -> None:
    ticket_id, _ = ticket()
    with pytest.raises(InvalidInput, match=f"ticket #{ticket_id} is open"):
        run(reopen_ticket, agent, ticket_id, "still down")
    run(close_ticket, agent, ticket_id, "fixed")
    shown = run(reopen_ticket, agent, ticket_id, "still down")
    assert (shown.status, shown.closed_at, shown.resolution) == ("open", None, None)
    assert [c.text for c in shown.comments] == ["reopened: still down"]
    assert [e.action for e in audit_events() if e.action.startswith("ticket.")] == [
        "ticket.open",
        "ticket.close",
        "ticket.reopen",
    ]


def test_every_change_is_audited_with_the_staff_member(run, ticket, agent, audit_events) -> None:
    ticket_id, customer_id = ticket()
    run(assign_ticket, agent, ticket_id, "me")
    run(comment_on_ticket, agent, ticket_id, "on my way")
    assigned, commented = audit_events("ticket.assign"), audit_events("ticket.comment")
    assert (assigned[0].actor_name, assigned[0].after) == (
        "Otieno Agent",
        {"assignee": "Otieno Agent"},
    )
    assert (commented[0].actor_name, commented[0].customer_id) == ("Otieno Agent", customer_id)


def test_open_tickets_need_attention_closed_ones_do_not(run, services, ticket, agent) -> None:
    ticket_id, _ = ticket(TicketCategory.SLOW)
    with services.unit_of_work() as uow:
        items = [item for item in needs_attention(uow) if item.kind == "ticket"]
    assert len(items) == 1
    assert items[0].reference == str(ticket_id)
    assert items[0].summary.startswith(f"#{ticket_id} SLOW internet: Wanjiku Kamau")
    assert items[0].summary.endswith("unassigned")
    run(close_ticket, agent, ticket_id, "fixed")
    with services.unit_of_work() as uow:
        assert [item for item in needs_attention(uow) if item.kind == "ticket"] == []


def test_a_deleted_customers_tickets_and_comments_are_gone(run, staff, services, ticket, agent):
    ticket_id, customer_id = ticket()
    run(comment_on_ticket, agent, ticket_id, "lives at Kilimani")
    run(delete_customer, customer_id, staff, force=True)
    with services.unit_of_work() as uow:
        assert list_tickets(uow, status="all") == []
        assert [item for item in needs_attention(uow) if item.kind == "ticket"] == []
        with pytest.raises(NotFound):
            ticket_details(uow, ticket_id)
