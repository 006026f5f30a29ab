"""A paid period's start and a cancel, each interleaved at every step with the paths that touch
the same customer, on PostgreSQL (the ``gate`` fixture of conftest.py; issue 16's periods and
cancels).

Every path locks the customer row before it reads what decides its change; the period-start job
skips a row another transaction holds (the next run takes it). Whatever the order, the money
paid is credited once and kept (as credit or as paid time), unused time is refunded once, a
cancelled customer gets no period started unless they pay again, the customer ends on the plan
paid for (or the one staff chose after it began), and no path deadlocks or fails but with a
domain error.

Once, a payment recorded while the job ran (the job skipped the customer it had locked)
scheduled the next start past the due one: the upgrade paid for never began.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from core import ledger
from core.actors import Actor
from core.errors import DomainError
from core.models import AuditEvent, Customer, LedgerEntry, Payment, Subscription, UsagePeriod
from core.retry import in_transaction
from core.testing import TEST_EPOCH
from core.unit_of_work import CoreServices, UnitOfWork
from core.usecases.billing import IncomingPayment, record_payment
from core.usecases.c2b import C2BConfirmation, confirm_c2b
from core.usecases.cancellation import Refund, cancel_subscription, unused_value_kes
from core.usecases.periods import begin_due_periods
from core.usecases.plans import PlanSpec, add_plan
from core.usecases.service import PlanChangeTiming, change_plan
from core.vocabulary import LedgerKind

pytestmark = [
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
    pytest.mark.slow,  # each pair waits on gates between real transactions: seconds each
]

PERIOD = timedelta(days=30)
DUE = TEST_EPOCH + PERIOD  # when the paid-ahead upgrade's period starts
MIDWAY = TEST_EPOCH + timedelta(days=10)  # a third of a Home 10M period used
HOME, UPGRADE, DOWNGRADE = "Home 10M", "Home 20M", "Home 5M"
HOME_KES, UPGRADE_KES, PAID_KES = 1500, 2500, 2500


@dataclass
class World:
    services: CoreServices
    customer_id: int
    account_number: str
    refused: list[str] = field(default_factory=list)


@pytest.fixture
def plans(store: Any) -> None:
    """Home 10M (KES 1500, the conftest's) and Home 20M (2500) and Home 5M (1000), 30 days."""
    with store.services.unit_of_work() as uow:
        add_plan(
            uow,
            store.staff,
            PlanSpec(UPGRADE, "pppoe", UPGRADE_KES, "20M", "10M", validity_days=30),
        )
        add_plan(uow, store.staff, PlanSpec(DOWNGRADE, "pppoe", 1000, "5M", "2M", validity_days=30))
        uow.commit()


@pytest.fixture
def no_retries(caplog: pytest.LogCaptureFixture) -> Callable[[], None]:
    """Check that no transaction was retried: no deadlock, no serialization failure."""
    caplog.set_level(logging.INFO, logger="core.retry")

    def check() -> None:
        retried = [record.getMessage() for record in caplog.records if record.name == "core.retry"]
        assert retried == []

    return check


def _cash(world: World, amount_kes: int) -> None:
    incoming = IncomingPayment(amount_kes=amount_kes, method="cash")
    in_transaction(
        world.services,
        lambda uow: record_payment(uow, world.customer_id, Actor.cli(), incoming),
    )


@pytest.fixture
def upgrade_due(store: Any, plans: None) -> Callable[[], World]:
    """A customer on Home 10M paid until DUE, and a period of Home 20M (chosen "at renewal")
    paid ahead from DUE; the clock is at DUE, the job has not begun that period yet."""

    def make() -> World:
        store.clock.set(TEST_EPOCH)
        customer = store.customer()
        world = World(store.services, customer.id, customer.account_number)
        _cash(world, HOME_KES)
        in_transaction(
            world.services,
            lambda uow: change_plan(
                uow, world.customer_id, Actor.cli(), UPGRADE, PlanChangeTiming.RENEWAL
            ),
        )
        store.clock.set(TEST_EPOCH + timedelta(days=20))
        _cash(world, UPGRADE_KES)
        store.clock.set(DUE)
        return world

    return make


@pytest.fixture
def midway(store: Any) -> Callable[[], World]:
    """A customer on Home 10M paid from TEST_EPOCH for one period; the clock a third in."""

    def make() -> World:
        store.clock.set(TEST_EPOCH)
        customer = store.customer()
        world = World(store.services, customer.id, customer.account_number)
        _cash(world, HOME_KES)
        store.clock.set(MIDWAY)
        return world

    return make


# -- the paths -------------------------------------------------------------------------------------


def _attempt(world: World, work: Callable[[UnitOfWork], Any]) -> Any:
    """Run ``work`` as an adapter does; a domain error is a clean refusal, kept for the check."""
    try:
        return in_transaction(world.services, work)
    except DomainError as refusal:
        world.refused.append(f"{refusal.__class__.__name__}: {refusal.message}")
        return None


def begin_periods(world: World) -> Any:
    return _attempt(world, lambda uow: begin_due_periods(uow))


def cash(world: World) -> Any:
    incoming = IncomingPayment(amount_kes=PAID_KES, method="cash")
    return _attempt(
        world, lambda uow: record_payment(uow, world.customer_id, Actor.cli(), incoming)
    )


_receipts = itertools.count(1)


def paybill(world: World) -> Any:
    confirmation = C2BConfirmation(
        trans_id=f"SPI{next(_receipts):07d}",
        amount_kes=PAID_KES,
        bill_ref_number=world.account_number,
        paid_at=None,
        payer_phone=None,
        payer_name="JOHN DOE",
    )
    return _attempt(world, lambda uow: confirm_c2b(uow, confirmation))


def change_to(plan: str, when: PlanChangeTiming) -> Callable[[World], Any]:
    def change(world: World) -> Any:
        return _attempt(
            world, lambda uow: change_plan(uow, world.customer_id, Actor.cli(), plan, when)
        )

    return change


def cancel(world: World) -> Any:
    return _attempt(
        world,
        lambda uow: cancel_subscription(
            uow, world.customer_id, Actor.cli(), "moving house", Refund.CREDIT
        ),
    )


def sweep(world: World) -> None:
    """The minute sweep after the pair: it begins a period the job skipped while locked."""
    in_transaction(world.services, lambda uow: begin_due_periods(uow))


# -- what is stored --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    plan: str
    pending_plan: str | None
    status: str
    expires_at: datetime | None
    next_period_at: datetime | None
    usage_started_at: datetime | None
    balance_kes: int
    payments: list[int]
    """Amounts of the payments recorded for the customer."""
    payment_credits: list[int]
    """Amounts of the ledger's payment rows."""
    refunds: list[int]
    unused_value_kes: int
    """What the paid time left after now is worth."""
    actions: list[str]
    """The customer's audit trail, in order (each path writes it under the customer's lock)."""

    def last_of(self, *actions: str) -> str:
        return [action for action in self.actions if action in actions][-1]


def outcome(world: World) -> Outcome:
    customer_id = world.customer_id
    with world.services.unit_of_work() as uow:
        customer = uow.session.get(Customer, customer_id)
        assert customer is not None
        usage = uow.session.get(UsagePeriod, customer_id)
        now = uow.clock.now()

        def amounts(kind: LedgerKind) -> list[int]:
            return list(
                uow.session.scalars(
                    select(LedgerEntry.amount_kes)
                    .where(LedgerEntry.customer_id == customer_id, LedgerEntry.kind == kind.value)
                    .order_by(LedgerEntry.id)
                )
            )

        rows = uow.session.scalars(
            select(Subscription).where(Subscription.customer_id == customer_id)
        )
        return Outcome(
            plan=customer.plan.name,
            pending_plan=customer.pending_plan.name if customer.pending_plan else None,
            status=customer.status,
            expires_at=customer.expires_at,
            next_period_at=customer.next_period_at,
            usage_started_at=usage.started_at if usage else None,
            balance_kes=ledger.balance_kes(uow, customer_id),
            payments=list(
                uow.session.scalars(
                    select(Payment.amount_kes)
                    .where(Payment.customer_id == customer_id)
                    .order_by(Payment.id)
                )
            ),
            payment_credits=amounts(LedgerKind.PAYMENT),
            refunds=amounts(LedgerKind.CANCEL_REFUND),
            unused_value_kes=unused_value_kes(rows, now),
            actions=list(
                uow.session.scalars(
                    select(AuditEvent.action)
                    .where(AuditEvent.customer_id == customer_id)
                    .order_by(AuditEvent.id)
                )
            ),
        )


def assert_paid_once(stored: Outcome, payments: list[int]) -> None:
    """Each payment recorded once and credited once: none lost, none doubled."""
    assert stored.payments == payments
    assert stored.payment_credits == payments


def started_periods(world: World) -> int:
    with world.services.unit_of_work() as uow:
        count = uow.session.scalar(
            select(func.count(AuditEvent.id)).where(
                AuditEvent.customer_id == world.customer_id,
                AuditEvent.action == "customer.period_start",
            )
        )
        return int(count or 0)


# -- a paid period starting ------------------------------------------------------------------------


@pytest.mark.parametrize("pay", [cash, paybill], ids=["cash", "paybill"])
def test_a_period_starting_and_a_payment_leave_the_upgrade_paid_for_running(
    gate: Any,
    upgrade_due: Callable[[], World],
    pay: Callable[[World], Any],
    no_retries: Callable[[], None],
) -> None:
    """The payment buys the next Home 20M period; the one due now begins, whichever is first."""

    def check(world: World) -> None:
        sweep(world)
        stored = outcome(world)
        assert world.refused == []
        assert_paid_once(stored, [HOME_KES, UPGRADE_KES, PAID_KES])
        assert stored.balance_kes == 0
        assert (stored.plan, stored.pending_plan, stored.status) == (UPGRADE, None, "active")
        assert stored.expires_at == DUE + 2 * PERIOD
        assert stored.next_period_at == DUE + PERIOD
        assert stored.usage_started_at == DUE  # the data allowance counts from the start
        assert started_periods(world) == 1
        no_retries()

    assert gate.every_interleaving(upgrade_due, begin_periods, pay, check) > 4


def test_a_period_starting_and_a_plan_change_now_end_on_the_later_one(
    gate: Any, upgrade_due: Callable[[], World], no_retries: Callable[[], None]
) -> None:
    """Staff's change made after the period began stands; made before, the period paid for
    takes over at its start."""

    def check(world: World) -> None:
        sweep(world)
        stored = outcome(world)
        assert world.refused == []
        assert_paid_once(stored, [HOME_KES, UPGRADE_KES])
        assert stored.balance_kes == 0
        last = stored.last_of("customer.period_start", "customer.plan.now")
        assert stored.plan == (DOWNGRADE if last == "customer.plan.now" else UPGRADE)
        assert (stored.pending_plan, stored.status) == (None, "active")
        assert (stored.expires_at, stored.next_period_at) == (DUE + PERIOD, None)
        assert stored.usage_started_at == DUE
        assert started_periods(world) == 1
        no_retries()

    change_now = change_to(DOWNGRADE, PlanChangeTiming.NOW)
    assert gate.every_interleaving(upgrade_due, begin_periods, change_now, check) > 4


def test_a_period_starting_and_a_plan_change_at_renewal_keep_the_period_paid_for(
    gate: Any, upgrade_due: Callable[[], World], no_retries: Callable[[], None]
) -> None:
    """The change waits for the next renewal; the period paid for begins on its plan."""

    def check(world: World) -> None:
        sweep(world)
        stored = outcome(world)
        assert world.refused == []
        assert_paid_once(stored, [HOME_KES, UPGRADE_KES])
        assert stored.balance_kes == 0
        assert (stored.plan, stored.pending_plan, stored.status) == (UPGRADE, DOWNGRADE, "active")
        assert (stored.expires_at, stored.next_period_at) == (DUE + PERIOD, None)
        assert stored.usage_started_at == DUE
        assert started_periods(world) == 1
        no_retries()

    change_later = change_to(DOWNGRADE, PlanChangeTiming.RENEWAL)
    assert gate.every_interleaving(upgrade_due, begin_periods, change_later, check) > 4


# -- a cancel --------------------------------------------------------------------------------------


@pytest.mark.parametrize("pay", [cash, paybill], ids=["cash", "paybill"])
def test_a_cancel_and_a_payment_keep_every_shilling_and_refund_once(
    gate: Any,
    midway: Callable[[], World],
    pay: Callable[[World], Any],
    no_retries: Callable[[], None],
) -> None:
    """Paid before the cancel, the new period is refunded with the rest; paid after, it buys
    service again. Either way credit plus unused paid time is what was paid less what was used."""
    used_kes = HOME_KES // 3  # ten days of thirty

    def check(world: World) -> None:
        stored = outcome(world)
        assert world.refused == []
        assert_paid_once(stored, [HOME_KES, PAID_KES])
        assert len(stored.refunds) == 1
        assert stored.balance_kes + stored.unused_value_kes == HOME_KES + PAID_KES - used_kes
        if stored.last_of("customer.cancel", "payment.record") == "customer.cancel":
            assert stored.refunds == [HOME_KES - used_kes + HOME_KES]
            assert (stored.status, stored.expires_at) == ("expired", MIDWAY)
            assert (stored.next_period_at, stored.unused_value_kes) == (None, 0)
        else:  # cancelled, then paid: two periods of Home 10M from now
            assert stored.refunds == [HOME_KES - used_kes]
            assert (stored.status, stored.expires_at) == ("active", MIDWAY + 2 * PERIOD)
            assert stored.balance_kes == HOME_KES - used_kes + PAID_KES - 2 * HOME_KES
        assert stored.plan == HOME
        no_retries()

    assert gate.every_interleaving(midway, cancel, pay, check) > 4


def test_a_cancel_and_a_period_starting_refund_the_period_once_and_start_nothing_after(
    gate: Any, upgrade_due: Callable[[], World], no_retries: Callable[[], None]
) -> None:
    """The Home 20M period paid ahead is refunded whole, once; no period begins after the
    cancel, not even by the sweep."""

    def check(world: World) -> None:
        sweep(world)
        stored = outcome(world)
        assert world.refused == []
        assert_paid_once(stored, [HOME_KES, UPGRADE_KES])
        assert stored.refunds == [UPGRADE_KES]
        assert stored.balance_kes == UPGRADE_KES
        assert (stored.status, stored.expires_at, stored.next_period_at) == ("expired", DUE, None)
        assert stored.unused_value_kes == 0
        assert stored.pending_plan is None
        assert stored.actions[-1] == "customer.cancel"  # no period_start after it
        assert started_periods(world) <= 1
        no_retries()

    assert gate.every_interleaving(upgrade_due, cancel, begin_periods, check) > 4
