"""Usage sampling: read every live session of a router at once and hand the counters to core.

One sample reads ``/ppp/active`` and ``/ip/hotspot/active`` with ``.proplist`` over one
connection, whatever the number of customers: never one read per customer. The router counts
from its side, so its bytes out are the customer's download and its bytes in their upload.

RouterOS keeps a PPP session's byte counters on its dynamic interface (``<pppoe-NAME>``), not in
``/ppp/active``: when the PPP sessions come without ``bytes-in``/``bytes-out``, one more print of
``/interface`` (``type=pppoe-in``) gives them (``rx-byte`` from the subscriber, ``tx-byte`` to
them). Hotspot sessions carry their counters.

Static-IP customers have no session: their simple queue (``mteja-<username>``, target their
address, comment ``mteja:<account>``) counts their traffic, so one print of ``/queue/simple``
reads them all. A queue's ``bytes`` is ``upload/download`` as its target sees it, already the
customer's terms. The queue's ``.id`` is the session key: a recreated queue is a new "session"
counted from zero, and counters reset under the same id (a reboot) are a reset core already
handles. A queue is tied to its customer by the account number in its comment, not by its name:
the comment is what marks the queue as mteja's, and an account number is never changed or
reused, whereas a renamed customer's old queue, until the next sync, carries a username that
another customer may have taken meanwhile.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from core.errors import CustomerNotFound
from core.models import Router
from core.retry import in_transaction
from core.unit_of_work import CoreServices, UnitOfWork
from core.usage import LiveCounters
from core.usecases.network import router_login
from core.usecases.usage import (
    CapOutcome,
    SessionReading,
    UsageSample,
    enforce_data_cap,
    record_usage,
)
from core.vocabulary import ConnectionType
from routers.desired import COMMENT_PREFIX, HOTSPOT_ACTIVE, PPP_ACTIVE, QUEUE
from routers.durations import parse_duration as parse_duration
from routers.gateway import RouterGateway
from routers.presence import Presence, up_down
from routers.sync import GatewayFactory

log = logging.getLogger(__name__)

# (menu, property naming the login, connection type)
_SESSION_MENUS = (
    (PPP_ACTIVE, "name", ConnectionType.PPPOE.value),
    (HOTSPOT_ACTIVE, "user", ConnectionType.HOTSPOT.value),
)
_PROPS = ("address", "uptime", "bytes-in", "bytes-out")
_QUEUE_PROPS = (".id", "name", "target", "bytes", "comment")
INTERFACE = "/interface"
PPPOE_INTERFACE_TYPE = "pppoe-in"


def live_counters(presence: Presence, read_at: datetime) -> LiveCounters | None:
    """The router's answer in the customer's terms (its bytes out are their download)."""
    if presence.state != "online" or presence.session is None:
        return None
    session = presence.session
    return LiveCounters(
        session_key=session.session_id,
        address=session.address,
        uptime_seconds=parse_duration(session.uptime),
        download_bytes=session.bytes_out,
        upload_bytes=session.bytes_in,
        read_at=read_at,
    )


def _counter(value: str | None) -> int:
    return int(value) if value is not None and value.isdigit() else 0


def queue_address(target: str | None) -> str | None:
    """The first address of a queue's ``target`` (``10.10.0.5/32`` → ``10.10.0.5``)."""
    first = (target or "").split(",")[0].strip()
    return first.removesuffix("/32") or None


def read_queues(gateway: RouterGateway) -> list[SessionReading]:
    """A reading for each of mteja's simple queues (static customers), one print for them all;
    ``login`` is the account number from the queue's comment."""
    readings = []
    for row in gateway.print(QUEUE, list(_QUEUE_PROPS)):
        comment = row.get("comment", "")
        counters = up_down(row.get("bytes"))
        queue_id = row.get(".id")
        if not comment.startswith(COMMENT_PREFIX) or counters is None or not queue_id:
            continue  # the operator's own queue, or one printed without counters
        upload, download = counters
        readings.append(
            SessionReading(
                login=comment.removeprefix(COMMENT_PREFIX),
                connection_type=ConnectionType.STATIC.value,
                session_key=queue_id,
                address=queue_address(row.get("target")),
                uptime_seconds=0,  # a queue has no uptime; its id tells one from the next
                download_bytes=download,
                upload_bytes=upload,
            )
        )
    return readings


def read_sessions(gateway: RouterGateway) -> list[SessionReading]:
    """Every PPP and hotspot session on the router, with its counters, and every static
    customer's queue (three or four prints)."""
    readings: list[SessionReading] = []
    for menu, login_prop, connection_type in _SESSION_MENUS:
        rows = gateway.print(menu, [".id", login_prop, *_PROPS])
        interfaces = None
        if menu == PPP_ACTIVE and any("bytes-out" not in row for row in rows):
            interfaces = _interface_counters(gateway)
        for row in rows:
            login = row.get(login_prop)
            session_key = row.get(".id")
            bytes_in, bytes_out = row.get("bytes-in"), row.get("bytes-out")
            if interfaces is not None:
                bytes_in, bytes_out = interfaces.get(f"<pppoe-{login}>", (bytes_in, bytes_out))
            if not login or not session_key or bytes_out is None or bytes_in is None:
                # No counters (its interface vanished between the prints): the next sample
                # compares with the last reading, so nothing is lost or counted twice.
                continue
            readings.append(
                SessionReading(
                    login=login,
                    connection_type=connection_type,
                    session_key=session_key,
                    address=row.get("address") or None,
                    uptime_seconds=parse_duration(row.get("uptime")) or 0,
                    # The router's bytes out reached the customer: their download.
                    download_bytes=_counter(bytes_out),
                    upload_bytes=_counter(bytes_in),
                )
            )
        del rows  # one menu's printed rows at a time, beside the readings
    return readings + read_queues(gateway)


def _interface_counters(gateway: RouterGateway) -> dict[str, tuple[str, str]]:
    """(bytes in, bytes out) of each PPP session's dynamic interface (``<pppoe-NAME>``), from
    its ``rx-byte`` (from the subscriber) and ``tx-byte`` (to them)."""
    return {
        row["name"]: (row["rx-byte"], row["tx-byte"])
        for row in gateway.print(
            INTERFACE, ["name", "rx-byte", "tx-byte"], {"type": PPPOE_INTERFACE_TYPE}
        )
        if "name" in row and "rx-byte" in row and "tx-byte" in row
    }


@dataclass(frozen=True)
class SampleResult:
    """One router's sample and what the data cap did after it."""

    sample: UsageSample
    cap_outcomes: dict[int, CapOutcome]
    read_seconds: float
    write_seconds: float


class UsageSampler:
    """Samples routers' session counters into the database and applies data caps."""

    def __init__(self, services: CoreServices, gateways: GatewayFactory) -> None:
        self.services = services
        self.gateways = gateways

    def sample(self, router_id: int) -> SampleResult:
        """Read ``router_id``'s sessions once, record them in one transaction, then settle each
        customer whose cap state changed in a transaction of their own. RouterError propagates
        (nothing is recorded; the next sample counts what this one missed)."""
        with self.services.unit_of_work() as uow:
            login = router_login(uow, router_id)
        gateway = self.gateways(login)
        started = time.perf_counter()
        try:
            readings = read_sessions(gateway)
        finally:
            gateway.close()
        read_at = self.services.clock.now()
        read_seconds = time.perf_counter() - started
        started = time.perf_counter()
        sample = in_transaction(
            self.services, lambda uow: record_usage(uow, router_id, read_at, readings)
        )
        write_seconds = time.perf_counter() - started
        outcomes: dict[int, CapOutcome] = {
            customer_id: outcome
            for customer_id in sample.cap_checks
            if (outcome := self._settle_cap(customer_id)) is not CapOutcome.UNCHANGED
        }
        if sample.stale:
            log.info("router %s: usage sample older than the last recorded one; dropped", router_id)
        return SampleResult(sample, outcomes, read_seconds, write_seconds)

    def router_ids(self) -> list[int]:
        """Every router in service (removed ones are never contacted)."""
        with self.services.unit_of_work() as uow:
            in_service = select(Router.id).where(Router.removed_at.is_(None)).order_by(Router.id)
            return list(uow.session.scalars(in_service))

    def _settle_cap(self, customer_id: int) -> CapOutcome:
        def settle(uow: UnitOfWork) -> CapOutcome:
            try:
                return enforce_data_cap(uow, customer_id)
            except CustomerNotFound:
                return CapOutcome.UNCHANGED  # deleted meanwhile

        try:
            return in_transaction(self.services, settle)
        except Exception:
            # One customer's failure must not stop the others' caps; the next sample retries.
            log.exception("could not apply the data cap of customer %s", customer_id)
            return CapOutcome.UNCHANGED
