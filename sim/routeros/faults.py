"""Faults to switch on while the simulator runs: slowness, refusals, cut replies, lost writes.

Rules match by menu (``/ppp/secret``) and command (``add``); None matches any. The login
sentence is never subject to dropped replies or ignored writes, and only to latency set for
``command="login"``, so a reconnect can always log in unless connections are refused. Thread-safe:
tests set faults from their own thread while the server consults them.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

from sim.routeros.menus import WRITE_VERBS

__all__ = ["FaultInjector"]


@dataclass
class _Rule:
    """A fault that fires ``remaining`` more times (None: forever), each with ``probability``."""

    menu: str | None
    command: str | None
    remaining: int | None
    probability: float

    def matches(self, menu: str, command: str) -> bool:
        return (self.menu is None or self.menu == menu) and (
            self.command is None or self.command == command
        )


def _checked_rule(
    menu: str | None, command: str | None, times: int | None, probability: float
) -> _Rule:
    if times is not None and times < 1:
        raise ValueError("times must be at least 1 (or None for no limit)")
    if not 0.0 <= probability <= 1.0:
        raise ValueError("probability must be between 0 and 1")
    return _Rule(menu, command, times, probability)


class FaultInjector:
    """The faults in force. ``seed`` makes probabilistic faults repeatable."""

    def __init__(self, seed: int | None = 0) -> None:
        self._lock = threading.Lock()
        self._random = random.Random(seed)
        self._latency: dict[tuple[str | None, str | None], float] = {}
        self._drops: list[_Rule] = []
        self._ignored_writes: list[_Rule] = []
        self._refuse_connections = False

    @property
    def refuse_connections(self) -> bool:
        """When true, every new connection is closed as soon as it is accepted."""
        with self._lock:
            return self._refuse_connections

    @refuse_connections.setter
    def refuse_connections(self, refuse: bool) -> None:
        with self._lock:
            self._refuse_connections = refuse

    def set_latency(
        self, seconds: float, menu: str | None = None, command: str | None = None
    ) -> None:
        """Delay matching commands by ``seconds`` before answering (0 removes the delay)."""
        if seconds < 0:
            raise ValueError("latency cannot be negative")
        with self._lock:
            if seconds:
                self._latency[(menu, command)] = seconds
            else:
                self._latency.pop((menu, command), None)

    def latency_for(self, menu: str, command: str) -> float:
        """The delay for one command: the most specific matching setting wins."""
        with self._lock:
            if not self._latency:
                return 0.0
            candidates: list[tuple[str | None, str | None]]
            if command == "login":
                candidates = [(None, "login")]
            else:
                candidates = [(menu, command), (menu, None), (None, command), (None, None)]
            for key in candidates:
                if key in self._latency:
                    return self._latency[key]
            return 0.0

    def drop_mid_reply(
        self,
        times: int | None = 1,
        probability: float = 1.0,
        menu: str | None = None,
        command: str | None = None,
    ) -> None:
        """Cut the connection partway through the reply to matching commands.

        The command itself is carried out first, as when a link fails after the router acted.
        """
        rule = _checked_rule(menu, command, times, probability)
        with self._lock:
            self._drops.append(rule)

    def silently_ignore_writes(
        self,
        times: int | None = 1,
        probability: float = 1.0,
        menu: str | None = None,
        command: str | None = None,
    ) -> None:
        """Answer matching writes (add, set, remove, enable, …) with ``!done`` but skip them."""
        rule = _checked_rule(menu, command, times, probability)
        with self._lock:
            self._ignored_writes.append(rule)

    def should_drop(self, menu: str, command: str) -> bool:
        """Whether to cut this reply (consumes one firing of the matching rule)."""
        return command != "login" and self._fire(self._drops, menu, command)

    def should_ignore_write(self, menu: str, command: str) -> bool:
        """Whether to acknowledge this write without applying it (consumes one firing)."""
        return command in WRITE_VERBS and self._fire(self._ignored_writes, menu, command)

    def clear(self) -> None:
        """Remove every fault."""
        with self._lock:
            self._latency.clear()
            self._drops.clear()
            self._ignored_writes.clear()
            self._refuse_connections = False

    def _fire(self, rules: list[_Rule], menu: str, command: str) -> bool:
        with self._lock:
            for rule in rules:
                if not rule.matches(menu, command):
                    continue
                if rule.probability < 1.0 and self._random.random() >= rule.probability:
                    continue
                if rule.remaining is not None:
                    rule.remaining -= 1
                    if rule.remaining == 0:
                        rules.remove(rule)
                return True
            return False
