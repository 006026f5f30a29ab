"""Big tasks take turns in a process and hand the memory they freed back to the system when
they end, however they end."""

from __future__ import annotations

import threading

import pytest

import jobs.memory
from jobs.memory import big_task, release_freed_memory


def test_the_free_heap_is_given_back_where_the_c_library_can(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[int] = []
    monkeypatch.setattr(jobs.memory, "_MALLOC_TRIM", lambda pad: calls.append(pad) or 1)

    assert release_freed_memory() is True
    assert calls == [0]


def test_without_malloc_trim_nothing_is_given_back_and_nothing_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(jobs.memory, "_MALLOC_TRIM", None)

    assert release_freed_memory() is False


def test_a_task_big_task_after_returning_or_raising(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    released: list[str] = []
    monkeypatch.setattr(jobs.memory, "release_freed_memory", lambda: released.append("x"))

    @big_task
    def big(n: int) -> int:
        if n < 0:
            raise ValueError(n)
        return n * 2

    assert big(21) == 42
    with pytest.raises(ValueError):
        big(-1)
    assert released == ["x", "x"]


def test_two_big_tasks_in_one_process_take_turns() -> None:
    inside = threading.Event()
    leave = threading.Event()
    overlapped: list[bool] = []

    @big_task
    def first() -> None:
        inside.set()
        leave.wait(5)

    @big_task
    def second() -> None:
        overlapped.append(not leave.is_set())

    holder = threading.Thread(target=first)
    holder.start()
    assert inside.wait(5)
    waiter = threading.Thread(target=second)
    waiter.start()
    waiter.join(0.2)
    assert waiter.is_alive()  # waiting for the first to end
    leave.set()
    holder.join(5)
    waiter.join(5)
    assert overlapped == [False]
