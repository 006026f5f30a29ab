"""Reading a staff member's command line: the command, its words, and the free text after them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from core.errors import InvalidInput
from core.ledger import parse_amount
from core.usecases.service import parse_days_or_date


class BadArguments(Exception):
    """The words after a command do not fit it; the staff member is shown its usage line."""

    def __init__(self, hint: str | None = None) -> None:
        super().__init__(hint or "bad arguments")
        self.hint = hint


@dataclass(frozen=True)
class CommandLine:
    """``/suspend@mtejabot MTJ-4K7Q2D9 late payment`` → name ``suspend``, words, and raw text."""

    name: str
    text: str

    @property
    def words(self) -> list[str]:
        return self.text.split()

    def word(self, index: int) -> str:
        """The word at ``index``, or BadArguments when it is missing."""
        words = self.words
        if index >= len(words):
            raise BadArguments()
        return words[index]

    def optional_word(self, index: int) -> str | None:
        words = self.words
        return words[index] if index < len(words) else None

    def rest(self, start: int) -> str:
        """The text from word ``start`` to the end, spacing kept ("" if none)."""
        parts = self.text.strip().split(None, start)
        return parts[start].strip() if len(parts) > start else ""


def parse_command(text: str) -> CommandLine | None:
    """The command line in ``text``, or None when ``text`` is not a command."""
    stripped = text.strip()
    if not stripped.startswith("/") or len(stripped) == 1:
        return None
    parts = stripped[1:].split(None, 1)
    name = parts[0].split("@", 1)[0].lower()
    return CommandLine(name, parts[1] if len(parts) > 1 else "")


def amount(text: str, what: str = "amount") -> int:
    """Whole shillings (``1500``, ``1,500``, ``KES 1500``), or BadArguments with core's reason."""
    try:
        return parse_amount(text, what)
    except InvalidInput as exc:
        raise BadArguments(exc.message) from None


def days_or_date(text: str) -> tuple[int | None, date | None]:
    """``7`` → (7, None); ``2026-12-31`` → (None, date); else BadArguments with core's reason."""
    try:
        return parse_days_or_date(text)
    except InvalidInput as exc:
        raise BadArguments(exc.message) from None


def user_id(text: str) -> int:
    """A Telegram user id."""
    if not text.isdigit():
        raise BadArguments(f"{text!r} is not a Telegram user id (a number)")
    return int(text)
