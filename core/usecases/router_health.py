"""What a router health check found, recorded: online or offline, and whether it restarted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from core.errors import RouterNotFound
from core.models import Router
from core.unit_of_work import UnitOfWork
from core.usecases.network import CERTIFICATE_MISMATCH


@dataclass(frozen=True)
class RouterCheck:
    """One check's outcome. ``previous`` is the status before it; ``restarted_at`` is set when
    this check noticed a restart (the router's uptime went back), to when it came up."""

    online: bool
    previous: str
    error: str | None = None
    restarted_at: datetime | None = None
    certificate_mismatch: bool = False

    @property
    def status(self) -> str:
        if self.online:
            return "online"
        return CERTIFICATE_MISMATCH if self.certificate_mismatch else "offline"

    @property
    def changed(self) -> bool:
        return self.previous != self.status


def record_router_check(
    uow: UnitOfWork,
    router_id: int,
    *,
    error: str | None,
    uptime_seconds: int | None,
    certificate_mismatch: bool = False,
) -> RouterCheck:
    """Record a check of ``router_id``: ``error`` None means it answered, with its uptime
    (None when it could not be read). An uptime smaller than the last one recorded means the
    router restarted since, however briefly: it may have lost what mteja wrote to it.
    ``certificate_mismatch``: it answered with a certificate that is not the pinned one (or not
    the CA's), so mteja did not log in; its status says so until staff pin it again."""
    router = uow.session.get(Router, router_id)
    if router is None:
        raise RouterNotFound(f"no router with id {router_id}")
    now = uow.clock.now()
    previous = router.status
    check = RouterCheck(error is None, previous, error, None, certificate_mismatch)
    router.status = check.status
    router.last_error = error
    restarted_at = None
    if error is None:
        router.last_seen_at = now
        if uptime_seconds is not None:
            last = router.last_uptime_seconds
            if last is not None and uptime_seconds < last:
                restarted_at = now - timedelta(seconds=uptime_seconds)
                router.restarted_at = restarted_at
            router.last_uptime_seconds = uptime_seconds
    return RouterCheck(error is None, previous, error, restarted_at, certificate_mismatch)
