"""Which of a customer card's actions fit the customer's status and the staff member's role: one
table for the bot's card buttons and the web console's action forms."""

from __future__ import annotations

from dataclasses import dataclass

from core.actors import Actor, Permission, can
from core.vocabulary import Status

_ACTIVE, _EXPIRED = Status.ACTIVE.value, Status.EXPIRED.value
_SUSPENDED, _INACTIVE = Status.SUSPENDED.value, Status.INACTIVE.value


@dataclass(frozen=True)
class CardAction:
    """An action on a card: what it needs, and the statuses it fits (None: every status)."""

    name: str
    permission: Permission
    statuses: frozenset[str] | None = None


# In the order a card shows them.
CARD_ACTIONS: tuple[CardAction, ...] = (
    CardAction("suspend", Permission.MANAGE_CUSTOMERS, frozenset({_ACTIVE})),
    CardAction("unsuspend", Permission.MANAGE_CUSTOMERS, frozenset({_SUSPENDED})),
    CardAction("extend", Permission.MANAGE_CUSTOMERS, frozenset({_ACTIVE, _EXPIRED})),
    CardAction("pay", Permission.RECORD_PAYMENT),
    CardAction("debt", Permission.MANAGE_CUSTOMERS, frozenset({_ACTIVE, _EXPIRED, _INACTIVE})),
    CardAction("stk", Permission.SEND_STK),
    CardAction("plan", Permission.MANAGE_CUSTOMERS),
    CardAction("password", Permission.MANAGE_CUSTOMERS),
    CardAction("disconnect", Permission.DISCONNECT, frozenset({_ACTIVE, _EXPIRED, _SUSPENDED})),
    CardAction("details", Permission.SEND_SMS),
    CardAction("login", Permission.SEND_SMS),
    CardAction("edit", Permission.MANAGE_CUSTOMERS),
    CardAction("note", Permission.WRITE_NOTES),
    CardAction("history", Permission.VIEW),
    CardAction("delete", Permission.MANAGE_CUSTOMERS),
)
BY_NAME = {action.name: action for action in CARD_ACTIONS}


def fits_status(action: CardAction, status: str) -> bool:
    """Whether ``action`` makes sense for a customer in ``status`` (whoever looks)."""
    return action.statuses is None or status in action.statuses


def fits(action: CardAction, status: str, actor: Actor) -> bool:
    """Whether ``action`` is offered on the card of a customer in ``status`` to ``actor``."""
    return fits_status(action, status) and can(actor, action.permission)


def card_actions(status: str, actor: Actor) -> frozenset[str]:
    """The names of the actions a card of a customer in ``status`` offers ``actor``."""
    return frozenset(action.name for action in CARD_ACTIONS if fits(action, status, actor))
