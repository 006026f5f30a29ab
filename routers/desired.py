"""What a router should hold for mteja's customers: entries per menu, derived from the database.

Ownership: customer entries carry the comment ``mteja:<account number>``; plan profiles are named
``mteja-<plan id>-<slug>``. Anything else on the router belongs to the operator and is never
changed or removed.
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from core.lifecycle import ServiceFacts, allowed_in
from core.models import Plan
from core.vocabulary import ConnectionType, Status

COMMENT_PREFIX = "mteja:"
PROFILE_PREFIX = "mteja-"
BLOCKED_LIST = "mteja-blocked"

PPP_SECRET = "/ppp/secret"
PPP_PROFILE = "/ppp/profile"
PPP_ACTIVE = "/ppp/active"
HOTSPOT_USER = "/ip/hotspot/user"
HOTSPOT_PROFILE = "/ip/hotspot/user/profile"
HOTSPOT_ACTIVE = "/ip/hotspot/active"
QUEUE = "/queue/simple"
ADDRESS_LIST = "/ip/firewall/address-list"

# The properties mteja manages in each menu; others (set by hand) are left alone.
MANAGED_PROPERTIES: dict[str, tuple[str, ...]] = {
    PPP_PROFILE: ("name", "rate-limit"),
    PPP_SECRET: ("name", "password", "service", "profile", "remote-address", "disabled", "comment"),
    HOTSPOT_PROFILE: ("name", "rate-limit"),
    HOTSPOT_USER: ("name", "password", "profile", "disabled", "comment"),
    QUEUE: ("name", "target", "max-limit", "disabled", "comment"),
    ADDRESS_LIST: ("list", "address", "comment"),
}
KEY_PROPERTIES: dict[str, tuple[str, ...]] = {
    PPP_PROFILE: ("name",),
    PPP_SECRET: ("name",),
    HOTSPOT_PROFILE: ("name",),
    HOTSPOT_USER: ("name",),
    QUEUE: ("name",),
    ADDRESS_LIST: ("list", "address"),
}
# Where a customer's live sessions are, and the property naming the login.
SESSION_MENUS: dict[str, tuple[str, str]] = {
    ConnectionType.PPPOE.value: (PPP_ACTIVE, "name"),
    ConnectionType.HOTSPOT.value: (HOTSPOT_ACTIVE, "user"),
}


class CustomerFacts(ServiceFacts, Protocol):
    """What the desired state reads of a customer: a Customer with its plan loaded, or a
    ``routers.customer_rows.CustomerRow`` (a reconcile reads every customer as plain rows)."""

    @property
    def id(self) -> int: ...

    @property
    def account_number(self) -> str: ...

    @property
    def username(self) -> str: ...

    @property
    def connection_type(self) -> str: ...

    @property
    def ip_address(self) -> str | None: ...

    @property
    def sync_version(self) -> int: ...

    @property
    def data_capped_at(self) -> datetime | None: ...

    @property
    def plan(self) -> Plan: ...


@dataclass(frozen=True)
class SyncOptions:
    """How blocking is expressed: disable the login (default), or move expired customers to an
    operator's ``expired_profile`` (e.g. one that redirects to a payment page)."""

    expired_profile: str | None = None


# Slotted, and an Entry keeps its values in a tuple rather than a dict: a full reconcile holds
# one CustomerState and one or two Entry objects per customer (100,000 on a big router), where
# an instance's __dict__ and a dict of six properties each cost more than the values.
@dataclass(frozen=True, slots=True, init=False)
class Entry:
    """One item a menu should hold: the text of each property mteja manages there, in the order
    of MANAGED_PROPERTIES[menu], "" for one that should be unset."""

    menu: str
    values: tuple[str, ...]
    # Derived once: the reconciler indexes every entry by it, several times.
    key: tuple[str, ...] = field(compare=False, repr=False)

    def __init__(self, menu: str, attrs: Mapping[str, str]) -> None:
        properties = MANAGED_PROPERTIES[menu]
        unmanaged = attrs.keys() - set(properties)
        if unmanaged:
            raise ValueError(f"{menu}: {', '.join(sorted(unmanaged))} not managed by mteja")
        object.__setattr__(self, "menu", menu)
        object.__setattr__(self, "values", tuple(attrs.get(prop, "") for prop in properties))
        object.__setattr__(self, "key", tuple(attrs[prop] for prop in KEY_PROPERTIES[menu]))

    @property
    def attrs(self) -> dict[str, str]:
        """The properties to set, by name; those to leave unset are left out."""
        return {
            prop: value
            for prop, value in zip(MANAGED_PROPERTIES[self.menu], self.values, strict=True)
            if value
        }


@dataclass(frozen=True, slots=True)
class CustomerState:
    """A customer's desired entries on its router, and whether live sessions must go."""

    customer_id: int
    account_number: str
    username: str
    connection_type: str
    allowed: bool
    sync_version: int
    entries: tuple[Entry, ...]

    @property
    def comment(self) -> str:
        return COMMENT_PREFIX + self.account_number


@dataclass(frozen=True)
class RemovedLogin:
    """A login that must disappear from a router (customer deleted, renamed or moved)."""

    account_number: str | None
    username: str
    connection_type: str


@dataclass
class RouterDesired:
    """The desired state of one router, whole (full reconcile) or for some customers."""

    profiles: list[Entry] = field(default_factory=list)
    customers: list[CustomerState] = field(default_factory=list)
    removed: list[RemovedLogin] = field(default_factory=list)


@functools.lru_cache(maxsize=1024)  # a plan's name, once per customer on a reconcile
def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "plan"


def profile_name(plan: Plan) -> str:
    """The router profile of a plan: unique (the id) and readable (the slug)."""
    # Interned: every customer's entry names its plan's profile, one string per plan, not one
    # per customer (100,000 on a full reconcile).
    return sys.intern(f"{PROFILE_PREFIX}{plan.id}-{slug(plan.name)}")


def throttled_profile_name(plan: Plan) -> str:
    """The profile of a plan's customers over its data cap (the plan's throttle speed)."""
    return f"{profile_name(plan)}-capped"


def queue_name(username: str) -> str:
    return f"{PROFILE_PREFIX}{username}"


def profile_entry(plan: Plan) -> Entry | None:
    """The PPP or hotspot user profile carrying the plan's rate limit (static plans have none)."""
    menu = {
        ConnectionType.PPPOE.value: PPP_PROFILE,
        ConnectionType.HOTSPOT.value: HOTSPOT_PROFILE,
    }.get(plan.connection_type)
    if menu is None:
        return None
    return Entry(menu, {"name": profile_name(plan), "rate-limit": plan.rate_limit})


def plan_profile_entries(plan: Plan) -> list[Entry]:
    """The plan's profile and, when the plan throttles over its data cap, the throttled one."""
    entry = profile_entry(plan)
    if entry is None:
        return []
    entries = [entry]
    throttle = plan.throttle_rate_limit
    if plan.data_cap_mb is not None and throttle is not None:
        entries.append(
            Entry(entry.menu, {"name": throttled_profile_name(plan), "rate-limit": throttle})
        )
    return entries


def over_data_cap(customer: CustomerFacts) -> bool:
    """Whether the customer reached the plan's data cap this period (and the plan still has one)."""
    return customer.data_capped_at is not None and customer.plan.data_cap_mb is not None


def customer_state(
    customer: CustomerFacts, password: str, now: datetime, options: SyncOptions
) -> CustomerState:
    """Derive the entries for ``customer`` (with its plan loaded) at ``now``."""
    plan = customer.plan
    # Over the data cap: the throttled profile, or no access when the plan has no throttle.
    throttled = over_data_cap(customer) and plan.throttle_rate_limit is not None
    blocked_by_cap = over_data_cap(customer) and not throttled
    allowed = allowed_in(customer, now) and not blocked_by_cap
    comment = COMMENT_PREFIX + customer.account_number
    use_expired_profile = (
        not allowed and options.expired_profile is not None and customer.status == Status.EXPIRED
    )
    if use_expired_profile:
        profile = options.expired_profile
    else:
        profile = throttled_profile_name(plan) if throttled else profile_name(plan)
    assert profile is not None
    speed = plan.throttle_rate_limit if throttled else plan.rate_limit
    assert speed is not None
    disabled = "false" if allowed or use_expired_profile else "true"
    entries: list[Entry] = []
    if customer.connection_type == ConnectionType.PPPOE:
        attrs = {
            "name": customer.username,
            "password": password,
            "service": "pppoe",
            "profile": profile,
            "disabled": disabled,
            "comment": comment,
        }
        if customer.ip_address:
            attrs["remote-address"] = customer.ip_address
        entries.append(Entry(PPP_SECRET, attrs))
    elif customer.connection_type == ConnectionType.HOTSPOT:
        entries.append(
            Entry(
                HOTSPOT_USER,
                {
                    "name": customer.username,
                    "password": password,
                    "profile": profile,
                    "disabled": disabled,
                    "comment": comment,
                },
            )
        )
    elif customer.ip_address:
        entries.append(
            Entry(
                QUEUE,
                {
                    "name": queue_name(customer.username),
                    "target": f"{customer.ip_address}/32",
                    "max-limit": speed,
                    "disabled": "false",
                    "comment": comment,
                },
            )
        )
        if not allowed:
            entries.append(
                Entry(
                    ADDRESS_LIST,
                    {"list": BLOCKED_LIST, "address": customer.ip_address, "comment": comment},
                )
            )
    return CustomerState(
        customer_id=customer.id,
        account_number=customer.account_number,
        username=customer.username,
        # The vocabulary's own string, not the row's copy: one per connection type, not one per
        # customer, in a full reconcile's 100,000 states.
        connection_type=ConnectionType(customer.connection_type).value,
        allowed=allowed,
        sync_version=customer.sync_version,
        entries=tuple(entries),
    )


def is_managed(menu: str, item: dict[str, str]) -> bool:
    """Whether mteja owns ``item``: its comment tag, or (profiles) its name prefix."""
    if menu in (PPP_PROFILE, HOTSPOT_PROFILE):
        return item.get("name", "").startswith(PROFILE_PREFIX)
    return item.get("comment", "").startswith(COMMENT_PREFIX)


def login_menu(connection_type: str) -> str | None:
    """The menu holding a login of this connection type (None for static)."""
    return {
        ConnectionType.PPPOE.value: PPP_SECRET,
        ConnectionType.HOTSPOT.value: HOTSPOT_USER,
    }.get(connection_type)
