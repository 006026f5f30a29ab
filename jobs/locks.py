"""Per-router locks: one writer per router across every worker process.

huey's own task locks never expire here (SQLite storage has no TTL, and Redis before 7.4 has no
hash-field TTL), so a worker killed while holding one would block its router forever. These locks
free themselves when their holder dies: the file lock is released by the kernel, the Redis lock
is a lease that the holder keeps renewing and that lapses a few seconds after it stops.

A holder that cannot renew its lease must stop writing at once: the lease may lapse and another
worker take the router while this one still writes. ``hold`` yields a ``Lease``; the first failed
renewal (Redis unreachable, or the key no longer ours) marks it lost, and ``check_current_lease``
(which the worker's router gateways call before every write) then raises ``LeaseLost``. The
customers stay marked pending, so the worker that holds the router next converges them.
"""

from __future__ import annotations

import contextvars
import fcntl
import logging
import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Protocol

import redis

log = logging.getLogger(__name__)


class RouterBusy(Exception):
    """Another worker is writing to this router right now."""


class LeaseLost(Exception):
    """This worker's hold on a router's lock may have lapsed: it must not write to the router."""


class Lease:
    """A holder's claim on one router's lock, as the writer sees it."""

    def __init__(self, router_id: int) -> None:
        self.router_id = router_id
        self._lost = threading.Event()
        self.reason = ""

    def lose(self, reason: str) -> None:
        if not self._lost.is_set():
            self.reason = reason
            self._lost.set()
            log.warning(
                "router %s: lock lease lost (%s); stopping its writes", self.router_id, reason
            )

    @property
    def lost(self) -> bool:
        return self._lost.is_set()

    def check(self) -> None:
        """Raise LeaseLost if the lease was lost."""
        if self._lost.is_set():
            raise LeaseLost(f"router {self.router_id}: lock lease lost ({self.reason})")


_current_lease: contextvars.ContextVar[Lease | None] = contextvars.ContextVar(
    "router_lease", default=None
)


@contextmanager
def writing_under(lease: Lease) -> Iterator[Lease]:
    """Make ``lease`` the one ``check_current_lease`` checks, for the block."""
    token = _current_lease.set(lease)
    try:
        yield lease
    finally:
        _current_lease.reset(token)


def check_current_lease() -> None:
    """Before a router write: raise LeaseLost if the lease this work runs under was lost
    (nothing to check outside a held lock)."""
    lease = _current_lease.get()
    if lease is not None:
        lease.check()


class RouterLock(Protocol):
    """Serializes writers per router."""

    def hold(self, router_id: int) -> AbstractContextManager[Lease]:
        """Hold the router's lock for a ``with`` block, or raise RouterBusy at once."""
        ...


class FileRouterLock:
    """``flock`` on one file per router: for one machine (SQLite database, SqliteHuey)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @contextmanager
    def hold(self, router_id: int) -> Iterator[Lease]:
        """Hold the router's lock for the block, or raise RouterBusy at once. The kernel holds
        it until the descriptor closes: this lease is never lost."""
        self.directory.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.directory / f"router-{router_id}.lock", os.O_RDWR | os.O_CREAT)
        try:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise RouterBusy(f"router {router_id} is busy") from None
            try:
                yield Lease(router_id)
            finally:
                fcntl.flock(descriptor, fcntl.LOCK_UN)
        finally:
            os.close(descriptor)


_RELEASE = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"
)
_RENEW = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then "
    "return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0"
)


class RedisRouterLock:
    """A renewed Redis lease per router: for several machines sharing Redis."""

    def __init__(
        self, client: redis.Redis, *, lease_seconds: float = 15.0, prefix: str = "mteja"
    ) -> None:
        self.client = client
        self.lease_ms = int(lease_seconds * 1000)
        self.prefix = prefix

    @contextmanager
    def hold(self, router_id: int) -> Iterator[Lease]:
        """Hold the router's lease for the block, or raise RouterBusy at once."""
        key = f"{self.prefix}:router-lock:{router_id}"
        token = uuid.uuid4().hex
        if not self.client.set(key, token, nx=True, px=self.lease_ms):
            raise RouterBusy(f"router {router_id} is busy")
        lease = Lease(router_id)
        stop = threading.Event()
        renewer = threading.Thread(
            target=self._renew,
            args=(key, token, lease, stop),
            name=f"lease-{router_id}",
            daemon=True,
        )
        renewer.start()
        try:
            yield lease
        finally:
            stop.set()
            renewer.join()
            try:
                self.client.eval(_RELEASE, 1, key, token)
            except redis.RedisError:
                log.warning(
                    "router %s: could not release its lease; it lapses by itself", router_id
                )

    def _renew(self, key: str, token: str, lease: Lease, stop: threading.Event) -> None:
        # Renewed every third of the lease. One failed renewal ends the writing: by the time a
        # retry succeeded the lease could have lapsed and another worker have taken the router.
        while not stop.wait(self.lease_ms / 3000):
            try:
                renewed = self.client.eval(_RENEW, 1, key, token, self.lease_ms)
            except redis.RedisError as exc:
                lease.lose(f"renewal failed: {exc.__class__.__name__}")
                return
            if not renewed:
                lease.lose("the lease lapsed or another worker holds it")
                return
