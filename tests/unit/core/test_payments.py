"""Recording payments: renewal arithmetic, duplicate receipts, suspension, pending plan changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from core.errors import InvalidInput, InvalidTransition, PaymentNotFound
from core.events import PaymentReceived
from core.models import AuditEvent, LedgerEntry, Payment, Subscription
from core.testing import TEST_EPOCH
from core.usecases.billing import (
    IncomingPayment,
    assign_payment,
    find_payment,
    record_payment,
    record_unmatched_payment,
    unmatched_payments,
)
from core.usecases.periods import begin_due_periods
from core.usecases.renewal import renew
from core.usecases.service import PlanChangeTiming, change_plan, suspend

PERIOD = timedelta(days=30)


def _pay(run, staff, customer_id: int, amount: int, method: str = "cash", reference=None, **kw):
    return run(record_payment, customer_id, staff, IncomingPayment(amount, method, reference, **kw))


@pytest.mark.parametrize(
    ("amount", "periods", "balance", "shortfall"),
    [
        (1500, 1, 0, 0),
        (1700, 1, 200, 0),
        (3000, 2, 0, 0),
        (4600, 3, 100, 0),
        (1499, 0, 1499, 1),
        (100, 0, 100, 1400),
    ],
)
def test_as_many_whole_periods_as_the_balance_covers(
    run, staff, make_customer, view, amount, periods, balance, shortfall
) -> None:
    customer_id = make_customer()
    result = _pay(run, staff, customer_id, amount)
    stored = view(customer_id)
    assert result.renewal.periods == periods
    assert result.renewal.charged_kes == periods * 1500
    assert result.renewal.shortfall_kes == shortfall
    assert result.balance_kes == stored.balance_kes == balance
    if periods:
        assert stored.status == "active"
        assert stored.expires_at == result.renewal.expires_at == TEST_EPOCH + periods * PERIOD
    else:
        assert (stored.status, stored.expires_at) == ("inactive", None)


def test_partial_payments_add_up_to_a_renewal(run, staff, make_customer, view) -> None:
    customer_id = make_customer()
    first = _pay(run, staff, customer_id, 1000)
    assert (first.renewal.renewed, first.renewal.shortfall_kes) == (False, 500)
    second = _pay(run, staff, customer_id, 500)
    assert second.renewal.periods == 1
    assert (view(customer_id).balance_kes, view(customer_id).status) == (0, "active")


def test_the_periods_one_payment_buys_are_one_subscription_row(
    run, staff, make_customer, services
) -> None:
    customer_id = make_customer()
    _pay(run, staff, customer_id, 4500)
    _pay(run, staff, customer_id, 1500)
    with services.unit_of_work() as uow:
        periods = [
            (row.starts_at, row.ends_at, row.price_kes, row.periods, row.funded_by)
            for row in uow.session.scalars(select(Subscription).order_by(Subscription.id))
        ]
    assert periods == [
        (TEST_EPOCH, TEST_EPOCH + 3 * PERIOD, 4500, 3, "balance"),
        (TEST_EPOCH + 3 * PERIOD, TEST_EPOCH + 4 * PERIOD, 1500, 1, "balance"),
    ]


def test_paying_early_extends_from_the_current_expiry(
    run, staff, make_customer, view, clock
) -> None:
    customer_id = make_customer(paid=1500)
    clock.advance(timedelta(days=10))
    _pay(run, staff, customer_id, 1500)
    assert view(customer_id).expires_at == TEST_EPOCH + 2 * PERIOD


def test_paying_after_expiry_extends_from_now(run, staff, make_customer, view, clock) -> None:
    customer_id = make_customer(paid=1500)
    clock.advance(PERIOD + timedelta(days=4))
    _pay(run, staff, customer_id, 1500)
    stored = view(customer_id)
    assert (stored.status, stored.expires_at) == ("active", clock.now() + PERIOD)


def test_payment_row_and_ledger_row(run, staff, make_customer, services) -> None:
    customer_id = make_customer()
    paid_at = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)
    result = _pay(
        run,
        staff,
        customer_id,
        1500,
        "mpesa",
        " rkt9xyz1 ",
        received_at=paid_at,
        payer_phone="+254712345678",
        payer_name="JOHN DOE",
        account_reference="MTJ-XXXX",
        source="c2b",
    )
    with services.unit_of_work() as uow:
        payment = uow.session.get(Payment, result.payment_id)
        assert (payment.method, payment.reference, payment.amount_kes) == (
            "mpesa",
            "RKT9XYZ1",
            1500,
        )
        assert (payment.received_at, payment.created_at) == (paid_at, TEST_EPOCH)
        assert (payment.payer_phone, payment.payer_name) == ("+254712345678", "JOHN DOE")
        assert (payment.source, payment.recorded_by) == ("c2b", "staff:command line")
        entry = uow.session.scalars(
            select(LedgerEntry).where(LedgerEntry.payment_id == payment.id)
        ).one()
        assert (entry.kind, entry.amount_kes) == ("payment", 1500)
        assert entry.description == "mpesa payment RKT9XYZ1"


@pytest.mark.parametrize("again", ["RKT9XYZ1", "rkt9xyz1", "  Rkt9Xyz1 "])
def test_the_same_receipt_twice_changes_nothing(
    run, staff, make_customer, view, count_rows, dispatcher, again
) -> None:
    customer_id = make_customer()
    first = _pay(run, staff, customer_id, 1500, "mpesa", "RKT9XYZ1")
    state = view(customer_id)
    rows = [count_rows(model) for model in (Payment, LedgerEntry, Subscription, AuditEvent)]
    dispatcher.events.clear()

    second = _pay(run, staff, customer_id, 1500, "MPESA", again)

    assert second.duplicate is True and first.duplicate is False
    assert second.payment_id == first.payment_id
    assert (second.balance_kes, second.renewal) == (0, None)
    assert view(customer_id) == state
    assert [count_rows(m) for m in (Payment, LedgerEntry, Subscription, AuditEvent)] == rows
    assert dispatcher.events == []


def test_the_same_reference_under_another_method_is_another_payment(
    run, staff, make_customer, view
) -> None:
    customer_id = make_customer()
    bank = _pay(run, staff, customer_id, 1500, "bank", "12345")
    cheque = _pay(run, staff, customer_id, 1500, "cheque", "12345")
    assert not cheque.duplicate
    assert cheque.payment_id != bank.payment_id
    assert view(customer_id).expires_at == TEST_EPOCH + 2 * PERIOD


def test_cash_without_reference_is_never_a_duplicate(run, staff, make_customer, view) -> None:
    customer_id = make_customer()
    assert not _pay(run, staff, customer_id, 1000).duplicate
    assert not _pay(run, staff, customer_id, 1000).duplicate
    assert view(customer_id).balance_kes == 500


@pytest.mark.parametrize("reference", [None, "", "   "])
def test_mpesa_needs_a_receipt(run, staff, make_customer, count_rows, reference) -> None:
    customer_id = make_customer()
    with pytest.raises(InvalidInput, match="receipt number"):
        _pay(run, staff, customer_id, 1500, "mpesa", reference)
    assert count_rows(Payment) == 0


@pytest.mark.parametrize(
    ("amount", "method", "reference", "message"),
    [
        (0, "cash", None, "more than 0"),
        (-100, "cash", None, "more than 0"),
        (99.5, "cash", None, "whole number"),
        (True, "cash", None, "whole number"),
        (100, "bitcoin", None, "payment method must be one of"),
        (100, "bank", "X" * 65, "at most 64"),
    ],
)
def test_bad_payments_are_refused(
    run, staff, make_customer, count_rows, amount, method, reference, message
) -> None:
    customer_id = make_customer()
    with pytest.raises(InvalidInput, match=message):
        _pay(run, staff, customer_id, amount, method, reference)
    assert count_rows(Payment) == 0


def test_credit_only_when_not_activated_now(run, staff, make_customer, view) -> None:
    customer_id = make_customer()
    result = run(record_payment, customer_id, staff, IncomingPayment(1500, "cash"), activate=False)
    assert result.renewal is None
    stored = view(customer_id)
    assert (stored.status, stored.balance_kes) == ("inactive", 1500)
    renewal = run(renew, customer_id, staff)
    assert renewal.periods == 1
    assert view(customer_id).status == "active"


def test_suspended_customer_is_credited_but_not_renewed(run, staff, make_customer, view) -> None:
    customer_id = make_customer(paid=1500)
    run(suspend, customer_id, staff, "dispute")
    result = _pay(run, staff, customer_id, 3000)
    stored = view(customer_id)
    assert result.customer_suspended is True
    assert result.renewal.blocked_by_suspension is True
    assert result.renewal.periods == 0
    assert (stored.status, stored.balance_kes) == ("suspended", 3000)
    assert stored.expires_at == TEST_EPOCH + PERIOD


def test_pending_plan_change_applies_when_the_renewed_period_starts(
    run, staff, isp, make_customer, view, clock
):
    customer_id = make_customer(paid=1500)
    run(change_plan, customer_id, staff, isp.pppoe_plan_big, PlanChangeTiming.RENEWAL)
    short = _pay(run, staff, customer_id, 1500)
    assert (short.renewal.periods, short.renewal.shortfall_kes) == (0, 1000)
    assert view(customer_id).plan == isp.pppoe_plan
    result = _pay(run, staff, customer_id, 1000)
    stored = view(customer_id)
    assert result.renewal.plan_changed is True
    assert result.renewal.plan_name == isp.pppoe_plan_big
    # Paid ahead: the current period keeps its plan; the new one starts at the old expiry.
    assert (stored.plan, stored.pending_plan) == (isp.pppoe_plan, isp.pppoe_plan_big)
    assert stored.next_period_at == TEST_EPOCH + PERIOD
    assert stored.expires_at == TEST_EPOCH + 2 * PERIOD
    assert stored.balance_kes == 0
    clock.set(TEST_EPOCH + PERIOD)
    run(begin_due_periods)
    assert (view(customer_id).plan, view(customer_id).pending_plan) == (isp.pppoe_plan_big, None)


def test_payment_is_published_after_commit(run, staff, make_customer, dispatcher) -> None:
    customer_id = make_customer()
    dispatcher.events.clear()
    result = _pay(run, staff, customer_id, 100)
    [received] = dispatcher.of_type(PaymentReceived)
    assert (received.payment_id, received.customer_id) == (result.payment_id, customer_id)


def test_unmatched_payment_waits_for_staff_then_is_assigned_once(
    run, staff, make_customer, view, services
) -> None:
    customer_id = make_customer()
    money = IncomingPayment(1500, "mpesa", "RKX1", account_reference="MTJ-WRONG")
    kept = run(record_unmatched_payment, staff, money)
    assert (kept.customer_id, kept.duplicate) == (None, False)
    again = run(record_unmatched_payment, staff, money)
    assert (again.payment_id, again.duplicate) == (kept.payment_id, True)
    assert [payment.reference for payment in run(unmatched_payments)] == ["RKX1"]

    assigned = run(assign_payment, staff, " rkx1 ", customer_id)
    assert (assigned.customer_id, assigned.renewal.periods) == (customer_id, 1)
    assert run(unmatched_payments) == []
    assert view(customer_id).status == "active"
    with pytest.raises(InvalidTransition, match="already credited"):
        run(assign_payment, staff, "RKX1", customer_id)
    with pytest.raises(PaymentNotFound):
        run(assign_payment, staff, "NOPE", customer_id)
    with services.unit_of_work() as uow:
        assert find_payment(uow, "mpesa", "rkx1").customer_id == customer_id
    assert view(customer_id).balance_kes == 0


def test_a_receipt_already_credited_to_one_customer_is_not_credited_to_another(
    run, staff, make_customer, view
) -> None:
    first, second = make_customer(), make_customer(full_name="Other Person")
    _pay(run, staff, first, 1500, "mpesa", "RKZ")
    result = _pay(run, staff, second, 1500, "mpesa", "RKZ")
    assert (result.duplicate, result.customer_id) == (True, first)
    assert view(second).balance_kes == 0
