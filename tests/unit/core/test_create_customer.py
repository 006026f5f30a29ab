"""The Add Customer form: specific errors, nothing half-written, payment and activation choices."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from core.errors import (
    AddressUnavailable,
    Conflict,
    CustomerNotFound,
    InvalidInput,
    InvalidPhone,
    PlanMismatch,
    PlanNotFound,
    RouterNotFound,
)
from core.models import AuditEvent, Customer, LedgerEntry, Payment, Subscription
from core.testing import TEST_EPOCH
from core.usecases.customers import NewCustomer, create_customer
from core.usecases.network import RouterSpec, add_router
from core.usecases.plans import PlanSpec, add_plan, set_plan_active

PERIOD = timedelta(days=30)


def test_a_new_customer_has_every_detail_stored(run, staff, isp, services, view) -> None:
    created = run(
        create_customer,
        staff,
        NewCustomer(
            full_name="  Grace   Achieng Otieno ",
            phone="0722 000111",
            connection_type="PPPoE",
            plan="home 10m",
            router="Core-1",
            email=" grace@example.com ",
            physical_address="Kisumu, Milimani",
            notes="gate code 1234",
            auto_renew=False,
        ),
    )
    stored = view(created.customer.id)
    assert re.fullmatch(r"MTJ-[0-9A-HJKMNP-TV-Z]{7}", stored.account_number)
    assert stored.full_name == "Grace Achieng Otieno"
    assert stored.phone == "+254722000111"
    assert (stored.email, stored.physical_address) == ("grace@example.com", "Kisumu, Milimani")
    assert stored.notes == "gate code 1234"
    assert (stored.connection_type, stored.plan) == ("pppoe", "Home 10M")
    assert stored.username == "grace.otieno"
    assert stored.ip_address == "10.10.0.2"
    assert stored.status == "inactive"
    assert stored.expires_at is None
    assert stored.auto_renew is False
    assert stored.parent_id is None
    assert stored.sync_pending is True
    assert stored.created_at == stored.updated_at == TEST_EPOCH
    assert services.cipher.decrypt(stored.password_encrypted) == created.password
    assert created.payment is None


def test_generated_password_is_returned_once_and_a_given_one_is_kept(run, staff, isp) -> None:
    generated = run(
        create_customer,
        staff,
        NewCustomer("Ann Njeri", "0712345678", "hotspot", isp.hotspot_plan, isp.router),
    )
    assert len(generated.password) == 8
    chosen = run(
        create_customer,
        staff,
        NewCustomer(
            "Ann Njeri",
            "0712345678",
            "hotspot",
            isp.hotspot_plan,
            isp.router,
            username="ann-2",
            password="my-Pass9",
        ),
    )
    assert chosen.password == "my-Pass9"
    assert chosen.customer.username == "ann-2"


def _form(isp, **changes: object) -> NewCustomer:
    fields: dict[str, object] = {
        "full_name": "Peter Mwangi",
        "phone": "0712345678",
        "connection_type": "pppoe",
        "plan": isp.pppoe_plan,
        "router": isp.router,
    }
    fields.update(changes)
    return NewCustomer(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"plan": "Gold 100M"}, PlanNotFound, "plan not found"),
        ({"plan": "Daily 5M"}, PlanMismatch, "plan is for hotspot, customer is pppoe"),
        (
            {"connection_type": "hotspot", "plan": "Home 10M"},
            PlanMismatch,
            "plan is for pppoe, customer is hotspot",
        ),
        ({"connection_type": "fibre"}, InvalidInput, "connection type must be one of"),
        ({"router": "ghost"}, RouterNotFound, "router not found"),
        ({"phone": "0712"}, InvalidPhone, "not a valid phone number"),
        ({"full_name": "   "}, InvalidInput, "needs a name"),
        ({"full_name": "x" * 129}, InvalidInput, "longer than 128"),
        ({"username": "Bad Name"}, InvalidInput, "a username is"),
        ({"password": "abc"}, InvalidInput, "4 to 64 characters"),
        ({"password": "two words"}, InvalidInput, "spaces"),
        ({"installation_fee_kes": -1}, InvalidInput, "installation fee cannot be negative"),
        ({"installation_fee_kes": 99.5}, InvalidInput, "installation fee must be a whole"),
        ({"installation_fee_kes": True}, InvalidInput, "installation fee must be a whole"),
        ({"amount_kes": 1500}, InvalidInput, "say how the first amount was paid"),
        ({"payment_method": "paypal"}, InvalidInput, "payment method must be one of"),
        ({"payment_method": "mpesa"}, InvalidInput, "M-Pesa payment needs its receipt"),
        ({"payment_method": "cash", "amount_kes": 0}, InvalidInput, "more than 0"),
        ({"parent": "MTJ-0000000"}, CustomerNotFound, "no customer matches"),
    ],
)
def test_specific_errors_and_no_row_is_written(
    run, staff, isp, count_rows, dispatcher, changes, error, message
) -> None:
    models = (Customer, Payment, LedgerEntry, Subscription, AuditEvent)
    before = {model: count_rows(model) for model in models}
    dispatcher.events.clear()
    with pytest.raises(error, match=message):
        run(create_customer, staff, _form(isp, **changes))
    assert {model: count_rows(model) for model in models} == before
    assert dispatcher.events == []


def test_username_already_exists(run, staff, isp, count_rows) -> None:
    run(create_customer, staff, _form(isp, username="peter"))
    with pytest.raises(Conflict, match="username already exists: peter"):
        run(create_customer, staff, _form(isp, username=" PETER "))
    assert count_rows(Customer) == 1


def test_retired_plan_cannot_be_chosen(run, staff, isp) -> None:
    run(set_plan_active, staff, isp.pppoe_plan, False)
    with pytest.raises(PlanNotFound, match="retired"):
        run(create_customer, staff, _form(isp))


def test_ip_address_is_required_for_static_without_pool(run, staff, isp, count_rows) -> None:
    run(add_router, staff, RouterSpec("edge-2", "10.0.0.2", 8728, "api", "pw", plain_api=True))
    form = _form(isp, connection_type="static", plan=isp.static_plan, router="edge-2")
    with pytest.raises(AddressUnavailable, match="IP address is required"):
        run(create_customer, staff, form)
    assert count_rows(Customer) == 0


def test_no_free_address_in_pool(run, staff, isp, count_rows) -> None:
    for _ in range(5):
        run(create_customer, staff, _form(isp))
    with pytest.raises(AddressUnavailable, match="no free address in pool"):
        run(create_customer, staff, _form(isp))
    assert count_rows(Customer) == 5


@pytest.mark.parametrize("method", ["cash", "mpesa", "bank", "cheque", " MPesa "])
def test_first_payment_by_each_method_activates(run, staff, isp, services, view, method) -> None:
    created = run(
        create_customer,
        staff,
        _form(isp, payment_method=method, payment_reference="ref-001"),
    )
    stored = view(created.customer.id)
    assert stored.status == "active"
    assert stored.expires_at == TEST_EPOCH + PERIOD
    assert stored.balance_kes == 0
    with services.unit_of_work() as uow:
        payment = uow.session.scalars(select(Payment)).one()
        assert (payment.method, payment.amount_kes, payment.reference) == (
            method.strip().lower(),
            1500,
            "REF-001",
        )
        assert payment.customer_id == created.customer.id
    assert created.payment is not None and created.payment.renewal is not None
    assert created.payment.renewal.periods == 1


def test_installation_fee_is_charged_and_the_default_first_amount_covers_it(
    run, staff, isp, services, view
) -> None:
    created = run(
        create_customer,
        staff,
        _form(isp, installation_fee_kes=2000, payment_method="cash"),
    )
    stored = view(created.customer.id)
    with services.unit_of_work() as uow:
        rows = [
            (entry.kind, entry.amount_kes)
            for entry in uow.session.scalars(select(LedgerEntry).order_by(LedgerEntry.id))
        ]
    assert rows == [("installation_fee", -2000), ("payment", 3500), ("plan_charge", -1500)]
    assert stored.balance_kes == 0
    assert (stored.status, stored.expires_at) == ("active", TEST_EPOCH + PERIOD)


def test_installation_fee_without_payment_leaves_a_debt(run, staff, isp, view) -> None:
    created = run(create_customer, staff, _form(isp, installation_fee_kes=2000))
    stored = view(created.customer.id)
    assert (stored.balance_kes, stored.status) == (-2000, "inactive")


@pytest.mark.parametrize("first_price", [2500, 700, 0])
def test_a_first_period_price_overrides_the_plans_for_that_period(
    run, staff, isp, services, view, first_price
) -> None:
    """Issue 16 (seed 001, "prorated or discounted first payments"): the sign-up's price for
    the first period, with a 1,500 installation fee, was taken as money received and left the
    customer inactive with credit. It is the first period's price; the payment covers it and
    the fee; later periods cost the plan's price."""
    created = run(
        create_customer,
        staff,
        _form(isp, installation_fee_kes=1500, payment_method="cash", first_price_kes=first_price),
    )
    stored = view(created.customer.id)
    assert (stored.status, stored.expires_at, stored.balance_kes) == (
        "active",
        TEST_EPOCH + PERIOD,
        0,
    )
    with services.unit_of_work() as uow:
        rows = [
            (entry.kind, entry.amount_kes)
            for entry in uow.session.scalars(select(LedgerEntry).order_by(LedgerEntry.id))
        ]
        [subscription] = uow.session.scalars(select(Subscription)).all()
        assert (subscription.price_kes, subscription.periods) == (first_price, 1)
    expected = [("installation_fee", -1500), ("payment", first_price + 1500)]
    if first_price:  # a free first period posts no charge
        expected.append(("plan_charge", -first_price))
    assert rows == expected


def test_a_free_first_period_without_a_fee_records_no_payment_of_nothing(
    run, staff, isp, view, count_rows
) -> None:
    """With a payment method chosen, a free first period and no fee came to a payment of KES 0,
    which core refuses: there is nothing to record, and the free period starts."""
    created = run(create_customer, staff, _form(isp, payment_method="cash", first_price_kes=0))
    stored = view(created.customer.id)
    assert (stored.status, stored.expires_at, stored.balance_kes) == (
        "active",
        TEST_EPOCH + PERIOD,
        0,
    )
    assert created.payment is None and count_rows(Payment) == 0


def test_a_first_period_price_cannot_be_negative(run, staff, isp, count_rows) -> None:
    with pytest.raises(InvalidInput, match="first period's price cannot be negative, not -5"):
        run(create_customer, staff, _form(isp, payment_method="cash", first_price_kes=-5))
    assert count_rows(Customer) == 0


def test_custom_first_amount_buys_as_many_periods_as_it_covers(run, staff, isp, view) -> None:
    created = run(create_customer, staff, _form(isp, payment_method="cash", amount_kes=3200))
    stored = view(created.customer.id)
    assert stored.expires_at == TEST_EPOCH + 2 * PERIOD
    assert stored.balance_kes == 200


def test_custom_first_amount_too_small_stays_as_credit(run, staff, isp, view) -> None:
    created = run(create_customer, staff, _form(isp, payment_method="bank", amount_kes=1000))
    stored = view(created.customer.id)
    assert (stored.status, stored.expires_at, stored.balance_kes) == ("inactive", None, 1000)
    assert created.payment.renewal.shortfall_kes == 500


def test_not_activated_now_stays_inactive_with_the_money_as_credit(run, staff, isp, view) -> None:
    created = run(create_customer, staff, _form(isp, payment_method="cash", activate=False))
    stored = view(created.customer.id)
    assert (stored.status, stored.expires_at, stored.balance_kes) == ("inactive", None, 1500)
    assert created.payment.renewal is None


def test_activate_without_money_on_a_paid_plan_stays_inactive(run, staff, isp, view) -> None:
    created = run(create_customer, staff, _form(isp, activate=True))
    assert view(created.customer.id).status == "inactive"


def test_activate_on_a_free_plan_starts_one_period(run, staff, isp, view) -> None:
    run(add_plan, staff, PlanSpec("Staff Free", "pppoe", 0, "5M", "5M", validity_days=7))
    created = run(create_customer, staff, _form(isp, plan="Staff Free"))
    stored = view(created.customer.id)
    assert (stored.status, stored.expires_at) == ("active", TEST_EPOCH + timedelta(days=7))


def test_sub_account_records_its_parent(run, staff, isp, view) -> None:
    parent = run(create_customer, staff, _form(isp, full_name="Acme Ltd"))
    number = parent.customer.account_number
    child = run(
        create_customer,
        staff,
        _form(isp, full_name="Acme Reception", parent=number.lower().replace("-", " ")),
    )
    assert view(child.customer.id).parent_id == parent.customer.id
    with pytest.raises(InvalidInput, match="cannot have sub-accounts"):
        run(
            create_customer,
            staff,
            _form(isp, full_name="Acme Desk", parent=child.customer.account_number),
        )


def test_create_is_audited_with_the_new_values(run, staff, isp, audit_events) -> None:
    created = run(create_customer, staff, _form(isp))
    (event,) = audit_events("customer.create")
    assert event.customer_id == created.customer.id
    assert event.before is None
    assert event.after["full_name"] == "Peter Mwangi"
    assert event.after["status"] == "inactive"
    assert event.after["password_set"] is True
    assert (event.actor_kind, event.actor_name) == ("staff", "command line")
