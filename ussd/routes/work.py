"""Running the callbacks' database work off the event loop, a few requests at a time.

Each USSD or SMS callback does about a millisecond of Python work around one or two queries.
Spread over Starlette's default pool of 40 threads, those requests mostly wait for each other's
GIL and for the engine's connection pool, and each costs more CPU than run alone; a handful of
threads keeps the database busy (one waits on a query while another computes) without that
convoy. Measured with bench/bench_ussd.py.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TypeVar

import anyio
import anyio.to_thread

from core.retry import in_transaction
from core.unit_of_work import CoreServices, UnitOfWork

T = TypeVar("T")
DATABASE_THREADS = 4


class DatabaseWork:
    """Runs use cases in their own transaction on at most ``threads`` threads at once."""

    def __init__(self, services: CoreServices, threads: int = DATABASE_THREADS) -> None:
        self.services = services
        self._threads = threads
        self._limiter: anyio.CapacityLimiter | None = None

    async def run(self, work: Callable[[UnitOfWork], T]) -> T:
        """``work`` in a fresh unit of work, committed (retried on a lost race)."""
        return await anyio.to_thread.run_sync(
            partial(in_transaction, self.services, work), limiter=self._threads_limiter()
        )

    async def read(self, work: Callable[[UnitOfWork], T]) -> T:
        """``work`` in a fresh read-only unit of work (never committed)."""
        return await anyio.to_thread.run_sync(
            partial(_read, self.services, work), limiter=self._threads_limiter()
        )

    def _threads_limiter(self) -> anyio.CapacityLimiter:
        if self._limiter is None:
            # Made on first use, inside the running loop, not when the app is built.
            self._limiter = anyio.CapacityLimiter(self._threads)
        return self._limiter


def _read(services: CoreServices, work: Callable[[UnitOfWork], T]) -> T:
    with services.unit_of_work(read_only=True) as uow:
        return work(uow)
