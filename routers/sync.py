"""Router work against the database: converge customers, reconcile, check health, live sessions.

Each method opens its own units of work and one gateway connection; the job layer calls these
under a per-router lock so no two workers write one router at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, select

from core.batches import batched
from core.models import Customer, Plan, Router, RouterSyncRun
from core.unit_of_work import CoreServices, UnitOfWork
from core.usage import StoredSession, stored_session
from core.usecases.network import RouterLogin, router_login
from core.usecases.router_health import record_router_check
from routers.customer_rows import CustomerRow, iter_customers, load_customers
from routers.desired import (
    SESSION_MENUS,
    CustomerState,
    Entry,
    RemovedLogin,
    RouterDesired,
    SyncOptions,
    customer_state,
    plan_profile_entries,
)
from routers.durations import parse_duration
from routers.gateway import (
    RouterCertificateMismatch,
    RouterCredentials,
    RouterError,
    RouterGateway,
)
from routers.gc_pause import cyclic_gc_paused

# LiveSession and Presence moved to routers.presence; re-exported for the adapters.
from routers.presence import LiveSession as LiveSession
from routers.presence import Presence as Presence
from routers.presence import static_presence
from routers.reconciler import Converger, ConvergeReport

log = logging.getLogger(__name__)

GatewayFactory = Callable[[RouterLogin], RouterGateway]
PENDING_BATCH = 5000
# Customers' sync results written per statement.
RESULT_CHUNK = 1000


def librouteros_factory(
    connect_timeout: float = 10.0, command_timeout: float = 30.0
) -> GatewayFactory:
    """Gateways over librouteros, for real routers and the simulator."""
    from routers.librouteros_gateway import RouterOsGateway

    def make(login: RouterLogin) -> RouterGateway:
        return RouterOsGateway(
            RouterCredentials(
                host=login.host,
                port=login.api_port,
                username=login.username,
                password=login.password,
                tls=login.use_tls,
                tls_fingerprint=login.tls_fingerprint,
                tls_verify=login.tls_ca is not None,
                tls_ca_file=login.tls_ca,
                connect_timeout=connect_timeout,
                command_timeout=command_timeout,
            )
        )

    return make


@dataclass(frozen=True)
class RouterHealth:
    online: bool
    changed: bool
    error: str | None = None
    previous: str = "unknown"
    # The router's uptime went back since the last check: it restarted, perhaps empty.
    restarted: bool = False
    # The router answered with a certificate that is not the pinned one (or not the CA's):
    # no password was sent, and staff must look before it is trusted again.
    certificate_mismatch: bool = False


class RouterSync:
    """Converges routers to the database."""

    def __init__(
        self, services: CoreServices, gateways: GatewayFactory, options: SyncOptions | None = None
    ) -> None:
        self.services = services
        self.gateways = gateways
        self.options = options or SyncOptions()

    # --- what the router should hold -----------------------------------------------------------

    def _states(self, uow: UnitOfWork, customers: Sequence[CustomerRow]) -> list[CustomerState]:
        now = uow.clock.now()
        return [self._state(uow, customer, now) for customer in customers]

    def _state(self, uow: UnitOfWork, customer: CustomerRow, now: datetime) -> CustomerState:
        password = (
            uow.cipher.decrypt(customer.password_encrypted) if customer.password_encrypted else ""
        )
        return customer_state(customer, password, now, self.options)

    @staticmethod
    def _profiles(plans: Sequence[Plan]) -> list[Entry]:
        # A plan object is shared by all its customers: derive its entries once.
        entries = [entry for plan in dict.fromkeys(plans) for entry in plan_profile_entries(plan)]
        unique = {(entry.menu, *entry.key): entry for entry in entries}
        return list(unique.values())

    # --- fast path ------------------------------------------------------------------------------

    def router_of(self, customer_id: int) -> int | None:
        with self.services.unit_of_work() as uow:
            return uow.session.scalar(select(Customer.router_id).where(Customer.id == customer_id))

    @cyclic_gc_paused
    def sync_pending(self, router_id: int, limit: int = PENDING_BATCH) -> ConvergeReport:
        """Converge every customer of ``router_id`` marked pending (one connection, one batch),
        and take deleted customers' entries off it."""
        with self.services.unit_of_work() as uow:
            customers = load_customers(uow, router_id, pending_only=True, limit=limit)
            deleted = self._deleted_pending_customers(uow, router_id)
            if not customers and not deleted:
                return ConvergeReport()
            desired = RouterDesired(
                profiles=self._profiles([customer.plan for customer in customers]),
                customers=self._states(uow, customers),
                removed=[
                    RemovedLogin(gone.account_number, gone.username, gone.connection_type)
                    for gone in deleted
                ],
            )
            login = router_login(uow, router_id)
            removed_versions = {gone.id: gone.sync_version for gone in deleted}
        report = self._converge(login, desired, full=False)
        self._record(router_id, desired.customers, report)
        self._record_removed(removed_versions)
        return report

    @staticmethod
    def _deleted_pending_customers(uow: UnitOfWork, router_id: int) -> list[Customer]:
        return list(
            uow.session.scalars(
                select(Customer).where(
                    Customer.router_id == router_id,
                    Customer.deleted_at.is_not(None),
                    Customer.sync_pending.is_(True),
                )
            )
        )

    def _deleted_pending(self, uow: UnitOfWork, router_id: int) -> dict[int, int]:
        return {
            gone.id: gone.sync_version for gone in self._deleted_pending_customers(uow, router_id)
        }

    def _record_removed(self, versions: dict[int, int]) -> None:
        """Deleted customers whose entries the router no longer holds are done."""
        if versions:
            confirmed = [{"b_id": key, "b_version": value} for key, value in versions.items()]
            self._write_results(confirmed, [])

    def sync_all_pending(self, router_id: int, batch: int = PENDING_BATCH) -> int:
        """Run ``sync_pending`` until a batch comes back short; returns customers confirmed."""
        confirmed = 0
        while True:
            report = self.sync_pending(router_id, batch)
            confirmed += len(report.verified)
            if report.customers < batch or not report.verified:
                return confirmed

    def remove_login(self, router_id: int, removed: RemovedLogin) -> ConvergeReport:
        """Take a deleted (or renamed, or moved) customer's entries off ``router_id``."""
        with self.services.unit_of_work() as uow:
            login = router_login(uow, router_id)
        return self._converge(login, RouterDesired(removed=[removed]), full=False)

    def clean_out(self, router_id: int) -> ConvergeReport:
        """Take every mteja-managed entry (comment ``mteja:``, profiles ``mteja-…``) off a router
        that is leaving service: a full converge to nothing. RouterError propagates."""
        with self.services.unit_of_work() as uow:
            login = router_login(uow, router_id)
        return self._converge(login, RouterDesired(), full=True)

    def drop_sessions(self, customer_id: int) -> int:
        """End the customer's live sessions (staff 'disconnect'); returns how many ended."""
        with self.services.unit_of_work() as uow:
            customer = uow.session.get(Customer, customer_id)
            if customer is None or customer.router_id is None:
                return 0
            session = SESSION_MENUS.get(customer.connection_type)
            if session is None:
                return 0
            login = router_login(uow, customer.router_id)
            username = customer.username
        gateway = self.gateways(login)
        try:
            menu, name_prop = session
            return Converger(gateway, name=login.name).drop_sessions(
                menu, name_prop, {username}, full=False
            )
        finally:
            gateway.close()

    # --- repair ---------------------------------------------------------------------------------

    @cyclic_gc_paused
    def reconcile(self, router_id: int) -> ConvergeReport:
        """Full reconcile: read each managed menu once, fix every difference, remove strays."""
        started = self.services.clock.now()
        with self.services.unit_of_work() as uow:
            now = uow.clock.now()
            # Every active plan has its profile on every router (staff see them in WinBox), and
            # a retired plan keeps its profile while someone is still on it.
            plans = {plan.id: plan for plan in uow.session.scalars(select(Plan).where(Plan.active))}
            unsettled: set[int] = set()
            states: list[CustomerState] = []
            # The rows are streamed, each turned into its desired state as it comes: all of
            # them at once (about 70 MB for 100,000 customers) sat beside the states.
            for customer in iter_customers(uow, router_id):
                plans.setdefault(customer.plan_id, customer.plan)
                if customer.sync_pending or customer.sync_error is not None:
                    unsettled.add(customer.id)
                states.append(self._state(uow, customer, now))
            desired = RouterDesired(profiles=self._profiles(list(plans.values())), customers=states)
            login = router_login(uow, router_id)
            removed_versions = self._deleted_pending(uow, router_id)
            count = len(states)
        error = None
        try:
            report = self._converge(login, desired, full=True)
        except RouterError as exc:
            error = str(exc) or exc.__class__.__name__
            self._save_run(router_id, "reconcile", started, count, ConvergeReport(), error)
            raise
        # Only customers waiting for the router, or whose last sync failed, have news to record.
        waiting = [
            state
            for state in desired.customers
            if state.customer_id in unsettled or state.customer_id in report.failed
        ]
        self._record(router_id, waiting, report)
        self._record_removed(removed_versions)  # a full reconcile removed every stray entry
        self._save_run(router_id, "reconcile", started, count, report, None)
        return report

    def _converge(
        self, login: RouterLogin, desired: RouterDesired, *, full: bool
    ) -> ConvergeReport:
        gateway = self.gateways(login)
        try:
            return Converger(gateway, name=login.name).converge(desired, full=full)
        finally:
            gateway.close()

    def _record(
        self, router_id: int, states: Sequence[CustomerState], report: ConvergeReport
    ) -> None:
        """Clear ``sync_pending`` for customers the router confirmed, and keep the router's
        refusal on those it did not; either only if the customer has not changed since (a newer
        change was not what the router answered). One statement each, for all rows."""
        confirmed = (
            {"b_id": state.customer_id, "b_version": state.sync_version}
            for state in states
            if state.customer_id not in report.failed
        )
        refused = [
            {"b_id": state.customer_id, "b_version": state.sync_version, "b_error": message[:500]}
            for state in states
            if (message := report.failed.get(state.customer_id)) is not None
        ]
        self._write_results(confirmed, refused)

    def _write_results(
        self, confirmed: Iterable[dict[str, Any]], refused: list[dict[str, Any]]
    ) -> None:
        """Both in one transaction; the confirmations a chunk at a time (a full reconcile
        confirms every customer: 100,000 parameter sets at once held tens of MB)."""
        table = cast(Table, Customer.__table__)
        now = self.services.clock.now()
        with self.services.unit_of_work() as uow:
            for chunk in batched(confirmed, RESULT_CHUNK):
                uow.session.execute(
                    table.update()
                    .where(
                        table.c.id == bindparam("b_id"),
                        table.c.sync_version == bindparam("b_version"),
                    )
                    .values(sync_pending=False, sync_error=None, synced_at=now),
                    chunk,
                )
            if refused:
                uow.session.execute(
                    table.update()
                    .where(
                        table.c.id == bindparam("b_id"),
                        table.c.sync_version == bindparam("b_version"),
                    )
                    .values(sync_error=bindparam("b_error")),
                    refused,
                )
            uow.commit()

    def _save_run(
        self,
        router_id: int,
        kind: str,
        started: datetime,
        customers: int,
        report: ConvergeReport,
        error: str | None,
    ) -> None:
        with self.services.unit_of_work() as uow:
            uow.session.add(
                RouterSyncRun(
                    router_id=router_id,
                    kind=kind,
                    started_at=started,
                    finished_at=self.services.clock.now(),
                    customers=customers,
                    drift=report.drift,
                    writes=report.writes,
                    error=error,
                    details={"drift": report.drift_details, "failed": len(report.failed)},
                )
            )
            uow.commit()

    # --- health and live data -------------------------------------------------------------------

    def check(self, router_id: int) -> RouterHealth:
        """Read the router's ``/system/resource`` (one command); record online/offline, when it
        was last seen and its uptime, and say whether that uptime went back (a restart)."""
        with self.services.unit_of_work() as uow:
            login = router_login(uow, router_id)
        gateway = self.gateways(login)
        error = None
        uptime = None
        mismatch = False
        try:
            uptime = parse_duration(gateway.resource().get("uptime"))
        except RouterError as exc:
            error = str(exc) or exc.__class__.__name__
            mismatch = isinstance(exc, RouterCertificateMismatch)
        finally:
            gateway.close()
        with self.services.unit_of_work() as uow:
            checked = record_router_check(
                uow,
                router_id,
                error=error,
                uptime_seconds=uptime,
                certificate_mismatch=mismatch,
            )
            uow.commit()
        return RouterHealth(
            checked.online,
            checked.changed,
            checked.error,
            checked.previous,
            restarted=checked.restarted_at is not None,
            certificate_mismatch=mismatch,
        )

    def live_session(self, customer_id: int) -> LiveSession | None:
        """The customer's live session, or None when offline. RouterError when the router cannot
        say (the caller shows 'unknown'); the gateway's timeouts bound the wait."""
        with self.services.unit_of_work() as uow:
            customer = uow.session.get(Customer, customer_id)
            if customer is None or customer.router_id is None:
                return None
            session = SESSION_MENUS.get(customer.connection_type)
            if session is None:
                return None
            login = router_login(uow, customer.router_id)
            username = customer.username
        menu, name_prop = session
        gateway = self.gateways(login)
        try:
            rows = gateway.print(menu, None, {name_prop: username})
        finally:
            gateway.close()
        if not rows:
            return None
        row = rows[0]
        return LiveSession(
            address=row.get("address"),
            uptime=row.get("uptime"),
            bytes_in=_int(row.get("bytes-in")),
            bytes_out=_int(row.get("bytes-out")),
            session_id=row.get(".id"),
        )

    def presence(self, customer_id: int) -> Presence:
        """Online/offline from the router (a session; for a static customer, ARP or their
        queue's counters: see ``routers.presence``), or unknown (router unreachable).

        Build this RouterSync with short gateway timeouts where a person is waiting.
        """
        with self.services.unit_of_work() as uow:
            customer = uow.session.get(Customer, customer_id)
            static = customer is not None and customer.connection_type not in SESSION_MENUS
            facts = self._static_facts(uow, customer) if customer is not None and static else None
        if static:
            if facts is None:
                return Presence("offline", reason="no router or IP address on record")
            return self._static_presence(*facts)
        try:
            session = self.live_session(customer_id)
        except RouterError as exc:
            return Presence("unknown", reason=f"router not answering ({exc})")
        return Presence("online", session) if session else Presence("offline")

    @staticmethod
    def _static_facts(
        uow: UnitOfWork, customer: Customer
    ) -> tuple[RouterLogin, str, str, StoredSession | None] | None:
        if customer.router_id is None or not customer.ip_address:
            return None
        login = router_login(uow, customer.router_id)
        stored = stored_session(uow, customer.id)
        return login, customer.ip_address, customer.account_number, stored

    def _static_presence(
        self, login: RouterLogin, address: str, account: str, stored: StoredSession | None
    ) -> Presence:
        """Asked with no database session open: the router may be slow."""
        gateway = self.gateways(login)
        try:
            return static_presence(gateway, address, account, stored)
        except RouterError as exc:
            return Presence("unknown", reason=f"router not answering ({exc})")
        finally:
            gateway.close()

    def router_ids(self) -> list[int]:
        with self.services.unit_of_work() as uow:
            return list(
                uow.session.scalars(
                    select(Router.id).where(Router.removed_at.is_(None)).order_by(Router.id)
                )
            )

    def routers_with_pending(self) -> list[int]:
        """Routers that have customers waiting for a sync that has not failed permanently."""
        with self.services.unit_of_work() as uow:
            return list(
                uow.session.scalars(
                    select(Customer.router_id)
                    .join(Router, Router.id == Customer.router_id)
                    .where(
                        Customer.sync_pending.is_(True),
                        Customer.sync_error.is_(None),
                        Router.removed_at.is_(None),
                    )
                    .distinct()
                )
            )


def _int(value: str | None) -> int | None:
    return int(value) if value is not None and value.isdigit() else None
