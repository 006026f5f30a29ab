"""Generated logins: usernames from names (or the phone), and easy-to-type passwords."""

from __future__ import annotations

import pytest

from core.credentials import (
    PASSWORD_LENGTH,
    generate_password,
    generate_username,
    is_valid_username,
    username_base,
)
from core.usecases.customers import NewCustomer, create_customer


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("John Kamau", "john.kamau"),
        ("  John   Mwangi  Kamau ", "john.kamau"),
        ("José Müller", "jose.muller"),
        ("Zoë Ñandú", "zoe.nandu"),
        ("Wanjiku", "wanjiku"),
        ("O'Brien Otieno", "o.otieno"),
        ("MARY-ANNE WAMBUI", "mary.wambui"),
    ],
)
def test_username_from_name(name: str, expected: str) -> None:
    assert username_base(name, "+254712345678") == expected
    assert is_valid_username(expected)


@pytest.mark.parametrize("name", ["王伟", "!!!", "", "A", "—"])
def test_username_from_phone_when_the_name_gives_no_letters(name: str) -> None:
    assert username_base(name, "+254712345678") == "u712345678"


def test_username_without_name_or_phone_is_still_valid() -> None:
    assert username_base("王伟", None) == "user"


def test_long_names_are_cut_to_a_valid_length() -> None:
    base = username_base("Bartholomew-Maximilian Oluwaseyifunmi-Ekundayo", None)
    assert len(base) <= 24
    assert is_valid_username(base)
    assert not base.endswith(".")


def test_duplicates_get_2_3_and_so_on() -> None:
    taken = {"john.kamau", "john.kamau2", "john.kamau3"}
    assert generate_username("John Kamau", None, taken.__contains__) == "john.kamau4"
    assert generate_username("Mary Wanjiru", None, taken.__contains__) == "mary.wanjiru"


def test_create_customer_gives_duplicates_numbered_usernames(run, staff, isp) -> None:
    usernames = [
        run(
            create_customer,
            staff,
            NewCustomer("José Kamau", "0712345678", "hotspot", isp.hotspot_plan, isp.router),
        ).customer.username
        for _ in range(3)
    ]
    assert usernames == ["jose.kamau", "jose.kamau2", "jose.kamau3"]


def test_requested_username_is_stored_lower_case_and_counts_as_taken(run, staff, isp) -> None:
    run(
        create_customer,
        staff,
        NewCustomer(
            "X", "0712345678", "hotspot", isp.hotspot_plan, isp.router, username="Jane.Doe"
        ),
    )
    created = run(
        create_customer,
        staff,
        NewCustomer("Jane Doe", "0712345679", "hotspot", isp.hotspot_plan, isp.router),
    )
    assert created.customer.username == "jane.doe2"


def test_generated_passwords_are_readable_and_random() -> None:
    passwords = {generate_password() for _ in range(200)}
    assert len(passwords) == 200
    for password in passwords:
        assert len(password) == PASSWORD_LENGTH
        assert password.isalnum()
        assert password == password.lower()
        assert not set(password) & set("0o1lI")


def test_password_length_can_be_chosen() -> None:
    assert len(generate_password(12)) == 12


@pytest.mark.parametrize("username", ["ab", "john.kamau", "u712345678", "a_b-c@d", "9lives"])
def test_valid_usernames(username: str) -> None:
    assert is_valid_username(username)


@pytest.mark.parametrize("username", ["a", "", "John", ".john", "jo hn", "jöhn", "x" * 65])
def test_invalid_usernames(username: str) -> None:
    assert not is_valid_username(username)
