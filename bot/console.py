"""``mteja console``: the staff commands at a terminal prompt, with the bot's own answers.

Buttons are shown numbered; typing the number presses it. ``/import FILE.csv`` reads the file from
disk (in Telegram it is sent as a document). Pictures are saved next to you and named.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from bot.answers import Answer, Button
from bot.staffbot import Caller, StaffBot

PROMPT = "mteja> "
GREETING = (
    "mteja staff console: the bot's commands without Telegram. /help lists them; quit leaves."
)


class Console:
    """Reads command lines, prints the answers; keeps the last buttons so numbers press them."""

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
        if line.isdigit() and self.buttons:
            index = int(line) - 1
            if not 0 <= index < len(self.buttons):
                self.write(f"Choose a button from 1 to {len(self.buttons)}.")
                return
            self.show(self.staff_bot.press(self.caller, self.buttons[index].data))
            return
        command, _, argument = line.partition(" ")
        if command.lower() == "/import" and argument.strip():
            self._import(Path(argument.strip()).expanduser())
            return
        self.show(self.staff_bot.text(self.caller, line))

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
                cells.append(f"[{number}] {button.label}")
            lines.append("  ".join(cells))
        if lines:
            self.write("\n".join(lines))
