"""Manual expiry changes: by days or to a date, with history, respected by later renewals."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from core.errors import CustomerNotFound, InvalidInput
from core.events import ExpiryScheduled
from core.models import ExpiryExtension
from core.testing import TEST_EPOCH
from core.usecases.billing import IncomingPayment, record_payment
from core.usecases.customers import delete_customer
from core.usecases.service import MAX_EXTENSION_DAYS, expire_if_due, extend, suspend

PERIOD = timedelta(days=30)


def _history(services, customer_id: int) -> list[tuple]:
    with services.unit_of_work() as uow:
        return [
            (row.previous_expires_at, row.new_expires_at, row.reason, row.actor, row.created_at)
            for row in uow.session.scalars(
                select(ExpiryExtension)
                .where(ExpiryExtension.customer_id == customer_id)
                .order_by(ExpiryExtension.id)
            )
        ]


def test_days_are_added_to_the_expiry_when_it_is_later_than_now(
    run, staff, make_customer, view, services
) -> None:
    customer_id = make_customer(paid=1500)
    run(extend, customer_id, staff, days=3, reason="outage compensation")
    assert view(customer_id).expires_at == TEST_EPOCH + PERIOD + timedelta(days=3)
    assert _history(services, customer_id) == [
        (
            TEST_EPOCH + PERIOD,
            TEST_EPOCH + PERIOD + timedelta(days=3),
            "outage compensation",
            "staff:command line",
            TEST_EPOCH,
        )
    ]


def test_days_count_from_now_for_an_expired_customer(
    run, staff, make_customer, view, clock
) -> None:
    customer_id = make_customer(paid=1500)
    clock.advance(PERIOD + timedelta(days=10))
    run(expire_if_due, customer_id)
    assert view(customer_id).status == "expired"
    run(extend, customer_id, staff, days=2, reason="goodwill")
    stored = view(customer_id)
    assert stored.expires_at == clock.now() + timedelta(days=2)
    assert stored.status == "active"


def test_extending_an_inactive_customer_activates_them(run, staff, make_customer, view):
    customer_id = make_customer()
    run(extend, customer_id, staff, days=1, reason="trial")
    stored = view(customer_id)
    assert (stored.status, stored.expires_at) == ("active", TEST_EPOCH + timedelta(days=1))


def test_to_a_date_means_the_end_of_that_day_in_nairobi(run, staff, make_customer, view):
    customer_id = make_customer(paid=1500)
    run(extend, customer_id, staff, until=date(2027, 1, 15), reason="promised by manager")
    # 23:59:59 in Nairobi (UTC+3) is 20:59:59 UTC.
    assert view(customer_id).expires_at == datetime(2027, 1, 15, 20, 59, 59, tzinfo=UTC)


def test_to_today_is_allowed_while_the_local_day_lasts(run, staff, make_customer, view, clock):
    clock.set(datetime(2026, 11, 22, 20, 0, tzinfo=UTC))  # 23:00 in Nairobi
    customer_id = make_customer()
    run(extend, customer_id, staff, until=date(2026, 11, 22), reason="rest of today")
    assert view(customer_id).expires_at == datetime(2026, 11, 22, 20, 59, 59, tzinfo=UTC)


def test_to_a_date_already_over_in_nairobi_is_refused(run, staff, make_customer, view, clock):
    clock.set(datetime(2026, 11, 22, 21, 30, tzinfo=UTC))  # already 00:30 on the 23rd locally
    customer_id = make_customer(paid=1500)
    before = view(customer_id)
    for past in (date(2026, 11, 22), date(2026, 1, 1)):
        with pytest.raises(InvalidInput, match="not in the future"):
            run(extend, customer_id, staff, until=past, reason="oops")
    assert view(customer_id) == before


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "one of them"),
        ({"days": 3, "until": date(2027, 1, 1)}, "one of them"),
        ({"days": 0}, "days must be 1 to"),
        ({"days": -2}, "days must be 1 to"),
        ({"days": MAX_EXTENSION_DAYS + 1}, "days must be 1 to"),
    ],
)
def test_bad_requests_are_refused(run, staff, make_customer, services, kwargs, message) -> None:
    customer_id = make_customer(paid=1500)
    with pytest.raises(InvalidInput, match=message):
        run(extend, customer_id, staff, **kwargs)
    assert _history(services, customer_id) == []


def test_without_reason_the_history_says_so(run, staff, make_customer, services) -> None:
    customer_id = make_customer(paid=1500)
    run(extend, customer_id, staff, days=1)
    assert _history(services, customer_id)[0][2] == "no reason given"


def test_a_later_renewal_builds_on_the_manual_expiry(run, staff, make_customer, view) -> None:
    customer_id = make_customer(paid=1500)
    run(extend, customer_id, staff, until=date(2027, 3, 1), reason="prepaid by cheque")
    manual = datetime(2027, 3, 1, 20, 59, 59, tzinfo=UTC)
    run(record_payment, customer_id, staff, IncomingPayment(1500, "cash"))
    assert view(customer_id).expires_at == manual + PERIOD


def test_extension_asks_the_router_to_sync_and_schedules_the_new_expiry(
    run, staff, make_customer, settle, view, published, dispatcher
) -> None:
    customer_id = make_customer(paid=1500)
    settle(customer_id)
    run(extend, customer_id, staff, days=5, reason="x")
    new_expiry = TEST_EPOCH + PERIOD + timedelta(days=5)
    assert view(customer_id).sync_pending is True
    assert published() == [("CustomerNeedsSync", customer_id), ("ExpiryScheduled", customer_id)]
    assert [event.expires_at for event in dispatcher.of_type(ExpiryScheduled)] == [new_expiry]


def test_a_suspended_customer_gets_the_time_but_stays_suspended(
    run, staff, make_customer, view
) -> None:
    customer_id = make_customer(paid=1500)
    run(suspend, customer_id, staff, "check")
    run(extend, customer_id, staff, days=5, reason="x")
    stored = view(customer_id)
    assert (stored.status, stored.expires_at) == ("suspended", TEST_EPOCH + PERIOD + timedelta(5))


def test_deleted_customer_cannot_be_extended(run, staff, make_customer) -> None:
    customer_id = make_customer()
    run(delete_customer, customer_id, staff)
    with pytest.raises(CustomerNotFound):
        run(extend, customer_id, staff, days=1)
