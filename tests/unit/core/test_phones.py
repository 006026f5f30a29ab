"""Phone numbers: every way Kenyans write one is stored as the same E.164 number."""

from __future__ import annotations

import pytest

from core.errors import InvalidPhone
from core.phones import display_phone, normalize_phone, try_normalize_phone


@pytest.mark.parametrize(
    "typed",
    [
        "0712345678",
        "+254712345678",
        "254712345678",
        "712345678",
        "0712 345 678",
        "0712 345678",
        "+254 712 345 678",
        "254 712 345 678",
        "  0712345678  ",
        "0712-345-678",
    ],
)
def test_every_form_of_a_safaricom_number_is_one_number(typed: str) -> None:
    assert normalize_phone(typed) == "+254712345678"


@pytest.mark.parametrize("typed", ["0112345678", "+254112345678", "254112345678", "0112 345 678"])
def test_new_011_prefix_numbers_are_understood(typed: str) -> None:
    assert normalize_phone(typed) == "+254112345678"


def test_foreign_number_with_plus_keeps_its_country() -> None:
    assert normalize_phone("+256 772 123456") == "+256772123456"


@pytest.mark.parametrize(
    "garbage", ["", "   ", "hello", "07123", "0712345678901234", "+999123", "12", "07abc45678"]
)
def test_garbage_is_refused(garbage: str) -> None:
    with pytest.raises(InvalidPhone):
        normalize_phone(garbage)
    assert try_normalize_phone(garbage) is None


def test_try_normalize_phone_returns_e164() -> None:
    assert try_normalize_phone("0712 345678") == "+254712345678"


def test_display_phone_is_the_local_form() -> None:
    assert display_phone("+254712345678") == "0712 345678"
    assert display_phone("not a phone") == "not a phone"


def test_the_cache_answers_each_text_with_its_own_number() -> None:
    # Normalized phones are kept (core.phones._normalized): a second call must still give each
    # text its own number, never one seen before, in any region.
    texts = [f"07{number:08d}" for number in range(0, 2000, 7)]
    first = [normalize_phone(text) for text in texts]
    again = [normalize_phone(text) for text in reversed(texts)]
    assert again == list(reversed(first))
    assert first == [f"+2547{number:08d}" for number in range(0, 2000, 7)]
    assert normalize_phone("0712345678", "UG") != normalize_phone("0712345678", "KE")


def test_a_refused_text_is_refused_every_time() -> None:
    for _ in range(3):
        with pytest.raises(InvalidPhone):
            normalize_phone("07123")
        assert try_normalize_phone("07123") is None
