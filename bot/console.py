"""``mteja console``: the staff commands at a terminal prompt, with the bot's own answers.

Buttons are shown as ``[#1] Suspend``; typing ``#1`` presses it. A bare number is always typed
text (a phone ``0744555666`` or a fee ``500`` in ``/add``), never a button. ``/import FILE.csv``
reads the file from disk (in Telegram it is sent as a document). Pictures are saved next to you and
named.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from bot.answers import Answer, Button
from bot.staffbot import Caller, StaffBot

PROMPT = "mteja> "
BUTTON_MARK = "#"
GREETING = (
    "mteja staff console: the bot's commands without Telegram. /help lists them; "
    f"{BUTTON_MARK}N presses button [{BUTTON_MARK}N]; quit leaves."
)


class Console:
    """Reads command lines, prints the answers; keeps the last buttons so ``#N`` presses one."""

    def __init__(
        self,
        staff_bot: StaffBot,
        caller: Caller,
        write: Callable[[str], None],
        save_dir: Path,
    ) -> None:
        self.staff_bot = staff_bot
        self.caller = caller
        self.write = write
        self.save_dir = save_dir
        self.buttons: list[Button] = []

    def run(self, lines: Iterable[str]) -> None:
        """Handle each line until ``quit`` or the end of input."""
        self.write(GREETING)
        for raw in lines:
            line = raw.strip()
            if line in ("quit", "exit", "/quit"):
                break
            if line:
                self.handle(line)

    def handle(self, line: str) -> None:
        number = button_number(line)
        if number is not None:
            self._press(number)
            return
        command, _, argument = line.partition(" ")
        if command.lower() == "/import" and argument.strip():
            self._import(Path(argument.strip()).expanduser())
            return
        self.show(self.staff_bot.text(self.caller, line))

    def _press(self, number: int) -> None:
        if not self.buttons:
            self.write("No buttons to press: type a command (/help).")
            return
        if not 1 <= number <= len(self.buttons):
            self.write(f"Choose a button from {BUTTON_MARK}1 to {BUTTON_MARK}{len(self.buttons)}.")
            return
        self.show(self.staff_bot.press(self.caller, self.buttons[number - 1].data))

    def _import(self, path: Path) -> None:
        try:
            content = path.read_bytes()
        except OSError as exc:
            self.write(f"Cannot read {path}: {exc.strerror}")
            return
        self.show(self.staff_bot.document(self.caller, path.name, content, caption="/import"))

    def show(self, answer: Answer) -> None:
        """Print an answer: its fuller version if it has one, its job's progress, its buttons."""
        if answer.then is not None:
            answer = answer.then()
        if answer.toast and not answer.text:
            self.write(answer.toast)
        if answer.text:
            self.write(answer.text)
        if answer.attachment is not None:
            target = self.save_dir / answer.attachment.filename
            target.write_bytes(answer.attachment.content)
            self.write(f"(saved {answer.attachment.kind} to {target})")
        if answer.job is not None:
            for progress in answer.job.steps():
                self.write(progress)
            self.show(answer.job.finish())
            return
        if answer.buttons or answer.text:
            self.buttons = answer.button_list()
        number = 0
        lines = []
        for row in answer.buttons:
            cells = []
            for button in row:
                number += 1
                cells.append(f"[{BUTTON_MARK}{number}] {button.label}")
            lines.append("  ".join(cells))
        if lines:
            self.write("\n".join(lines))


def button_number(line: str) -> int | None:
    """``#2`` → 2: the button the line presses, or None when it is typed text (``500`` too)."""
    mark, digits = line[:1], line[1:].strip()
    if mark == BUTTON_MARK and digits.isascii() and digits.isdigit():
        return int(digits)
    return None
