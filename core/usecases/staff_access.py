"""How staff get into the web console: one-time links, passwords, and the sessions they open.

A link or a session is a random token the browser holds; the database keeps only its SHA-256,
so a leaked copy of the database opens nothing. A link works once, for LINK_LIFETIME; a
session lasts SESSION_LIFETIME or until logout, and ends with the staff member's removal (every
request looks the member up again). Passwords are argon2 hashes; refused password logins are
counted by name and by client address, and a burst of them locks both out for a while.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import ColumnElement, delete, func, or_, select

from core import audit
from core.actors import Actor, Permission, require
from core.errors import DomainError, InvalidInput
from core.models import StaffLoginFailure, StaffLoginLink, StaffMember, StaffSession
from core.unit_of_work import UnitOfWork
from core.usecases.staff import find_staff, list_staff, member_of
from core.vocabulary import Role

LINK_LIFETIME = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=12)
# Refused password logins allowed per name and per client address within FAILURE_WINDOW.
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 10

_hasher = PasswordHasher()
_SPENT_LINK = "this login link is not valid: it was used, or it is over 15 minutes old"
_TOO_MANY = "Too many failed logins: wait 15 minutes, or ask for a login link."


class LoginRefused(DomainError):
    """A link or password that does not log in. The message never says which part was wrong."""


@dataclass(frozen=True)
class LoginLink:
    token: str
    member_name: str
    expires_at: datetime


@dataclass(frozen=True)
class OpenedSession:
    """What the browser is given: the session token (the cookie) and when it ends."""

    token: str
    expires_at: datetime


@dataclass(frozen=True)
class StaffVisit:
    """Who a session belongs to, as a request sees it."""

    actor: Actor
    staff_id: int
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True)
class StaffEntry:
    """A staff member as the staff list shows them: whether they have a web password, never
    the password's hash."""

    telegram_user_id: int
    name: str
    role: str
    since: datetime
    has_password: bool


def staff_roster(uow: UnitOfWork) -> list[StaffEntry]:
    """Active staff by name, each with whether a web password is set."""
    return [
        StaffEntry(
            member.telegram_user_id,
            member.name,
            member.role,
            member.created_at,
            member.password_hash is not None,
        )
        for member in list_staff(uow)
    ]


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_login_link(uow: UnitOfWork, actor: Actor, who: str) -> LoginLink:
    """A one-time login link for the staff member ``who`` names (id or name). Staff may ask for
    their own; a link for someone else needs MANAGE_STAFF (the command line is an owner)."""
    member = find_staff(uow, who)
    own = member_of(uow, actor)
    if own is None or own.id != member.id:
        require(actor, Permission.MANAGE_STAFF)
    token = secrets.token_urlsafe(32)
    now = uow.clock.now()
    link = StaffLoginLink(
        token_hash=_digest(token),
        staff_id=member.id,
        created_at=now,
        expires_at=now + LINK_LIFETIME,
    )
    uow.session.add(link)
    uow.session.flush()
    audit.record(
        uow,
        actor,
        "staff.login_link",
        entity_type="staff",
        entity_id=member.id,
        after={"for": member.name, "expires_at": link.expires_at.isoformat()},
    )
    return LoginLink(token, member.name, link.expires_at)


def link_holder(uow: UnitOfWork, token: str) -> str | None:
    """The name of whom an unused, unexpired link logs in (shown before it is used), else None."""
    found = uow.session.execute(
        select(StaffLoginLink, StaffMember)
        .join(StaffMember, StaffMember.id == StaffLoginLink.staff_id)
        .where(StaffLoginLink.token_hash == _digest(token))
    ).first()
    if found is None:
        return None
    link, member = found
    if link.used_at is not None or link.expires_at <= uow.clock.now() or not member.active:
        return None
    return member.name


def redeem_login_link(uow: UnitOfWork, token: str) -> OpenedSession:
    """Use a link: it is locked, checked (unused, unexpired, staff still active), marked used
    and a session opened, all in one transaction, so two clicks cannot both get in."""
    link = uow.session.scalars(
        select(StaffLoginLink).where(StaffLoginLink.token_hash == _digest(token)).with_for_update()
    ).first()
    now = uow.clock.now()
    if link is None or link.used_at is not None or link.expires_at <= now:
        raise LoginRefused(_SPENT_LINK)
    member = uow.session.get(StaffMember, link.staff_id)
    if member is None or not member.active:
        raise LoginRefused(_SPENT_LINK)
    link.used_at = now
    return _open_session(uow, member, "link")


def set_password(uow: UnitOfWork, actor: Actor, who: str, password: str) -> StaffMember:
    """Set a staff member's web password: their own, or anyone's with MANAGE_STAFF. Audited
    without the password or its hash."""
    member = find_staff(uow, who)
    own = member_of(uow, actor)
    if own is None or own.id != member.id:
        require(actor, Permission.MANAGE_STAFF)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"a password has at least {MIN_PASSWORD_LENGTH} characters")
    if password.strip() != password or not password.isprintable():
        raise InvalidInput("a password has no spaces at either end and no control characters")
    member.password_hash = _hasher.hash(password)
    audit.record(
        uow,
        actor,
        "staff.password",
        entity_type="staff",
        entity_id=member.id,
        after={"for": member.name},
    )
    return member


@dataclass(frozen=True)
class LoginAttempt:
    """A password login's outcome: a session, or why not. A refusal is recorded in the
    transaction too (the caller commits either way), so it counts towards the limit."""

    opened: OpenedSession | None
    refusal: str = ""


def password_login(uow: UnitOfWork, name: str, password: str, client: str) -> LoginAttempt:
    """Log in with name + password from ``client`` (an address). Too many refusals for the name
    or the address within FAILURE_WINDOW refuse even a right password until they age out."""
    now = uow.clock.now()
    wanted = " ".join(name.split()).casefold()[:128]
    client = client[:64]
    recent = uow.session.scalar(
        select(func.count())
        .select_from(StaffLoginFailure)
        .where(
            StaffLoginFailure.at > now - FAILURE_WINDOW,
            or_(StaffLoginFailure.name == wanted, StaffLoginFailure.client == client),
        )
    )
    if (recent or 0) >= MAX_FAILURES:
        return LoginAttempt(None, _TOO_MANY)
    member = uow.session.scalars(
        select(StaffMember).where(
            func.lower(StaffMember.name) == wanted, StaffMember.active.is_(True)
        )
    ).first()
    if not _password_matches(member, password) or member is None:
        uow.session.add(StaffLoginFailure(at=now, name=wanted, client=client))
        audit.record(
            uow,
            Actor.system("web console"),
            "staff.login_refused",
            entity_type="staff",
            entity_id=member.id if member is not None else None,
            after={"name": wanted, "client": client},
        )
        return LoginAttempt(None, "Wrong name or password.")
    if _hasher.check_needs_rehash(member.password_hash or ""):
        member.password_hash = _hasher.hash(password)
    return LoginAttempt(_open_session(uow, member, "password", client))


def _password_matches(member: StaffMember | None, password: str) -> bool:
    # An unknown name or a member without a password costs one hash too, so the time taken
    # does not tell which names are staff.
    stored = member.password_hash if member is not None else None
    try:
        return _hasher.verify(stored or _decoy_hash(), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


@functools.cache
def _decoy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))


def _open_session(
    uow: UnitOfWork, member: StaffMember, how: str, client: str | None = None
) -> OpenedSession:
    token = secrets.token_urlsafe(32)
    now = uow.clock.now()
    session = StaffSession(
        token_hash=_digest(token),
        staff_id=member.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + SESSION_LIFETIME,
    )
    uow.session.add(session)
    actor = Actor.staff(member.telegram_user_id, member.name, Role(member.role))
    after = {"by": how} if client is None else {"by": how, "client": client}
    audit.record(
        uow, actor, "staff.web_login", entity_type="staff", entity_id=member.id, after=after
    )
    return OpenedSession(token, session.expires_at)


def visit(uow: UnitOfWork, token: str) -> StaffVisit | None:
    """Who holds session ``token``, or None (unknown, ended, expired, or no longer staff)."""
    found = uow.session.execute(
        select(StaffSession, StaffMember)
        .join(StaffMember, StaffMember.id == StaffSession.staff_id)
        .where(StaffSession.token_hash == _digest(token))
    ).first()
    if found is None:
        return None
    session, member = found
    if session.ended_at is not None or session.expires_at <= uow.clock.now() or not member.active:
        return None
    actor = Actor.staff(member.telegram_user_id, member.name, Role(member.role))
    return StaffVisit(actor, member.id, session.csrf_token, session.expires_at)


def log_out(uow: UnitOfWork, token: str) -> None:
    session = uow.session.scalars(
        select(StaffSession).where(StaffSession.token_hash == _digest(token))
    ).first()
    if session is not None and session.ended_at is None:
        session.ended_at = uow.clock.now()


def old_logins(now: datetime) -> list[tuple[type[Any], ColumnElement[bool]]]:
    """What ``forget_old_logins`` deletes, as (model, condition) pairs: used or expired links,
    ended or expired sessions, refusals older than FAILURE_WINDOW."""
    return [
        (
            StaffLoginLink,
            or_(StaffLoginLink.used_at.is_not(None), StaffLoginLink.expires_at <= now),
        ),
        (StaffSession, or_(StaffSession.ended_at.is_not(None), StaffSession.expires_at <= now)),
        (StaffLoginFailure, StaffLoginFailure.at <= now - FAILURE_WINDOW),
    ]


def forget_old_logins(uow: UnitOfWork) -> int:
    """Delete used or expired links, ended or expired sessions and aged-out refusals (none of
    them is money or audit; the audit log keeps every login)."""
    removed = 0
    for model, condition in old_logins(uow.clock.now()):
        result = uow.session.execute(delete(model).where(condition))
        removed += getattr(result, "rowcount", 0) or 0
    return removed
