"""The items of one menu: a dict by ``.id`` plus an index on the menu's unique key.

Every write is O(1). Ids are ``*`` and an upper-case hex counter that only grows, as RouterOS
gives them (``*1`` … ``*9``, ``*A`` …); a removed id is never handed out again.
Not thread-safe on its own: ``RouterState`` serializes access.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping

from sim.routeros.menus import MenuSpec
from sim.routeros.traps import NO_SUCH_ITEM, CommandTrap

__all__ = ["Item", "Table"]

Item = dict[str, str]
"""One item as printed: ``.id`` first, then its properties, every value a str."""


class Table:
    """The items of one menu."""

    def __init__(self, spec: MenuSpec) -> None:
        self.spec = spec
        self._items: dict[str, Item] = {}
        self._by_key: dict[tuple[str, ...], str] = {}
        self._next_number = 1

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Item]:
        """Live items in insertion order (the order RouterOS prints them); do not mutate."""
        return iter(self._items.values())

    def new_id(self) -> str:
        """Take the next id, whether or not an item will carry it."""
        item_id = f"*{self._next_number:X}"
        self._next_number += 1
        return item_id

    def key_of(self, attrs: Mapping[str, str]) -> tuple[str, ...] | None:
        """The unique key ``attrs`` would have, or None when the menu has none or it is unset."""
        unique = self.spec.unique
        if not unique:
            return None
        values: list[str] = []
        for prop in unique:
            value = attrs.get(prop)
            if not value:
                return None
            values.append(value)
        return tuple(values)

    def find(self, key: tuple[str, ...]) -> str | None:
        """The id of the item with unique key ``key``, if any."""
        return self._by_key.get(key)

    def get(self, item_id: str) -> Item | None:
        """The live item with ``item_id``, if any; do not mutate it."""
        return self._items.get(item_id)

    def resolve(self, reference: str) -> str:
        """The id ``reference`` designates: an ``*id``, or a name where names are unique.

        RouterOS accepts a name in place of an id where that is unambiguous.
        """
        if reference in self._items:
            return reference
        if not reference.startswith("*") and self.spec.unique == ("name",):
            found = self._by_key.get((reference,))
            if found is not None:
                return found
        raise CommandTrap.of(NO_SUCH_ITEM)

    def insert(self, item: Item, item_id: str | None = None) -> str:
        """Store a complete item (without ``.id``); the caller has checked its key is free."""
        if item_id is None:
            item_id = self.new_id()
        stored: Item = {".id": item_id}
        stored.update(item)
        self._items[item_id] = stored
        key = self.key_of(stored)
        if key is not None:
            self._by_key[key] = item_id
        return item_id

    def update(self, item_id: str, changes: Mapping[str, str], unset: Collection[str] = ()) -> None:
        """Change (or ``unset``) properties of an item; the caller has checked the key is free."""
        item = self._items[item_id]
        old_key = self.key_of(item)
        item.update(changes)
        for prop in unset:
            item.pop(prop, None)
        new_key = self.key_of(item)
        if old_key != new_key:
            if old_key is not None and self._by_key.get(old_key) == item_id:
                del self._by_key[old_key]
            if new_key is not None:
                self._by_key[new_key] = item_id

    def delete(self, item_id: str) -> Item:
        """Remove an item and return it."""
        item = self._items.pop(item_id)
        key = self.key_of(item)
        if key is not None and self._by_key.get(key) == item_id:
            del self._by_key[key]
        return item
