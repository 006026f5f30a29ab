"""Roles: what owners, admins, agents and viewers may do, enforced by the use cases themselves."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from core.actors import ROLE_PERMISSIONS, Actor, ActorKind, Permission, can, require
from core.errors import Conflict, PermissionDenied
from core.usecases.billing import (
    IncomingPayment,
    assign_payment,
    record_debt,
    record_payment,
    record_unmatched_payment,
)
from core.usecases.customers import (
    CustomerChanges,
    NewCustomer,
    change_password,
    create_customer,
    delete_customer,
    edit_customer,
)
from core.usecases.network import RouterSpec, add_pool, add_router
from core.usecases.plans import PlanSpec, add_plan, set_plan_active
from core.usecases.renewal import renew
from core.usecases.service import (
    PlanChangeTiming,
    change_plan,
    disconnect,
    extend,
    suspend,
    unsuspend,
)
from core.usecases.staff import add_staff, change_role, list_staff, remove_staff, staff_actor
from core.usecases.ticket_desk import assign_ticket, close_ticket, comment_on_ticket
from core.usecases.tickets import TicketCategory, open_ticket
from core.vocabulary import Role

P = Permission
EXPECTED = {
    Role.OWNER: set(Permission),
    Role.ADMIN: {
        P.VIEW,
        P.RECORD_PAYMENT,
        P.SEND_STK,
        P.SEND_SMS,
        P.DISCONNECT,
        P.WRITE_NOTES,
        P.MANAGE_CUSTOMERS,
        P.FORCE_DELETE,
        P.MANAGE_NETWORK,
        P.HANDLE_TICKETS,
        P.EXPORT_DATA,
    },
    Role.AGENT: {
        P.VIEW,
        P.RECORD_PAYMENT,
        P.SEND_STK,
        P.SEND_SMS,
        P.DISCONNECT,
        P.WRITE_NOTES,
        P.HANDLE_TICKETS,
    },
    Role.VIEWER: {P.VIEW},
}


def test_the_permission_table() -> None:
    assert {role: set(permissions) for role, permissions in ROLE_PERMISSIONS.items()} == EXPECTED


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("permission", list(Permission))
def test_can_and_require_follow_the_table(role: Role, permission: Permission) -> None:
    actor = Actor.staff(7, "Someone", role)
    assert can(actor, permission) is (permission in EXPECTED[role])
    if permission in EXPECTED[role]:
        require(actor, permission)
    else:
        with pytest.raises(PermissionDenied, match=f"your role \\({role.value}\\) may not"):
            require(actor, permission)


def test_staff_without_a_role_may_do_nothing() -> None:
    nobody = Actor(ActorKind.STAFF, "9", "No Role")
    assert not any(can(nobody, permission) for permission in Permission)
    with pytest.raises(PermissionDenied, match="no role"):
        require(nobody, Permission.VIEW)


@pytest.mark.parametrize("actor", [Actor.system(), Actor.mpesa(), Actor.cli()])
def test_the_system_mpesa_and_the_command_line_may_do_everything(actor: Actor) -> None:
    assert all(can(actor, permission) for permission in Permission)


@pytest.fixture
def world(run, staff, isp, make_customer) -> dict[str, Any]:
    """One customer in each state a use case needs, an unmatched payment, and staff members."""
    suspended = make_customer(paid=1500)
    run(suspend, suspended, staff, "check")
    credit = make_customer()
    run(record_payment, credit, staff, IncomingPayment(1500, "cash"), activate=False)
    run(record_unmatched_payment, Actor.mpesa(), IncomingPayment(100, "mpesa", "RKU9"))
    run(add_staff, staff, 5000, "Owner", "owner")
    run(add_staff, staff, 5001, "Agent", "agent")
    active = make_customer(paid=1500)
    opened = run(open_ticket, "+254712345678", active, TicketCategory.SLOW, "ussd")
    return {
        "ticket": opened.ticket_id,
        "plain": make_customer(),
        "active": active,
        "suspended": suspended,
        "credit": credit,
        "isp": isp,
    }


UseCase = Callable[[Any, Actor, dict[str, Any]], Any]
OPERATIONS: dict[str, tuple[Permission, UseCase]] = {
    "create customer": (
        P.MANAGE_CUSTOMERS,
        lambda run, actor, w: run(
            create_customer,
            actor,
            NewCustomer("New One", "0712345678", "hotspot", "Daily 5M", "core-1"),
        ),
    ),
    "edit": (
        P.MANAGE_CUSTOMERS,
        lambda run, actor, w: run(edit_customer, w["plain"], actor, CustomerChanges(notes="x")),
    ),
    "change password": (
        P.MANAGE_CUSTOMERS,
        lambda run, actor, w: run(change_password, w["plain"], actor),
    ),
    "suspend": (P.MANAGE_CUSTOMERS, lambda run, actor, w: run(suspend, w["active"], actor, "x")),
    "unsuspend": (P.MANAGE_CUSTOMERS, lambda run, actor, w: run(unsuspend, w["suspended"], actor)),
    "extend": (P.MANAGE_CUSTOMERS, lambda run, actor, w: run(extend, w["plain"], actor, days=1)),
    "change plan": (
        P.MANAGE_CUSTOMERS,
        lambda run, actor, w: run(
            change_plan, w["plain"], actor, "Home 20M", PlanChangeTiming.RENEWAL
        ),
    ),
    "record debt": (
        P.MANAGE_CUSTOMERS,
        lambda run, actor, w: run(record_debt, w["plain"], actor, 100),
    ),
    "delete": (P.MANAGE_CUSTOMERS, lambda run, actor, w: run(delete_customer, w["plain"], actor)),
    "force delete": (
        P.FORCE_DELETE,
        lambda run, actor, w: run(delete_customer, w["active"], actor, force=True),
    ),
    "record payment": (
        P.RECORD_PAYMENT,
        lambda run, actor, w: run(record_payment, w["plain"], actor, IncomingPayment(10, "cash")),
    ),
    "assign payment": (
        P.RECORD_PAYMENT,
        lambda run, actor, w: run(assign_payment, actor, "RKU9", w["plain"]),
    ),
    "record unmatched payment": (
        P.RECORD_PAYMENT,
        lambda run, actor, w: run(
            record_unmatched_payment, actor, IncomingPayment(10, "bank", "SLIP-1")
        ),
    ),
    "renew": (P.RECORD_PAYMENT, lambda run, actor, w: run(renew, w["credit"], actor)),
    "disconnect": (P.DISCONNECT, lambda run, actor, w: run(disconnect, w["active"], actor)),
    "add plan": (
        P.MANAGE_NETWORK,
        lambda run, actor, w: run(
            add_plan, actor, PlanSpec("Night", "hotspot", 20, "2M", "1M", validity_hours=8)
        ),
    ),
    "retire plan": (
        P.MANAGE_NETWORK,
        lambda run, actor, w: run(set_plan_active, actor, "Home 20M", False),
    ),
    "add router": (
        P.MANAGE_NETWORK,
        lambda run, actor, w: run(
            add_router, actor, RouterSpec("r2", "10.0.0.2", 8728, "a", "b", plain_api=True)
        ),
    ),
    "add pool": (
        P.MANAGE_NETWORK,
        lambda run, actor, w: run(add_pool, actor, "core-1", "10.50.0.0/24"),
    ),
    "add staff": (
        P.MANAGE_STAFF,
        lambda run, actor, w: run(add_staff, actor, 5002, "New", "viewer"),
    ),
    "change role": (
        P.MANAGE_STAFF,
        lambda run, actor, w: run(change_role, actor, 5001, "viewer"),
    ),
    "remove staff": (P.MANAGE_STAFF, lambda run, actor, w: run(remove_staff, actor, 5001)),
    "assign ticket": (
        P.HANDLE_TICKETS,
        lambda run, actor, w: run(assign_ticket, actor, w["ticket"], "agent"),
    ),
    "comment on ticket": (
        P.HANDLE_TICKETS,
        lambda run, actor, w: run(comment_on_ticket, actor, w["ticket"], "called"),
    ),
    "close ticket": (
        P.HANDLE_TICKETS,
        lambda run, actor, w: run(close_ticket, actor, w["ticket"], "fixed"),
    ),
}


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_use_cases_apply_the_table(run, world, audit_events, role: Role, operation: str) -> None:
    permission, use_case = OPERATIONS[operation]
    actor = Actor.staff(42, f"A {role.value}", role)
    already = len(audit_events())
    if permission in EXPECTED[role]:
        use_case(run, actor, world)
        assert any(event.actor_id == "42" for event in audit_events()[already:])
    else:
        with pytest.raises(PermissionDenied):
            use_case(run, actor, world)
        assert len(audit_events()) == already


def test_the_very_first_staff_member_needs_no_permission(run) -> None:
    nobody = Actor(ActorKind.STAFF, "0", "bootstrap")
    member = run(add_staff, nobody, 777, "First Owner", "owner")
    assert member.role == "owner"
    with pytest.raises(PermissionDenied):
        run(add_staff, nobody, 778, "Second", "viewer")


def test_staff_actor_carries_the_stored_role(run, staff) -> None:
    run(add_staff, staff, 900, "Agnes", "Agent")
    actor = run(staff_actor, 900)
    assert (actor.kind, actor.id, actor.name, actor.role) == (
        ActorKind.STAFF,
        "900",
        "Agnes",
        Role.AGENT,
    )
    assert run(staff_actor, 901) is None
    run(remove_staff, staff, 900)
    assert run(staff_actor, 900) is None
    assert run(list_staff) == []


def test_the_last_owner_cannot_be_removed_or_demoted(run, staff) -> None:
    run(add_staff, staff, 1, "Only Owner", "owner")
    with pytest.raises(Conflict, match="last owner"):
        run(change_role, staff, 1, "admin")
    with pytest.raises(Conflict, match="last owner"):
        run(remove_staff, staff, 1)
    run(add_staff, staff, 2, "Second Owner", "owner")
    run(change_role, staff, 1, "admin")
    assert [(m.name, m.role) for m in run(list_staff)] == [
        ("Only Owner", "admin"),
        ("Second Owner", "owner"),
    ]
