"""Payments between two local days, for the monthly M-Pesa statement reconciliation."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest

from core.errors import InvalidInput, PermissionDenied
from core.payment_list import (
    PaymentFilter,
    PaymentStatus,
    export_payments,
    payment_page,
    payments_between,
    read_days,
    read_payment_filter,
)
from core.testing import TEST_EPOCH
from core.usecases.billing import IncomingPayment, record_payment, record_unmatched_payment
from core.usecases.stk import PROVISIONAL_PREFIX
from core.vocabulary import PaymentMethod

# TEST_EPOCH is 12:00 on 22 Nov 2026 in Nairobi (09:00 UTC): local midnight is 21:00 UTC.
LOCAL_MIDNIGHT = TEST_EPOCH.replace(hour=21) - timedelta(days=1)


@pytest.fixture
def statement(run, staff, make_customer):
    """Payments just inside and just outside 22 Nov (local), one matched to nobody."""
    customer_id = make_customer()
    for reference, at in [
        ("QK0000001", LOCAL_MIDNIGHT - timedelta(seconds=1)),  # 21 Nov, 23:59:59
        ("QK0000002", LOCAL_MIDNIGHT),  # 22 Nov, 00:00
        ("QK0000003", LOCAL_MIDNIGHT + timedelta(days=1, seconds=-1)),  # 22 Nov, 23:59:59
    ]:
        payment = IncomingPayment(
            1500,
            "mpesa",
            reference,
            payer_phone="254712345678",
            payer_name="WANJIKU K",
            received_at=at,
        )
        run(record_payment, customer_id, staff, payment)
    run(
        record_unmatched_payment,
        staff,
        IncomingPayment(
            200,
            "mpesa",
            "QK0000004",
            account_reference="MTJ-NOBODY",
            received_at=TEST_EPOCH,
            payer_name="=CMD()",
        ),
    )
    return customer_id


def test_payments_of_the_local_days_oldest_first(services, staff, statement, view) -> None:
    with services.unit_of_work() as uow:
        lines = payments_between(uow, staff, date(2026, 11, 22), date(2026, 11, 22))
    assert [line.reference for line in lines] == ["QK0000002", "QK0000004", "QK0000003"]
    first = lines[0]
    assert (first.amount_kes, first.method, first.status) == (1500, "mpesa", "matched")
    assert first.account_number == view(statement).account_number
    assert lines[1].status == "unmatched" and lines[1].account_number is None


def test_the_export_is_a_csv_with_local_times_and_is_audited(
    services, admin, statement, audit_events
) -> None:
    with services.unit_of_work() as uow:
        export = export_payments(uow, admin, date(2026, 11, 21), date(2026, 11, 22))
        uow.commit()
    rows = list(csv.DictReader(io.StringIO(export.content.decode())))
    assert list(rows[0]) == [
        "received",
        "receipt",
        "method",
        "amount_kes",
        "payer_phone",
        "payer_name",
        "account_reference",
        "account_number",
        "status",
    ]
    assert [row["receipt"] for row in rows] == [
        "QK0000001",
        "QK0000002",
        "QK0000004",
        "QK0000003",
    ]
    assert rows[0]["received"] == "2026-11-21 23:59:59"
    assert rows[0]["amount_kes"] == "1500"
    assert rows[2]["payer_name"] == "'=CMD()"  # a spreadsheet shows it, never runs it
    assert export.filename == "payments-2026-11-21-to-2026-11-22.csv"
    (audited,) = audit_events("export.payments")
    assert audited.actor_name == "Amina Admin"
    assert audited.after == {"filter": "payments 2026-11-21..2026-11-22", "rows": 4}


def test_agents_may_not_export_payments(services, agent, statement) -> None:
    with services.unit_of_work() as uow, pytest.raises(PermissionDenied):
        export_payments(uow, agent, date(2026, 11, 22), date(2026, 11, 22))


@pytest.mark.parametrize(
    ("first", "last", "message"),
    [
        ("2026-11-23", "2026-11-22", "from 2026-11-23 is after to 2026-11-22"),
        ("yesterday", "2026-11-22", "'yesterday' is not a date YYYY-MM-DD"),
        ("2026-11-01", "2026-13-01", "'2026-13-01' is not a date YYYY-MM-DD"),
    ],
)
def test_bad_days_are_refused(first, last, message) -> None:
    with pytest.raises(InvalidInput, match=message):
        read_days(first, last)


def test_a_filter_reads_methods_and_statuses_and_refuses_others() -> None:
    wanted = read_payment_filter("2026-11-01", "2026-11-22", " MPESA ", "unmatched")
    assert wanted == PaymentFilter(
        date(2026, 11, 1), date(2026, 11, 22), PaymentMethod.MPESA, PaymentStatus.UNMATCHED
    )
    assert read_payment_filter("2026-11-01", "2026-11-01").method is None
    with pytest.raises(InvalidInput, match="method must be one of"):
        read_payment_filter("2026-11-01", "2026-11-01", "bitcoin")
    with pytest.raises(InvalidInput, match="status must be one of"):
        read_payment_filter("2026-11-01", "2026-11-01", "", "evil")


def test_a_page_counts_and_sums_every_match_and_shows_its_slice(services, staff, statement) -> None:
    wanted = PaymentFilter(date(2026, 11, 21), date(2026, 11, 22))
    with services.unit_of_work() as uow:
        first = payment_page(uow, staff, wanted, 0, 3)
        rest = payment_page(uow, staff, wanted, 3, 3)
    assert (first.total, first.total_kes, first.has_more) == (4, 4700, True)
    assert [line.reference for line in first.lines] == ["QK0000001", "QK0000002", "QK0000004"]
    assert [line.reference for line in rest.lines] == ["QK0000003"] and not rest.has_more


@pytest.mark.parametrize(
    ("method", "status", "references"),
    [
        (None, PaymentStatus.UNMATCHED, ["QK0000004"]),
        (None, PaymentStatus.MATCHED, ["QK0000001", "QK0000002", "QK0000003"]),
        (PaymentMethod.CASH, None, []),
        (PaymentMethod.MPESA, PaymentStatus.PROVISIONAL, []),
    ],
)
def test_the_list_and_its_export_keep_only_the_method_and_status_asked_for(
    services, admin, statement, method, status, references
) -> None:
    wanted = PaymentFilter(date(2026, 11, 21), date(2026, 11, 22), method, status)
    with services.unit_of_work() as uow:
        page = payment_page(uow, admin, wanted)
        export = export_payments(
            uow, admin, wanted.first, wanted.last, method=method, status=status
        )
    assert [line.reference for line in page.lines] == references
    rows = list(csv.DictReader(io.StringIO(export.content.decode())))
    assert [row["receipt"] for row in rows] == references


def test_a_page_out_of_range_is_refused(services, staff) -> None:
    wanted = PaymentFilter(date(2026, 11, 21), date(2026, 11, 22))
    with services.unit_of_work() as uow, pytest.raises(InvalidInput):
        payment_page(uow, staff, wanted, -1)


def test_a_credit_still_waiting_for_its_receipt_is_provisional_not_matched(
    services, run, staff, make_customer
) -> None:
    customer_id = make_customer(paid=1500)  # cash, no receipt: matched
    payment = IncomingPayment(50, "mpesa", PROVISIONAL_PREFIX + "ws_CO_1", received_at=TEST_EPOCH)
    run(record_payment, customer_id, staff, payment)
    day = date(2026, 11, 22)
    with services.unit_of_work() as uow:
        provisional = payment_page(
            uow, staff, PaymentFilter(day, day, status=PaymentStatus.PROVISIONAL)
        )
        matched = payment_page(uow, staff, PaymentFilter(day, day, status=PaymentStatus.MATCHED))
    assert [line.status for line in provisional.lines] == ["provisional"]
    assert [line.method for line in matched.lines] == ["cash"]


@pytest.mark.parametrize("batch", [1, 2, 4, 1000])
@pytest.mark.parametrize(
    ("first", "last", "count"),
    [(date(2026, 11, 21), date(2026, 11, 22), 4), (date(2026, 11, 1), date(2026, 11, 2), 0)],
)
def test_the_export_reads_in_batches_and_gets_every_payment_once(
    monkeypatch, services, admin, statement, batch, first, last, count
) -> None:
    """Issue 18: read a batch at a time (a server-side cursor on PostgreSQL); a batch size that
    divides the rows exactly, one that does not, and no rows at all give the same file."""
    with services.unit_of_work() as uow:
        whole = export_payments(uow, admin, first, last)
    monkeypatch.setattr("core.payment_list.EXPORT_BATCH", batch)
    with services.unit_of_work() as uow:
        batched = export_payments(uow, admin, first, last)
    assert batched.rows == whole.rows == count
    assert batched.content == whole.content
