"""What the command layer answers, independent of Telegram: text, buttons, and extras."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

# Telegram's limit for callback data, in bytes.
MAX_BUTTON_DATA = 64


@dataclass(frozen=True)
class Button:
    """A button under an answer; pressing it sends ``data`` back to the command layer."""

    label: str
    data: str

    def __post_init__(self) -> None:
        if len(self.data.encode()) > MAX_BUTTON_DATA:
            raise ValueError(f"button data longer than {MAX_BUTTON_DATA} bytes: {self.data!r}")


@dataclass(frozen=True)
class Attachment:
    """A file to send with the answer: a picture (PNG chart) or a document."""

    filename: str
    content: bytes
    kind: Literal["photo", "document"] = "document"


class Job(Protocol):
    """Long work (an import) the adapter runs step by step, showing progress between steps."""

    def steps(self) -> Iterator[str]:
        """Do the work in pieces; each yields the progress line to show."""
        ...

    def finish(self) -> Answer:
        """The final answer, once ``steps`` is exhausted."""
        ...


@dataclass(frozen=True)
class Answer:
    """One reply.

    ``edit``: replace the message whose button was pressed instead of sending a new one.
    ``toast``: the short notice shown where the button was pressed.
    ``then``: a slower, fuller version of this answer (e.g. the card with the router's view of
    the customer); the adapter sends this answer first and turns it into the fuller one.
    ``job``: long work whose progress is shown by editing this answer's message.
    """

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    edit: bool = False
    toast: str | None = None
    attachment: Attachment | None = None
    then: Callable[[], Answer] | None = field(default=None, compare=False)
    job: Job | None = field(default=None, compare=False)

    def button_list(self) -> list[Button]:
        """Every button, row by row."""
        return [button for row in self.buttons for button in row]


def rows(buttons: Sequence[Button], per_row: int = 3) -> tuple[tuple[Button, ...], ...]:
    """Lay ``buttons`` out ``per_row`` to a row."""
    return tuple(
        tuple(buttons[start : start + per_row]) for start in range(0, len(buttons), per_row)
    )
