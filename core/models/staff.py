"""Staff members allowed to use the bot, each with a role."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, UtcDateTime


class StaffMember(Base):
    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_user_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    name: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # argon2 hash for the web console's name + password login; None: links only.
    password_hash: Mapped[str | None] = mapped_column(String(255))


class StaffLoginLink(Base):
    """A one-time link into the web console: only its SHA-256 is stored, so a copy of the
    database logs no one in. ``used_at`` is set the moment it is redeemed."""

    __tablename__ = "staff_login_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class StaffSession(Base):
    """A logged-in browser. The cookie holds the token; the row holds its SHA-256, the CSRF
    token of its forms and when it ends. Logging out or removing the staff member ends it."""

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class StaffLoginFailure(Base):
    """A refused password login, kept to slow down guessing (by name and by address)."""

    __tablename__ = "staff_login_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    name: Mapped[str] = mapped_column(String(128), index=True)
    client: Mapped[str] = mapped_column(String(64), index=True)


class BotConversation(Base):
    """One staff member's conversation with the bot in one chat, between updates: a half-filled
    form, actions waiting for their confirmation button, an awaited import file.

    ``state`` is JSON written by the bot (secrets in it are encrypted). ``version`` grows with
    every write, and a write based on an older version is refused: two processes handling the
    same staff member's updates cannot both use one state (optimistic locking). After
    ``expires_at`` (some idle minutes) the state is no longer used.
    """

    __tablename__ = "bot_conversations"

    telegram_user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    state: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


class StaffFormSubmission(Base):
    """A console form that did something, by the one-time token it carried: the same form sent
    twice (a double click, a reload) finds its token here and does nothing the second time."""

    __tablename__ = "staff_form_submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
