"""The simulated router itself: its menus, live sessions, and the commands that act on them.

``RouterState`` knows nothing of sockets: the API server feeds it decoded commands, tests and
``InMemoryRouterGateway`` call it directly. Every public method takes one lock, so the asyncio
thread serving clients and a test thread may use it at the same time.
"""

from __future__ import annotations

import ipaddress
import itertools
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from sim.routeros.menus import MENUS, READ_VERBS, MenuKind, MenuSpec
from sim.routeros.query import QueryError, compile_query, plain_equalities
from sim.routeros.table import Item, Table
from sim.routeros.traffic import Meter, TrafficModel, format_duration
from sim.routeros.traps import (
    ARGUMENT_VALUE_FAILURE,
    NO_SUCH_COMMAND,
    NO_SUCH_COMMAND_PREFIX,
    NO_SUCH_ITEM,
    UNKNOWN_PARAMETER,
    CommandTrap,
    Trap,
)

__all__ = ["BLOCKED_LIST", "CommandResult", "RouterState"]

# Told of every entry an API command added or changed: (menu, the entries as they now are).
WriteListener = Callable[[str, list[Item]], None]

BLOCKED_LIST = "mteja-blocked"
"""The firewall address list whose members (static-IP customers) have no service."""

_PPP_ACTIVE = "/ppp/active"
_HOTSPOT_ACTIVE = "/ip/hotspot/active"
_INTERFACE = "/interface"
_QUEUE = "/queue/simple"
_ARP = "/ip/arp"
CUSTOMER_INTERFACE = "bridge-customers"
"""Where static-IP customers' devices are (the interface of their ARP entries)."""
_PACKET_BYTES = 1000  # the simulator's packets are all this size
_KNOWN_DIRECTORIES = frozenset(
    "/".join(path.split("/")[: depth + 1])
    for path in MENUS
    for depth in range(1, path.count("/") + 1)
)


@dataclass(frozen=True)
class CommandResult:
    """What a successful command answers: ``!re`` rows, then ``!done`` with ``=ret=`` if any."""

    rows: list[Item] = field(default_factory=list)
    ret: str | None = None


def _unknown_path(menu: str) -> CommandTrap:
    # RouterOS names the first path segment it does not know, then gives up on the prefix.
    segments = [segment for segment in menu.split("/") if segment]
    known = ""
    for segment in segments:
        candidate = f"{known}/{segment}"
        if candidate not in _KNOWN_DIRECTORIES:
            return CommandTrap(
                Trap(f"no such command or directory ({segment})"), Trap(NO_SUCH_COMMAND_PREFIX)
            )
        known = candidate
    return CommandTrap.of(NO_SUCH_COMMAND)


def _lenient(spec: MenuSpec) -> Callable[[str, str], str]:
    # A query value that is not valid for the property simply matches nothing.
    def normalize(prop: str, value: str) -> str:
        try:
            return spec.normalize(prop, value)
        except CommandTrap:
            return value

    return normalize


def _bare_address(address: str) -> str:
    return address[:-3] if address.endswith("/32") else address


class RouterState:
    """One router's configuration and sessions, plus the control API tests use.

    ``clock`` (monotonic seconds) drives uptimes and traffic counters; pass a fake one to get
    exact figures. ``wall_clock`` (epoch seconds) stamps address-list creation times.
    """

    def __init__(
        self,
        *,
        identity: str = "MikroTik",
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._lock = threading.RLock()
        self._clock = clock
        self._wall_clock = wall_clock
        self._booted_at = clock()
        self._tables = {
            path: Table(spec) for path, spec in MENUS.items() if spec.kind is not MenuKind.SINGLETON
        }
        self._singletons = {
            path: dict(spec.fields)
            for path, spec in MENUS.items()
            if spec.kind is MenuKind.SINGLETON
        }
        self._singletons["/system/identity"]["name"] = identity
        self._meters: dict[tuple[str, str], Meter] = {}
        self._traffic = TrafficModel()
        self._session_numbers = itertools.count(1)
        self._devices: set[str] = set()  # addresses of static devices that are up
        self._write_listeners: list[WriteListener] = []
        for spec in MENUS.values():
            for builtin in spec.builtin:
                attrs = {prop: value for prop, value in builtin.items() if prop != ".id"}
                self._add(self._tables[spec.path], attrs, item_id=builtin.get(".id"))

    # -- the API commands ------------------------------------------------------------------

    def accepts(self, menu: str, verb: str) -> bool:
        """Whether ``{menu}/{verb}`` is a command this router has."""
        spec = MENUS.get(menu)
        return spec is not None and verb in spec.verbs

    def execute(
        self, menu: str, verb: str, attrs: Mapping[str, str], queries: Sequence[str] = ()
    ) -> CommandResult:
        """Run ``{menu}/{verb}`` with ``=attr=`` words and ``?query`` words, as the API would.

        Raises CommandTrap with the ``!trap`` sentences RouterOS would answer instead.
        """
        spec = MENUS.get(menu)
        if spec is None:
            raise _unknown_path(menu)
        if verb not in spec.verbs:
            raise CommandTrap.of(NO_SUCH_COMMAND)
        with self._lock:
            if verb in READ_VERBS:
                return self._print(spec, attrs, queries)
            if spec.kind is MenuKind.SINGLETON:
                self._singletons[menu].update(self._validated(spec, attrs))
                return CommandResult()
            table = self._tables[menu]
            if verb == "add":
                item_id = self._add(table, attrs)
                if menu == _QUEUE:
                    self._meters[(menu, item_id)] = self._traffic.start(self._clock())
                    self._run_queues([item_id])
                self._tell_listeners(menu, table, [item_id])
                return CommandResult(ret=item_id)
            ids = self._resolve_ids(table, attrs.get(".id", ""))
            if verb == "remove":
                for item_id in ids:
                    table.delete(item_id)
                    self._meters.pop((menu, item_id), None)
            elif verb == "set":
                self._set(table, ids, attrs)
            elif verb == "comment":
                self._set(table, ids, {"comment": attrs.get("comment", "")})
            else:
                self._set(table, ids, {"disabled": "true" if verb == "disable" else "false"})
            if menu == _QUEUE and verb != "remove":
                self._run_queues(ids)  # a new target, or disabled: counting starts or stops
            if verb != "remove":
                self._tell_listeners(menu, table, ids)
            return CommandResult()

    def on_write(self, listener: WriteListener) -> None:
        """Call ``listener(menu, items)`` after every API command that adds or changes entries,
        with a copy of each entry as it now is, under the router's lock: a benchmark sees the
        moment a secret is enabled without polling (and without the polling's own load)."""
        with self._lock:
            self._write_listeners.append(listener)

    def _tell_listeners(self, menu: str, table: Table, ids: Sequence[str]) -> None:
        if not self._write_listeners:
            return
        items = [dict(item) for item_id in ids if (item := table.get(item_id)) is not None]
        for listener in self._write_listeners:
            listener(menu, items)

    def burn_id(self, menu: str) -> str:
        """Use up the next id of ``menu`` without creating anything (an add that got lost)."""
        with self._lock:
            table = self._tables.get(menu)
            return table.new_id() if table is not None else "*0"

    def _print(
        self, spec: MenuSpec, attrs: Mapping[str, str], queries: Sequence[str]
    ) -> CommandResult:
        try:
            predicate = compile_query(queries, _lenient(spec))
        except QueryError as error:
            raise CommandTrap.of(str(error)) from error
        matched = [row for row in self._candidates(spec, queries) if predicate(row)]
        if "count-only" in attrs:
            return CommandResult(ret=str(len(matched)))
        proplist = [prop for prop in attrs.get(".proplist", "").split(",") if prop]
        if proplist:
            rows = [{prop: row[prop] for prop in proplist if prop in row} for row in matched]
        else:
            rows = [dict(row) for row in matched]
        return CommandResult(rows=rows)

    def _candidates(self, spec: MenuSpec, queries: Sequence[str]) -> list[Item]:
        if spec.kind is MenuKind.SINGLETON:
            return [self._singleton_row(spec)]
        if spec.path == _INTERFACE:
            return self._ppp_interfaces()
        table = self._tables[spec.path]
        items: list[Item]
        equalities = plain_equalities(queries) if spec.unique else None
        if equalities is not None and all(prop in equalities for prop in spec.unique):
            # Answer "?name=x" from the index instead of scanning the whole menu.
            normalize = _lenient(spec)
            key = tuple(normalize(prop, equalities[prop]) for prop in spec.unique)
            found = table.find(key)
            item = table.get(found) if found is not None else None
            items = [item] if item is not None else []
        else:
            items = list(table)
        if spec.kind is MenuKind.SESSIONS:
            return [self._session_row(spec.path, item) for item in items]
        if spec.path == _QUEUE:
            return [self._queue_row(item) for item in items]
        return items

    def _ppp_interfaces(self) -> list[Item]:
        """Each PPP session's dynamic interface, where a real RouterOS keeps its counters: rx is
        what the router received from the subscriber, tx what it sent them."""
        rows = []
        for item in self._tables[_PPP_ACTIVE]:
            session = self._session_row(_PPP_ACTIVE, item)
            row = {".id": f"*{0x80000 + int(item['.id'][1:], 16):X}"}
            row.update(MENUS[_INTERFACE].fields)
            row.update(
                {
                    "name": f"<{session['service']}-{session['name']}>",
                    "type": f"{session['service']}-in",
                    "rx-byte": session["bytes-in"],
                    "tx-byte": session["bytes-out"],
                }
            )
            rows.append(row)
        return rows

    def _singleton_row(self, spec: MenuSpec) -> Item:
        row = dict(self._singletons[spec.path])
        if "uptime" in row:
            row["uptime"] = format_duration(self._clock() - self._booted_at)
        return row

    def _session_row(self, menu: str, item: Item) -> Item:
        row = dict(item)
        meter = self._meters.get((menu, item[".id"]))
        if meter is not None:
            row["uptime"], row["bytes-in"], row["bytes-out"] = self._traffic.read(
                meter, self._clock()
            )
        return row

    def _queue_row(self, item: Item) -> Item:
        row = dict(item)
        meter = self._meters.get((_QUEUE, item[".id"]))
        if meter is not None:
            # The router receives the target's upload and sends its download.
            upload, download = self._traffic.counters(meter, self._clock())
            row["bytes"] = f"{upload}/{download}"
            row["packets"] = f"{upload // _PACKET_BYTES}/{download // _PACKET_BYTES}"
            if meter.running:
                rates = (self._traffic.bytes_in_per_second, self._traffic.bytes_out_per_second)
                row["rate"] = "/".join(str(int(rate * 8)) for rate in rates)
        return row

    def _run_queues(self, ids: Sequence[str]) -> None:
        """Each queue counts while it is enabled and a device of its target is up."""
        table = self._tables[_QUEUE]
        now = self._clock()
        for item_id in ids:
            item = table.get(item_id)
            meter = self._meters.get((_QUEUE, item_id))
            if item is None or meter is None:
                continue
            targets = {_bare_address(target) for target in item["target"].split(",")}
            running = item["disabled"] == "false" and bool(targets & self._devices)
            self._traffic.run(meter, running, now)

    def _validated(self, spec: MenuSpec, attrs: Mapping[str, str]) -> dict[str, str]:
        values: dict[str, str] = {}
        writable = spec.writable
        for prop, raw in attrs.items():
            if prop.startswith("."):
                continue
            if prop not in writable:
                raise CommandTrap.of(UNKNOWN_PARAMETER)
            value = spec.normalize(prop, raw)
            allowed = spec.enums.get(prop)
            referenced = spec.references.get(prop)
            if (allowed is not None and value not in allowed) or (
                referenced is not None and self._tables[referenced].find((value,)) is None
            ):
                raise CommandTrap.of(
                    f"input does not match any value of {prop}", ARGUMENT_VALUE_FAILURE
                )
            values[prop] = value
        return values

    def _add(self, table: Table, attrs: Mapping[str, str], item_id: str | None = None) -> str:
        spec = table.spec
        values = self._validated(spec, attrs)
        if spec.auto_name and not values.get("name"):
            values["name"] = f"{spec.auto_name}{len(table) + 1}"
        for prop in spec.required:
            if not values.get(prop):
                raise CommandTrap.of(f"missing value(s) of argument(s) {prop}")
        item = {prop: values.get(prop, default) for prop, default in spec.fields.items()}
        item.update((prop, values[prop]) for prop in spec.optional if values.get(prop))
        if "creation-time" in item:
            item["creation-time"] = time.strftime(
                "%Y-%m-%d %H:%M:%S", time.gmtime(self._wall_clock())
            )
        key = table.key_of(item)
        if key is not None and table.find(key) is not None:
            raise CommandTrap.of(spec.duplicate_message)
        return table.insert(item, item_id)

    def _set(self, table: Table, ids: Sequence[str], attrs: Mapping[str, str]) -> None:
        spec = table.spec
        values = self._validated(spec, attrs)
        # An optional property set to "" is unset: RouterOS stops printing it.
        unset = [prop for prop in spec.optional if values.get(prop) == ""]
        changes = {prop: value for prop, value in values.items() if prop not in unset}
        if any(prop in changes for prop in spec.unique):
            for item_id in ids:
                current = table.get(item_id) or {}
                key = table.key_of({**current, **changes})
                holder = table.find(key) if key is not None else None
                if holder is not None and (holder != item_id or len(ids) > 1):
                    raise CommandTrap.of(spec.duplicate_message)
        for item_id in ids:
            table.update(item_id, changes, unset)

    @staticmethod
    def _resolve_ids(table: Table, references: str) -> list[str]:
        parts = [part for part in references.split(",") if part]
        if not parts:
            raise CommandTrap.of(NO_SUCH_ITEM)
        # Resolve every id before touching anything: one bad id refuses the whole command.
        return list(dict.fromkeys(table.resolve(part) for part in parts))

    # -- the control API (what subscribers and staff do outside the API) ------------------

    @property
    def identity(self) -> str:
        """The router's name (``/system/identity``)."""
        with self._lock:
            return self._singletons["/system/identity"]["name"]

    def items(self, menu: str) -> list[Item]:
        """A snapshot of every item of ``menu`` as the API would print it."""
        return self.execute(menu, "print", {}).rows

    def seed(self, menu: str, attrs: Mapping[str, str]) -> str:
        """Add an item as a person at WinBox would; returns its id. Raises CommandTrap."""
        ret = self.execute(menu, "add", attrs).ret
        assert ret is not None
        return ret

    def connect(
        self,
        name: str,
        password: str,
        service: str = "pppoe",
        address: str | None = None,
        caller_id: str | None = None,
    ) -> bool:
        """A subscriber dials in; True when a session came up.

        PPP services check ``/ppp/secret`` (exists, enabled, password, service ``any`` or equal,
        caller-id when the secret pins one); ``hotspot`` checks ``/ip/hotspot/user`` the same way
        (mac-address when pinned). A subscriber already online is replaced by the new session,
        whose counters start at zero.
        """
        with self._lock:
            if service == "hotspot":
                return self._login_hotspot(name, password, address, caller_id)
            return self._dial_ppp(name, password, service, address, caller_id)

    def _account(self, menu: str, name: str, password: str) -> Item | None:
        table = self._tables[menu]
        found = table.find((name,))
        account = table.get(found) if found is not None else None
        if account is None or account.get("disabled") == "true":
            return None
        return account if account.get("password", "") == password else None

    def _dial_ppp(
        self, name: str, password: str, service: str, address: str | None, caller_id: str | None
    ) -> bool:
        secret = self._account("/ppp/secret", name, password)
        if secret is None or secret["service"] not in ("any", service):
            return False
        if secret["caller-id"] and secret["caller-id"] != caller_id:
            return False
        number = next(self._session_numbers)
        self._start_session(
            _PPP_ACTIVE,
            ("name", name),
            {
                "name": name,
                "service": service,
                "caller-id": caller_id or _mac_for(number),
                "address": address or self._ppp_address(secret, number),
                "session-id": f"0x81C{number:05X}",
                "limit-bytes-in": secret["limit-bytes-in"],
                "limit-bytes-out": secret["limit-bytes-out"],
            },
        )
        return True

    def _login_hotspot(
        self, name: str, password: str, address: str | None, mac_address: str | None
    ) -> bool:
        user = self._account("/ip/hotspot/user", name, password)
        if user is None:
            return False
        if user.get("mac-address") and user["mac-address"] != mac_address:
            return False
        number = next(self._session_numbers)
        self._start_session(
            _HOTSPOT_ACTIVE,
            ("user", name),
            {
                "user": name,
                "address": address or str(ipaddress.IPv4Address("10.5.50.1") + number),
                "mac-address": mac_address or _mac_for(number),
            },
        )
        return True

    @staticmethod
    def _ppp_address(secret: Item, number: int) -> str:
        remote = secret.get("remote-address", "")
        try:
            return str(ipaddress.ip_address(remote))
        except ValueError:
            # Unset, or the name of a pool: hand out the next address of a private range.
            return str(ipaddress.IPv4Address("10.99.0.1") + number)

    def _start_session(self, menu: str, key: tuple[str, str], row: Mapping[str, str]) -> None:
        table = self._tables[menu]
        self._end_session(menu, key[1])
        item = dict(table.spec.fields)
        item.update(row)
        item_id = table.insert(item)
        self._meters[(menu, item_id)] = self._traffic.start(self._clock())

    def _end_session(self, menu: str, name: str) -> bool:
        table = self._tables[menu]
        found = table.find((name,))
        if found is None:
            return False
        table.delete(found)
        self._meters.pop((menu, found), None)
        return True

    def disconnect(self, name: str, service: str = "pppoe") -> bool:
        """A subscriber hangs up; True if they had a session."""
        with self._lock:
            return self._end_session(_session_menu(service), name)

    def is_connected(self, name: str, service: str = "pppoe") -> bool:
        """Whether ``name`` has a live session (any PPP service, or ``hotspot``)."""
        with self._lock:
            return self._tables[_session_menu(service)].find((name,)) is not None

    def sessions(self, service: str = "pppoe") -> list[Item]:
        """Live sessions as printed: ``/ip/hotspot/active`` for hotspot, else ``/ppp/active``."""
        return self.items(_session_menu(service))

    def is_blocked(self, address: str, list_name: str = BLOCKED_LIST) -> bool:
        """Whether an enabled entry of address list ``list_name`` holds ``address``."""
        bare = _bare_address(address)
        with self._lock:
            table = self._tables["/ip/firewall/address-list"]
            for written in (bare, f"{bare}/32"):
                found = table.find((list_name, written))
                entry = table.get(found) if found is not None else None
                if entry is not None and entry["disabled"] == "false":
                    return True
        return False

    def device_up(
        self, address: str, mac_address: str | None = None, interface: str = CUSTOMER_INTERFACE
    ) -> None:
        """A static-IP customer's device comes up: the router learns its ARP entry (dynamic,
        complete) and the simple queue targeting its address counts its traffic."""
        with self._lock:
            self._forget_arp(address)
            table = self._tables[_ARP]
            entry = dict(table.spec.fields)
            entry.update(
                {
                    "address": address,
                    "mac-address": mac_address or _mac_for(len(table) + 0x10000),
                    "interface": interface,
                    "dynamic": "true",
                    "complete": "true",
                }
            )
            table.insert(entry)
            self._devices.add(address)
            self._run_queues([item[".id"] for item in self._tables[_QUEUE]])

    def device_down(self, address: str, *, forget: bool = True) -> None:
        """The device goes quiet: its queue stops counting and its ARP entry goes (``forget``)
        or stays behind incomplete, as a failed entry does until it times out."""
        with self._lock:
            dynamic = self._forget_arp(address)
            if not forget and dynamic is not None:
                dynamic.pop("mac-address", None)
                dynamic["complete"] = "false"
                self._tables[_ARP].insert(dynamic)
            self._devices.discard(address)
            self._run_queues([item[".id"] for item in self._tables[_QUEUE]])

    def _forget_arp(self, address: str) -> Item | None:
        table = self._tables[_ARP]
        learned = [
            item for item in table if item["address"] == address and item["dynamic"] == "true"
        ]
        for item in learned:
            table.delete(item[".id"])
        if not learned:
            return None
        entry = {prop: value for prop, value in learned[-1].items() if prop != ".id"}
        return entry

    def set_traffic_rate(
        self, bytes_in_per_second: float, bytes_out_per_second: float | None = None
    ) -> None:
        """Every session, and every simple queue whose device is up, counts this many bytes per
        second from now on (out defaults to in): in is the subscriber's upload."""
        outgoing = bytes_in_per_second if bytes_out_per_second is None else bytes_out_per_second
        with self._lock:
            self._traffic.change_rates(
                list(self._meters.values()), bytes_in_per_second, outgoing, self._clock()
            )


def _session_menu(service: str) -> str:
    return _HOTSPOT_ACTIVE if service == "hotspot" else _PPP_ACTIVE


def _mac_for(number: int) -> str:
    # Locally administered addresses, unique per session number.
    return "02:00:" + ":".join(f"{byte:02X}" for byte in number.to_bytes(4, "big"))
