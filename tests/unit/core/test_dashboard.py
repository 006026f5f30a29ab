"""The dashboard's numbers: customers expiring and online, and money per local day."""

from __future__ import annotations

from datetime import date, timedelta

from core.dashboard import daily_payments, dashboard_numbers, online_now, today
from core.models import Customer, UsageReading
from core.testing import TEST_EPOCH
from core.usecases.billing import IncomingPayment, record_payment, record_unmatched_payment

# TEST_EPOCH is 12:00 on 22 Nov 2026 in Nairobi (09:00 UTC): local midnight is 21:00 UTC.
LOCAL_MIDNIGHT = TEST_EPOCH.replace(hour=21) - timedelta(days=1)


def _reading(customer_id: int, ended: bool) -> UsageReading:
    return UsageReading(
        customer_id=customer_id,
        router_id=1,
        session_key=f"*{customer_id}",
        started_at=TEST_EPOCH - timedelta(hours=1),
        address=None,
        uptime_seconds=3600,
        download_bytes=1,
        upload_bytes=1,
        sampled_at=TEST_EPOCH - timedelta(minutes=5),
        ended_at=TEST_EPOCH if ended else None,
    )


def test_online_counts_live_sessions_of_live_customers(services, make_customer) -> None:
    online, ended, deleted = (make_customer(paid=1500) for _ in range(3))
    with services.unit_of_work() as uow:
        uow.session.add_all([_reading(online, False), _reading(ended, True)])
        uow.session.add(_reading(deleted, False))
        gone = uow.session.get(Customer, deleted)
        assert gone is not None
        gone.deleted_at = TEST_EPOCH
        uow.commit()
    with services.unit_of_work() as uow:
        found = online_now(uow)
    assert found.customers == 1
    assert found.as_of == TEST_EPOCH - timedelta(minutes=5)


def test_nobody_sampled_is_nobody_online(services) -> None:
    with services.unit_of_work() as uow:
        assert online_now(uow).customers == 0 and online_now(uow).as_of is None


def test_the_numbers_count_by_status_and_the_expiring_rule(
    services, run, staff, make_customer
) -> None:
    make_customer()  # never paid: inactive
    make_customer(paid=1500)  # 30 days paid
    soon = make_customer(paid=1500)
    with services.unit_of_work() as uow:
        customer = uow.session.get(Customer, soon)
        assert customer is not None
        customer.expires_at = TEST_EPOCH + timedelta(days=1)
        uow.commit()
    run(
        record_unmatched_payment,
        staff,
        IncomingPayment(300, "mpesa", "QK9", account_reference="NOBODY"),
    )
    with services.unit_of_work() as uow:
        numbers = dashboard_numbers(uow)
        assert today(uow) == date(2026, 11, 22)
    assert numbers.customers_by_status["active"] == 2
    assert numbers.customers_by_status["inactive"] == 1
    assert numbers.expiring == 1 and numbers.expiring_days == services.config.expiring_days
    assert numbers.revenue_today_kes == 3300 and numbers.payments_today == 3
    assert numbers.unmatched_payments == 1
    assert numbers.needs_attention == 1  # the unmatched payment
    assert numbers.online.customers == 0


def test_payments_fall_on_their_local_day_and_empty_days_are_kept(
    services, run, staff, make_customer
) -> None:
    customer_id = make_customer()
    for reference, at, amount in [
        ("QK1", LOCAL_MIDNIGHT - timedelta(seconds=1), 100),  # 21 Nov, 23:59:59
        ("QK2", LOCAL_MIDNIGHT, 200),  # 22 Nov, 00:00
        ("QK3", LOCAL_MIDNIGHT + timedelta(hours=5), 300),  # 22 Nov
        ("QK4", LOCAL_MIDNIGHT - timedelta(days=5), 999),  # before the window
    ]:
        payment = IncomingPayment(amount, "mpesa", reference, received_at=at)
        run(record_payment, customer_id, staff, payment)
    with services.unit_of_work() as uow:
        days = daily_payments(uow, date(2026, 11, 22), 3)
    assert [(day.day, day.amount_kes, day.payments) for day in days] == [
        (date(2026, 11, 20), 0, 0),
        (date(2026, 11, 21), 100, 1),
        (date(2026, 11, 22), 500, 2),
    ]
