"""Pieces of the Telegram adapter that need no network: splitting, keyboards, file URLs."""

from __future__ import annotations

from bot.answers import Answer, Button
from bot.limits import chunks
from bot.telegram import file_url_for, keyboard


def test_long_text_is_cut_at_line_ends_within_the_limit() -> None:
    text = "\n".join(f"line {n} " + "x" * 50 for n in range(200))
    pieces = chunks(text, 4096)
    assert len(pieces) > 1
    assert all(len(piece) <= 4096 for piece in pieces)
    assert "\n".join(pieces) == text


def test_a_line_longer_than_the_limit_is_cut_anyway() -> None:
    pieces = chunks("y" * 10_000, 4096)
    assert [len(piece) for piece in pieces] == [4096, 4096, 1808]


def test_keyboard_rows() -> None:
    answer = Answer("x", ((Button("A", "a:1"), Button("B", "b:1")), (Button("C", "c:1"),)))
    markup = keyboard(answer)
    assert markup is not None
    assert [[b.text for b in row] for row in markup.inline_keyboard] == [["A", "B"], ["C"]]
    assert keyboard(Answer("x")) is None


def test_file_url_follows_the_base_url() -> None:
    assert file_url_for("https://api.telegram.org/bot") == "https://api.telegram.org/file/bot"
    assert file_url_for("http://127.0.0.1:8081/bot/") == "http://127.0.0.1:8081/file/bot"


def test_button_data_over_telegrams_limit_is_a_bug() -> None:
    import pytest

    with pytest.raises(ValueError):
        Button("x", "y" * 65)
