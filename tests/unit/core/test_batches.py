"""batched: rows written to the database and writes sent to a router, a batch at a time."""

from __future__ import annotations

import pytest

from core.batches import batched


@pytest.mark.parametrize(
    ("count", "sizes"), [(0, []), (1, [1]), (3, [3]), (4, [3, 1]), (6, [3, 3]), (7, [3, 3, 1])]
)
def test_batched_takes_every_item_once_in_order(count: int, sizes: list[int]) -> None:
    batches = list(batched(iter(range(count)), 3))
    assert [len(batch) for batch in batches] == sizes
    assert [item for batch in batches for item in batch] == list(range(count))


def test_batched_takes_items_only_as_each_batch_is_asked_for() -> None:
    taken: list[int] = []

    def items():
        for number in range(10):
            taken.append(number)
            yield number

    batches = batched(items(), 4)
    assert next(batches) == [0, 1, 2, 3] and taken == [0, 1, 2, 3]
    with pytest.raises(ValueError):
        next(batched([], 0))


@pytest.mark.parametrize("size", [0, 1, 3, 4, 7])
def test_slices_of_a_list_cover_every_value_once_in_order(size: int) -> None:
    values = list(range(size))
    chunks = list(batched(values, 3))
    assert [value for chunk in chunks for value in chunk] == values
    assert all(1 <= len(chunk) <= 3 for chunk in chunks)
    assert len(chunks) == -(-size // 3)  # none for no values, exactly size/3 when it divides
