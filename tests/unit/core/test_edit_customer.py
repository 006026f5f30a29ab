"""Editing details and changing the login password."""

from __future__ import annotations

import pytest

from core.errors import Conflict, InvalidInput, InvalidPhone
from core.events import CustomerRemoved
from core.lookup import get_customer
from core.usecases.customers import (
    CustomerChanges,
    change_password,
    edit_customer,
    reveal_password,
)
from core.usecases.network import RouterSpec, add_pool, add_router


def test_details_are_cleaned_and_stored(run, staff, make_customer, view) -> None:
    customer_id = make_customer(email="old@example.com")
    run(
        edit_customer,
        customer_id,
        staff,
        CustomerChanges(
            full_name=" Wanjiku  Njeri ",
            phone="254 733 000111",
            email="",
            physical_address=" Ruiru ",
            auto_renew=False,
        ),
    )
    stored = view(customer_id)
    assert (stored.full_name, stored.phone) == ("Wanjiku Njeri", "+254733000111")
    assert (stored.email, stored.physical_address, stored.auto_renew) == (None, "Ruiru", False)
    assert stored.username == "wanjiku.kamau"  # a login is not renamed behind the customer's back


def test_an_edit_that_changes_nothing_is_not_audited(
    run, staff, make_customer, audit_events
) -> None:
    customer_id = make_customer(notes="gate B")
    unchanged = CustomerChanges(notes=" gate B ", full_name="Wanjiku Kamau")
    run(edit_customer, customer_id, staff, unchanged)
    assert audit_events("customer.edit") == []


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        (CustomerChanges(phone="12"), InvalidPhone),
        (CustomerChanges(full_name=" "), InvalidInput),
        (CustomerChanges(username="Has Space"), InvalidInput),
    ],
)
def test_bad_edits_change_nothing(run, staff, make_customer, view, changes, error) -> None:
    customer_id = make_customer()
    before = view(customer_id)
    with pytest.raises(error):
        run(edit_customer, customer_id, staff, changes)
    assert view(customer_id) == before


def test_username_must_stay_unique(run, staff, make_customer, view) -> None:
    make_customer(username="taken")
    customer_id = make_customer()
    with pytest.raises(Conflict, match="username already exists: taken"):
        run(edit_customer, customer_id, staff, CustomerChanges(username="TAKEN"))
    run(edit_customer, customer_id, staff, CustomerChanges(username="Free.Name"))
    assert view(customer_id).username == "free.name"


def test_moving_to_another_router_removes_the_login_from_the_old_one(
    run, staff, make_customer, view, dispatcher
) -> None:
    run(add_router, staff, RouterSpec("edge-2", "10.0.0.2", 8728, "api", "pw", plain_api=True))
    run(add_pool, staff, "edge-2", "10.40.0.0/29")
    customer_id = make_customer()
    old_router = view(customer_id).router_id
    dispatcher.events.clear()
    run(edit_customer, customer_id, staff, CustomerChanges(router="edge-2"))
    stored = view(customer_id)
    assert stored.ip_address == "10.40.0.2"
    assert stored.router_id != old_router
    (removed,) = dispatcher.of_type(CustomerRemoved)
    assert (removed.customer_id, removed.router_id, removed.username) == (
        customer_id,
        old_router,
        "wanjiku.kamau",
    )


def test_change_password_to_a_chosen_or_generated_one(run, services, staff, make_customer):
    customer_id = make_customer()
    assert run(change_password, customer_id, staff, "n3w-Pass") == "n3w-Pass"
    generated = run(change_password, customer_id, staff)
    assert len(generated) == 8
    with services.unit_of_work() as uow:
        assert reveal_password(uow, get_customer(uow, customer_id)) == generated


@pytest.mark.parametrize("password", ["abc", "x" * 65, "with space", "tab\there"])
def test_bad_passwords_are_refused(run, staff, make_customer, view, password) -> None:
    customer_id = make_customer()
    before = view(customer_id).password_encrypted
    with pytest.raises(InvalidInput):
        run(change_password, customer_id, staff, password)
    assert view(customer_id).password_encrypted == before
