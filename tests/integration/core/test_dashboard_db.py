"""The dashboard's aggregates and the filtered payment page on SQLite and PostgreSQL: the same
numbers, summed by the database."""

from __future__ import annotations

from datetime import date, timedelta

from core.dashboard import daily_payments, dashboard_numbers
from core.payment_list import PaymentFilter, PaymentStatus, payment_page
from core.testing import TEST_EPOCH
from core.usecases.billing import IncomingPayment, record_payment, record_unmatched_payment
from core.vocabulary import PaymentMethod

# TEST_EPOCH is 12:00 on 22 Nov 2026 in Nairobi (09:00 UTC): local midnight is 21:00 UTC.
LOCAL_MIDNIGHT = TEST_EPOCH.replace(hour=21) - timedelta(days=1)


def test_numbers_days_and_pages_agree_on_both_databases(isp_db, new_customer, staff) -> None:
    customer_id = new_customer(paid=1500)  # today, cash
    with isp_db.unit_of_work() as uow:
        for reference, at, amount in [
            ("QK1", LOCAL_MIDNIGHT - timedelta(seconds=1), 100),  # 21 Nov
            ("QK2", LOCAL_MIDNIGHT, 200),  # 22 Nov
        ]:
            payment = IncomingPayment(amount, "mpesa", reference, received_at=at)
            record_payment(uow, customer_id, staff, payment)
        record_unmatched_payment(
            uow, staff, IncomingPayment(300, "mpesa", "QK3", account_reference="NOBODY")
        )
        uow.commit()
    with isp_db.unit_of_work() as uow:
        days = daily_payments(uow, date(2026, 11, 22), 3)
        numbers = dashboard_numbers(uow)
        page = payment_page(
            uow,
            staff,
            PaymentFilter(
                date(2026, 11, 21), date(2026, 11, 22), PaymentMethod.MPESA, PaymentStatus.MATCHED
            ),
            0,
            1,
        )
    assert [(day.amount_kes, day.payments) for day in days] == [(0, 0), (100, 1), (2000, 3)]
    assert numbers.customers_by_status["active"] == 1 and numbers.expiring == 0
    assert (numbers.revenue_today_kes, numbers.unmatched_payments) == (2000, 1)
    assert numbers.online.customers == 0
    assert (page.total, page.total_kes, [line.reference for line in page.lines]) == (
        2,
        300,
        ["QK1"],
    )
