"""Taking a long run of items a batch at a time: rows written to the database, writes sent to a
router, so that 100,000 of them are never built, sent or held all at once."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """``items`` in lists of ``size`` (the last may be shorter; none when there are none),
    taken from ``items`` only as each list is asked for."""
    if size < 1:
        raise ValueError(f"a batch holds 1 or more, not {size}")
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch
