"""Tickets: staff are alerted through the StaffNotifier, by a queued job, with what they need to
call the subscriber back."""

from __future__ import annotations

from huey import MemoryHuey

from core.ports import OutboxSms, RecordingNotifier
from core.settings import Settings
from core.testing import in_memory_engine
from core.unit_of_work import CoreServices
from core.usecases.tickets import TicketCategory, open_ticket, ticket_alert_line
from mteja.bootstrap import System
from mteja.queueing import build_queue

WANJIKU = "+254712345678"


def test_the_alert_names_the_problem_the_subscriber_and_the_service(
    services: CoreServices, subscribers, customer_row
):
    with services.unit_of_work() as uow:
        opened = open_ticket(
            uow, WANJIKU, subscribers.wanjiku, TicketCategory.NO_INTERNET, "sms", " cable cut "
        )
        uow.commit()
    account = customer_row(subscribers.wanjiku).account_number
    with services.unit_of_work() as uow:
        line = ticket_alert_line(uow, opened.ticket_id)
    assert line == (
        f"Ticket #{opened.ticket_id}: NO INTERNET from Wanjiku Kamau ({account}, 0712 345678) "
        "by SMS. Home 10M, active, expires 2026-12-22 12:00, router core-1 (unknown). "
        'Says: "cable cut"'
    )


def test_no_alert_for_a_ticket_that_does_not_exist(services: CoreServices, subscribers):
    with services.unit_of_work() as uow:
        assert ticket_alert_line(uow, 999) is None


def test_reporting_by_ussd_alerts_staff_through_the_queue(
    services: CoreServices, subscribers, ussd
):
    notifier = RecordingNotifier()
    engine = in_memory_engine()
    system = System(Settings(_env_file=None), engine, services)
    build_queue(system, huey=MemoryHuey("t", immediate=True), notifier=notifier, sms=OutboxSms())
    try:
        assert ussd(WANJIKU, "5*2").startswith("END Thank you. Ticket #1 is open")
        assert len(notifier.messages) == 1
        assert notifier.messages[0].startswith("Ticket #1: SLOW internet from Wanjiku Kamau")
        assert ussd(WANJIKU, "5*2").startswith("END Thank you. Ticket #1 is open")
        assert len(notifier.messages) == 1  # the same problem again is not a second alert
    finally:
        engine.dispose()
