"""Finding customers: account number (forgiving), phone in any format, username, IP, name."""

from __future__ import annotations

import pytest

from core import account_numbers
from core.account_numbers import ALPHABET, check_character
from core.errors import CustomerNotFound
from core.lookup import by_account_number, find, get_customer, resolve

KNOWN_BODY = "10Q1A0"
KNOWN = "MTJ-" + KNOWN_BODY + check_character(KNOWN_BODY)


@pytest.fixture
def people(make_customer, isp, monkeypatch) -> dict[str, int]:
    """Wanjiku (PPPoE, a known account number) and two hotspot customers, one sharing her phone."""
    with monkeypatch.context() as patch:
        patch.setattr(account_numbers, "generate", lambda prefix: KNOWN)
        wanjiku = make_customer(full_name="Wanjiku Kamau", phone="0712345678")
    hotspot = {"connection_type": "hotspot", "plan": isp.hotspot_plan}
    john = make_customer(full_name="John Otieno", phone="0722000111", username="jotieno", **hotspot)
    mary = make_customer(full_name="Mary Wanjiku", phone="+254712345678", **hotspot)
    return {"wanjiku": wanjiku, "john": john, "mary": mary}


@pytest.mark.parametrize(
    "typed",
    [
        KNOWN,
        KNOWN.lower(),
        KNOWN.replace("-", " "),
        KNOWN.replace("-", ""),
        KNOWN[4:],
        KNOWN[4:].lower(),
        " ".join(KNOWN[4:]),
        KNOWN.replace("0", "O").replace("1", "I"),
        KNOWN.replace("1", "l").replace("0", "o").lower(),
        "mtj-" + KNOWN[4:7] + "-" + KNOWN[7:],
    ],
)
def test_account_number_in_forgiving_forms(run, people, typed: str) -> None:
    assert run(resolve, typed).id == people["wanjiku"]
    assert [customer.id for customer in run(find, typed)] == [people["wanjiku"]]


def test_a_typo_in_the_account_number_never_finds_someone_else(run, people, view) -> None:
    others = {
        number
        for number in (view(people["john"]).account_number, view(people["mary"]).account_number)
    }
    code = KNOWN[4:]
    for position in range(len(code)):
        for symbol in ALPHABET:
            if symbol == code[position]:
                continue
            typo = code[:position] + symbol + code[position + 1 :]
            with pytest.raises(CustomerNotFound) as refused:
                run(resolve, "MTJ-" + typo)
            assert not any(number in refused.value.message for number in others)


def test_wrong_check_character_says_it_is_a_typing_mistake(run, people) -> None:
    wrong = next(symbol for symbol in ALPHABET if symbol != KNOWN[-1])
    with pytest.raises(CustomerNotFound, match="typing mistake"):
        run(resolve, KNOWN[:-1] + wrong)


@pytest.mark.parametrize(
    "typed", ["0722000111", "+254722000111", "254722000111", "0722 000 111", "722000111"]
)
def test_phone_in_any_format(run, people, typed: str) -> None:
    assert run(resolve, typed).id == people["john"]


def test_a_phone_shared_by_two_customers_is_ambiguous_and_lists_them(run, people, view) -> None:
    with pytest.raises(CustomerNotFound, match="matches 2 customers") as refused:
        run(resolve, "0712 345 678")
    assert view(people["wanjiku"]).account_number in refused.value.message
    assert view(people["mary"]).account_number in refused.value.message
    assert "use the account number" in refused.value.message
    found = {customer.id for customer in run(find, "254712345678")}
    assert found == {people["wanjiku"], people["mary"]}


@pytest.mark.parametrize("typed", ["jotieno", "JOTIENO", "  JOtieno "])
def test_username_any_case(run, people, typed: str) -> None:
    assert run(resolve, typed).id == people["john"]


def test_ip_address(run, people) -> None:
    assert run(resolve, "10.10.0.2").id == people["wanjiku"]
    assert run(resolve, " 10.10.0.2 ").id == people["wanjiku"]


def test_part_of_the_name_is_for_find_not_resolve(run, people) -> None:
    found = [customer.id for customer in run(find, "wanJIKU")]
    assert found == [people["mary"], people["wanjiku"]]  # ordered by name
    assert [customer.id for customer in run(find, "otie")] == [people["john"]]
    with pytest.raises(CustomerNotFound, match="no customer matches"):
        run(resolve, "kamau")


@pytest.mark.parametrize("text", ["%", "_", "\\", "%%"])
def test_like_wildcards_are_taken_literally(run, people, text: str) -> None:
    assert run(find, text) == []


def test_find_respects_the_limit(run, people) -> None:
    assert len(run(find, "a", limit=2)) == 2


@pytest.mark.parametrize("text", ["", "   "])
def test_empty_search(run, people, text: str) -> None:
    assert run(find, text) == []
    with pytest.raises(CustomerNotFound, match="give an account number"):
        run(resolve, text)


def test_nothing_matches(run, people) -> None:
    with pytest.raises(CustomerNotFound, match="no customer matches 'nobody'"):
        run(resolve, "nobody")
    unused = "MTJ-000000" + check_character("000000")
    with pytest.raises(CustomerNotFound, match="no customer matches"):
        run(resolve, unused)
    assert run(by_account_number, unused) is None


def test_get_customer_by_id(run, people) -> None:
    assert run(get_customer, people["john"], for_update=False).full_name == "John Otieno"
    with pytest.raises(CustomerNotFound, match="no customer with id 999"):
        run(get_customer, 999)
