"""Ports: what core needs from the outside, implemented by adapters and fakes."""

from __future__ import annotations

import logging
from typing import Protocol, TypeVar

from core.events import Event

log = logging.getLogger(__name__)
T = TypeVar("T")


class EventDispatcher(Protocol):
    """Receives events after commit (the jobs package enqueues router and expiry work)."""

    def dispatch(self, event: Event) -> None: ...


class RecordingDispatcher:
    """Keeps every event it is given; the default until a queue is wired, and for tests."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def dispatch(self, event: Event) -> None:
        self.events.append(event)

    def of_type(self, kind: type[T]) -> list[T]:
        return [event for event in self.events if isinstance(event, kind)]


class StaffNotifier(Protocol):
    """Tells staff something needs them (the bot delivers it to the staff Telegram chat)."""

    def notify(self, text: str) -> None: ...


class RecordingNotifier:
    """Keeps every message; the default until the bot is wired, and for tests."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def notify(self, text: str) -> None:
        log.info("staff notice: %s", text)
        self.messages.append(text)
