"""The router is down while staff keep working; when it is back, everything converges, none lost.

Events go to an in-memory huey that runs nothing until the test drains it, so the test decides
when the "worker" runs: while the router is down (tasks fail and are scheduled for retry) and
after it is back (the retries come due, the minute sweep and the health check run).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from core.errors import DomainError
from core.usecases.billing import IncomingPayment, record_payment
from core.usecases.customers import CustomerChanges, change_password, delete_customer, edit_customer
from core.usecases.service import (
    PlanChangeTiming,
    change_plan,
    disconnect,
    extend,
    suspend,
    unsuspend,
)
from routers.gateway import RouterUnreachable

CHANGES = 200
CUSTOMERS = 30
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
PLANS_BY_TYPE = {
    "pppoe": ("Home 10M", "Home 20M"),
    "hotspot": ("Daily 5M", "Weekly 8M"),
    "static": ("Business 50M", "Business 100M"),
}


class Office:
    """Staff at work: a stream of use cases on many customers, chosen by a seeded random."""

    def __init__(self, env, seed: int = 7) -> None:
        self.env = env
        self.random = random.Random(seed)
        self.customers: dict[int, str] = {}  # live customer id → connection type
        self.plans: dict[int, str] = {}
        self.passwords: dict[int, str] = {}
        self.deleted_logins: list[str] = []
        self.count = 0
        self.renames = 0

    def hire(self, number: int) -> None:
        for _ in range(number):
            self.new_customer()

    def new_customer(self) -> None:
        self.count += 1
        connection_type = self.random.choice(("pppoe",) * 6 + ("hotspot",) * 3 + ("static",))
        plan = PLANS_BY_TYPE[connection_type][self.count % 2]
        fields = {"username": f"sub{self.count}"}
        if connection_type == "static":
            fields["ip_address"] = f"10.30.{self.count // 200}.{self.count % 200 + 2}"
        customer_id, password = self.env.create(
            f"Subscriber {self.count}",
            plan,
            connection_type=connection_type,
            paid=self.random.random() < 0.8,
            **fields,
        )
        self.customers[customer_id] = connection_type
        self.plans[customer_id] = plan
        self.passwords[customer_id] = password

    def work(self, changes: int) -> None:
        """Make ``changes`` successful changes (a refused one, e.g. suspending twice, is retried
        with another pick)."""
        done = 0
        actions = [
            self.suspend,
            self.unsuspend,
            self.change_plan,
            self.change_password,
            self.pay,
            self.extend,
            self.rename,
            self.disconnect,
            self.delete,
            self.add,
        ]
        while done < changes:
            action = self.random.choice(actions)
            customer_id = self.random.choice(sorted(self.customers))
            try:
                action(customer_id)
            except DomainError:
                continue
            done += 1

    def suspend(self, customer_id: int) -> None:
        self.env.do(suspend, customer_id, self.env.staff, "unpaid")

    def unsuspend(self, customer_id: int) -> None:
        self.env.do(unsuspend, customer_id, self.env.staff)

    def change_plan(self, customer_id: int) -> None:
        first, second = PLANS_BY_TYPE[self.customers[customer_id]]
        plan = second if self.plans[customer_id] == first else first
        self.env.do(change_plan, customer_id, self.env.staff, plan, PlanChangeTiming.NOW)
        self.plans[customer_id] = plan

    def change_password(self, customer_id: int) -> None:
        self.passwords[customer_id] = self.env.do(change_password, customer_id, self.env.staff)

    def pay(self, customer_id: int) -> None:
        self.env.do(record_payment, customer_id, self.env.staff, IncomingPayment(300, "cash"))

    def extend(self, customer_id: int) -> None:
        self.env.do(extend, customer_id, self.env.staff, days=2, reason="goodwill")

    def rename(self, customer_id: int) -> None:
        if self.customers[customer_id] == "static":
            raise DomainError("no login to rename")
        self.renames += 1
        self.env.do(
            edit_customer,
            customer_id,
            self.env.staff,
            CustomerChanges(username=f"renamed{self.renames}"),
        )

    def disconnect(self, customer_id: int) -> None:
        self.env.do(disconnect, customer_id, self.env.staff)

    def delete(self, customer_id: int) -> None:
        username = self.env.customer(customer_id).username
        self.env.do(delete_customer, customer_id, self.env.staff, force=True)
        del self.customers[customer_id]
        self.deleted_logins.append(username)

    def add(self, _customer_id: int) -> None:
        self.new_customer()

    def dial_in_everyone(self) -> None:
        for customer_id, connection_type in self.customers.items():
            if connection_type != "static":
                service = "hotspot" if connection_type == "hotspot" else "pppoe"
                username = self.env.customer(customer_id).username
                self.env.sim.connect(username, self.passwords[customer_id], service)

    def online_but_not_allowed(self) -> list[str]:
        """Logins with a live session that the database says must not be on."""
        now = self.env.clock.now()
        online = {item["name"] for item in self.env.sim.sessions("pppoe")} | {
            item["user"] for item in self.env.sim.sessions("hotspot")
        }
        problems = []
        for customer_id in self.customers:
            customer = self.env.customer(customer_id)
            allowed = (
                customer.status == "active"
                and customer.expires_at is not None
                and customer.expires_at > now
            )
            if customer.username in online and not allowed:
                problems.append(customer.username)
        return problems

    def deleted_but_online(self) -> list[str]:
        """Logins of deleted customers that still have a live session."""
        online = {item["name"] for item in self.env.sim.sessions("pppoe")} | {
            item["user"] for item in self.env.sim.sessions("hotspot")
        }
        return [login for login in self.deleted_logins if login in online]


def run_due_retries(huey) -> int:
    """What the consumer's scheduler does as time passes: run the scheduled retries now due
    (anything within the hour; expiry runs weeks away stay scheduled)."""
    later = datetime.now(UTC).replace(tzinfo=None) + timedelta(hours=1)
    due = huey.read_schedule(later)
    for task in due:
        huey.execute(task, timestamp=later)
    return len(due)


def open_office(env, queue, drain_queue, customers: int) -> Office:
    """``customers`` customers synced to the router, every one allowed in dialled in."""
    office = Office(env)
    office.hire(customers)
    drain_queue(queue.huey)
    assert env.pending() == {}
    assert env.mismatches() == []
    office.dial_in_everyone()
    return office


@pytest.fixture
def office(router_env, memory_queue, drain_queue):
    return open_office(router_env, memory_queue, drain_queue, CUSTOMERS)


@pytest.fixture
def small_office(router_env, memory_queue, drain_queue):
    return open_office(router_env, memory_queue, drain_queue, 12)


def test_changes_made_while_the_router_is_down_all_reach_it_when_it_is_back(
    router_env, memory_queue, office, drain_queue
):
    env, huey = router_env, memory_queue.huey
    env.sim.down()

    office.work(CHANGES)
    waiting = env.pending()
    assert len(waiting) >= 30 and set(waiting.values()) == {None}

    with pytest.raises(RouterUnreachable):
        env.sync.sync_pending(env.router_id)
    drain_queue(huey)  # the worker tries: every task fails and is scheduled for a retry
    assert env.pending() == waiting, "a failed sync must leave every change pending"
    assert huey.scheduled_count() > 0

    env.sim.up()
    run_due_retries(huey)
    memory_queue.tasks.sweep()
    drain_queue(huey)

    assert env.pending() == {}
    assert env.mismatches() == []
    assert office.online_but_not_allowed() == []
    assert office.deleted_but_online() == []


@SQLITE_ONLY
def test_the_health_check_reports_offline_then_online(router_env):
    env = router_env
    assert env.sync.check(env.router_id).online

    env.sim.down()
    health = env.sync.check(env.router_id)
    assert (health.online, health.changed) == (False, True)
    assert health.error
    assert env.sync.check(env.router_id).changed is False

    env.sim.up()
    health = env.sync.check(env.router_id)
    assert (health.online, health.changed) == (True, True)
    router = env.router()
    assert router.status == "online" and router.last_seen_at == env.clock.now()


@SQLITE_ONLY
def test_staff_hear_of_both_transitions_and_the_router_is_reconciled_when_back(
    router_env, memory_queue, office, drain_queue
):
    env, huey = router_env, memory_queue.huey

    def notices():
        return [text for text in memory_queue.notifier.messages if text.startswith("Router ")]

    memory_queue.tasks.check_routers()
    drain_queue(huey)
    memory_queue.notifier.messages.clear()

    env.sim.down()
    env.clock.advance(timedelta(minutes=1))  # each check is the next minute's: one per minute
    memory_queue.tasks.check_routers()
    drain_queue(huey)
    [offline] = notices()
    assert "OFFLINE" in offline and "kahawa" in offline

    office.work(CHANGES // 2)
    drain_queue(huey)
    huey.flush()  # every retry lost: only the return to service may bring the router back in line

    reconciles_before = len(env.reconcile_runs())
    env.sim.up()
    env.clock.advance(timedelta(minutes=1))
    memory_queue.tasks.check_routers()
    drain_queue(huey)

    assert len(env.reconcile_runs()) == reconciles_before + 1
    [_, back] = notices()
    assert "back online" in back and "kahawa" in back
    assert env.mismatches() == [], "the reconcile on return must repair everything"
    assert env.pending() == {}
    assert office.online_but_not_allowed() == []
    assert office.deleted_but_online() == []
    assert env.reconcile_runs()[-1].error is None


@SQLITE_ONLY
def test_a_customer_deleted_while_the_router_was_down_is_removed_by_the_minute_sweep(
    router_env, memory_queue, small_office, drain_queue
):
    """A lost remove_login message costs at most a minute, like any other change."""
    env, huey = router_env, memory_queue.huey
    victim = next(iter(small_office.customers))
    env.sim.down()
    small_office.delete(victim)
    drain_queue(huey)
    huey.flush()  # the remove_login retry is lost (e.g. the worker holding it was killed)

    env.sim.up()
    memory_queue.tasks.sweep()
    drain_queue(huey)

    assert env.mismatches() == []
    assert small_office.deleted_but_online() == []


@SQLITE_ONLY
def test_customers_deleted_while_the_router_was_down_are_offline_after_the_reconcile(
    router_env, memory_queue, small_office, drain_queue
):
    """Removing a login does not end its session on RouterOS: the reconcile must drop it too."""
    env, huey = router_env, memory_queue.huey
    env.sim.down()
    for victim in list(small_office.customers)[:10]:
        small_office.delete(victim)
    drain_queue(huey)
    huey.flush()  # the remove_login retries are lost; the reconcile on return is all there is

    env.sim.up()
    memory_queue.tasks.reconcile_router(env.router_id)
    drain_queue(huey)

    assert env.mismatches() == []
    assert small_office.deleted_but_online() == []
