"""A staff member's bot conversation between updates, shared by every process that runs the bot.

The bot reads the state (``load_conversation``), works on it, and writes it back
(``save_conversation``) only if nobody wrote it in between: each write names the version it read
and is refused with ConversationChanged otherwise. That is what lets several web workers (or a
restarted ``mteja bot``) take turns on one conversation, and what makes one confirmation button
run once even when it is pressed twice or delivered to two processes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from core.models import BotConversation
from core.unit_of_work import UnitOfWork

# A conversation nobody answered for this long is over (its form "has expired").
IDLE_LIMIT = timedelta(minutes=30)
NO_VERSION = 0  # the version of a conversation never written


class ConversationChanged(Exception):
    """Another update wrote the conversation after it was read: read it again."""


@dataclass(frozen=True)
class StoredConversation:
    """The state as last written (empty if never written or expired) and its version."""

    state: dict[str, Any]
    version: int
    # The state that was there had expired (it is given here, but must not be acted on).
    expired_state: dict[str, Any] | None = None


def load_conversation(uow: UnitOfWork, user_id: int, chat_id: int) -> StoredConversation:
    """The conversation of ``user_id`` in ``chat_id``, and the version to name when writing."""
    row = uow.session.get(BotConversation, (user_id, chat_id))
    if row is None:
        return StoredConversation({}, NO_VERSION)
    state = json.loads(row.state)
    if row.expires_at <= uow.clock.now():
        return StoredConversation({}, row.version, expired_state=state or None)
    return StoredConversation(state, row.version)


def save_conversation(
    uow: UnitOfWork,
    user_id: int,
    chat_id: int,
    state: dict[str, Any],
    read_version: int,
    idle_limit: timedelta = IDLE_LIMIT,
) -> int:
    """Write ``state`` and commit, if the stored version is still ``read_version``; the new
    version. ConversationChanged (nothing written) if another update wrote it meanwhile."""
    now = uow.clock.now()
    text = json.dumps(state, sort_keys=True)
    version = read_version + 1
    if read_version == NO_VERSION:
        uow.session.add(
            BotConversation(
                telegram_user_id=user_id,
                chat_id=chat_id,
                state=text,
                version=version,
                updated_at=now,
                expires_at=now + idle_limit,
            )
        )
        try:
            uow.commit()
        except IntegrityError:
            uow.rollback()
            raise ConversationChanged() from None
        return version
    written = uow.session.execute(
        update(BotConversation)
        .where(
            BotConversation.telegram_user_id == user_id,
            BotConversation.chat_id == chat_id,
            BotConversation.version == read_version,
        )
        .values(state=text, version=version, updated_at=now, expires_at=now + idle_limit)
        .execution_options(synchronize_session=False)
    )
    if written.rowcount != 1:  # type: ignore[attr-defined]
        uow.rollback()
        raise ConversationChanged()
    uow.commit()
    return version
