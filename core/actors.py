"""Who acts (staff, subscriber, M-Pesa, system) and what each staff role may do."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from core.errors import PermissionDenied
from core.vocabulary import Role


class ActorKind(StrEnum):
    STAFF = "staff"
    SUBSCRIBER = "subscriber"
    MPESA = "mpesa"
    SYSTEM = "system"


@dataclass(frozen=True)
class Actor:
    """The party a change is made by; every audit event names one."""

    kind: ActorKind
    id: str
    name: str
    role: Role | None = None

    @property
    def label(self) -> str:
        return f"{self.kind.value}:{self.name}"

    @classmethod
    def system(cls, name: str = "mteja") -> Actor:
        return cls(ActorKind.SYSTEM, "system", name)

    @classmethod
    def mpesa(cls) -> Actor:
        return cls(ActorKind.MPESA, "mpesa", "M-Pesa")

    @classmethod
    def subscriber(cls, phone: str) -> Actor:
        return cls(ActorKind.SUBSCRIBER, phone, phone)

    @classmethod
    def staff(cls, staff_id: int, name: str, role: Role) -> Actor:
        return cls(ActorKind.STAFF, str(staff_id), name, role)

    @classmethod
    def cli(cls) -> Actor:
        """The operator at the server's command line: trusted like an owner."""
        return cls(ActorKind.STAFF, "cli", "command line", Role.OWNER)


class Permission(StrEnum):
    VIEW = "view"
    RECORD_PAYMENT = "record_payment"
    SEND_STK = "send_stk"
    SEND_SMS = "send_sms"
    DISCONNECT = "disconnect"
    WRITE_NOTES = "write_notes"
    MANAGE_CUSTOMERS = "manage_customers"
    FORCE_DELETE = "force_delete"
    MANAGE_NETWORK = "manage_network"
    MANAGE_STAFF = "manage_staff"
    HANDLE_TICKETS = "handle_tickets"
    # Lists of customers' or payers' personal data as files (CSV).
    EXPORT_DATA = "export_data"


_AGENT = {
    Permission.VIEW,
    Permission.RECORD_PAYMENT,
    Permission.SEND_STK,
    Permission.SEND_SMS,
    Permission.DISCONNECT,
    Permission.WRITE_NOTES,
    Permission.HANDLE_TICKETS,
}
_ADMIN = _AGENT | {
    Permission.MANAGE_CUSTOMERS,
    Permission.FORCE_DELETE,
    Permission.MANAGE_NETWORK,
    Permission.EXPORT_DATA,
}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.OWNER: frozenset(Permission),
    Role.ADMIN: frozenset(_ADMIN),
    Role.AGENT: frozenset(_AGENT),
    Role.VIEWER: frozenset({Permission.VIEW}),
}


# What a subscriber may do for their own account (the adapter checks it is their own); changing
# plan is allowed too, at renewal only (core.usecases.service.change_plan).
SUBSCRIBER_PERMISSIONS = frozenset({Permission.VIEW, Permission.SEND_STK})


def can(actor: Actor, permission: Permission) -> bool:
    """Whether ``actor`` may do what ``permission`` names. M-Pesa and the system act for mteja
    itself; subscribers only look and pay; staff by role."""
    if actor.kind is ActorKind.SUBSCRIBER:
        return permission in SUBSCRIBER_PERMISSIONS
    if actor.kind is not ActorKind.STAFF:
        return True
    return actor.role is not None and permission in ROLE_PERMISSIONS[actor.role]


def require(actor: Actor, permission: Permission) -> None:
    """Raise PermissionDenied unless ``actor`` may do ``permission``."""
    if not can(actor, permission):
        if actor.role is not None:
            role = actor.role.value
        else:
            role = "no role" if actor.kind is ActorKind.STAFF else actor.kind.value
        raise PermissionDenied(f"your role ({role}) may not {permission.value.replace('_', ' ')}")
