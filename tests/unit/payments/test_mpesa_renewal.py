"""What M-Pesa money buys (core's renewal rules through confirm_c2b and settle_stk), what the
payer and staff are told, the default STK amount, and the self-service STK rate limit."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from core.actors import Actor
from core.display import local_time
from core.errors import InvalidInput, RateLimited
from core.events import PaymentReceived
from core.retry import in_transaction
from core.stk_rules import Verdict
from core.usecases.billing import record_debt
from core.usecases.notices import payment_notices
from core.usecases.service import PlanChangeTiming, change_plan, suspend

PRICE = 1500
PERIOD = timedelta(days=30)


def _notices(services: Any, payment_id: int) -> str:
    line = in_transaction(services, lambda uow: payment_notices(uow, payment_id).staff_line)
    assert line is not None
    return line


@pytest.mark.parametrize(
    ("amount", "periods", "left"), [(1500, 1, 0), (3000, 2, 0), (4600, 3, 100)]
)
def test_an_expired_customer_buys_as_many_periods_as_the_money_covers(
    mpesa: Any, clock: Any, expired_customer: Any, amount: int, periods: int, left: int
) -> None:
    customer = expired_customer()
    paid = mpesa.c2b(customer.account_number, amount, "SKR0000001")
    assert paid.renewal is not None and paid.renewal.periods == periods
    state = mpesa.state(customer.id)
    assert (state.status, state.balance_kes) == ("active", left)
    assert state.expires_at == clock.now() + periods * PERIOD


def test_paying_early_adds_to_the_paid_time(mpesa: Any, clock: Any, make_customer: Any) -> None:
    customer = make_customer(paid=PRICE)
    ends = mpesa.state(customer.id).expires_at
    clock.advance(timedelta(days=10))
    _, checkout = mpesa.sent_push(customer.id)
    assert mpesa.stk(checkout, 0, "SKR0000002", PRICE).verdict is Verdict.CREDIT
    assert mpesa.state(customer.id).expires_at == ends + PERIOD


def test_debt_is_settled_before_time_is_bought(
    mpesa: Any, services: Any, staff: Any, clock: Any, expired_customer: Any
) -> None:
    customer = expired_customer()
    in_transaction(
        services,
        lambda uow: record_debt(uow, customer.id, staff, 1000, "router", start_service=False),
    )
    first = mpesa.c2b(customer.account_number, PRICE, "SKR0000003")
    state = mpesa.state(customer.id)
    assert (state.status, state.balance_kes) == ("expired", 500)
    assert first.renewal is not None and first.renewal.shortfall_kes == 1000
    _notices(services, first.payment_id)
    assert "Pay KES 1,000 more" in _receipt_sms(mpesa, first.payment_id)
    second = mpesa.c2b(customer.account_number, 1000, "SKR0000004")
    state = mpesa.state(customer.id)
    assert (state.status, state.balance_kes) == ("active", 0)
    assert state.expires_at == clock.now() + PERIOD
    assert second.renewal is not None and second.renewal.periods == 1


def _receipt_sms(mpesa: Any, payment_id: int) -> str:
    [body] = [body for kind, body in mpesa.sms() if kind == f"receipt:{payment_id}"]
    return body


def test_a_part_payment_stays_as_credit_and_says_how_much_more(
    mpesa: Any, services: Any, clock: Any, expired_customer: Any
) -> None:
    services.config = replace(services.config, paybill_number="174379")
    customer = expired_customer()
    part = mpesa.c2b(customer.account_number, 1000, "SKR0000005")
    state = mpesa.state(customer.id)
    assert (state.status, state.balance_kes) == ("expired", 1000)
    staff_line = _notices(services, part.payment_id)
    assert "Part payment KES 1,000" in staff_line and "KES 500 more renews" in staff_line
    body = _receipt_sms(mpesa, part.payment_id)
    assert "KES 1,000 received (SKR0000005)" in body and "Pay KES 500 more" in body
    assert f"Paybill 174379, acc {customer.account_number}." in body
    rest = mpesa.c2b(customer.account_number, 500, "SKR0000006")
    assert mpesa.state(customer.id).status == "active"
    _notices(services, rest.payment_id)
    assert "active until" in _receipt_sms(mpesa, rest.payment_id)


def test_a_suspended_customer_is_credited_but_stays_suspended(
    mpesa: Any, services: Any, staff: Any, make_customer: Any
) -> None:
    customer = make_customer(paid=PRICE)
    in_transaction(services, lambda uow: suspend(uow, customer.id, staff, "tampered with cable"))
    before = mpesa.state(customer.id)
    _, checkout = mpesa.sent_push(customer.id, PRICE)
    settled = mpesa.stk(checkout, 0, "SKR0000007", PRICE)
    paid = settled.payment
    assert settled.verdict is Verdict.CREDIT and paid is not None and paid.customer_suspended
    state = mpesa.state(customer.id)
    assert state.status == "suspended" and state.expires_at == before.expires_at
    assert state.balance_kes == before.balance_kes + PRICE
    staff_line = _notices(services, paid.payment_id)
    assert "SUSPENDED" in staff_line and "kept as credit" in staff_line
    body = _receipt_sms(mpesa, paid.payment_id)
    assert "kept as credit" in body and "suspended" in body


# -- the default STK amount ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("balance", "expected"),
    [(0, 1500), (1000, 500), (1499, 1), (-700, 2200), (1500, 1500), (4000, 1500)],
)
def test_the_default_push_amount_renews_after_credit_and_debt(
    mpesa: Any, services: Any, staff: Any, expired_customer: Any, balance: int, expected: int
) -> None:
    customer = expired_customer()
    if balance < 0:
        in_transaction(
            services,
            lambda uow: record_debt(uow, customer.id, staff, -balance, start_service=False),
        )
    elif balance > 0:
        # Credit without renewal: a suspended customer keeps money as credit.
        in_transaction(services, lambda uow: suspend(uow, customer.id, staff, "to hold credit"))
        mpesa.c2b(customer.account_number, balance, "SKCREDIT01")
    assert mpesa.state(customer.id).balance_kes == balance
    assert mpesa.push(customer.id).amount_kes == expected


def test_the_default_push_amount_is_for_the_plan_the_renewal_buys(
    mpesa: Any, services: Any, staff: Any, make_customer: Any
) -> None:
    customer = make_customer(paid=PRICE)
    in_transaction(
        services,
        lambda uow: change_plan(uow, customer.id, staff, "Home 20M", PlanChangeTiming.RENEWAL),
    )
    assert mpesa.push(customer.id).amount_kes == 2500


def test_a_push_goes_to_the_customer_phone_or_the_one_given(mpesa: Any, make_customer: Any) -> None:
    customer = make_customer()
    assert mpesa.push(customer.id).phone == customer.phone
    assert mpesa.push(customer.id, 50, phone="0110 123 456").phone == "+254110123456"
    for amount, phone in [(0, None), (250_001, None), (10, "+255712345678"), (10, "020 1234567")]:
        with pytest.raises(InvalidInput):
            mpesa.push(customer.id, amount, phone=phone)


# -- abuse: three self-service pushes per account per ten minutes -------------------------------


def test_the_fourth_self_service_push_in_ten_minutes_is_refused(
    mpesa: Any, clock: Any, make_customer: Any
) -> None:
    customer = make_customer()
    subscriber = Actor.subscriber(customer.phone)
    for _ in range(3):
        mpesa.push(customer.id, actor=subscriber, channel="ussd")
        clock.advance(timedelta(minutes=3))
    with pytest.raises(RateLimited) as refused:
        mpesa.push(customer.id, actor=subscriber, channel="ussd")
    assert "3 M-Pesa prompts in 10 minutes" in refused.value.message
    assert customer.account_number in refused.value.message  # says how to pay instead
    # Staff may still push, and staff pushes do not use up the subscriber's allowance.
    for _ in range(5):
        mpesa.push(customer.id)
    with pytest.raises(RateLimited):
        mpesa.push(customer.id, actor=subscriber, channel="sms")
    # Once the first push is ten minutes old, one more is allowed.
    clock.advance(timedelta(minutes=1, seconds=1))
    mpesa.push(customer.id, actor=subscriber, channel="ussd")


def test_the_limit_is_per_account(mpesa: Any, make_customer: Any) -> None:
    first, second = make_customer(), make_customer()
    subscriber = Actor.subscriber(first.phone)
    for _ in range(3):
        mpesa.push(first.id, actor=subscriber, channel="ussd")
    mpesa.push(second.id, actor=subscriber, channel="ussd")


def test_a_subscriber_push_is_limited_whatever_channel_the_adapter_names(
    mpesa: Any, make_customer: Any
) -> None:
    customer = make_customer()
    subscriber = Actor.subscriber(customer.phone)
    for _ in range(3):
        mpesa.push(customer.id, actor=subscriber)
    with pytest.raises(RateLimited):
        mpesa.push(customer.id, actor=subscriber)


def test_a_receipt_sent_after_a_later_payment_tells_what_its_own_payment_did(
    mpesa: Any, services: Any, clock: Any, expired_customer: Any, events: Any
) -> None:
    """15.4: the receipt job runs after commit; by then a second payment may have extended the
    service. Each receipt shows the expiry and balance its own payment left."""
    customer = expired_customer()
    first = mpesa.c2b(customer.account_number, PRICE + 200, "SKR0000101")
    first_expiry = mpesa.state(customer.id).expires_at
    mpesa.c2b(customer.account_number, PRICE, "SKR0000102")
    assert mpesa.state(customer.id).expires_at == first_expiry + PERIOD

    [received] = [e for e in events.of_type(PaymentReceived) if e.payment_id == first.payment_id]
    in_transaction(
        services,
        lambda uow: payment_notices(
            uow,
            received.payment_id,
            expires_at=received.expires_at,
            balance_kes=received.balance_kes,
        ),
    )
    receipt = _receipt_sms(mpesa, first.payment_id)
    zone = ZoneInfo("Africa/Nairobi")
    assert f"active until {local_time(first_expiry, zone)}." in receipt
