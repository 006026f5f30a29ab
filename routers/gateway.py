"""The port through which mteja reads and writes a MikroTik router, menu by menu.

Implementations: ``RouterOsGateway`` (librouteros, a real router or the simulator) and
``InMemoryRouterGateway`` (a fake for unit tests, in ``sim.routeros.memory_gateway``). One
contract test suite runs against both.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

__all__ = [
    "API_PORT",
    "API_SSL_PORT",
    "RouterAuthFailed",
    "RouterCertificateMismatch",
    "RouterCredentials",
    "RouterError",
    "RouterGateway",
    "RouterRejected",
    "RouterUnreachable",
    "Write",
]

API_PORT = 8728
API_SSL_PORT = 8729


class RouterError(Exception):
    """Anything that went wrong talking to a router."""


class RouterUnreachable(RouterError):
    """No answer: the connection was refused, timed out or was lost mid-command.

    After a lost write the write may or may not have been applied; read back to find out.
    """


class RouterRejected(RouterError):
    """The router refused a command with a ``!trap``.

    ``message`` is RouterOS's text verbatim (several traps joined with ``", "``); ``category``
    is its numeric category when it sent one.
    """

    def __init__(self, message: str, category: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.category = category


class RouterAuthFailed(RouterError):
    """The router refused the API username or password."""


class RouterCertificateMismatch(RouterError):
    """The router's TLS certificate is not the pinned one, or does not verify against the CA.

    Raised before any login: the API password was not sent. Someone may be in the middle, or
    the router's certificate was replaced; staff confirm it (``mteja router fingerprint``)."""


@dataclass(frozen=True)
class RouterCredentials:
    """How to reach and log in to one router's API.

    ``port`` None means 8728, or 8729 with ``tls``. With TLS the certificate is verified one of
    two ways: ``tls_fingerprint`` (the SHA-256 of the router's DER certificate, hex) is compared
    before login; or ``tls_verify`` with ``tls_ca_file`` checks the chain against that CA. With
    neither the connection is encrypted but not verified (MikroTik ships self-signed
    certificates, or none). Timeouts are in seconds: ``connect_timeout`` covers TCP, TLS
    and login; ``command_timeout`` is the longest wait for a reply.
    """

    host: str
    username: str
    password: str
    port: int | None = None
    tls: bool = False
    tls_verify: bool = False
    tls_ca_file: str | None = None
    tls_fingerprint: str | None = None
    connect_timeout: float = 10.0
    command_timeout: float = 30.0
    encoding: str = "utf-8"

    @property
    def effective_port(self) -> int:
        """The TCP port to connect to."""
        if self.port is not None:
            return self.port
        return API_SSL_PORT if self.tls else API_PORT

    def __repr__(self) -> str:
        # Never print the password (tracebacks and logs show reprs).
        return (
            f"RouterCredentials(host={self.host!r}, port={self.effective_port}, "
            f"username={self.username!r}, tls={self.tls})"
        )


@dataclass(frozen=True)
class Write:
    """One write: ``add`` (``attrs``), ``set`` (one id in ``item_ids``, ``attrs``) or ``remove``
    (``item_ids``), as ``RouterGateway.add``/``set``/``remove`` take them."""

    verb: Literal["add", "set", "remove"]
    menu: str
    item_ids: tuple[str, ...] = ()
    attrs: Mapping[str, str] = field(default_factory=dict)


@runtime_checkable
class RouterGateway(Protocol):
    """Reads and writes one router's menus (``/ppp/secret``, ``/ip/hotspot/user``, …).

    Items are ``dict[str, str]``: every value is a str exactly as RouterOS prints it over the
    API (booleans ``"true"``/``"false"``, numbers in decimal, durations like ``"1h2m3s"``), and
    a property that is not set is absent rather than empty. Items of list menus carry their id
    under ``".id"`` (``"*1A"``); ids are opaque strings, not numbers.

    Errors: ``RouterUnreachable``, ``RouterRejected``, ``RouterAuthFailed``, all ``RouterError``.
    An instance is used by one thread at a time; callers serialize work per router above it.
    """

    def print(
        self,
        menu: str,
        proplist: Sequence[str] | None = None,
        where: Mapping[str, str] | None = None,
    ) -> list[dict[str, str]]:
        """Items of ``menu`` in the router's order.

        ``proplist`` limits each item to those properties (include ``".id"`` to keep the id);
        ``where`` keeps items whose properties equal every given value (a boolean may be given
        as ``yes``/``no`` too). Singleton menus (``/system/resource``) give one item, no id.
        """
        ...

    def print_each(
        self,
        menu: str,
        proplist: Sequence[str] | None = None,
        where: Mapping[str, str] | None = None,
    ) -> Iterator[dict[str, str]]:
        """``print``, item by item as the router sends them: a whole menu of 100,000 items is
        never held at once. Read it to the end before the next call on this gateway (stopping
        early closes the connection). RouterRejected is raised after the last item."""
        ...

    def add(self, menu: str, attrs: Mapping[str, str]) -> str:
        """Create an item; returns its new ``.id``. RouterRejected on a duplicate key."""
        ...

    def set(self, menu: str, item_id: str, attrs: Mapping[str, str]) -> None:
        """Change properties of one item; ``""`` unsets an optional property.

        RouterRejected (``no such item``) when ``item_id`` does not exist.
        """
        ...

    def remove(self, menu: str, item_ids: Sequence[str]) -> None:
        """Remove items, all or none (RouterRejected if one does not exist); ``[]`` does nothing.

        Removing from ``/ppp/active`` or ``/ip/hotspot/active`` disconnects those sessions.
        """
        ...

    def print_many(
        self,
        menu: str,
        proplist: Sequence[str] | None,
        wheres: Sequence[Mapping[str, str]],
    ) -> list[list[dict[str, str]]]:
        """``print(menu, proplist, where)`` for each of ``wheres``, sent together rather than one
        round trip each: the items of each, in the order of ``wheres``. Meant for lookups by key,
        whose answers are small. RouterRejected if the router refuses one."""
        ...

    def write_many(self, writes: Sequence[Write]) -> list[RouterRejected | None]:
        """Make ``writes`` sent together rather than one round trip each, and wait for every
        answer: for each write, in order, None if the router accepted it or the RouterRejected
        it answered (a refusal does not stop the others). The router may apply them in any
        order, so they must not depend on one another. RouterUnreachable when the connection
        is lost before every answer came: any of them may or may not have been applied."""
        ...

    def identity(self) -> str:
        """The router's name (``/system/identity``)."""
        ...

    def resource(self) -> dict[str, str]:
        """``/system/resource``: ``uptime``, ``version``, ``cpu-load``, ``free-memory``,
        ``board-name``, ``architecture-name`` and more, as strings."""
        ...

    def close(self) -> None:
        """Release the connection; safe to call twice. A later call connects again."""
        ...
