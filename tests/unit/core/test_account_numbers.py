"""Account numbers: the printed form, the check character, forgiving parsing, prefixes."""

from __future__ import annotations

import re
from itertools import permutations, product

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import account_numbers
from core.account_numbers import (
    ALPHABET,
    MAX_TOTAL_LENGTH,
    check_character,
    format_account_number,
    generate,
    is_valid_body,
    parse,
    validate_prefix,
)
from core.errors import InvalidAccountNumber

PREFIX = "MTJ"
bodies = st.text(alphabet=ALPHABET, min_size=6, max_size=6)


def _code(body: str) -> str:
    return body + check_character(body)


def test_alphabet_is_crockford_base32() -> None:
    assert ALPHABET == "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    assert len(set(ALPHABET)) == 32


@pytest.mark.parametrize("prefix", ["MTJ", "K", "ABCD", "NET1"])
def test_generated_number_has_prefix_six_characters_and_a_valid_check(prefix: str) -> None:
    for _ in range(200):
        number = generate(prefix)
        assert re.fullmatch(rf"{prefix}-[{ALPHABET}]{{7}}", number)
        assert len(number) <= MAX_TOTAL_LENGTH == 12
        assert is_valid_body(number.split("-", 1)[1])


def test_longest_prefix_still_fits_mpesa_account_reference() -> None:
    assert len(generate(validate_prefix("ABCD"))) == 12


@settings(deadline=None, max_examples=300)
@given(bodies)
def test_every_single_character_substitution_is_caught(body: str) -> None:
    code = _code(body)
    for position in range(len(code)):
        for symbol in ALPHABET:
            if symbol == code[position]:
                continue
            typo = code[:position] + symbol + code[position + 1 :]
            assert not is_valid_body(typo), (code, typo)


@settings(deadline=None, max_examples=300)
@given(bodies)
def test_every_adjacent_transposition_is_caught(body: str) -> None:
    code = _code(body)
    for position in range(len(code) - 1):
        first, second = code[position], code[position + 1]
        if first == second:
            continue
        swapped = code[:position] + second + first + code[position + 2 :]
        assert not is_valid_body(swapped), (code, swapped)


@pytest.mark.parametrize("position", range(5))
def test_swapping_neighbours_in_the_body_is_caught_for_every_pair(position: int) -> None:
    """Exhaustive over all 32 x 31 symbol pairs (Luhn mod 32 would miss 0 <-> Z)."""
    for first, second in permutations(ALPHABET, 2):
        body = ("Q" * position + first + second + "Q" * 6)[:6]
        code = _code(body)
        swapped = code[:position] + second + first + code[position + 2 :]
        assert not is_valid_body(swapped), (code, swapped)


def test_swapping_the_last_character_with_the_check_is_caught() -> None:
    for lead, last in product(ALPHABET, ALPHABET):
        code = _code(lead + "7Q2D" + last)
        if code[-1] != code[-2]:
            assert not is_valid_body(code[:-2] + code[-1] + code[-2]), code


def test_is_valid_body_rejects_wrong_length_and_foreign_symbols() -> None:
    code = _code("4K7Q2D")
    assert is_valid_body(code)
    assert not is_valid_body(code[:-1])
    assert not is_valid_body(code + "0")
    assert not is_valid_body(code.replace("K", "U"))
    assert not is_valid_body(code.lower())


@pytest.fixture
def number() -> str:
    return format_account_number(PREFIX, _code("4K7Q2D"))


def test_canonical_form_parses_to_itself(number: str) -> None:
    assert parse(number, PREFIX) == number


@pytest.mark.parametrize(
    "typed",
    [
        "{n}",
        "{n_lower}",
        "  {n}  ",
        "{prefix} {code}",
        "{prefix}{code}",
        "{code}",
        "{code_lower}",
        "{code_spaced}",
        "{code_dashed}",
        "{prefix}.{code}",
        "{prefix}_{code}",
    ],
)
def test_forgiving_forms_find_the_canonical_number(typed: str, number: str) -> None:
    code = number.split("-")[1]
    text = typed.format(
        n=number,
        n_lower=number.lower(),
        prefix=PREFIX,
        code=code,
        code_lower=code.lower(),
        code_spaced=" ".join(code),
        code_dashed=code[:3] + "-" + code[3:],
    )
    assert parse(text, PREFIX) == number


def test_lookalike_letters_read_as_digits() -> None:
    body = "10L1O0"  # what someone types for 101100
    canonical_body = "101100"
    number = format_account_number(PREFIX, _code(canonical_body))
    assert parse(body + check_character(canonical_body), PREFIX) == number
    assert parse(("I0" + "1100" + check_character(canonical_body)).lower(), PREFIX) == number
    assert parse(PREFIX + "-" + "IOLIOO" + check_character(canonical_body), PREFIX) == number


def test_wrong_check_character_is_refused_not_corrected(number: str) -> None:
    code = number.split("-")[1]
    wrong = next(symbol for symbol in ALPHABET if symbol != code[-1])
    with pytest.raises(InvalidAccountNumber, match="typing mistake"):
        parse(f"{PREFIX}-{code[:-1]}{wrong}", PREFIX)


@pytest.mark.parametrize(
    "text",
    ["", "MTJ", "MTJ-4K7Q2D", "MTJ-4K7Q2D99X", "XYZ-4K7Q2D9", "MTJ-4K7Q2U9", "4K7Q#D9", "+254712"],
)
def test_text_that_is_not_an_account_number_is_refused(text: str) -> None:
    with pytest.raises(InvalidAccountNumber, match="not an account number"):
        parse(text, PREFIX)


def test_looks_like_account_number(number: str) -> None:
    assert account_numbers.looks_like_account_number(number.lower(), PREFIX)
    assert not account_numbers.looks_like_account_number("john", PREFIX)
    wrong = next(symbol for symbol in ALPHABET if symbol != number[-1])
    assert not account_numbers.looks_like_account_number(number[:-1] + wrong, PREFIX)


@pytest.mark.parametrize(
    ("typed", "expected"), [("mtj", "MTJ"), (" Net ", "NET"), ("K", "K"), ("ab12", "AB12")]
)
def test_prefix_is_upper_cased(typed: str, expected: str) -> None:
    assert validate_prefix(typed) == expected


@pytest.mark.parametrize("prefix", ["", "   ", "ABCDE", "M-J", "M J", "MT_", "ÉTÉ", "MT²"])
def test_prefix_that_cannot_make_a_valid_number_is_refused(prefix: str) -> None:
    """A prefix must be 1 to 4 ASCII letters or digits: typeable on a keypad and within 12."""
    with pytest.raises(ValueError, match="account prefix"):
        validate_prefix(prefix)
