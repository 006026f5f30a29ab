"""The card's paid time (issue 16.8): the start of the period running now, each renewal with
its dates, plan, price and state, and the days staff added with why and by whom."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.views import card_text, duration_text
from core.models import Customer
from core.queries import customer_card
from core.testing import TEST_EPOCH
from core.usecases.billing import IncomingPayment, record_payment
from core.usecases.service import extend

PERIOD = timedelta(days=30)
ZONE = ZoneInfo("Africa/Nairobi")


def test_renewals_periods_and_extensions_on_the_card(
    run, services, staff, make_customer, clock
) -> None:
    customer_id = make_customer(paid=3000)  # two periods from TEST_EPOCH
    clock.set(TEST_EPOCH + timedelta(days=40))  # in the second period
    run(record_payment, customer_id, staff, IncomingPayment(1500, "cash"))  # a third, ahead
    run(extend, customer_id, staff, days=3, reason="outage on the mast")

    with services.unit_of_work() as uow:
        card = customer_card(uow, uow.session.get(Customer, customer_id))
        text = card_text(card, ZONE, clock.now())

    assert card.period_started_at == TEST_EPOCH + PERIOD
    assert [(line.state, line.periods, line.price_kes) for line in card.subscriptions] == [
        ("paid ahead", 1, 1500),
        ("current", 2, 3000),
    ]
    [extension] = card.extensions
    assert (extension.added, extension.reason) == (timedelta(days=3), "outage on the mast")
    assert "This period began: " in text
    assert "2 × Home 10M KES 3,000 · current" in text
    assert "Home 10M KES 1,500 · paid ahead" in text
    assert "+3 days by " in text and "outage on the mast" in text


def test_a_customer_never_paid_has_no_period_and_no_history(services, make_customer) -> None:
    customer_id = make_customer()
    with services.unit_of_work() as uow:
        card = customer_card(uow, uow.session.get(Customer, customer_id))
    assert (card.period_started_at, card.subscriptions, card.extensions) == (None, [], [])


def test_durations_read_as_staff_give_time() -> None:
    assert duration_text(timedelta(days=3)) == "3 days"
    assert duration_text(timedelta(days=1, hours=6)) == "1 day 6 hours"
    assert duration_text(timedelta(hours=5)) == "5 hours"
    assert duration_text(timedelta(hours=1)) == "1 hour"
