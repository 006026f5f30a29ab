"""What a command handler works with: core's services, the acting staff member, their session."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.answers import Answer, Button
from core.actors import Actor
from core.unit_of_work import CoreServices, UnitOfWork
from routers.sync import Presence

PresenceLookup = Callable[[int], Presence]

# A confirmation button works for this long, once.
CONFIRMATION_SECONDS = 15 * 60
MAX_PENDING = 20


@dataclass(frozen=True)
class ConfirmedAction:
    """What a confirmation button does, by name: ``run(ctx, **arguments)``. The arguments are
    stored with the conversation as JSON, so they are plain values (ids, names, amounts); those
    named in ``secret_arguments`` are stored encrypted."""

    name: str
    run: Callable[..., Answer]
    secret_arguments: frozenset[str] = frozenset()


# Every confirmed action, by name: a stored confirmation is mapped back to its function here.
CONFIRMED_ACTIONS: dict[str, ConfirmedAction] = {}


def confirmed_action(
    name: str, secret_arguments: tuple[str, ...] = ()
) -> Callable[[Callable[..., Answer]], ConfirmedAction]:
    """Register the decorated ``run(ctx, **arguments)`` as the confirmed action ``name``."""

    def register(run: Callable[..., Answer]) -> ConfirmedAction:
        if name in CONFIRMED_ACTIONS:
            raise ValueError(f"two confirmed actions are named {name!r}")
        action = ConfirmedAction(name, run, frozenset(secret_arguments))
        CONFIRMED_ACTIONS[name] = action
        return action

    return register


@dataclass
class Pending:
    """A destructive action waiting for its confirmation button."""

    action: str
    arguments: dict[str, Any]
    expires_at: datetime


@dataclass
class Session:
    """One staff member's state between messages: a form being filled, actions to confirm.

    Stored in the database between updates (bot.conversations), so it survives a restart and
    every process running the bot sees the same one. ``expired_form`` is the kind of form
    ("add", "edit") that was open but expired before this update; it is not stored.
    """

    conversation: Any = None
    awaiting_import: bool = False
    pending: dict[str, Pending] = field(default_factory=dict)
    expired_form: str | None = None


def _no_claim() -> None:
    return None


@dataclass
class Context:
    services: CoreServices
    actor: Actor
    user_id: int
    session: Session
    presence: PresenceLookup | None = None
    # Where staff reach the web console (MTEJA_PUBLIC_URL); login links are made under it.
    public_url: str = ""
    # Writes the session now, before a change that must happen once (a confirmed action, a
    # form's final save); raises ConversationChanged if another update got there first.
    claim: Callable[[], None] = _no_claim

    def uow(self) -> UnitOfWork:
        return self.services.unit_of_work()

    @property
    def zone(self) -> ZoneInfo:
        return self.services.config.timezone

    def now(self) -> datetime:
        return self.services.clock.now()

    def confirm(
        self, question: str, label: str, action: ConfirmedAction, **arguments: Any
    ) -> Answer:
        """Ask before ``action``: the answer carries a confirm and a cancel button."""
        now = self.now()
        pending = self.session.pending
        for token in [t for t, p in pending.items() if p.expires_at <= now]:
            del pending[token]
        while len(pending) >= MAX_PENDING:
            del pending[next(iter(pending))]
        token = secrets.token_urlsafe(6)
        expires_at = now + timedelta(seconds=CONFIRMATION_SECONDS)
        pending[token] = Pending(action.name, arguments, expires_at)
        buttons = ((Button(label, f"y:{token}"), Button("Cancel", f"n:{token}")),)
        return Answer(question, buttons)

    def take_pending(self, token: str) -> Pending | None:
        """The action behind a confirmation button, once; None if unknown or expired."""
        pending = self.session.pending.pop(token, None)
        if pending is None or pending.expires_at <= self.now():
            return None
        return pending
