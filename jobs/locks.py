"""Per-router locks: one writer per router across every worker process.

huey's own task locks never expire here (SQLite storage has no TTL, and Redis before 7.4 has no
hash-field TTL), so a worker killed while holding one would block its router forever. These locks
free themselves when their holder dies: the file lock is released by the kernel, the Redis lock
is a lease that the holder keeps renewing and that lapses a few seconds after it stops.
"""

from __future__ import annotations

import fcntl
import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Protocol

import redis


class RouterBusy(Exception):
    """Another worker is writing to this router right now."""


class RouterLock(Protocol):
    """Serializes writers per router."""

    def hold(self, router_id: int) -> AbstractContextManager[None]:
        """Hold the router's lock for a ``with`` block, or raise RouterBusy at once."""
        ...


class FileRouterLock:
    """``flock`` on one file per router: for one machine (SQLite database, SqliteHuey)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @contextmanager
    def hold(self, router_id: int) -> Iterator[None]:
        """Hold the router's lock for the block, or raise RouterBusy at once."""
        self.directory.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.directory / f"router-{router_id}.lock", os.O_RDWR | os.O_CREAT)
        try:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise RouterBusy(f"router {router_id} is busy") from None
            try:
                yield
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
    def hold(self, router_id: int) -> Iterator[None]:
        """Hold the router's lease for the block, or raise RouterBusy at once."""
        key = f"{self.prefix}:router-lock:{router_id}"
        token = uuid.uuid4().hex
        if not self.client.set(key, token, nx=True, px=self.lease_ms):
            raise RouterBusy(f"router {router_id} is busy")
        stop = threading.Event()
        renewer = threading.Thread(
            target=self._renew, args=(key, token, stop), name=f"lease-{router_id}", daemon=True
        )
        renewer.start()
        try:
            yield
        finally:
            stop.set()
            renewer.join()
            self.client.eval(_RELEASE, 1, key, token)

    def _renew(self, key: str, token: str, stop: threading.Event) -> None:
        while not stop.wait(self.lease_ms / 3000):
            try:
                self.client.eval(_RENEW, 1, key, token, self.lease_ms)
            except redis.RedisError:
                # The next renewal may succeed; if none does the lease lapses, as designed.
                continue
