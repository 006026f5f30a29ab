"""Holding off CPython's cyclic garbage collector during work over a whole router.

A full reconcile of a big router builds about a million small objects (rows, dicts, desired
entries) that all live until it ends. CPython runs a full collection each time the number of
surviving container objects grows by a quarter, walking every object in the process and finding
nothing to free: that was a quarter to a third of a 50,000-secret reconcile. Reference counting
still frees everything as usual; only the search for reference cycles waits until the work ends.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable
from typing import ParamSpec, TypeVar

__all__ = ["cyclic_gc_paused"]

_P = ParamSpec("_P")
_R = TypeVar("_R")


def cyclic_gc_paused(function: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run ``function`` with the cyclic collector disabled, and enable it again afterwards.

    If the collector was already off (someone else turned it off), it is left off. Another
    thread doing the same may turn it back on first; that only means collection resumes early.
    """

    @functools.wraps(function)
    def paused(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        if not gc.isenabled():
            return function(*args, **kwargs)
        gc.disable()
        try:
            return function(*args, **kwargs)
        finally:
            gc.enable()

    return paused
