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
