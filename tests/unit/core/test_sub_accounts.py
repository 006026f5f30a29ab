"""Proof: sub-account rules. A sub-account is a full customer under one parent, one level deep;
the parent's card lists it; deleting a parent waits for its sub-accounts; suspending a parent
leaves them alone; subscribers still see only the accounts registered to their phone."""

from __future__ import annotations

import pytest

from core.errors import CustomerNotFound, InvalidInput, SubAccountsRemain
from core.lookup import get_customer
from core.models import Customer
from core.queries import customer_card
from core.usecases.customers import CustomerChanges, delete_customer, edit_customer
from core.usecases.selfservice import owned_customer, phone_overview
from core.usecases.service import suspend

ACME_PHONE = "+254712000001"
DESK_PHONE = "+254712000002"


@pytest.fixture
def acme(make_customer, view, isp) -> dict[str, int]:
    """Acme Ltd (PPPoE, paid) with two sub-accounts: a hotspot desk on its own phone, paid, and
    a back office on Acme's phone and the bigger plan, never activated."""
    parent = make_customer(full_name="Acme Ltd", phone=ACME_PHONE, paid=1500)
    number = view(parent).account_number
    desk = make_customer(
        full_name="Acme Desk",
        phone=DESK_PHONE,
        connection_type="hotspot",
        plan=isp.hotspot_plan,
        parent=number,
        paid=50,
    )
    office = make_customer(
        full_name="Acme Back Office",
        phone=ACME_PHONE,
        plan=isp.pppoe_plan_big,
        parent=number,
        activate=False,
    )
    return {"parent": parent, "desk": desk, "office": office}


def _card(services, customer_id: int):
    with services.unit_of_work() as uow:
        return customer_card(uow, get_customer(uow, customer_id, for_update=False))


def test_each_sub_account_is_a_full_customer_listed_on_the_parents_card(
    services, acme, view
) -> None:
    card = _card(services, acme["parent"])
    desk, office = view(acme["desk"]), view(acme["office"])
    assert [
        (c.account_number, c.full_name, c.status, c.plan, c.expires_at) for c in card.children
    ] == [
        (desk.account_number, "Acme Desk", "active", "Daily 5M", desk.expires_at),
        (office.account_number, "Acme Back Office", "inactive", "Home 20M", None),
    ]
    assert len({view(i).account_number for i in acme.values()}) == 3
    assert desk.router_id == view(acme["parent"]).router_id
    assert (
        _card(services, acme["desk"]).parent_account_number == view(acme["parent"]).account_number
    )
    assert _card(services, acme["desk"]).children == []


def test_a_sub_account_cannot_have_sub_accounts(run, make_customer, acme, view, count_rows) -> None:
    before = count_rows(Customer)
    with pytest.raises(InvalidInput, match="a sub-account cannot have sub-accounts of its own"):
        make_customer(full_name="Acme Till", parent=view(acme["desk"]).account_number)
    assert count_rows(Customer) == before


def test_an_unknown_parent_is_refused(make_customer) -> None:
    with pytest.raises(CustomerNotFound, match="no customer matches 'nobody'"):
        make_customer(parent="nobody")


def test_a_customer_cannot_be_its_own_parent(run, staff, acme, make_customer, view) -> None:
    loner = make_customer(full_name="Loner", phone="0799000000")
    with pytest.raises(InvalidInput, match="a customer cannot be its own sub-account"):
        run(edit_customer, loner, staff, CustomerChanges(parent=view(loner).account_number))
    assert view(loner).parent_id is None


def test_moving_a_customer_under_a_parent_and_back(
    run, staff, acme, make_customer, view, audit_events
) -> None:
    loner = make_customer(full_name="Loner", phone="0799000000")
    run(edit_customer, loner, staff, CustomerChanges(parent=view(acme["parent"]).account_number))
    assert view(loner).parent_id == acme["parent"]
    event = audit_events("customer.edit", loner)[-1]
    assert (event.before["parent_id"], event.after["parent_id"]) == (None, acme["parent"])
    run(edit_customer, loner, staff, CustomerChanges(parent=""))
    assert view(loner).parent_id is None


def test_one_level_only_when_moving(run, staff, acme, make_customer, view) -> None:
    loner = make_customer(full_name="Loner", phone="0799000000")
    with pytest.raises(InvalidInput, match="a sub-account cannot have sub-accounts of its own"):
        run(edit_customer, loner, staff, CustomerChanges(parent=view(acme["desk"]).account_number))
    with pytest.raises(
        InvalidInput, match="this customer has sub-accounts, so it cannot become one"
    ):
        run(
            edit_customer, acme["parent"], staff, CustomerChanges(parent=view(loner).account_number)
        )
    assert view(loner).parent_id is None and view(acme["parent"]).parent_id is None


def test_a_parent_with_live_sub_accounts_is_not_deleted_even_when_forced(
    run, staff, acme, view
) -> None:
    with pytest.raises(SubAccountsRemain, match="delete its 2 sub-account"):
        run(delete_customer, acme["parent"], staff, force=True)
    run(delete_customer, acme["office"], staff)
    with pytest.raises(SubAccountsRemain, match="delete its 1 sub-account"):
        run(delete_customer, acme["parent"], staff, force=True)
    assert view(acme["parent"]).deleted_at is None


def test_a_parent_whose_sub_accounts_are_all_deleted_can_be_deleted(
    run, staff, acme, view, services
) -> None:
    run(delete_customer, acme["desk"], staff, force=True)  # it has paid time left
    run(delete_customer, acme["office"], staff)
    assert _card(services, acme["parent"]).children == []
    run(delete_customer, acme["parent"], staff, force=True)
    assert view(acme["parent"]).deleted_at is not None
    # The deleted sub-accounts keep their link to the parent (history), not their data.
    assert view(acme["desk"]).parent_id == acme["parent"]


def test_suspending_a_parent_leaves_its_sub_accounts_as_they_are(run, staff, acme, view) -> None:
    run(suspend, acme["parent"], staff, "cheque bounced")
    assert view(acme["parent"]).status == "suspended"
    assert (view(acme["desk"]).status, view(acme["office"]).status) == ("active", "inactive")


def test_suspending_a_sub_account_leaves_the_parent_as_it_is(run, staff, acme, view) -> None:
    run(suspend, acme["desk"], staff, "moved out")
    assert (view(acme["desk"]).status, view(acme["parent"]).status) == ("suspended", "active")


def test_a_phone_sees_only_the_accounts_registered_to_it(services, acme, view) -> None:
    with services.unit_of_work() as uow:
        on_acme_phone = [a.customer_id for a in phone_overview(uow, ACME_PHONE).accounts]
        on_desk_phone = [a.customer_id for a in phone_overview(uow, DESK_PHONE).accounts]
        with pytest.raises(CustomerNotFound):
            owned_customer(uow, ACME_PHONE, acme["desk"])
        with pytest.raises(CustomerNotFound):
            owned_customer(uow, DESK_PHONE, acme["parent"])
    # The back office is registered to Acme's phone; the desk, on its own phone, is not.
    assert on_acme_phone == [acme["parent"], acme["office"]]
    assert on_desk_phone == [acme["desk"]]
