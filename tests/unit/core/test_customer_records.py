"""The customer's records the console's tabs list: ledger lines with the balance after each,
every extension, SMS both ways with delivery status, staff notes, and the customer's tickets."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.customer_records import (
    MAX_PAGE,
    check_page,
    extension_lines,
    ledger_lines,
    note_lines,
    sms_lines,
)
from core.errors import InvalidInput
from core.models import Customer
from core.ports import SmsSent
from core.usecases.account_details import add_note
from core.usecases.billing import IncomingPayment, record_payment
from core.usecases.outreach import send_customer_sms
from core.usecases.service import extend
from core.usecases.sms import record_sent
from core.usecases.sms_history import Delivery, record_delivery, record_inbound
from core.usecases.ticket_desk import close_ticket, customer_tickets
from core.usecases.tickets import TicketCategory, open_ticket


def test_ledger_lines_carry_the_balance_after_each_and_page_newest_first(
    run, services, staff, make_customer, clock
) -> None:
    customer_id = make_customer(paid=2000)  # +2000 cash, -1500 for the first month
    for number in range(3):
        clock.advance(timedelta(minutes=1))
        run(record_payment, customer_id, staff, IncomingPayment(100, "mpesa", f"QX{number}"))
    with services.unit_of_work() as uow:
        first = ledger_lines(uow, customer_id, page=0, size=2)
        second = ledger_lines(uow, customer_id, page=1, size=2)
        third = ledger_lines(uow, customer_id, page=2, size=2)
    assert [(line.amount_kes, line.reference, line.balance_after_kes) for line in first.lines] == [
        (100, "QX2", 800),
        (100, "QX1", 700),
    ]
    assert first.has_more and second.has_more and not third.has_more
    assert [line.balance_after_kes for line in second.lines] == [600, 500]
    assert second.lines[0].method == "mpesa"
    # The oldest line is the first payment; the charge for the month came after it.
    [oldest] = third.lines
    assert (oldest.amount_kes, oldest.method, oldest.balance_after_kes) == (2000, "cash", 2000)
    assert second.lines[1].amount_kes == -1500 and second.lines[1].method is None


def test_a_page_out_of_range_is_invalid_input() -> None:
    assert check_page(0) == 0 and check_page(MAX_PAGE) == MAX_PAGE
    for page in (-1, MAX_PAGE + 1):
        with pytest.raises(InvalidInput):
            check_page(page)


def test_every_extension_is_listed_not_only_the_cards_last_three(
    run, services, staff, make_customer
) -> None:
    customer_id = make_customer(paid=1500)
    for reason in ("one", "two", "three", "four"):
        run(extend, customer_id, staff, days=1, reason=reason)
    with services.unit_of_work() as uow:
        lines = extension_lines(uow, customer_id)
    assert [line.reason for line in lines] == ["four", "three", "two", "one"]
    assert {line.added for line in lines} == {timedelta(days=1)}
    assert {line.actor for line in lines} == {"staff:command line"}


def test_sms_lines_merge_both_directions_with_their_status(
    run, services, staff, make_customer, clock
) -> None:
    customer_id = make_customer(paid=1500)
    with services.unit_of_work() as uow:
        message = send_customer_sms(uow, customer_id, staff, "Hello there")
        uow.session.flush()
        record_sent(uow, message.id, SmsSent("P1", None, "sent"))
        record_delivery(uow, "P1", Delivery.DELIVERED)
        uow.commit()
    clock.advance(timedelta(minutes=1))
    customer_phone = run(lambda uow: uow.session.get(Customer, customer_id).phone)
    run(
        record_inbound,
        provider_id="x",
        phone=customer_phone,
        text="BAL",
        command="BAL",
        customer_id=customer_id,
    )
    with services.unit_of_work() as uow:
        page = sms_lines(uow, customer_id)
    assert [(line.direction, line.body, line.status) for line in page.lines][:2] == [
        ("in", "BAL", "received"),
        ("out", "Hello there", "delivered"),
    ]


def test_notes_and_the_customers_tickets(run, services, staff, make_customer) -> None:
    customer_id = make_customer(paid=1500)
    other_id = make_customer(phone="0722000999")
    run(add_note, customer_id, staff, "Gate code 1234")
    phone = run(lambda uow: uow.session.get(Customer, customer_id).phone)
    first = run(open_ticket, phone, customer_id, TicketCategory.SLOW, "ussd")
    run(close_ticket, staff, first.ticket_id, "Replaced the cable")
    second = run(open_ticket, phone, customer_id, TicketCategory.OTHER, "sms", "bill?")
    with services.unit_of_work() as uow:
        notes = note_lines(uow, customer_id)
        tickets = customer_tickets(uow, customer_id)
        others = customer_tickets(uow, other_id)
    assert [(note.author, note.text) for note in notes] == [("command line", "Gate code 1234")]
    assert [(ticket.id, ticket.status) for ticket in tickets] == [
        (second.ticket_id, "open"),
        (first.ticket_id, "closed"),
    ]
    assert others == []
