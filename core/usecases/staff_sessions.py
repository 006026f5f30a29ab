"""Ending a staff member's web sessions and links: shared by the login rules
(core.usecases.staff_access) and staff removal (core.usecases.staff), so it imports neither."""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from core.models import StaffLoginLink, StaffMember, StaffSession
from core.unit_of_work import UnitOfWork


def token_digest(token: str) -> str:
    """What is stored of a link's or a session's token: its SHA-256."""
    return hashlib.sha256(token.encode()).hexdigest()


def end_sessions(uow: UnitOfWork, staff_id: int, *, keep: str | None = None) -> None:
    """End every open session of a staff member but the one holding ``keep`` (a token)."""
    kept = token_digest(keep) if keep else None
    now = uow.clock.now()
    for session in uow.session.scalars(
        select(StaffSession).where(
            StaffSession.staff_id == staff_id, StaffSession.ended_at.is_(None)
        )
    ):
        if session.token_hash != kept:
            session.ended_at = now


def revoke_web_access(uow: UnitOfWork, staff_id: int) -> None:
    """What removing a staff member takes away from the web: sessions, unused links, the
    password (so a member added again starts with none of them)."""
    end_sessions(uow, staff_id)
    now = uow.clock.now()
    for link in uow.session.scalars(
        select(StaffLoginLink).where(
            StaffLoginLink.staff_id == staff_id, StaffLoginLink.used_at.is_(None)
        )
    ):
        link.used_at = now
    member = uow.session.get(StaffMember, staff_id)
    if member is not None:
        member.password_hash = None
