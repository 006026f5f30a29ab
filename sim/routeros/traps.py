"""The errors a simulated router answers with, as RouterOS words them on the wire."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ARGUMENT_VALUE_FAILURE",
    "INVALID_LOGIN",
    "NOT_LOGGED_IN",
    "NO_SUCH_COMMAND",
    "NO_SUCH_COMMAND_PREFIX",
    "NO_SUCH_ITEM",
    "UNKNOWN_PARAMETER",
    "CommandTrap",
    "Trap",
]

# Message texts RouterOS sends (see the report for the few that could not be checked against a
# real router: they are kept in one place so they are easy to correct).
NO_SUCH_ITEM = "no such item"
NO_SUCH_COMMAND = "no such command"
NO_SUCH_COMMAND_PREFIX = "no such command prefix"
UNKNOWN_PARAMETER = "unknown parameter"
INVALID_LOGIN = "invalid user name or password (6)"
NOT_LOGGED_IN = "not logged in"
ARGUMENT_VALUE_FAILURE = 1
"""RouterOS trap category 1: an argument's value was refused."""


@dataclass(frozen=True)
class Trap:
    """One ``!trap`` sentence: the message, and the category when RouterOS gives one."""

    message: str
    category: int | None = None


class CommandTrap(Exception):
    """A command the router refuses; carries every ``!trap`` it answers before ``!done``."""

    def __init__(self, *traps: Trap) -> None:
        if not traps:
            raise ValueError("a CommandTrap needs at least one trap")
        self.traps: tuple[Trap, ...] = traps
        super().__init__(", ".join(trap.message for trap in traps))

    @classmethod
    def of(cls, message: str, category: int | None = None) -> CommandTrap:
        """A refusal with a single trap."""
        return cls(Trap(message, category))
