"""The menus the simulator knows: their properties, defaults, keys and the traps they answer with.

This is data, not behaviour: ``state.RouterState`` applies it. Property values are kept exactly
as RouterOS prints them over the API (booleans as ``true``/``false``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property

from sim.routeros.traps import ARGUMENT_VALUE_FAILURE, CommandTrap

__all__ = [
    "MENUS",
    "READ_VERBS",
    "WRITE_VERBS",
    "MenuKind",
    "MenuSpec",
    "normalize_boolean",
]


class MenuKind(Enum):
    """How a menu behaves: a configurable list, live sessions, or a single settings item."""

    TABLE = "table"
    SESSIONS = "sessions"
    SINGLETON = "singleton"


READ_VERBS = frozenset({"print", "getall"})
WRITE_VERBS = frozenset({"add", "set", "remove", "enable", "disable", "comment"})

_TRUE_WORDS = frozenset({"yes", "true"})
_FALSE_WORDS = frozenset({"no", "false"})


def normalize_boolean(prop: str, value: str) -> str:
    """``yes``/``true`` → ``true`` and ``no``/``false`` → ``false``, as RouterOS prints them."""
    lowered = value.lower()
    if lowered in _TRUE_WORDS:
        return "true"
    if lowered in _FALSE_WORDS:
        return "false"
    raise CommandTrap.of(f"input does not match any value of {prop}", ARGUMENT_VALUE_FAILURE)


@dataclass(frozen=True)
class MenuSpec:
    """One menu.

    ``fields`` are printed for every item (their value here is the default), in this order;
    ``optional`` ones are printed only once set; ``read_only`` ones are printed but refused on
    input. ``unique`` names the key that two items may not share, and ``duplicate_message`` the
    trap RouterOS answers when they would. ``references`` maps a property to the menu whose item
    ``name`` it must equal.
    """

    path: str
    kind: MenuKind
    fields: Mapping[str, str]
    optional: tuple[str, ...] = ()
    read_only: frozenset[str] = frozenset()
    booleans: frozenset[str] = frozenset()
    enums: Mapping[str, frozenset[str]] = field(default_factory=dict)
    references: Mapping[str, str] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    unique: tuple[str, ...] = ()
    duplicate_message: str = ""
    builtin: tuple[Mapping[str, str], ...] = ()
    """Items present on a fresh router; an entry with a ``.id`` keeps that id."""
    auto_name: str = ""
    """When set, an item added without a name is named this prefix and a number (``queue1``)."""

    @cached_property
    def writable(self) -> frozenset[str]:
        """Properties a client may give to ``add`` or ``set``."""
        return frozenset(self.fields).union(self.optional) - self.read_only

    @cached_property
    def verbs(self) -> frozenset[str]:
        """The commands this menu answers to (anything else is ``no such command``)."""
        if self.kind is MenuKind.SESSIONS:
            return READ_VERBS | {"remove"}
        if self.kind is MenuKind.SINGLETON:
            return READ_VERBS | ({"set"} if self.writable else set())
        verbs = READ_VERBS | {"add", "set", "remove"}
        if "disabled" in self.fields:
            verbs |= {"enable", "disable"}
        if "comment" in self.optional:
            verbs |= {"comment"}
        return frozenset(verbs)

    def normalize(self, prop: str, value: str) -> str:
        """A value as this menu stores and prints it (booleans made ``true``/``false``)."""
        if prop in self.booleans:
            return normalize_boolean(prop, value)
        return value


_PPP_SERVICES = frozenset({"any", "async", "l2tp", "ovpn", "pppoe", "pptp", "sstp"})

PPP_SECRET = MenuSpec(
    path="/ppp/secret",
    kind=MenuKind.TABLE,
    fields={
        "name": "",
        "service": "any",
        "caller-id": "",
        "password": "",
        "profile": "default",
        "routes": "",
        "ipv6-routes": "",
        "limit-bytes-in": "0",
        "limit-bytes-out": "0",
        "disabled": "false",
    },
    optional=("local-address", "remote-address", "remote-ipv6-prefix", "comment"),
    booleans=frozenset({"disabled"}),
    enums={"service": _PPP_SERVICES},
    references={"profile": "/ppp/profile"},
    required=("name",),
    unique=("name",),
    duplicate_message="failure: secret with the same name already exists",
)

PPP_PROFILE = MenuSpec(
    path="/ppp/profile",
    kind=MenuKind.TABLE,
    fields={
        "name": "",
        "use-mpls": "default",
        "use-compression": "default",
        "use-encryption": "default",
        "only-one": "default",
        "change-tcp-mss": "default",
        "use-upnp": "default",
        "address-list": "",
        "on-up": "",
        "on-down": "",
    },
    optional=(
        "local-address",
        "remote-address",
        "rate-limit",
        "dns-server",
        "parent-queue",
        "session-timeout",
        "idle-timeout",
        "comment",
    ),
    required=("name",),
    unique=("name",),
    duplicate_message="failure: profile with the same name already exists",
    # The two profiles every RouterOS ships with, with the ids RouterOS gives them.
    builtin=(
        {".id": "*0", "name": "default"},
        {".id": "*FFFFFFFE", "name": "default-encryption", "use-encryption": "yes"},
    ),
)

PPP_ACTIVE = MenuSpec(
    path="/ppp/active",
    kind=MenuKind.SESSIONS,
    fields={
        "name": "",
        "service": "",
        "caller-id": "",
        "address": "",
        "uptime": "0s",
        "encoding": "",
        "session-id": "",
        "limit-bytes-in": "0",
        "limit-bytes-out": "0",
        "radius": "false",
        # Not in /ppp/active on a real router: it lives on the session's dynamic interface, which
        # /interface prints too. Kept here as well so the card's presence line shows traffic.
        "bytes-in": "0",
        "bytes-out": "0",
    },
    read_only=frozenset(
        {
            "name",
            "service",
            "caller-id",
            "address",
            "uptime",
            "encoding",
            "session-id",
            "limit-bytes-in",
            "limit-bytes-out",
            "radius",
            "bytes-in",
            "bytes-out",
        }
    ),
    unique=("name",),
)

HOTSPOT_USER = MenuSpec(
    path="/ip/hotspot/user",
    kind=MenuKind.TABLE,
    fields={
        "server": "all",
        "name": "",
        "profile": "default",
        "uptime": "0s",
        "bytes-in": "0",
        "bytes-out": "0",
        "packets-in": "0",
        "packets-out": "0",
        "dynamic": "false",
        "disabled": "false",
    },
    optional=(
        "password",
        "address",
        "mac-address",
        "email",
        "limit-uptime",
        "limit-bytes-in",
        "limit-bytes-out",
        "limit-bytes-total",
        "routes",
        "comment",
    ),
    read_only=frozenset(
        {"uptime", "bytes-in", "bytes-out", "packets-in", "packets-out", "dynamic"}
    ),
    booleans=frozenset({"disabled", "dynamic"}),
    references={"profile": "/ip/hotspot/user/profile"},
    required=("name",),
    unique=("name",),
    duplicate_message="failure: already have user with this name for this server",
    builtin=({"name": "default-trial", "comment": "counters and limits for trial users"},),
)

HOTSPOT_USER_PROFILE = MenuSpec(
    path="/ip/hotspot/user/profile",
    kind=MenuKind.TABLE,
    fields={
        "name": "",
        "idle-timeout": "none",
        "keepalive-timeout": "2m",
        "status-autorefresh": "1m",
        "shared-users": "1",
        "add-mac-cookie": "true",
        "mac-cookie-timeout": "3d",
        "address-list": "",
        "transparent-proxy": "false",
    },
    optional=("rate-limit", "session-timeout", "address-pool", "parent-queue", "comment"),
    booleans=frozenset({"add-mac-cookie", "transparent-proxy"}),
    required=("name",),
    unique=("name",),
    duplicate_message="failure: profile with the same name already exists",
    builtin=({".id": "*0", "name": "default"},),
)

HOTSPOT_ACTIVE = MenuSpec(
    path="/ip/hotspot/active",
    kind=MenuKind.SESSIONS,
    fields={
        "server": "hotspot1",
        "user": "",
        "address": "",
        "mac-address": "",
        "login-by": "http-chap",
        "uptime": "0s",
        "idle-time": "0s",
        "bytes-in": "0",
        "bytes-out": "0",
        "packets-in": "0",
        "packets-out": "0",
        "radius": "false",
    },
    read_only=frozenset(
        {
            "server",
            "user",
            "address",
            "mac-address",
            "login-by",
            "uptime",
            "idle-time",
            "bytes-in",
            "bytes-out",
            "packets-in",
            "packets-out",
            "radius",
        }
    ),
    unique=("user",),
)

INTERFACE = MenuSpec(
    path="/interface",
    kind=MenuKind.SESSIONS,
    # Only the dynamic interface of each PPP session (``<pppoe-NAME>``), where RouterOS keeps the
    # session's byte counters: derived from /ppp/active when printed, never stored.
    fields={
        "name": "",
        "type": "",
        "mtu": "1480",
        "rx-byte": "0",
        "tx-byte": "0",
        "running": "true",
        "dynamic": "true",
        "disabled": "false",
    },
    read_only=frozenset({"name", "type", "mtu", "rx-byte", "tx-byte", "running", "dynamic"}),
    booleans=frozenset({"running", "dynamic", "disabled"}),
)

QUEUE_SIMPLE = MenuSpec(
    path="/queue/simple",
    kind=MenuKind.TABLE,
    fields={
        "name": "",
        "target": "",
        "parent": "none",
        "packet-marks": "",
        "priority": "8/8",
        "queue": "default-small/default-small",
        "limit-at": "0/0",
        "max-limit": "0/0",
        "burst-limit": "0/0",
        "burst-threshold": "0/0",
        "burst-time": "0s/0s",
        "bucket-size": "0.1/0.1",
        # Statistics, each "upload/download" as the target sees it: upload is what the target
        # sent (the router received), download what reached it. Computed when printed.
        "bytes": "0/0",
        "packets": "0/0",
        "rate": "0/0",
        "invalid": "false",
        "dynamic": "false",
        "disabled": "false",
    },
    optional=("comment",),
    read_only=frozenset({"bytes", "packets", "rate", "invalid", "dynamic"}),
    auto_name="queue",
    booleans=frozenset({"disabled", "invalid", "dynamic"}),
    unique=("name",),
    duplicate_message="failure: already have queue with such name",
)

ADDRESS_LIST = MenuSpec(
    path="/ip/firewall/address-list",
    kind=MenuKind.TABLE,
    fields={
        "list": "",
        "address": "",
        "creation-time": "",
        "dynamic": "false",
        "disabled": "false",
    },
    optional=("timeout", "comment"),
    read_only=frozenset({"creation-time", "dynamic"}),
    booleans=frozenset({"disabled", "dynamic"}),
    required=("list", "address"),
    unique=("list", "address"),
    duplicate_message="failure: already have such entry",
)

ARP = MenuSpec(
    path="/ip/arp",
    kind=MenuKind.TABLE,
    # A dynamic entry is learned from a device that answered (``complete`` once its MAC address
    # is known); RouterOS drops it some minutes after the device goes quiet. A failed entry has
    # no MAC address and is not complete.
    fields={
        "address": "",
        "interface": "",
        "published": "false",
        "invalid": "false",
        "DHCP": "false",
        "dynamic": "false",
        "complete": "false",
        "disabled": "false",
    },
    optional=("mac-address", "comment"),
    read_only=frozenset({"invalid", "DHCP", "dynamic", "complete"}),
    booleans=frozenset({"published", "invalid", "DHCP", "dynamic", "complete", "disabled"}),
    required=("address", "interface"),
)

SYSTEM_IDENTITY = MenuSpec(
    path="/system/identity",
    kind=MenuKind.SINGLETON,
    fields={"name": "MikroTik"},
)

SYSTEM_RESOURCE = MenuSpec(
    path="/system/resource",
    kind=MenuKind.SINGLETON,
    fields={
        "uptime": "0s",
        "version": "7.14.3 (stable)",
        "build-time": "2024-04-17 12:47:58",
        "factory-software": "7.1",
        "free-memory": "912371712",
        "total-memory": "1073741824",
        "cpu": "QEMU",
        "cpu-count": "1",
        "cpu-frequency": "2496",
        "cpu-load": "1",
        "free-hdd-space": "89321472",
        "total-hdd-space": "134217728",
        "architecture-name": "x86_64",
        "board-name": "CHR",
        "platform": "MikroTik",
    },
    read_only=frozenset(
        {
            "uptime",
            "version",
            "build-time",
            "factory-software",
            "free-memory",
            "total-memory",
            "cpu",
            "cpu-count",
            "cpu-frequency",
            "cpu-load",
            "free-hdd-space",
            "total-hdd-space",
            "architecture-name",
            "board-name",
            "platform",
        }
    ),
)

MENUS: Mapping[str, MenuSpec] = {
    spec.path: spec
    for spec in (
        PPP_SECRET,
        PPP_PROFILE,
        PPP_ACTIVE,
        HOTSPOT_USER,
        HOTSPOT_USER_PROFILE,
        HOTSPOT_ACTIVE,
        INTERFACE,
        QUEUE_SIMPLE,
        ADDRESS_LIST,
        ARP,
        SYSTEM_IDENTITY,
        SYSTEM_RESOURCE,
    )
}
"""Every menu the simulator serves, by path."""
