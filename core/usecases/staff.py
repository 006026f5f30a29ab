"""Staff members and their roles."""

from __future__ import annotations

from sqlalchemy import select

from core import audit
from core.actors import Actor, ActorKind, Permission, require
from core.errors import Conflict, InvalidInput, StaffNotFound
from core.models import StaffMember
from core.unit_of_work import UnitOfWork
from core.usecases.staff_sessions import revoke_web_access
from core.vocabulary import Role, parse_choice


def add_staff(
    uow: UnitOfWork, actor: Actor, telegram_user_id: int, name: str, role: str
) -> StaffMember:
    """Register a Telegram user as staff with a role (owner only, except the very first owner)."""
    if _has_staff(uow):
        require(actor, Permission.MANAGE_STAFF)
    chosen = parse_choice(Role, role, "role")
    if telegram_user_id <= 0:
        raise InvalidInput("a Telegram user id is a positive number")
    if not name.strip():
        raise InvalidInput("a staff member needs a name")
    if len(name.strip()) > 128:
        raise InvalidInput("a staff member's name has at most 128 characters")
    existing = uow.session.scalars(
        select(StaffMember).where(StaffMember.telegram_user_id == telegram_user_id)
    ).first()
    namesake = next(
        (
            member
            for member in list_staff(uow)
            if login_name(member.name) == login_name(name) and member is not existing
        ),
        None,
    )
    if namesake is not None:
        # Names log in with a password: two staff of one name could not be told apart.
        raise Conflict(f"{namesake.name} ({namesake.telegram_user_id}) already has that name")
    if existing is not None and existing.active:
        raise Conflict(f"Telegram user {telegram_user_id} is already staff ({existing.name})")
    member = existing or StaffMember(telegram_user_id=telegram_user_id, created_at=uow.clock.now())
    member.name = name.strip()
    member.role = chosen.value
    member.active = True
    uow.session.add(member)
    uow.session.flush()
    audit.record(
        uow,
        actor,
        "staff.add",
        entity_type="staff",
        entity_id=member.id,
        after={"telegram_user_id": telegram_user_id, "name": member.name, "role": chosen.value},
    )
    return member


def login_name(name: str) -> str:
    """A name as the login compares it: spaces collapsed, case folded (ß = ss, É = é)."""
    return " ".join(name.split()).casefold()


def _has_staff(uow: UnitOfWork) -> bool:
    return (
        uow.session.scalar(select(StaffMember.id).where(StaffMember.active.is_(True))) is not None
    )


def list_staff(uow: UnitOfWork) -> list[StaffMember]:
    return list(
        uow.session.scalars(
            select(StaffMember).where(StaffMember.active.is_(True)).order_by(StaffMember.name)
        )
    )


def _get(uow: UnitOfWork, telegram_user_id: int) -> StaffMember:
    member = uow.session.scalars(
        select(StaffMember).where(
            StaffMember.telegram_user_id == telegram_user_id, StaffMember.active.is_(True)
        )
    ).first()
    if member is None:
        raise StaffNotFound(f"Telegram user {telegram_user_id} is not staff")
    return member


def change_role(uow: UnitOfWork, actor: Actor, telegram_user_id: int, role: str) -> StaffMember:
    require(actor, Permission.MANAGE_STAFF)
    member = _get(uow, telegram_user_id)
    chosen = parse_choice(Role, role, "role")
    if member.role == Role.OWNER and chosen is not Role.OWNER:
        _keep_one_owner(uow, member)
    before = {"role": member.role}
    member.role = chosen.value
    audit.record(
        uow,
        actor,
        "staff.role",
        entity_type="staff",
        entity_id=member.id,
        before=before,
        after={"role": chosen.value},
    )
    return member


def remove_staff(uow: UnitOfWork, actor: Actor, telegram_user_id: int) -> StaffMember:
    require(actor, Permission.MANAGE_STAFF)
    member = _get(uow, telegram_user_id)
    if member.role == Role.OWNER:
        _keep_one_owner(uow, member)
    member.active = False
    revoke_web_access(uow, member.id)
    audit.record(
        uow,
        actor,
        "staff.remove",
        entity_type="staff",
        entity_id=member.id,
        before={"active": True},
        after={"active": False},
    )
    return member


def _keep_one_owner(uow: UnitOfWork, member: StaffMember) -> None:
    owners = uow.session.scalars(
        select(StaffMember.id).where(
            StaffMember.role == Role.OWNER.value, StaffMember.active.is_(True)
        )
    ).all()
    if list(owners) == [member.id]:
        raise Conflict("the last owner cannot be removed or demoted")


def staff_actor(uow: UnitOfWork, telegram_user_id: int) -> Actor | None:
    """The Actor for a registered Telegram user, or None if they are not (active) staff."""
    member = uow.session.scalars(
        select(StaffMember).where(
            StaffMember.telegram_user_id == telegram_user_id, StaffMember.active.is_(True)
        )
    ).first()
    if member is None:
        return None
    return Actor.staff(member.telegram_user_id, member.name, Role(member.role))


def find_staff(uow: UnitOfWork, who: str) -> StaffMember:
    """The active staff member ``who`` names as staff know each other: their Telegram user id,
    their whole name, or the start of one of its words ("otieno"), any case. A name that fits
    two people is refused with both names rather than guessed."""
    wanted = " ".join(who.split()).casefold()
    if not wanted:
        raise InvalidInput("name a staff member")
    members = list_staff(uow)
    if wanted.isdigit():
        found = [m for m in members if m.telegram_user_id == int(wanted)]
    else:
        found = [m for m in members if m.name.casefold() == wanted] or [
            m
            for m in members
            if m.name.casefold().startswith(wanted)
            or any(word.startswith(wanted) for word in m.name.casefold().split())
        ]
    if not found:
        raise StaffNotFound(f"no staff member called {who.strip()!r}")
    if len(found) > 1:
        names = " or ".join(m.name for m in found[:5])
        raise InvalidInput(f"{who.strip()!r} could be {names}: give more of the name")
    return found[0]


def member_of(uow: UnitOfWork, actor: Actor) -> StaffMember | None:
    """The staff row of ``actor`` (a Telegram user), or None (the command line, the system)."""
    if actor.kind is not ActorKind.STAFF or not actor.id.isdigit():
        return None
    return uow.session.scalars(
        select(StaffMember).where(
            StaffMember.telegram_user_id == int(actor.id), StaffMember.active.is_(True)
        )
    ).first()
