"""``InMemoryRouterGateway``: a RouterGateway without a network, for fast unit tests.

It drives the simulator's ``RouterState`` directly, so ids, defaults, duplicate-name and
unknown-id traps are exactly those the simulated router gives over the wire; the shared contract
tests check both against the same expectations. It records every write for tests to count.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from routers.gateway import RouterAuthFailed, RouterRejected, RouterUnreachable, Write
from sim.routeros.state import CommandResult, RouterState
from sim.routeros.traps import CommandTrap

__all__ = ["InMemoryRouterGateway", "Write"]


class InMemoryRouterGateway:
    """RouterGateway over an in-memory router.

    ``state`` is the router (shared with a test that wants to seed or connect subscribers; see
    ``RouterState``). Set ``down`` to make every call raise RouterUnreachable, and
    ``reject_login`` to make every call raise RouterAuthFailed. ``writes`` lists the writes
    asked for, refused ones included, in order; ``reads`` counts ``print`` calls.
    """

    def __init__(self, state: RouterState | None = None, *, identity: str = "MikroTik") -> None:
        self.state = state if state is not None else RouterState(identity=identity)
        self.down = False
        self.reject_login = False
        self.writes: list[Write] = []
        self.reads = 0
        self.closed = False

    def print(
        self,
        menu: str,
        proplist: Sequence[str] | None = None,
        where: Mapping[str, str] | None = None,
    ) -> list[dict[str, str]]:
        """See RouterGateway.print."""
        self.reads += 1
        attrs = {".proplist": ",".join(proplist)} if proplist else {}
        queries = [f"?={prop}={value}" for prop, value in (where or {}).items()]
        return self._execute(menu, "print", attrs, queries).rows

    def print_each(
        self,
        menu: str,
        proplist: Sequence[str] | None = None,
        where: Mapping[str, str] | None = None,
    ) -> Iterator[dict[str, str]]:
        """See RouterGateway.print_each: ``print`` (one read), item by item."""
        yield from self.print(menu, proplist, where)

    def print_many(
        self,
        menu: str,
        proplist: Sequence[str] | None,
        wheres: Sequence[Mapping[str, str]],
    ) -> list[list[dict[str, str]]]:
        """See RouterGateway.print_many: one ``print`` per where (each counted in ``reads``)."""
        return [self.print(menu, proplist, where) for where in wheres]

    def write_many(self, writes: Sequence[Write]) -> list[RouterRejected | None]:
        """See RouterGateway.write_many: each write through ``add``/``set``/``remove``, in order,
        so a subclass that changes one of those changes these too."""
        outcomes: list[RouterRejected | None] = []
        for write in writes:
            try:
                if write.verb == "add":
                    self.add(write.menu, write.attrs)
                elif write.verb == "set":
                    [item_id] = write.item_ids
                    self.set(write.menu, item_id, write.attrs)
                else:
                    self.remove(write.menu, write.item_ids)
            except RouterRejected as refusal:
                outcomes.append(refusal)
            else:
                outcomes.append(None)
        return outcomes

    def add(self, menu: str, attrs: Mapping[str, str]) -> str:
        """See RouterGateway.add."""
        self.writes.append(Write("add", menu, attrs=dict(attrs)))
        ret = self._execute(menu, "add", attrs).ret
        assert ret is not None
        return ret

    def set(self, menu: str, item_id: str, attrs: Mapping[str, str]) -> None:
        """See RouterGateway.set."""
        self.writes.append(Write("set", menu, (item_id,), dict(attrs)))
        self._execute(menu, "set", {**attrs, ".id": item_id})

    def remove(self, menu: str, item_ids: Sequence[str]) -> None:
        """See RouterGateway.remove."""
        if not item_ids:
            return
        self.writes.append(Write("remove", menu, tuple(item_ids)))
        self._execute(menu, "remove", {".id": ",".join(item_ids)})

    def identity(self) -> str:
        """See RouterGateway.identity."""
        return self.print("/system/identity")[0]["name"]

    def resource(self) -> dict[str, str]:
        """See RouterGateway.resource."""
        return self.print("/system/resource")[0]

    def close(self) -> None:
        """See RouterGateway.close."""
        self.closed = True

    def writes_to(self, menu: str) -> list[Write]:
        """The writes asked of one menu."""
        return [write for write in self.writes if write.menu == menu]

    def _execute(
        self, menu: str, verb: str, attrs: Mapping[str, str], queries: Sequence[str] = ()
    ) -> CommandResult:
        if self.down:
            raise RouterUnreachable("router is down (fake)")
        if self.reject_login:
            raise RouterAuthFailed("login refused: invalid user name or password (6)")
        self.closed = False
        try:
            return self.state.execute(menu, verb, attrs, queries)
        except CommandTrap as refusal:
            first = refusal.traps[0]
            message = ", ".join(trap.message for trap in refusal.traps)
            raise RouterRejected(message, first.category) from None
