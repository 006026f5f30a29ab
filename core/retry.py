"""Running a use case in its own transaction, retried when a concurrent one got there first.

Two deliveries of one M-Pesa receipt racing each other both pass the "already recorded?" check;
the database's unique constraint then rejects the second commit. Running the use case again finds
the first one's payment and returns it as a duplicate. Serialization failures and deadlocks on
PostgreSQL are retried the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import IntegrityError, OperationalError

from core.unit_of_work import CoreServices, UnitOfWork

log = logging.getLogger(__name__)
T = TypeVar("T")
RETRYABLE_SQLSTATES = {"40001", "40P01"}  # serialization failure, deadlock detected


def _retryable(error: Exception) -> bool:
    if isinstance(error, IntegrityError):
        return True
    if isinstance(error, OperationalError):
        sqlstate = getattr(getattr(error, "orig", None), "sqlstate", None)
        return sqlstate in RETRYABLE_SQLSTATES or "database is locked" in str(error)
    return False


def in_transaction(
    services: CoreServices, work: Callable[[UnitOfWork], T], *, attempts: int = 3
) -> T:
    """Run ``work`` in a fresh unit of work and commit; retry on a lost race."""
    for attempt in range(1, attempts + 1):
        with services.unit_of_work() as uow:
            try:
                result = work(uow)
                uow.commit()
                return result
            except (IntegrityError, OperationalError) as error:
                if attempt == attempts or not _retryable(error):
                    raise
                log.info("transaction lost a race (%s); retrying", error.__class__.__name__)
    raise AssertionError("unreachable")
