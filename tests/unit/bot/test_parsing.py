"""Reading command lines."""

from __future__ import annotations

from datetime import date

import pytest

from bot.parsing import BadArguments, days_or_date, parse_command


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
