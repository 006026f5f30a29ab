"""Converging a router to its desired state: read, diff, write only the differences, read back.

Two scopes share one algorithm. A *full* reconcile reads each managed menu once and also removes
managed entries nobody wants any more (drift repair). A *targeted* sync looks up only the given
customers' entries by key, for the fast path after a change. Writes are verified by reading back;
a write the router acknowledged but did not apply is found and written again, up to
``max_rounds`` times.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from core.batches import batched
from routers.compare import same
from routers.desired import (
    ADDRESS_LIST,
    BLOCKED_LIST,
    COMMENT_PREFIX,
    HOTSPOT_ACTIVE,
    HOTSPOT_PROFILE,
    HOTSPOT_USER,
    KEY_PROPERTIES,
    MANAGED_PROPERTIES,
    PPP_ACTIVE,
    PPP_PROFILE,
    PPP_SECRET,
    QUEUE,
    SESSION_MENUS,
    CustomerState,
    Entry,
    RouterDesired,
    is_managed,
    login_menu,
)
from routers.gateway import RouterGateway, RouterRejected, Write

log = logging.getLogger(__name__)
# What a write's log line shows: whether service is on, and at what speed. Not the password.
LOGGED_PROPERTIES = ("disabled", "profile")

MENUS = (PPP_PROFILE, HOTSPOT_PROFILE, PPP_SECRET, HOTSPOT_USER, QUEUE, ADDRESS_LIST)
REMOVE_CHUNK = 200
# Writes sent together (pipelined) and answered before the next ones go.
WRITE_CHUNK = 1000
_LOGIN_SESSIONS = {PPP_SECRET: PPP_ACTIVE, HOTSPOT_USER: HOTSPOT_ACTIVE}
# Above this many lookups, one read of the whole menu is cheaper than one read per item.
BULK_THRESHOLD = 50
# Drift lines a report keeps (and a sync run stores): enough to see what went wrong.
DRIFT_DETAILS_KEPT = 200
Key = tuple[str, ...]
Item = dict[str, str]
# What a whole-menu read keeps of an item already exactly as wanted (managed, nothing to set).
MATCHED: Item = {}


@dataclass
class ConvergeReport:
    """What a convergence found and did."""

    customers: int = 0
    drift: int = 0
    # The drift by kind: entries missing (added), different (changed), extra (removed).
    drift_added: int = 0
    drift_changed: int = 0
    drift_removed: int = 0
    writes: int = 0
    sessions_dropped: int = 0
    rounds: int = 0
    verified: set[int] = field(default_factory=set)
    failed: dict[int, str] = field(default_factory=dict)
    # The first DRIFT_DETAILS_KEPT of them (an empty router's reconcile would list every
    # customer: 100,000 lines nobody reads).
    drift_details: list[str] = field(default_factory=list)
    # Refusals seen so far; final only if the last round still cannot apply the entry (a refused
    # secret may only lack a profile whose own write the router dropped).
    refusals: dict[int, str] = field(default_factory=dict)


@dataclass
class _Plan:
    adds: list[Entry] = field(default_factory=list)
    sets: list[tuple[Entry, str, Item]] = field(default_factory=list)
    removes: dict[str, list[tuple[Key, str]]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.adds or self.sets or self.removes)

    @property
    def size(self) -> int:
        return len(self.adds) + len(self.sets) + sum(map(len, self.removes.values()))


class _Scope:
    """What one convergence is about: the wanted entries, who owns them, what may be removed."""

    def __init__(self, desired: RouterDesired, full: bool) -> None:
        self.full = full
        self.wanted: dict[str, dict[Key, Entry]] = {menu: {} for menu in MENUS}
        for entry in desired.profiles:
            self.wanted[entry.menu][entry.key] = entry
        # Per menu, keyed by the entries' own key tuples: a (menu, key) pair per entry cost
        # about 10 MB on a full reconcile of 100,000 customers.
        self.owners: dict[str, dict[Key, CustomerState]] = {menu: {} for menu in MENUS}
        for state in desired.customers:
            for entry in state.entries:
                self.wanted[entry.menu][entry.key] = entry
                self.owners[entry.menu][entry.key] = state
        # Comment tags whose stale entries a targeted sync may remove: the synced customers'
        # own (a renamed login, a block lifted) and those of removed logins.
        self.stray_logins: dict[str, set[str]] = {}
        self.comments_by_menu: dict[str, set[str]] = {}
        self.removable_names: dict[str, set[str]] = {}
        # A full reconcile reads whole menus and removes every stray: it needs no tags (and
        # 100,000 of them cost about 10 MB).
        for state in () if full else desired.customers:
            for menu in _menus_of(state.connection_type):
                self.comments_by_menu.setdefault(menu, set()).add(state.comment)
        for login in desired.removed:
            for menu in _menus_of(login.connection_type):
                if login.account_number:
                    self.comments_by_menu.setdefault(menu, set()).add(
                        COMMENT_PREFIX + login.account_number
                    )
                else:
                    self.removable_names.setdefault(menu, set()).add(login.username)

    def owner(self, menu: str, key: Key) -> CustomerState | None:
        """The customer whose entry ``key`` in ``menu`` is (None for a plan's profile)."""
        return self.owners[menu].get(key)

    def unwanted(self, menu: str, item: Item) -> bool:
        """Whether a managed item not wanted here should be removed."""
        if self.full:
            return True
        if item.get("comment", "") in self.comments_by_menu.get(menu, set()):
            return True
        return item.get("name", "") in self.removable_names.get(menu, set())


def _note_drift(report: ConvergeReport, detail: str) -> None:
    if len(report.drift_details) < DRIFT_DETAILS_KEPT:
        report.drift_details.append(detail)


def _menus_of(connection_type: str) -> tuple[str, ...]:
    menu = login_menu(connection_type)
    return (menu,) if menu is not None else (QUEUE, ADDRESS_LIST)


def _proplist(menu: str) -> list[str]:
    return [".id", *MANAGED_PROPERTIES[menu]]


def _key_of(menu: str, item: Item) -> Key:
    return tuple(item.get(prop, "") for prop in KEY_PROPERTIES[menu])


def _changes(entry: Entry, actual: Item) -> Item:
    """Properties to set so ``actual`` becomes ``entry`` ("" unsets)."""
    properties = MANAGED_PROPERTIES[entry.menu]
    found = tuple(actual.get(prop, "") for prop in properties)
    if found == entry.values:
        # Printed exactly as wanted, spelled the same: nothing to set (the common case, checked
        # in one comparison: a reconcile compares every entry).
        return {}
    changes: Item = {}
    for prop, wanted, value in zip(properties, entry.values, found, strict=True):
        # Equal text is the same value; only differing text needs RouterOS's reading of it.
        if wanted != value and not same(prop, wanted, value):
            changes[prop] = wanted
    return changes


class Converger:
    """Brings one router to a desired state through a RouterGateway."""

    def __init__(self, gateway: RouterGateway, *, max_rounds: int = 3, name: str = "") -> None:
        self.gateway = gateway
        self.name = name  # the router's, for the log
        self.max_rounds = max_rounds
        self._menu_sizes: dict[str, int] = {}

    def converge(self, desired: RouterDesired, *, full: bool) -> ConvergeReport:
        """Apply ``desired``; RouterUnreachable propagates (the caller retries later)."""
        report = ConvergeReport(customers=len(desired.customers))
        scope = _Scope(desired, full)
        profile_changed: set[int] = set()
        restrict: dict[str, set[Key]] | None = None
        for round_number in range(1, self.max_rounds + 1):
            actual = self._read(scope, restrict)
            plan = self._plan(scope, actual, report, restrict)
            if round_number == 1:
                report.drift = plan.size
                report.drift_added = len(plan.adds)
                report.drift_changed = len(plan.sets)
                report.drift_removed = plan.size - len(plan.adds) - len(plan.sets)
            if plan.empty:
                break
            report.rounds = round_number
            profile_changed |= {
                state.customer_id
                for entry, _, changes in plan.sets
                if "profile" in changes
                and (state := scope.owner(entry.menu, entry.key)) is not None
            }
            for menu, removals in plan.removes.items():
                if menu in _LOGIN_SESSIONS:
                    scope.stray_logins.setdefault(menu, set()).update(k[0] for k, _ in removals)
            restrict = self._apply(plan, scope, report)
        else:
            self._fail_unapplied(scope, self._read(scope, restrict), report)
        for state in desired.customers:
            if state.customer_id not in report.failed:
                report.verified.add(state.customer_id)
        self._drop_sessions(desired, profile_changed, full, report, scope.stray_logins)
        return report

    def _read(
        self, scope: _Scope, restrict: dict[str, set[Key]] | None
    ) -> dict[str, dict[Key, Item]]:
        """Actual items by menu and key: whole menus when many are concerned, else by key and by
        the synced customers' comment tags (which finds renamed logins and stale blocks). Key
        and comment lookups are sent together (``print_many``), not one round trip each."""
        actual: dict[str, dict[Key, Item]] = {menu: {} for menu in MENUS}
        for menu in MENUS:
            keys = set(scope.wanted[menu]) if restrict is None else restrict.get(menu, set())
            comments = scope.comments_by_menu.get(menu, set()) if restrict is None else set()
            if self._whole_menu(menu, scope, restrict, len(keys), len(comments)):
                where = {"list": BLOCKED_LIST} if menu == ADDRESS_LIST else None
                wanted = scope.wanted[menu]
                found = actual[menu]
                for item in self.gateway.print_each(menu, _proplist(menu), where):
                    key = _key_of(menu, item)
                    entry = wanted.get(key)
                    # Compared as it is read: one that is already as wanted is kept as MATCHED,
                    # not as the item (a converged router's 100,000 secrets are never all held).
                    matched = (
                        entry is not None and is_managed(menu, item) and not _changes(entry, item)
                    )
                    found[key] = MATCHED if matched else item
                self._menu_sizes[menu] = len(found)
                continue
            found = actual[menu]
            if comments:
                wheres = [{"comment": comment} for comment in sorted(comments)]
                for items in self.gateway.print_many(menu, _proplist(menu), wheres):
                    found.update((_key_of(menu, item), item) for item in items)
            # By key for what the comment lookup did not find: a missing entry, or one of the
            # operator's with the same name (a conflict, reported, never touched).
            lookups = sorted(keys - found.keys() if restrict is None else keys)
            if lookups:
                key_names = KEY_PROPERTIES[menu]
                wheres = [dict(zip(key_names, key, strict=True)) for key in lookups]
                for items in self.gateway.print_many(menu, _proplist(menu), wheres):
                    found.update((_key_of(menu, item), item) for item in items)
        return actual

    def _whole_menu(
        self,
        menu: str,
        scope: _Scope,
        restrict: dict[str, set[Key]] | None,
        keys: int,
        comments: int,
    ) -> bool:
        """Whether reading all of ``menu`` is cheaper than looking up what concerns us."""
        if restrict is None:
            if scope.full:
                return True
            # A comment lookup makes the router scan the menu: a few are all one should ask.
            return keys + comments > max(BULK_THRESHOLD, self._menu_sizes.get(menu, 0) // 20)
        # A read-back of written keys: pipelined lookups by the (indexed) key cost a few times
        # what one printed row does, so a quarter of a big menu is where a whole read wins.
        return keys > max(BULK_THRESHOLD, self._menu_sizes.get(menu, 0) // 4)

    def _plan(
        self,
        scope: _Scope,
        actual: dict[str, dict[Key, Item]],
        report: ConvergeReport,
        restrict: dict[str, set[Key]] | None,
    ) -> _Plan:
        plan = _Plan()
        first = restrict is None
        for menu in MENUS:
            keys = scope.wanted[menu].keys() if restrict is None else restrict.get(menu, set())
            for key in keys:
                entry = scope.wanted[menu].get(key)
                if entry is None:
                    continue
                state = scope.owner(menu, key)
                if state is not None and state.customer_id in report.failed:
                    continue
                item = actual[menu].get(key)
                if item is MATCHED:
                    continue
                if item is None:
                    plan.adds.append(entry)
                    if first:
                        _note_drift(report, f"missing {menu} {'/'.join(key)}")
                    continue
                if not is_managed(menu, item):
                    if state is not None:
                        report.failed[state.customer_id] = (
                            f"{menu} {'/'.join(key)} exists on the router but is not managed "
                            "by mteja; rename or remove it there"
                        )
                    continue
                changes = _changes(entry, item)
                if changes:
                    plan.sets.append((entry, item[".id"], changes))
                    if first:
                        _note_drift(
                            report,
                            f"changed {menu} {'/'.join(key)}: {', '.join(sorted(changes))}",
                        )
            for key, item in actual[menu].items():
                if key in scope.wanted[menu] or not is_managed(menu, item):
                    continue
                if restrict is not None and key not in restrict.get(menu, set()):
                    continue
                if scope.unwanted(menu, item):
                    plan.removes.setdefault(menu, []).append((key, item[".id"]))
                    if first:
                        _note_drift(report, f"extra {menu} {'/'.join(key)}")
        return plan

    def _apply(self, plan: _Plan, scope: _Scope, report: ConvergeReport) -> dict[str, set[Key]]:
        """Write the plan; returns the keys written per menu, to read back.

        Each step's writes are sent together (``write_many``) and all answered before the next
        step: profiles first (a secret may not name a profile the router does not have yet),
        then the other adds, the sets, and the removals, as one write at a time did them.
        """
        touched: dict[str, set[Key]] = {}

        def refused(entry: Entry, error: RouterRejected) -> None:
            state = scope.owner(entry.menu, entry.key)
            if state is not None:
                report.refusals[state.customer_id] = f"router refused {entry.menu}: {error.message}"
            else:
                log.warning("router refused %s %s: %s", entry.menu, entry.key, error.message)

        profiles = [entry for entry in plan.adds if entry.menu in (PPP_PROFILE, HOTSPOT_PROFILE)]
        others = [entry for entry in plan.adds if entry.menu not in (PPP_PROFILE, HOTSPOT_PROFILE)]
        for adds in (profiles, others):
            # In chunks: an empty router's 100,000 adds, their commands and their replies all
            # at once held a few hundred MB.
            for add_chunk in batched(adds, WRITE_CHUNK):
                writes = [
                    Write(
                        "add",
                        entry.menu,
                        attrs=entry.attrs,
                    )
                    for entry in add_chunk
                ]
                for entry, outcome in zip(add_chunk, self.gateway.write_many(writes), strict=True):
                    if outcome is not None:
                        refused(entry, outcome)
                    else:
                        self._log_write("added", entry, entry.attrs)
                    touched.setdefault(entry.menu, set()).add(entry.key)
                report.writes += len(writes)
        for set_chunk in batched(plan.sets, WRITE_CHUNK):
            sets = [
                Write("set", entry.menu, (item_id,), changes)
                for entry, item_id, changes in set_chunk
            ]
            for (entry, _, changes), outcome in zip(
                set_chunk, self.gateway.write_many(sets), strict=True
            ):
                if outcome is not None:
                    refused(entry, outcome)
                else:
                    self._log_write("changed", entry, changes)
                touched.setdefault(entry.menu, set()).add(entry.key)
            report.writes += len(sets)
        removals = []
        for menu, items in plan.removes.items():
            touched.setdefault(menu, set()).update(key for key, _ in items)
            for chunk in batched([item_id for _, item_id in items], REMOVE_CHUNK):
                removals.append(Write("remove", menu, tuple(chunk)))
        for removal, outcome in zip(removals, self.gateway.write_many(removals), strict=True):
            if outcome is not None:
                # Someone removed one of them meanwhile; the read-back settles it.
                log.info("remove on %s: %s", removal.menu, outcome.message)
            else:
                log.info(
                    "router %s: removed %d from %s", self.name, len(removal.item_ids), removal.menu
                )
        report.writes += len(removals)
        return touched

    def _log_write(self, verb: str, entry: Entry, attrs: Item) -> None:
        """One line per write: what changed, with the values that say it (never a password)."""
        shown = ", ".join(
            f"{prop}={value}" for prop, value in attrs.items() if prop in LOGGED_PROPERTIES
        )
        log.info(
            "router %s: %s %s %s%s",
            self.name,
            verb,
            entry.menu,
            "/".join(entry.key),
            f" ({shown})" if shown else "",
        )

    def _fail_unapplied(
        self, scope: _Scope, actual: dict[str, dict[Key, Item]], report: ConvergeReport
    ) -> None:
        for menu, owners in scope.owners.items():
            for key, state in owners.items():
                if state.customer_id in report.failed:
                    continue
                item = actual[menu].get(key)
                if item is None or (
                    item is not MATCHED and _changes(scope.wanted[menu][key], item)
                ):
                    report.failed[state.customer_id] = report.refusals.get(
                        state.customer_id,
                        f"the router acknowledged changes to {menu} {'/'.join(key)} "
                        f"but did not apply them after {self.max_rounds} tries",
                    )

    def _drop_sessions(
        self,
        desired: RouterDesired,
        profile_changed: set[int],
        full: bool,
        report: ConvergeReport,
        stray_logins: dict[str, set[str]],
    ) -> None:
        """End live sessions of blocked customers (disabling alone leaves them online) and of
        customers whose speed changed (so the new profile applies at once)."""
        targets: dict[str, set[str]] = {}
        for state in desired.customers:
            if state.customer_id in report.failed:
                continue
            if state.allowed and state.customer_id not in profile_changed:
                continue
            session = SESSION_MENUS.get(state.connection_type)
            if session is not None:
                targets.setdefault(session[0], set()).add(state.username)
        for login in desired.removed:
            session = SESSION_MENUS.get(login.connection_type)
            if session is not None:
                targets.setdefault(session[0], set()).add(login.username)
        # A stray login removed from the router must not stay online either.
        for menu, usernames in stray_logins.items():
            targets.setdefault(_LOGIN_SESSIONS[menu], set()).update(usernames)
        for menu, usernames in targets.items():
            name_prop = "user" if menu.startswith("/ip/hotspot") else "name"
            report.sessions_dropped += self.drop_sessions(menu, name_prop, usernames, full)

    def drop_sessions(self, menu: str, name_prop: str, usernames: set[str], full: bool) -> int:
        """Remove the sessions of ``usernames`` in ``menu``; returns how many were dropped."""
        if full or len(usernames) > 20:
            sessions = self.gateway.print_each(menu, [".id", name_prop])
            ids = [item[".id"] for item in sessions if item.get(name_prop) in usernames]
        else:
            wheres = [{name_prop: username} for username in sorted(usernames)]
            found = self.gateway.print_many(menu, [".id", name_prop], wheres)
            ids = [item[".id"] for items in found for item in items]
        for chunk in batched(ids, REMOVE_CHUNK):
            try:
                self.gateway.remove(menu, chunk)
            except RouterRejected as error:
                # A session ended by itself between print and remove: nothing left to drop.
                log.info("dropping sessions on %s: %s", menu, error.message)
        return len(ids)
