"""A staff member's Session as JSON in the database, so every process running the bot shares it.

The forms (AddForm, EditForm), the awaited import and the confirmations (an action's name and its
arguments, mapped back through bot.context.CONFIRMED_ACTIONS) are written as plain JSON. Secrets
in them (a password typed into /add, a new password waiting for its confirmation) are encrypted
with core's cipher. core.usecases.bot_conversations does the reading and the versioned writing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.add_flow import AddForm, ParentAccount, Step
from bot.context import CONFIRMED_ACTIONS, Pending, Session
from bot.edit_flow import EditForm
from core.crypto import SecretKeyError
from core.unit_of_work import CoreServices
from core.usecases.bot_conversations import (
    ConversationChanged,
    load_conversation,
    save_conversation,
)

log = logging.getLogger(__name__)

Seal = Callable[[str], str]
SEALED = "sealed"


def _seal(value: Any, seal: Seal) -> Any:
    return {SEALED: seal(value)} if isinstance(value, str) else value


def _unseal(value: Any, unseal: Seal) -> Any:
    return unseal(value[SEALED]) if isinstance(value, dict) else value


def _form_state(form: Any, seal: Seal) -> dict[str, Any] | None:
    if isinstance(form, AddForm):
        values = dict(form.values)
        if "password" in values:
            values["password"] = _seal(values["password"], seal)
        parent = form.parent
        return {
            "kind": "add",
            "step": form.step.value,
            "visited": [step.value for step in form.visited],
            "values": values,
            "parent": None
            if parent is None
            else [parent.account_number, parent.full_name, parent.phone],
        }
    if isinstance(form, EditForm):
        return {
            "kind": "edit",
            "customer_id": form.customer_id,
            "who": form.who,
            "changes": dict(form.changes),
            "asking": form.asking,
        }
    return None


def _form(state: dict[str, Any] | None, unseal: Seal) -> AddForm | EditForm | None:
    if state is None:
        return None
    if state["kind"] == "add":
        values = dict(state["values"])
        if "password" in values:
            values["password"] = _unseal(values["password"], unseal)
        parent = state["parent"]
        return AddForm(
            step=Step(state["step"]),
            visited=[Step(step) for step in state["visited"]],
            values=values,
            parent=None if parent is None else ParentAccount(*parent),
        )
    return EditForm(state["customer_id"], state["who"], dict(state["changes"]), state["asking"])


def session_state(session: Session, seal: Seal) -> dict[str, Any]:
    """The session as JSON-ready values, with its secrets passed through ``seal``."""
    pending: dict[str, Any] = {}
    for token, waiting in session.pending.items():
        secret = CONFIRMED_ACTIONS[waiting.action].secret_arguments
        arguments = {
            name: _seal(value, seal) if name in secret else value
            for name, value in waiting.arguments.items()
        }
        pending[token] = {
            "action": waiting.action,
            "arguments": arguments,
            "expires_at": waiting.expires_at.isoformat(),
        }
    state: dict[str, Any] = {}
    form = _form_state(session.conversation, seal)
    if form is not None:
        state["form"] = form
    if session.awaiting_import:
        state["awaiting_import"] = True
    if pending:
        state["pending"] = pending
    return state


def session_of(state: dict[str, Any], unseal: Seal) -> Session:
    """The Session of a stored state (confirmations of actions no longer known are dropped)."""
    pending: dict[str, Pending] = {}
    for token, waiting in state.get("pending", {}).items():
        action = CONFIRMED_ACTIONS.get(waiting["action"])
        if action is None:
            continue
        arguments = {
            name: _unseal(value, unseal) if name in action.secret_arguments else value
            for name, value in waiting["arguments"].items()
        }
        expires_at = datetime.fromisoformat(waiting["expires_at"])
        pending[token] = Pending(action.name, arguments, expires_at)
    return Session(
        conversation=_form(state.get("form"), unseal),
        awaiting_import=bool(state.get("awaiting_import")),
        pending=pending,
    )


def _unchanged(text: str) -> str:
    return text


@dataclass
class Conversation:
    """One update's hold on a staff member's stored conversation."""

    store: ConversationStore
    user_id: int
    chat_id: int
    session: Session
    version: int
    written: dict[str, Any]
    claimed: bool = False

    def claim(self) -> None:
        """Write the session now (even unchanged): this update, and no other, goes on from it.
        ConversationChanged if another update wrote it since it was read."""
        self._write()
        self.claimed = True

    def save(self) -> None:
        """Write the session if this update changed it. ConversationChanged if another update
        wrote it meanwhile, unless this update had claimed it (then the loss is only logged:
        what had to happen once has happened)."""
        if session_state(self.session, _unchanged) == self.written:
            return
        try:
            self._write()
        except ConversationChanged:
            if not self.claimed:
                raise
            log.warning("the bot conversation of %s changed meanwhile; kept", self.user_id)

    def _write(self) -> None:
        services = self.store.services
        state = session_state(self.session, services.cipher.encrypt)
        with services.unit_of_work() as uow:
            self.version = save_conversation(uow, self.user_id, self.chat_id, state, self.version)
        self.written = session_state(self.session, _unchanged)


@dataclass
class ConversationStore:
    """Reads conversations for updates; updates of one staff member in one process take turns
    (other processes are kept apart by the stored version)."""

    services: CoreServices
    _locks: dict[tuple[int, int], threading.Lock] = field(default_factory=dict)
    _guard: threading.Lock = field(default_factory=threading.Lock)

    def lock(self, user_id: int, chat_id: int) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault((user_id, chat_id), threading.Lock())

    def open(self, user_id: int, chat_id: int) -> Conversation:
        """The conversation as stored now."""
        cipher = self.services.cipher
        with self.services.unit_of_work(read_only=True) as uow:
            stored = load_conversation(uow, user_id, chat_id)
        try:
            session = session_of(stored.state, cipher.decrypt)
            written = session_state(session, _unchanged)
        except SecretKeyError:
            # Sealed under a key that is gone (MTEJA_SECRET_KEY changed): start afresh.
            log.warning("the bot conversation of %s could not be decrypted; dropped", user_id)
            session, written = Session(), {"undecryptable": True}
        if stored.expired_state is not None:
            form = stored.expired_state.get("form")
            session.expired_form = form["kind"] if form else None
            # Written back (emptied) by this update, so the expiry is told once.
            written = {"expired": True}
        return Conversation(self, user_id, chat_id, session, stored.version, written)
