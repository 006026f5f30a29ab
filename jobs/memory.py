"""Big tasks: one at a time in a process, and the memory they freed given back when they end.

A full reconcile or a usage sample of 100,000 customers holds a few hundred MB for seconds and
then frees it. CPython frees the objects, but glibc keeps most of the freed heap for later
allocations, in pieces, so a worker's resident size stays at its largest task's and the next
large task, finding the pieces too small, grows it further. ``malloc_trim(0)`` hands the free
heap back. Where the C library has no such call (musl, macOS) nothing is done.

Two at once would hold both: the periodic worker's two threads took a reconcile and a usage
sample together (350 MB at 100,000 customers, against 250 for either alone). So they take turns;
other tasks (router syncs first, by priority) keep the process's other threads.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
import threading
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


def _find_malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        trim: Callable[[int], int] = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return None
    return trim


_MALLOC_TRIM = _find_malloc_trim()


def release_freed_memory() -> bool:
    """Collect garbage cycles, then give the C library's free heap back to the system; True
    if it could be given back."""
    gc.collect()
    if _MALLOC_TRIM is None:
        return False
    _MALLOC_TRIM(0)
    return True


# Held by the big task running in this process.
_BIG_TASK = threading.Lock()


def big_task(task: Callable[P, R]) -> Callable[P, R]:
    """``task`` as one of the process's big tasks: it waits for the one running, and is
    followed by ``release_freed_memory`` however it ends."""

    @functools.wraps(task)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        with _BIG_TASK:
            try:
                return task(*args, **kwargs)
            finally:
                release_freed_memory()

    return run
