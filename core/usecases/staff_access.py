"""How staff get into the web console: one-time links, passwords, and the sessions they open.

A link or a session is a random token the browser holds; the database keeps only its SHA-256,
so a leaked copy of the database opens nothing. A link works once, for LINK_LIFETIME; a
session lasts SESSION_LIFETIME or until logout, and ends with the staff member's removal (every
request looks the member up again). Passwords are argon2 hashes; refused password logins are
counted by name and by client address, and a burst of them locks both out for a while.
"""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import ColumnElement, delete, func, or_, select
from sqlalchemy.exc import IntegrityError

from core import audit
from core.actors import Actor, Permission, require
from core.errors import DomainError, InvalidInput
from core.models import (
    StaffFormSubmission,
    StaffLoginFailure,
    StaffLoginLink,
    StaffMember,
    StaffSession,
)
from core.unit_of_work import UnitOfWork
from core.usecases.staff import find_staff, list_staff, login_name, member_of
from core.usecases.staff_sessions import end_sessions, token_digest
from core.vocabulary import Role

LINK_LIFETIME = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=12)
# Refused password logins allowed per name and per client address within FAILURE_WINDOW.
MAX_FAILURES = 5  # for one name from one address
MAX_FAILURES_PER_CLIENT = 20  # from one address, whatever the names
MAX_FAILURES_PER_NAME = 50  # for one name, from everywhere
FAILURE_WINDOW = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 10
# A form's one-time token is remembered this long (a page left open longer is reloaded anyway:
# sessions last 12 hours).
FORM_TOKEN_KEPT = timedelta(days=1)

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
        token_hash=token_digest(token),
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
        .where(StaffLoginLink.token_hash == token_digest(token))
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
        select(StaffLoginLink)
        .where(StaffLoginLink.token_hash == token_digest(token))
        .with_for_update()
    ).first()
    now = uow.clock.now()
    if link is None or link.used_at is not None or link.expires_at <= now:
        raise LoginRefused(_SPENT_LINK)
    member = uow.session.get(StaffMember, link.staff_id)
    if member is None or not member.active:
        raise LoginRefused(_SPENT_LINK)
    link.used_at = now
    return _open_session(uow, member, "link")


def set_password(
    uow: UnitOfWork,
    actor: Actor,
    who: str,
    password: str,
    *,
    current_password: str | None = None,
    keep_session: str | None = None,
) -> StaffMember:
    """Set a staff member's web password: their own, or anyone's with MANAGE_STAFF. Changing
    one's own password needs the current one when there is one (a session left open on a
    shared computer must not be enough to take the account over). Every session of the member
    ends but ``keep_session`` (the token of the browser making the change). Audited without the
    password or its hash."""
    member = find_staff(uow, who)
    own = member_of(uow, actor)
    if own is None or own.id != member.id:
        require(actor, Permission.MANAGE_STAFF)
    elif member.password_hash and not _password_matches(member, current_password or ""):
        raise InvalidInput("the current password is not right")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"a password has at least {MIN_PASSWORD_LENGTH} characters")
    if password.strip() != password or not password.isprintable():
        raise InvalidInput("a password has no spaces at either end and no control characters")
    member.password_hash = _hasher.hash(password)
    end_sessions(uow, member.id, keep=keep_session)
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
    wanted = login_name(name)[:128]
    client = client[:64]
    # The member's row is locked before the refusals are counted: parallel guesses at one name
    # wait for each other, so each sees the refusals before it (the count cannot be raced).
    member = _member_named(uow, wanted)
    if _refused_too_often(uow, wanted, client, now):
        return LoginAttempt(None, _TOO_MANY)
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


def _member_named(uow: UnitOfWork, wanted: str) -> StaffMember | None:
    """The active member whose name is ``wanted`` (login_name), locked; compared in Python, as
    the databases' lower() differ beyond ASCII (the staff list is short)."""
    for member_id, member_name in uow.session.execute(
        select(StaffMember.id, StaffMember.name).where(StaffMember.active.is_(True))
    ):
        if login_name(member_name) == wanted:
            return uow.session.scalars(
                select(StaffMember).where(StaffMember.id == member_id).with_for_update()
            ).first()
    return None


def _refused_too_often(uow: UnitOfWork, name: str, client: str, now: datetime) -> bool:
    """Too many refusals lately: for this name from this address, from this address for any
    names, or for this name from anywhere (a spread-out guess). The per-name limit is higher, so
    a stranger cannot lock a staff member out with a handful of wrong passwords."""
    recent = StaffLoginFailure.at > now - FAILURE_WINDOW

    def count(*conditions: ColumnElement[bool]) -> int:
        found = uow.session.scalar(
            select(func.count()).select_from(StaffLoginFailure).where(recent, *conditions)
        )
        return int(found or 0)

    return (
        count(StaffLoginFailure.name == name, StaffLoginFailure.client == client) >= MAX_FAILURES
        or count(StaffLoginFailure.client == client) >= MAX_FAILURES_PER_CLIENT
        or count(StaffLoginFailure.name == name) >= MAX_FAILURES_PER_NAME
    )


def spend_form_token(uow: UnitOfWork, staff_id: int, token: str) -> bool:
    """Record that the form carrying ``token`` was sent; False if it was already (a double
    click, a reload): its work must not be done again. The unique key decides, so two copies
    sent at once cannot both pass."""
    try:
        with uow.session.begin_nested():
            uow.session.add(StaffFormSubmission(token=token, staff_id=staff_id, at=uow.clock.now()))
    except IntegrityError:
        return False
    return True


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
        token_hash=token_digest(token),
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
        .where(StaffSession.token_hash == token_digest(token))
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
        select(StaffSession).where(StaffSession.token_hash == token_digest(token))
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
        (StaffFormSubmission, StaffFormSubmission.at <= now - FORM_TOKEN_KEPT),
    ]


def forget_old_logins(uow: UnitOfWork) -> int:
    """Delete used or expired links, ended or expired sessions and aged-out refusals (none of
    them is money or audit; the audit log keeps every login)."""
    removed = 0
    for model, condition in old_logins(uow.clock.now()):
        result = uow.session.execute(delete(model).where(condition))
        removed += getattr(result, "rowcount", 0) or 0
    return removed
