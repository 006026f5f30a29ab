"""Which customer a paybill payment belongs to: the forgiving account match, and money that
matches nobody (kept for staff, never rejected once it has moved, assignable later)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

from core import account_numbers
from core.errors import InvalidTransition, PaymentNotFound
from core.models import Customer
from core.retry import in_transaction
from core.usecases.billing import assign_payment, unmatched_payments
from core.usecases.c2b import c2b_account_exists
from core.usecases.notices import payment_notices

# An account number with every look-alike digit in it: 0 (typed O) and 1 (typed I or L).
BODY = "10A1B0"
ACCOUNT = f"MTJ-{BODY}{account_numbers.check_character(BODY)}"


@pytest.fixture
def customer(services: Any, make_customer: Any) -> Any:
    """An inactive customer whose account number is ACCOUNT."""
    subscriber = make_customer()
    with services.unit_of_work() as uow:
        uow.session.execute(
            update(Customer).where(Customer.id == subscriber.id).values(account_number=ACCOUNT)
        )
        uow.commit()
    return subscriber


def _loose(account: str) -> dict[str, str]:
    code = account.removeprefix("MTJ-")
    return {
        "exact": account,
        "lower case": account.lower(),
        "spaces": f"  MTJ {code[:3]} {code[3:]} ",
        "no dash": account.replace("-", ""),
        "extra dashes": "-".join(account.replace("-", "")),
        "O for 0": account.replace("0", "O"),
        "o for 0, lower": account.replace("0", "o").lower(),
        "I for 1": account.replace("1", "I"),
        "l for 1": account.replace("1", "l"),
        "L for 1": account.replace("1", "L"),
        "no prefix": code,
        "no prefix, lower, O and l": code.lower().replace("0", "o").replace("1", "l"),
    }


@pytest.mark.parametrize("how", list(_loose(ACCOUNT)))
def test_a_loosely_typed_account_number_finds_the_customer(
    mpesa: Any, services: Any, customer: Any, how: str
) -> None:
    typed = _loose(ACCOUNT)[how]
    with services.unit_of_work() as uow:
        assert c2b_account_exists(uow, typed)
    result = mpesa.c2b(typed, 1500, "SKA1000001")
    assert result.customer_id == customer.id and not result.duplicate
    assert mpesa.state(customer.id).status == "active"
    assert mpesa.mpesa_payments() == [("SKA1000001", 1500, customer.id)]


OTHER_ACCOUNT = "MTJ-4K7Q2D" + account_numbers.check_character("4K7Q2D")


@pytest.mark.parametrize(
    "typed",
    [
        OTHER_ACCOUNT,  # well formed, nobody's
        ACCOUNT[:-1] + ("X" if ACCOUNT[-1] != "X" else "Y"),  # wrong check character
        ACCOUNT[:4] + ACCOUNT[5] + ACCOUNT[4] + ACCOUNT[6:],  # two characters swapped
        "",
        "   ",
        "hello",
        "0712345610",  # the customer's phone is not an account number
        "MTJ-10A1B0",  # too short
    ],
)
def test_validation_refuses_what_names_no_customer(
    services: Any, customer: Any, typed: str
) -> None:
    with services.unit_of_work() as uow:
        assert not c2b_account_exists(uow, typed)


def test_money_for_no_account_is_kept_for_staff(mpesa: Any, services: Any, customer: Any) -> None:
    result = mpesa.c2b("WRONG-ACC", 1200, "SKU0000001", name="MARY W")
    assert result.customer_id is None and not result.duplicate
    assert mpesa.mpesa_payments() == [("SKU0000001", 1200, None)]
    assert mpesa.state(customer.id).balance_kes == 0
    with services.unit_of_work() as uow:
        [waiting] = unmatched_payments(uow)
        assert (waiting.account_reference, waiting.payer_name) == ("WRONG-ACC", "MARY W")
    line = in_transaction(services, lambda uow: payment_notices(uow, result.payment_id).staff_line)
    assert line is not None
    assert "Unmatched payment" in line and "SKU0000001" in line and "WRONG-ACC" in line
    assert mpesa.sms() == []  # nobody to send a receipt to


def test_a_mistyped_account_is_kept_unmatched_not_credited_elsewhere(
    mpesa: Any, customer: Any
) -> None:
    swapped = ACCOUNT[:4] + ACCOUNT[5] + ACCOUNT[4] + ACCOUNT[6:]
    result = mpesa.c2b(swapped, 1500, "SKU0000002")
    assert result.customer_id is None
    assert mpesa.state(customer.id).balance_kes == 0


def test_unmatched_money_is_assigned_later_and_renews_once(
    mpesa: Any, services: Any, staff: Any, customer: Any
) -> None:
    mpesa.c2b("WRONG-ACC", 1500, "SKU0000003")
    assigned = in_transaction(
        services, lambda uow: assign_payment(uow, staff, "sku0000003", customer.id)
    )
    assert assigned.customer_id == customer.id
    assert assigned.renewal is not None and assigned.renewal.periods == 1
    after = mpesa.state(customer.id)
    assert (after.status, after.balance_kes) == ("active", 0)
    # Safaricom redelivers the confirmation, and staff try to assign it again: nothing changes.
    again = mpesa.c2b("WRONG-ACC", 1500, "SKU0000003")
    assert again.duplicate and again.customer_id == customer.id
    with pytest.raises(InvalidTransition):
        in_transaction(services, lambda uow: assign_payment(uow, staff, "SKU0000003", customer.id))
    assert mpesa.state(customer.id) == after
    assert mpesa.mpesa_payments() == [("SKU0000003", 1500, customer.id)]
    with services.unit_of_work() as uow:
        assert unmatched_payments(uow) == []


def test_assigning_an_unknown_receipt_is_refused(
    mpesa: Any, services: Any, staff: Any, customer: Any
) -> None:
    with pytest.raises(PaymentNotFound):
        in_transaction(services, lambda uow: assign_payment(uow, staff, "SKNOPE0000", customer.id))


# -- the additional account number (issue 16.7) --------------------------------------------------


def _give_second_reference(services: Any, customer_id: int, reference: str) -> None:
    from core.actors import Actor
    from core.usecases.customers import CustomerChanges, edit_customer

    in_transaction(
        services,
        lambda uow: edit_customer(
            uow, customer_id, Actor.cli(), CustomerChanges(account_number2=reference)
        ),
    )


@pytest.mark.parametrize("typed", ["ACC-0042", "acc-0042", "  Acc-0042 "])
def test_the_additional_account_number_passes_validation(
    services: Any, customer: Any, typed: str
) -> None:
    _give_second_reference(services, customer.id, "ACC-0042")
    with services.unit_of_work() as uow:
        assert c2b_account_exists(uow, typed)


def test_a_confirmation_for_the_additional_account_number_credits_the_customer(
    mpesa: Any, services: Any, customer: Any
) -> None:
    _give_second_reference(services, customer.id, "ACC-0042")
    result = mpesa.c2b("acc-0042", 1500, "SKB2000001")
    assert result.customer_id == customer.id and not result.duplicate
    assert mpesa.state(customer.id).status == "active"
    assert mpesa.mpesa_payments() == [("SKB2000001", 1500, customer.id)]
    # The same receipt again, by either reference, changes nothing.
    again = mpesa.c2b(ACCOUNT, 1500, "SKB2000001")
    assert again.duplicate and mpesa.mpesa_payments() == [("SKB2000001", 1500, customer.id)]


def test_the_account_number_still_works_beside_the_additional_one(
    mpesa: Any, services: Any, customer: Any
) -> None:
    _give_second_reference(services, customer.id, "ACC-0042")
    result = mpesa.c2b(ACCOUNT.lower(), 1500, "SKB2000002")
    assert result.customer_id == customer.id


def test_a_reference_that_is_nobodys_is_refused_and_its_money_kept_unmatched(
    mpesa: Any, services: Any, customer: Any
) -> None:
    _give_second_reference(services, customer.id, "ACC-0042")
    with services.unit_of_work() as uow:
        assert not c2b_account_exists(uow, "ACC-0043")
        assert not c2b_account_exists(uow, "ACC0042")  # the dash is part of the reference
    result = mpesa.c2b("ACC-0043", 1500, "SKB2000003")
    assert result.customer_id is None
    assert mpesa.mpesa_payments() == [("SKB2000003", 1500, None)]
    assert mpesa.state(customer.id).balance_kes == 0


def test_a_deleted_customers_additional_account_number_matches_nobody(
    mpesa: Any, services: Any, customer: Any
) -> None:
    from core.actors import Actor
    from core.usecases.customers import delete_customer

    _give_second_reference(services, customer.id, "ACC-0042")
    in_transaction(services, lambda uow: delete_customer(uow, customer.id, Actor.cli(), force=True))
    with services.unit_of_work() as uow:
        assert not c2b_account_exists(uow, "ACC-0042")
    assert mpesa.c2b("ACC-0042", 1500, "SKB2000004").customer_id is None
