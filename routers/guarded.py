"""A gateway that asks before every write whether it may still write.

The job layer holds a per-router lock while it writes; if the hold is lost midway (a Redis lease
that could not be renewed), the writes must stop before another worker starts writing the same
router. ``guarded_writes`` wraps a gateway factory so that every gateway it makes calls
``may_write`` (which raises to refuse) before each add, set, remove or batch of writes. Reads are
not guarded: they change nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence

from core.usecases.network import RouterLogin
from routers.gateway import RouterGateway, RouterRejected, Write
from routers.sync import GatewayFactory


class GuardedGateway:
    """``inner``, with ``may_write()`` called before each write."""

    def __init__(self, inner: RouterGateway, may_write: Callable[[], None]) -> None:
        self.inner = inner
        self.may_write = may_write

    def print(
        self,
        menu: str,
        proplist: Sequence[str] | None = None,
        where: Mapping[str, str] | None = None,
    ) -> list[dict[str, str]]:
        return self.inner.print(menu, proplist, where)

    def print_each(
        self,
        menu: str,
        proplist: Sequence[str] | None = None,
        where: Mapping[str, str] | None = None,
    ) -> Iterator[dict[str, str]]:
        return self.inner.print_each(menu, proplist, where)

    def print_many(
        self, menu: str, proplist: Sequence[str] | None, wheres: Sequence[Mapping[str, str]]
    ) -> list[list[dict[str, str]]]:
        return self.inner.print_many(menu, proplist, wheres)

    def add(self, menu: str, attrs: Mapping[str, str]) -> str:
        self.may_write()
        return self.inner.add(menu, attrs)

    def set(self, menu: str, item_id: str, attrs: Mapping[str, str]) -> None:
        self.may_write()
        self.inner.set(menu, item_id, attrs)

    def remove(self, menu: str, item_ids: Sequence[str]) -> None:
        self.may_write()
        self.inner.remove(menu, item_ids)

    def write_many(self, writes: Sequence[Write]) -> list[RouterRejected | None]:
        self.may_write()
        return self.inner.write_many(writes)

    def identity(self) -> str:
        return self.inner.identity()

    def resource(self) -> dict[str, str]:
        return self.inner.resource()

    def close(self) -> None:
        self.inner.close()


def guarded_writes(factory: GatewayFactory, may_write: Callable[[], None]) -> GatewayFactory:
    def make(login: RouterLogin) -> RouterGateway:
        return GuardedGateway(factory(login), may_write)

    return make
