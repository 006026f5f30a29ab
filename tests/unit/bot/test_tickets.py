"""/tickets, /ticket N (assign to me, close), /comment, /close, and tickets in /attention."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.console import Console
from bot.staffbot import Caller
from core.models import SmsMessage
from core.usecases.tickets import TicketCategory, open_ticket


@pytest.fixture
def ticket(services, make_customer):
    """Open a ticket for a new paying customer; returns (ticket id, customer)."""

    def open_one(category=TicketCategory.NO_INTERNET, note=None):
        customer = make_customer(paid=1500)
        with services.unit_of_work() as uow:
            opened = open_ticket(uow, customer.phone, customer.id, category, "ussd", note)
            uow.commit()
        return opened.ticket_id, customer

    return open_one


def _ticket_sms(services, customer_id):
    with services.unit_of_work() as uow:
        return list(
            uow.session.scalars(
                select(SmsMessage.body).where(
                    SmsMessage.customer_id == customer_id, SmsMessage.kind.like("ticket:%")
                )
            )
        )


def test_tickets_lists_open_ones_oldest_first(chat, ticket, clock, button_labels) -> None:
    first, old = ticket(TicketCategory.SLOW)
    clock.advance(timedelta(hours=2))
    second, new = ticket(note="lights off")
    answer = chat("viewer").say("/tickets")
    lines = answer.text.splitlines()
    assert lines[0] == "Open tickets (2), oldest first:"
    assert lines[1].startswith(f"#{first} 2 hours ago · {old.account_number} {old.full_name}")
    assert lines[1].endswith("SLOW internet · unassigned")
    assert lines[2].startswith(f"#{second} now · {new.account_number}")
    assert button_labels(answer)[:2] == [f"#{first}", f"#{second}"]
    shown = chat("viewer").press(answer, f"#{second}")
    assert shown.text.startswith(f"Ticket #{second} · NO INTERNET · open")
    assert 'Says: "lights off"' in shown.text


def test_a_viewer_reads_but_gets_no_buttons_to_act(chat, ticket, button_labels) -> None:
    ticket_id, _ = ticket()
    shown = chat("viewer").say(f"/ticket {ticket_id}")
    assert button_labels(shown) == ["Card"]
    refused = chat("viewer").say(f"/close {ticket_id} fixed")
    assert refused.text == "Your role (viewer) may not use /close."
    assert chat("viewer").say(f"/ticket {ticket_id} assign me").text == (
        "⚠️ your role (viewer) may not handle tickets"
    )


def test_assign_to_me_comment_and_close_from_the_chat(
    chat, ticket, services, button_labels
) -> None:
    ticket_id, customer = ticket()
    agent = chat("agent")
    shown = agent.say(f"/ticket {ticket_id}")
    assert button_labels(shown) == ["🙋 Assign to me", "✅ Close", "Card"]
    mine = agent.press(shown, "🙋 Assign to me")
    assert mine.edit and "Assigned to Agent Person" in mine.text
    assert "🙋 Assign to me" not in button_labels(mine)
    assert agent.say("/tickets mine").text.startswith("Open tickets assigned to Agent Person (1)")
    commented = agent.say(f"/comment {ticket_id} called him, the cable is cut")
    assert "staff:Agent Person: called him, the cable is cut" in commented.text
    hint = agent.press(mine, "✅ Close")
    assert hint.text.startswith(f"To close it, send /close {ticket_id} WHAT WAS DONE")
    closed = agent.say(f"/close #{ticket_id} Replaced the cable")
    assert closed.text.startswith(f"Ticket #{ticket_id} closed; the subscriber is told by SMS.")
    assert "Resolution: Replaced the cable" in closed.text
    assert _ticket_sms(services, customer.id) == [
        f"mteja ISP: your ticket #{ticket_id} is resolved: Replaced the cable"
    ]
    assert button_labels(closed) == ["Card"]
    assert agent.say("/tickets").text == "No open tickets. 👍"
    history = agent.say(f"/history {customer.account_number}")
    assert "ticket closed (Replaced the cable) — staff:Agent Person" in history.text


def test_assign_to_someone_else_by_name_and_reopen(chat, ticket) -> None:
    ticket_id, _ = ticket()
    admin = chat("admin")
    assert "Assigned to Agent Person" in admin.say(f"/ticket {ticket_id} assign agent").text
    admin.say(f"/close {ticket_id} fixed")
    reopened = admin.say(f"/ticket {ticket_id} reopen still down")
    assert f"Ticket #{ticket_id} · NO INTERNET · open" in reopened.text
    assert "reopened: still down" in reopened.text


def test_bad_input_gets_one_clear_line(chat, ticket) -> None:
    ticket_id, _ = ticket()
    agent = chat("agent")
    assert agent.say("/ticket").text.startswith("Usage: /ticket N")
    assert agent.say("/ticket abc").text.startswith("Usage: /ticket N")
    assert agent.say("/ticket 999").text == "⚠️ no ticket #999"
    assert agent.say(f"/close {ticket_id}").text.startswith("Usage: /close N RESOLUTION")
    assert agent.say(f"/comment {ticket_id}").text.startswith("Usage: /comment N TEXT")
    assert agent.say(f"/ticket {ticket_id} assign zed").text == ("⚠️ no staff member called 'zed'")
    assert agent.say("/tickets pending").text == "⚠️ no staff member called 'pending'"
    agent.say(f"/close {ticket_id} done")
    assert agent.say(f"/close {ticket_id} again").text == f"⚠️ ticket #{ticket_id} is already closed"


def test_open_tickets_are_in_attention(chat, ticket) -> None:
    ticket_id, customer = ticket(TicketCategory.SLOW)
    answer = chat("viewer").say("/attention")
    assert "Tickets subscribers opened (/ticket N):" in answer.text
    assert f"• #{ticket_id} SLOW internet: {customer.full_name}" in answer.text


def test_the_console_works_tickets_with_buttons(staff_bot, ticket, tmp_path: Path) -> None:
    ticket_id, _ = ticket()
    written: list[str] = []
    console = Console(staff_bot, Caller(1003, "test agent"), written.append, tmp_path)

    def typed(line: str) -> str:
        start = len(written)
        console.handle(line)
        return "\n".join(written[start:])

    assert "[#1] 🙋 Assign to me" in typed(f"/ticket {ticket_id}")
    assert "Assigned to Agent Person" in typed("#1")
    assert f"Ticket #{ticket_id} closed" in typed(f"/close {ticket_id} fixed the cable")


def test_the_operator_at_the_console_assigns_by_name(services, isp, ticket, button_labels):
    from bot.staffbot import StaffBot
    from core.actors import Actor

    operator = StaffBot(services, identify=lambda uow, user_id: Actor.cli())
    ticket_id, _ = ticket()
    shown = operator.text(Caller(0, "console"), f"/ticket {ticket_id}")
    assert button_labels(shown) == ["✅ Close", "Card"]
    refused = operator.text(Caller(0, "console"), f"/ticket {ticket_id} assign me")
    assert refused.text == "⚠️ 'me' is a staff member of the bot; the command line is not: name one"
    named = operator.text(Caller(0, "console"), f"/ticket {ticket_id} assign Admin Person")
    assert "Assigned to Admin Person" in named.text
