"""The unit of work: one transaction, plus what a use case needs around it.

A use case does all its reads and writes through ``uow.session``, publishes events, and the caller
commits. Events are dispatched only after the commit succeeds, so no job ever acts on a change that
was rolled back; if dispatch fails the change is still safe, because the customer stays marked
``sync_pending`` and the periodic sweep picks it up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from core.clock import Clock
from core.crypto import SecretBox
from core.events import CustomerNeedsSync, Event
from core.ports import EventDispatcher, Metrics, NoMetrics

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CoreConfig:
    """The settings core's rules depend on."""

    account_prefix: str = "MTJ"
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Africa/Nairobi"))
    default_region: str = "KE"
    isp_name: str = "mteja ISP"
    support_phone: str = ""
    paybill_number: str = ""
    # Printed on invoices and receipts.
    isp_address: str = ""
    isp_email: str = ""
    # Active customers whose paid time ends within this many days are "expiring".
    expiring_days: int = 3


class ReadOnlyViolation(RuntimeError):
    """A read-only unit of work was asked to commit (a bug in the caller, not bad input)."""


class UnitOfWork:
    """One transaction. Use as ``with services.unit_of_work() as uow: ...; uow.commit()``.

    ``read_only``: for requests that only look (a USSD screen): the transaction takes no write
    lock on SQLite and is ``READ ONLY`` on PostgreSQL, and ``commit`` raises ReadOnlyViolation.
    """

    def __init__(
        self,
        session_factory: Callable[[], Session],
        clock: Clock,
        cipher: SecretBox,
        config: CoreConfig,
        dispatcher: EventDispatcher,
        *,
        read_only: bool = False,
    ) -> None:
        self._session_factory = session_factory
        self.read_only = read_only
        self.clock = clock
        self.cipher = cipher
        self.config = config
        self._dispatcher = dispatcher
        self._events: list[Event] = []
        self._published: set[Event] = set()
        self._session: Session | None = None

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("the unit of work is not open: use it in a 'with' block")
        return self._session

    def __enter__(self) -> UnitOfWork:
        self._session = self._session_factory()
        self._events = []
        self._published = set()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        session = self.session
        try:
            session.rollback()
        finally:
            session.close()
            self._session = None
            self._events = []

    def publish(self, event: Event) -> None:
        """Queue ``event`` for dispatch after a successful commit (each distinct event once)."""
        if event not in self._published:
            self._published.add(event)
            self._events.append(event)

    def commit(self) -> None:
        """Commit, then dispatch the events the use case published."""
        if self.read_only:
            raise ReadOnlyViolation("a read-only unit of work cannot commit")
        self.session.commit()
        events, self._events = _one_sync_per_router(self._events), []
        self._published = set()
        for event in events:
            try:
                self._dispatcher.dispatch(event)
            except Exception:
                # The database already holds the change and the sync flag; the sweep recovers.
                log.exception("could not dispatch %s; the periodic sweep will retry", event)

    def rollback(self) -> None:
        self.session.rollback()
        self._events = []
        self._published = set()


def _one_sync_per_router(events: list[Event]) -> list[Event]:
    """A router sync converges every pending customer of the router, so one request per router
    per commit is enough (a batch of 500 expiries asks once, not 500 times)."""
    kept: list[Event] = []
    routers: set[int] = set()
    for event in events:
        if isinstance(event, CustomerNeedsSync) and event.router_id is not None:
            if event.router_id in routers:
                continue
            routers.add(event.router_id)
        kept.append(event)
    return kept


@dataclass
class CoreServices:
    """Everything use cases need, built once by the composition root."""

    session_factory: Callable[[], Session]
    clock: Clock
    cipher: SecretBox
    config: CoreConfig
    dispatcher: EventDispatcher
    # Sessions for read-only units of work (core.db.make_read_session_factory); None: the
    # writing ones, so only the commit is refused.
    read_session_factory: Callable[[], Session] | None = None
    # What adapters count for monitoring (mteja.metrics in a running process).
    metrics: Metrics = field(default_factory=NoMetrics)

    def unit_of_work(self, *, read_only: bool = False) -> UnitOfWork:
        """A unit of work; ``read_only`` for work that only reads (it cannot commit)."""
        factory = self.session_factory
        if read_only and self.read_session_factory is not None:
            factory = self.read_session_factory
        return UnitOfWork(
            factory, self.clock, self.cipher, self.config, self.dispatcher, read_only=read_only
        )
