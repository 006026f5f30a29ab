"""What a command handler works with: core's services, the acting staff member, their session."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.answers import Answer, Button
from core.actors import Actor
from core.unit_of_work import CoreServices, UnitOfWork
from routers.sync import Presence

PresenceLookup = Callable[[int], Presence]
Action = Callable[["Context"], Answer]

# A confirmation button works for this long, once.
CONFIRMATION_SECONDS = 15 * 60
MAX_PENDING = 20


@dataclass
class Pending:
    """A destructive action waiting for its confirmation button."""

    action: Action
    expires_at: float


@dataclass
class Session:
    """One staff member's state between messages: a form being filled, actions to confirm.

    Kept in the bot process's memory: a restart forgets it (the staff member starts again).
    """

    conversation: Any = None
    awaiting_import: bool = False
    pending: dict[str, Pending] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Sessions:
    """Sessions by Telegram user id."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._sessions: dict[int, Session] = {}
        self._lock = threading.Lock()
        self.monotonic = monotonic

    def of(self, user_id: int) -> Session:
        with self._lock:
            return self._sessions.setdefault(user_id, Session())


@dataclass
class Context:
    services: CoreServices
    actor: Actor
    user_id: int
    session: Session
    sessions: Sessions
    presence: PresenceLookup | None = None
    # Where staff reach the web console (MTEJA_PUBLIC_URL); login links are made under it.
    public_url: str = ""

    def uow(self) -> UnitOfWork:
        return self.services.unit_of_work()

    @property
    def zone(self) -> ZoneInfo:
        return self.services.config.timezone

    def now(self) -> datetime:
        return self.services.clock.now()

    def confirm(self, question: str, label: str, action: Action) -> Answer:
        """Ask before ``action``: the answer carries a confirm and a cancel button."""
        now = self.sessions.monotonic()
        pending = self.session.pending
        for token in [t for t, p in pending.items() if p.expires_at <= now]:
            del pending[token]
        while len(pending) >= MAX_PENDING:
            del pending[next(iter(pending))]
        token = secrets.token_urlsafe(6)
        pending[token] = Pending(action, now + CONFIRMATION_SECONDS)
        buttons = ((Button(label, f"y:{token}"), Button("Cancel", f"n:{token}")),)
        return Answer(question, buttons)

    def take_pending(self, token: str) -> Action | None:
        """The action behind a confirmation button, once; None if unknown or expired."""
        pending = self.session.pending.pop(token, None)
        if pending is None or pending.expires_at <= self.sessions.monotonic():
            return None
        return pending.action
