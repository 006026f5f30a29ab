"""Search answers with expected values: what ``find`` and ``resolve`` return for a part of a name,
a phone in any format, an account number (forgiving forms and typos), a login and an IP address.
"""

from __future__ import annotations

import pytest

from core.errors import CustomerNotFound
from core.lookup import SEARCH_LIMIT, find, resolve
from core.usecases.customers import delete_customer

NAMES = {
    "otieno": "Achieng Otieno",
    "wambui": "Achieng Wambui",
    "baraka": "Baraka Mwangi",
    "chebet": "Chebet 100%_Sure",
    "zawadi": "Zawadi Njeri",
}


@pytest.fixture
def people(make_customer, isp) -> dict[str, int]:
    """Five customers: two share a phone; Zawadi's login is "wambui"; Chebet has a static IP."""
    return {
        "otieno": make_customer(full_name=NAMES["otieno"], phone="0711000001"),
        "wambui": make_customer(full_name=NAMES["wambui"], phone="0711000001"),
        "baraka": make_customer(full_name=NAMES["baraka"], phone="0711000003", username="baraka"),
        "chebet": make_customer(
            full_name=NAMES["chebet"],
            phone="0711000004",
            connection_type="static",
            plan=isp.static_plan,
            ip_address="10.10.0.6",
        ),
        "zawadi": make_customer(full_name=NAMES["zawadi"], phone="0711000005", username="wambui"),
    }


def _found(run, text: str, **options) -> list[str]:
    """Who ``find`` returns, by name, in its order."""
    return [customer.full_name for customer in run(find, text, **options)]


@pytest.mark.parametrize("text", ["achieng", "ACHIENG", "  aChIeNg ", "chieng"])
def test_part_of_a_name_in_any_case(run, people, text: str) -> None:
    assert _found(run, text) == ["Achieng Otieno", "Achieng Wambui"]


def test_part_of_a_surname(run, people) -> None:
    assert _found(run, "otieno") == ["Achieng Otieno"]
    assert _found(run, "mwan") == ["Baraka Mwangi"]
    assert _found(run, "njeri wambui") == []


def test_a_single_letter_finds_every_name_with_it_by_name(run, people) -> None:
    # "a": in four names (Chebet's is "Chebet 100%_Sure", login chebet.sure: no "a").
    assert _found(run, "a") == ["Achieng Otieno", "Achieng Wambui", "Baraka Mwangi", "Zawadi Njeri"]


def test_an_exact_login_comes_before_names_containing_the_text(run, people) -> None:
    assert _found(run, "wambui") == ["Zawadi Njeri", "Achieng Wambui"]
    assert run(resolve, "WAMBUI").id == people["zawadi"]


def test_part_of_a_login(run, people) -> None:
    assert _found(run, "bara") == ["Baraka Mwangi"]
    assert _found(run, "chebet.su") == ["Chebet 100%_Sure"]  # the generated login


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("100%", ["Chebet 100%_Sure"]),
        ("%_s", ["Chebet 100%_Sure"]),
        ("_", ["Chebet 100%_Sure"]),
        ("1__", []),  # as wildcards: "100"
        ("b%t", []),  # as a wildcard: "Chebet", "Baraka Mwangi"
        ("\\", []),
    ],
)
def test_like_wildcards_are_plain_characters(run, people, text: str, expected) -> None:
    assert _found(run, text) == expected


@pytest.mark.parametrize(
    "text", ["0711000003", "0711 000 003", "+254711000003", "254711000003", "711000003"]
)
def test_phone_in_any_format(run, people, text: str) -> None:
    assert _found(run, text) == ["Baraka Mwangi"]
    assert run(resolve, text).id == people["baraka"]


def test_a_shared_phone_finds_both_and_cannot_be_resolved(run, people, view) -> None:
    assert _found(run, "+254 711 000 001") == ["Achieng Otieno", "Achieng Wambui"]
    numbers = f"{view(people['otieno']).account_number}, {view(people['wambui']).account_number}"
    with pytest.raises(CustomerNotFound) as refused:
        run(resolve, "0711000001")
    assert refused.value.message == (
        f"'0711000001' matches 2 customers ({numbers}); use the account number"
    )


def test_a_phone_is_not_looked_for_inside_names(run, people, make_customer, isp) -> None:
    make_customer(
        full_name="Kiosk 0711000003",
        phone="0722999999",
        connection_type="hotspot",
        plan=isp.hotspot_plan,
    )
    assert _found(run, "0711000003") == ["Baraka Mwangi"]


def test_account_number_in_forgiving_forms(run, people, view) -> None:
    number = view(people["wambui"]).account_number  # MTJ-XXXXXXC
    body = number.removeprefix("MTJ-")
    for text in (number, number.lower(), number.replace("-", " "), body, " ".join(body)):
        assert _found(run, text) == ["Achieng Wambui"], text
        assert run(resolve, text).id == people["wambui"]


def test_account_number_with_a_typo_finds_nobody_and_says_so(run, people, view) -> None:
    number = view(people["wambui"]).account_number
    typo = number[:-1] + ("A" if number[-1] != "A" else "B")
    swapped = number[:4] + number[5] + number[4] + number[6:]
    for text in (typo, swapped if swapped != number else typo):
        assert _found(run, text) == []
        with pytest.raises(CustomerNotFound) as refused:
            run(resolve, text)
        assert (
            refused.value.message
            == f"{text!r} has a typing mistake: please check the account number"
        )


@pytest.mark.parametrize("text", ["baraka", "BARAKA", " Baraka "])
def test_login_in_any_case(run, people, text: str) -> None:
    assert run(resolve, text).id == people["baraka"]
    assert _found(run, text) == ["Baraka Mwangi"]


def test_ip_address(run, people) -> None:
    assert _found(run, "10.10.0.6") == ["Chebet 100%_Sure"]
    assert run(resolve, " 10.10.0.6 ").id == people["chebet"]
    assert _found(run, "10.10.0.7") == []
    with pytest.raises(CustomerNotFound) as refused:
        run(resolve, "10.10.0.7")
    assert refused.value.message == "no customer matches '10.10.0.7'"


def test_names_are_for_find_not_resolve(run, people) -> None:
    with pytest.raises(CustomerNotFound, match="no customer matches 'achieng'"):
        run(resolve, "achieng")


@pytest.mark.parametrize("text", ["", "   "])
def test_empty_text(run, people, text: str) -> None:
    assert _found(run, text) == []
    with pytest.raises(CustomerNotFound, match="give an account number, phone, username or IP"):
        run(resolve, text)


def test_deleted_customers_are_not_found(run, people, staff, view) -> None:
    number = view(people["zawadi"]).account_number
    run(delete_customer, people["zawadi"], staff)
    assert _found(run, "zawadi") == []
    assert _found(run, number) == []
    assert _found(run, "0711000005") == []
    with pytest.raises(CustomerNotFound):
        run(resolve, number)


def test_the_limit(run, make_customer, isp) -> None:
    for _ in range(SEARCH_LIMIT + 2):
        make_customer(
            full_name="Same Name",
            phone="0733000000",
            connection_type="hotspot",
            plan=isp.hotspot_plan,
        )
    assert len(_found(run, "same")) == SEARCH_LIMIT
    assert len(_found(run, "same", limit=3)) == 3
    assert len(_found(run, "0733000000", limit=3)) == 3


def test_plan_and_router_come_loaded(run, people, services) -> None:
    with services.unit_of_work() as uow:
        customer = find(uow, "baraka")[0]
        # Loaded with the customer: a list of 20 customers costs one query, not 41.
        assert "plan" in customer.__dict__ and "router" in customer.__dict__
        assert (customer.plan.name, customer.router.name) == ("Home 10M", "core-1")
