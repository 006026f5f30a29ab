"""Giving freed memory back to the system after a task that held a lot of it.

A full reconcile or a usage sample of 100,000 customers holds a few hundred MB for seconds and
then frees it. CPython frees the objects, but glibc keeps most of the freed heap for later
allocations, in pieces, so a worker's resident size stays at its largest task's and the next
large task, finding the pieces too small, grows it further. ``malloc_trim(0)`` hands the free
heap back. Where the C library has no such call (musl, macOS) nothing is done.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
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


def gives_memory_back(task: Callable[P, R]) -> Callable[P, R]:
    """``task``, followed by ``release_freed_memory`` however it ends."""

    @functools.wraps(task)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return task(*args, **kwargs)
        finally:
            release_freed_memory()

    return run
