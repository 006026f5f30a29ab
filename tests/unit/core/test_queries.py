"""Read models: the customer card, the needs-attention list, today's and this month's numbers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from core.actors import Actor
from core.lookup import get_customer
from core.models import Customer
from core.queries import customer_card, needs_attention, router_names, stats
from core.testing import TEST_EPOCH
from core.usecases.billing import IncomingPayment, record_payment, record_unmatched_payment
from core.usecases.customers import delete_customer
from core.usecases.service import PlanChangeTiming, change_plan, expire_if_due, extend, suspend

PERIOD = timedelta(days=30)


def _card(services, customer_id: int):
    with services.unit_of_work() as uow:
        return customer_card(uow, get_customer(uow, customer_id, for_update=False))


def _pay(run, staff, customer_id, amount, at, activate=False, method="cash", reference=None):
    return run(
        record_payment,
        customer_id,
        staff,
        IncomingPayment(amount, method, reference, received_at=at),
        activate=activate,
    )


def test_card_of_a_new_customer(services, make_customer, view) -> None:
    customer_id = make_customer(email="w@example.com", notes="call first")
    card = _card(services, customer_id)
    stored = view(customer_id)
    assert (card.id, card.account_number, card.full_name) == (
        customer_id,
        stored.account_number,
        "Wanjiku Kamau",
    )
    assert (card.phone, card.email, card.notes) == ("+254712345678", "w@example.com", "call first")
    assert (card.connection_type, card.username) == ("pppoe", "wanjiku.kamau")
    assert (card.plan, card.plan_rate_limit, card.plan_price_kes, card.plan_validity) == (
        "Home 10M",
        "5M/10M",
        1500,
        "30 days",
    )
    assert (card.plan_download, card.plan_upload) == ("10M", "5M")
    assert (card.router, card.ip_address) == ("core-1", "10.10.0.2")
    assert (card.status, card.expires_at, card.allowed_in) == ("inactive", None, False)
    assert (card.balance_kes, card.amount_to_renew_kes) == (0, 1500)
    assert (card.children, card.last_payments, card.parent_account_number) == ([], [], None)
    assert (card.total_subscriptions, card.total_paid_kes) == (0, 0)
    assert (card.sync_pending, card.sync_error, card.created_at) == (True, None, TEST_EPOCH)


def test_card_money_payments_and_totals(run, staff, services, make_customer) -> None:
    customer_id = make_customer(paid=1500)
    for day, amount in enumerate([100, 200, 300, 400, 500, 600], start=1):
        _pay(
            run,
            staff,
            customer_id,
            amount,
            TEST_EPOCH + timedelta(days=day),
            method="mpesa",
            reference=f"RK{day}",
        )
    card = _card(services, customer_id)
    assert card.balance_kes == 2100
    assert card.amount_to_renew_kes == 0
    assert [(line.amount_kes, line.reference) for line in card.last_payments] == [
        (600, "RK6"),
        (500, "RK5"),
        (400, "RK4"),
        (300, "RK3"),
        (200, "RK2"),
    ]
    assert card.last_payments[0].received_at == TEST_EPOCH + timedelta(days=6)
    assert card.last_payments[0].method == "mpesa"
    assert (card.total_subscriptions, card.total_paid_kes) == (1, 3600)
    assert (card.status, card.allowed_in, card.expires_at) == ("active", True, TEST_EPOCH + PERIOD)


def test_card_amount_to_renew_counts_debt_and_pending_plan(
    run, staff, services, isp, make_customer
) -> None:
    customer_id = make_customer(installation_fee_kes=500)
    run(change_plan, customer_id, staff, isp.pppoe_plan_big, PlanChangeTiming.RENEWAL)
    card = _card(services, customer_id)
    assert card.balance_kes == -500
    assert card.pending_plan == isp.pppoe_plan_big
    assert card.amount_to_renew_kes == 3000


def test_card_children_parent_suspension_and_extension(
    run, staff, services, isp, make_customer, view, clock
) -> None:
    parent = make_customer(full_name="Acme Ltd")
    number = view(parent).account_number
    hotspot = {"connection_type": "hotspot", "plan": isp.hotspot_plan, "parent": number}
    desk = make_customer(full_name="Acme Desk", **hotspot)
    gone = make_customer(full_name="Acme Old", **hotspot)
    run(delete_customer, gone, staff)
    run(extend, parent, staff, until=date(2026, 12, 24), reason="christmas promise")
    run(suspend, parent, staff, "cheque bounced")

    card = _card(services, parent)
    assert [(child.account_number, child.full_name, child.plan) for child in card.children] == [
        (view(desk).account_number, "Acme Desk", "Daily 5M")
    ]
    assert card.last_extension_reason == "christmas promise"
    assert (card.status, card.suspended_reason, card.allowed_in) == (
        "suspended",
        "cheque bounced",
        False,
    )
    assert _card(services, desk).parent_account_number == number


def test_card_json_has_utc_iso_times(run, staff, services, make_customer) -> None:
    customer_id = make_customer(paid=1500)
    data = _card(services, customer_id).to_json()
    assert data["expires_at"] == "2026-12-22T09:00:00Z"
    assert data["created_at"] == "2026-11-22T09:00:00Z"
    assert data["balance_kes"] == 0
    assert data["last_payments"][0]["received_at"] == "2026-11-22T09:00:00Z"
    assert {
        "account_number",
        "full_name",
        "phone",
        "username",
        "connection_type",
        "plan",
        "router",
        "ip_address",
        "status",
        "expires_at",
        "balance_kes",
    } <= set(data)


def test_needs_attention_lists_recent_expiries_unmatched_money_and_sync_errors(
    run, staff, services, isp, make_customer, clock
) -> None:
    hotspot = {"connection_type": "hotspot", "plan": isp.hotspot_plan}
    long_ago = make_customer(paid=50, full_name="Long Ago", **hotspot)  # ends day 1
    clock.set(TEST_EPOCH + timedelta(days=5))
    recent = make_customer(paid=50, full_name="Recent One", **hotspot)  # ends day 6
    broken = make_customer(paid=1500, full_name="Router Trouble")
    deleted = make_customer(full_name="Deleted Trouble")
    with services.unit_of_work() as uow:
        for customer_id in (broken, deleted):
            uow.session.get(Customer, customer_id).sync_error = "profile missing"
        uow.commit()
    run(delete_customer, deleted, staff)
    run(
        record_unmatched_payment,
        Actor.mpesa(),
        IncomingPayment(1700, "mpesa", "RKLOST", account_reference="MTJ-ZZZ"),
    )
    clock.set(TEST_EPOCH + timedelta(days=9))  # long_ago ended 8 days ago, recent 3 days ago
    for customer_id in (long_ago, recent):
        run(expire_if_due, customer_id)

    with services.unit_of_work() as uow:
        items = needs_attention(uow)
    summary = sorted((item.kind, item.account_number or item.reference) for item in items)
    with services.unit_of_work() as uow:
        numbers = {cid: uow.session.get(Customer, cid).account_number for cid in (recent, broken)}
    assert summary == sorted(
        [
            ("expired", numbers[recent]),
            ("sync_error", numbers[broken]),
            ("unmatched_payment", "RKLOST"),
        ]
    )
    by_kind = {item.kind: item for item in items}
    assert "KES 1,700 mpesa RKLOST" in by_kind["unmatched_payment"].summary
    assert "MTJ-ZZZ" in by_kind["unmatched_payment"].summary
    assert "profile missing" in by_kind["sync_error"].summary
    assert by_kind["expired"].at == TEST_EPOCH + timedelta(days=6)


def test_needs_attention_is_empty_when_all_is_well(services, make_customer) -> None:
    make_customer(paid=1500)
    with services.unit_of_work() as uow:
        assert needs_attention(uow) == []


NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)  # 12:00 in Nairobi


def test_stats_count_by_local_day_and_month(run, staff, services, make_customer, clock) -> None:
    clock.set(datetime(2026, 10, 31, 20, 30, tzinfo=UTC))  # 23:30 on 31 Oct in Nairobi
    october = make_customer()
    clock.set(datetime(2026, 11, 21, 20, 0, tzinfo=UTC))  # 23:00 yesterday in Nairobi
    yesterday = make_customer()
    clock.set(datetime(2026, 11, 21, 22, 30, tzinfo=UTC))  # 01:30 today in Nairobi
    today = make_customer()
    clock.set(NOW)
    _pay(run, staff, october, 800, datetime(2026, 10, 31, 20, 30, tzinfo=UTC))  # October
    _pay(run, staff, october, 400, datetime(2026, 10, 31, 21, 30, tzinfo=UTC))  # 00:30 1 Nov
    _pay(run, staff, yesterday, 200, datetime(2026, 11, 21, 20, 30, tzinfo=UTC))  # 23:30 21st
    _pay(run, staff, today, 100, datetime(2026, 11, 21, 22, 30, tzinfo=UTC))  # 01:30 22nd
    _pay(run, staff, today, 1500, None, activate=True)  # now
    run(record_unmatched_payment, Actor.mpesa(), IncomingPayment(50, "mpesa", "RKU"))
    run(suspend, yesterday, staff, "x")

    with services.unit_of_work() as uow:
        numbers = stats(uow)
    assert numbers.revenue_today_kes == 100 + 1500 + 50
    assert numbers.payments_today == 3
    assert numbers.revenue_month_kes == 400 + 200 + 100 + 1500 + 50
    assert (numbers.new_customers_today, numbers.new_customers_month) == (1, 2)
    assert numbers.unmatched_payments == 1
    assert numbers.customers_by_status == {
        "inactive": 1,
        "active": 1,
        "expired": 0,
        "suspended": 1,
    }


def test_a_payment_at_2230_utc_on_the_last_day_of_the_month_is_next_month_locally(
    run, staff, services, make_customer, clock
) -> None:
    clock.set(datetime(2026, 11, 30, 22, 45, tzinfo=UTC))  # 01:45 on 1 December in Nairobi
    customer_id = make_customer()
    _pay(run, staff, customer_id, 300, datetime(2026, 11, 30, 22, 30, tzinfo=UTC))  # 1 Dec
    _pay(run, staff, customer_id, 700, datetime(2026, 11, 30, 20, 59, tzinfo=UTC))  # 30 Nov
    with services.unit_of_work() as uow:
        numbers = stats(uow)
    assert (numbers.revenue_today_kes, numbers.revenue_month_kes) == (300, 300)
    assert (numbers.new_customers_today, numbers.new_customers_month) == (1, 1)


def test_deleted_customers_are_not_counted_by_status(run, staff, services, make_customer):
    gone = make_customer()
    make_customer()
    run(delete_customer, gone, staff)
    with services.unit_of_work() as uow:
        assert stats(uow).customers_by_status["inactive"] == 1
        assert router_names(uow) == {1: "core-1"}
