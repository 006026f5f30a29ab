"""Requests core refuses end the session with a reason, and nothing of them is stored."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from core.actors import Actor
from core.clock import FrozenClock
from core.events import TicketOpened
from core.models import SmsMessage, StkRequest, Ticket
from core.unit_of_work import CoreServices
from core.usecases.plans import set_plan_active

WANJIKU = "+254712345678"

Dial = Callable[..., list[str]]


def test_a_fourth_mpesa_prompt_in_ten_minutes_is_refused(
    dial: Dial, stored, row_counts, clock: FrozenClock, subscribers
):
    for _ in range(3):
        assert dial(WANJIKU, "2", "1")[-1].startswith("END Check your phone")
    before = row_counts()
    refused = dial(WANJIKU, "2", "1")[-1]
    assert refused.startswith("END You asked for 3 M-Pesa prompts in 10 minutes.")
    assert "paybill 174379, account MTJ-" in refused
    assert row_counts() == before
    clock.advance(timedelta(minutes=11))
    assert dial(WANJIKU, "2", "1")[-1].startswith("END Check your phone")
    assert len(stored(StkRequest)) == 4


def test_a_number_mpesa_cannot_prompt_gets_the_paybill_instead(
    dial: Dial, make_customer, row_counts, subscribers
):
    landline = "+254202000000"  # a Nairobi fixed line: no M-Pesa
    make_customer(landline, full_name="Office")
    before = row_counts()
    refused = dial(landline, "2", "1")[-1]
    assert refused.startswith("END We could not send the M-Pesa prompt. Pay by paybill 174379")
    assert row_counts() == before


def test_over_the_sms_allowance_the_details_are_shown_on_screen(dial: Dial, stored, subscribers):
    for _ in range(6):
        assert dial(WANJIKU, "4")[-1] == "END We have sent the payment details to you by SMS."
    shown = dial(WANJIKU, "4")[-1]
    assert shown.startswith("END Pay Kasarani Net by M-Pesa: paybill 174379, account MTJ-")
    assert len(stored(SmsMessage)) == 6


def test_a_retired_plan_is_no_longer_offered(
    dial: Dial, services: CoreServices, staff: Actor, subscribers
):
    assert "1. Home 20M" in dial(WANJIKU, "3")[-1]
    with services.unit_of_work() as uow:
        set_plan_active(uow, staff, "Home 20M", False)
        uow.commit()
    plans = dial(WANJIKU, "3")[-1]
    assert "Home 20M" not in plans
    assert "1. Home 30M" in plans


def test_a_repeated_problem_report_is_one_ticket_and_one_alert(
    dial: Dial, stored, dispatcher, clock: FrozenClock, subscribers
):
    first = dial(WANJIKU, "5", "1")[-1]
    assert dial(WANJIKU, "5", "1")[-1] == first
    assert len(stored(Ticket)) == 1
    assert len(dispatcher.of_type(TicketOpened)) == 1
    assert dial(WANJIKU, "5", "2")[-1] != first  # another problem is another ticket
    clock.advance(timedelta(hours=3))
    assert dial(WANJIKU, "5", "1")[-1] != first  # the same problem hours later is new
    assert len(stored(Ticket)) == 3
