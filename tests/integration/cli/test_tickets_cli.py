"""``mteja ticket list|show|assign|comment|close|reopen``: the tickets subscribers open, worked
from the server's command line; bad input is one line on stderr and a non-zero exit."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import create_engine, select

from core.models import AuditEvent, SmsMessage
from core.testing import services_for
from core.usecases.tickets import TicketCategory, open_ticket


def _report(workdir: Path, customer_id: int, note: str | None = None) -> int:
    """What the USSD menu does when the subscriber reports no internet."""
    engine = create_engine(f"sqlite:///{workdir}/mteja.db")
    try:
        services = services_for(engine)
        with services.unit_of_work() as uow:
            opened = open_ticket(
                uow, "+254712345678", customer_id, TicketCategory.NO_INTERNET, "ussd", note
            )
            uow.commit()
        return opened.ticket_id
    finally:
        engine.dispose()


def _rows(workdir: Path, query):
    engine = create_engine(f"sqlite:///{workdir}/mteja.db")
    try:
        with engine.connect() as connection:
            return connection.execute(query).all()
    finally:
        engine.dispose()


def _customer(ready) -> tuple[int, str]:
    added = ready(
        "customer", "add", "--name", "Wanjiru Kamau", "--phone", "0712345678",
        "--plan", "Home 10M", "--router", "core-1", "--paid", "cash",
    )  # fmt: skip
    assert added.exit_code == 0, added.stderr
    card = json.loads(ready("customer", "show", "0712345678", "--json").stdout)
    return card["id"], card["account_number"]


def test_list_show_assign_comment_and_close(ready, workdir) -> None:
    customer_id, account = _customer(ready)
    assert ready("staff", "add", "1002", "Brian Otieno", "--role", "agent").exit_code == 0
    ticket_id = _report(workdir, customer_id, "cable cut")

    listed = ready("ticket", "list")
    assert listed.exit_code == 0, listed.stderr
    assert f"#{ticket_id}" in listed.output and account in listed.output
    assert "NO INTERNET" in listed.output and "unassigned" in listed.output
    [row] = json.loads(ready("ticket", "list", "--json").stdout)
    assert (row["id"], row["account_number"], row["category"], row["assignee"]) == (
        ticket_id,
        account,
        "no_internet",
        None,
    )

    assigned = ready("ticket", "assign", str(ticket_id), "brian")
    assert assigned.exit_code == 0, assigned.stderr
    assert "Assigned to Brian Otieno" in assigned.output
    assert ready("ticket", "comment", str(ticket_id), "called him").exit_code == 0
    shown = json.loads(ready("ticket", "show", str(ticket_id), "--json").stdout)
    assert shown["assignee"] == "Brian Otieno" and shown["note"] == "cable cut"
    assert [c["text"] for c in shown["comments"]] == ["called him"]
    assert shown["comments"][0]["author"] == "staff:command line"

    closed = ready("ticket", "close", str(ticket_id), "Replaced the cable")
    assert closed.exit_code == 0, closed.stderr
    assert f"Ticket #{ticket_id} closed" in closed.output
    assert ready("ticket", "list").output.strip() == "No open tickets."
    assert len(json.loads(ready("ticket", "list", "--status", "closed", "--json").stdout)) == 1
    [body] = _rows(workdir, select(SmsMessage.body).where(SmsMessage.kind.like("ticket:%")))
    assert body == (f"mteja ISP: your ticket #{ticket_id} is resolved: Replaced the cable",)
    actions = _rows(
        workdir,
        select(AuditEvent.action, AuditEvent.actor_name).where(
            AuditEvent.entity_type == "ticket", AuditEvent.actor_kind == "staff"
        ),
    )
    assert [tuple(a) for a in actions] == [
        ("ticket.assign", "command line"),
        ("ticket.comment", "command line"),
        ("ticket.close", "command line"),
    ]

    reopened = ready("ticket", "reopen", str(ticket_id), "still down")
    assert reopened.exit_code == 0 and "reopened: still down" in reopened.output


def test_bad_input_is_one_line_and_a_non_zero_exit(ready, workdir) -> None:
    customer_id, _ = _customer(ready)
    ticket_id = _report(workdir, customer_id)
    cases = [
        (("ticket", "show", "999"), "error: no ticket #999"),
        (("ticket", "assign", str(ticket_id), "zed"), "error: no staff member called 'zed'"),
        (("ticket", "assign", str(ticket_id), "me"), "error: 'me' is a staff member of the bot"),
        (("ticket", "close", str(ticket_id), "  "), "error: closing a ticket needs a resolution"),
        (("ticket", "comment", str(ticket_id), ""), "error: a comment needs some text"),
        (("ticket", "list", "--status", "pending"), "error: status is one of open, closed, all"),
    ]
    for args, message in cases:
        result = ready(*args)
        assert result.exit_code == 1, args
        assert result.stderr.startswith(message), (args, result.stderr)
        assert result.stderr.count("\n") == 1, result.stderr
