"""core.search gives core.lookup's answers through indexes (what the bot uses to stay fast)."""

from __future__ import annotations

import pytest

from core import lookup
from core.errors import CustomerNotFound
from core.search import find_customers, resolve_customer


@pytest.fixture
def people(make_customer):
    return [
        make_customer(full_name="Achieng Otieno", phone="0711000001"),
        make_customer(full_name="Achieng Wambui", phone="0711000001"),  # a shared phone
        make_customer(full_name="Baraka Mwangi", phone="0711000003", username="baraka"),
        make_customer(
            full_name="Chebet 100%_Sure",
            phone="0711000004",
            connection_type="static",
            plan="Biz 50M",
            ip_address="10.10.0.9",
        ),
    ]


def _outcome(function, uow, text):
    try:
        return function(uow, text).id
    except CustomerNotFound as refused:
        return refused.message


def test_resolve_agrees_with_lookup(services, people) -> None:
    texts = [
        people[0].account_number,
        people[0].account_number.lower().replace("-", " "),
        people[2].account_number[:-1] + "Z",  # a typo in the check character
        "BARAKA",
        "baraka",
        "+254711000003",
        "0711 000 003",
        "0711000001",
        "10.10.0.9",
        "10.10.0.99",
        "nobody",
        "",
        "achieng",
    ]
    with services.unit_of_work() as uow:
        for text in texts:
            assert _outcome(resolve_customer, uow, text) == _outcome(lookup.resolve, uow, text), (
                text
            )


def test_find_agrees_with_lookup(services, people) -> None:
    texts = [
        "achieng",
        "ACHIENG",
        "otieno",
        "bara",
        "100%",
        "_sure",
        "%",
        "baraka",
        "zzz",
        people[1].account_number,
        "0711000001",
        "10.10.0.9",
        "a",
        "",
    ]
    with services.unit_of_work() as uow:
        for text in texts:
            ours = [c.id for c in find_customers(uow, text)]
            theirs = [c.id for c in lookup.find(uow, text)]
            assert ours == theirs, text


def test_find_respects_the_limit(services, make_customer) -> None:
    for _ in range(5):
        make_customer(full_name="Same Name")
    with services.unit_of_work() as uow:
        assert len(find_customers(uow, "same", limit=3)) == 3
