"""Reading command lines."""

from __future__ import annotations

from datetime import date

import pytest

from bot.parsing import BadArguments, amount, days_or_date, parse_command


def test_command_name_words_and_rest() -> None:
    line = parse_command("/Suspend@mteja_bot  MTJ-4K7Q2D9   late  payment ")
    assert line is not None
    assert line.name == "suspend"
    assert line.word(0) == "MTJ-4K7Q2D9"
    assert line.rest(1) == "late  payment"
    assert line.optional_word(5) is None
    with pytest.raises(BadArguments):
        line.word(5)


def test_text_that_is_not_a_command() -> None:
    assert parse_command("hello") is None
    assert parse_command("/") is None
    line = parse_command("/sms REF line one\nline two")
    assert line is not None and line.rest(1) == "line one\nline two"


def test_days_or_date() -> None:
    assert days_or_date("7") == (7, None)
    assert days_or_date("2026-12-31") == (None, date(2026, 12, 31))
    with pytest.raises(BadArguments):
        days_or_date("next-week")


@pytest.mark.parametrize(
    ("text", "problem"),
    [("-3", "days must be 1 or more, not -3"), ("0", "days must be 1 or more, not 0")],
)
def test_days_that_are_not_positive_say_so(text: str, problem: str) -> None:
    with pytest.raises(BadArguments) as refused:
        days_or_date(text)
    assert refused.value.hint == problem


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("-500", "amount must be more than 0, not -500"),
        ("0", "amount must be more than 0, not 0"),
        ("12.50", "amount must be a whole number of shillings, not '12.50'"),
        ("lots", "amount must be a whole number of shillings, not 'lots'"),
    ],
)
def test_an_amount_says_what_is_wrong_with_it(text: str, problem: str) -> None:
    with pytest.raises(BadArguments) as refused:
        amount(text)
    assert refused.value.hint == problem


def test_amounts_in_any_usual_spelling() -> None:
    assert [amount(text) for text in ("1500", "1,500", "KES 1,500", "ksh 1500")] == [1500] * 4
