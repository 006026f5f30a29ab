"""Expiry at the second: one scheduled run per distinct second, idempotent, backed by the sweep.

huey is in memory and runs nothing by itself; the test plays the consumer's scheduler by taking
the runs that are due at an instant and executing them as of that instant, with core's clock set
to the same instant. huey schedules by the wall clock, so core's clock starts at the real time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.usecases.billing import IncomingPayment, record_payment

PPP_SECRET = "/ppp/secret"
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def now(clock):
    """Core's clock at the real time, a quarter second past a whole second."""
    instant = datetime.now(UTC).replace(microsecond=250_000)
    clock.set(instant)
    return instant


def expiry_runs(huey):
    """expire_due runs waiting for their instant (a worker has moved them to the schedule)."""
    return [task for task in huey.scheduled() if task.name == "expire_due"]


def naive_utc(instant: datetime) -> datetime:
    """An instant as huey (utc=True) stores an eta."""
    return instant.astimezone(UTC).replace(tzinfo=None)


def run_scheduled_until(huey, env, instant: datetime) -> int:
    """What the consumer's scheduler does at ``instant``: run every task due by then."""
    env.clock.set(instant)
    due = huey.read_schedule(naive_utc(instant))
    for task in due:
        huey.execute(task, timestamp=naive_utc(instant))
    return len(due)


def subscribers(env, count: int, prefix: str = "sub") -> list[int]:
    return [env.create(f"Subscriber {n}", username=f"{prefix}{n}")[0] for n in range(count)]


def test_customers_ending_in_the_same_second_share_one_scheduled_run(
    router_env, memory_queue, drain_queue, now
):
    env, huey = router_env, memory_queue.huey

    first, *_ = subscribers(env, 10)
    drain_queue(huey)

    [run] = expiry_runs(huey)
    expires_at = env.customer(first).expires_at
    assert expires_at == now + timedelta(days=30)
    # The next whole second: at or after the end of paid time, never before it.
    assert run.eta == naive_utc(expires_at.replace(microsecond=0) + timedelta(seconds=1))

    env.clock.advance(timedelta(seconds=1))
    env.create("Late Subscriber", username="late")
    drain_queue(huey)
    assert len(expiry_runs(huey)) == 2


def test_the_scheduled_run_expires_the_customers_and_the_router_cuts_them_off(
    router_env, memory_queue, drain_queue, now
):
    env, huey = router_env, memory_queue.huey
    customers = subscribers(env, 10)
    drain_queue(huey)
    assert all(item["disabled"] == "false" for item in env.sim.items(PPP_SECRET))
    [run] = expiry_runs(huey)

    assert run_scheduled_until(huey, env, run.eta.replace(tzinfo=UTC)) == 1
    drain_queue(huey)  # the router sync the expiries asked for

    assert {env.customer(customer_id).status for customer_id in customers} == {"expired"}
    assert {item["disabled"] for item in env.sim.items(PPP_SECRET)} == {"true"}
    assert env.pending() == {}
    assert env.mismatches() == []


def test_a_customer_renewed_before_the_run_is_not_expired_by_it(
    router_env, memory_queue, drain_queue, now
):
    env, huey = router_env, memory_queue.huey
    renewed, lapsed = subscribers(env, 2)
    drain_queue(huey)
    [stale_run] = expiry_runs(huey)
    env.do(record_payment, renewed, env.staff, IncomingPayment(1500, "cash"))
    drain_queue(huey)
    assert len(expiry_runs(huey)) == 2  # the renewal scheduled its own run, 30 days later

    run_scheduled_until(huey, env, stale_run.eta.replace(tzinfo=UTC))
    drain_queue(huey)

    assert env.customer(renewed).status == "active"
    assert env.customer(lapsed).status == "expired"
    assert env.item(PPP_SECRET, name="sub0")["disabled"] == "false"
    assert env.item(PPP_SECRET, name="sub1")["disabled"] == "true"

    # Running it again (a duplicate delivery) changes nothing.
    assert memory_queue.tasks.expire_due.call_local() == 0
    assert env.customer(renewed).status == "active"


def test_the_minute_sweep_expires_customers_whose_scheduled_run_was_lost(
    router_env, memory_queue, drain_queue, now
):
    env, huey = router_env, memory_queue.huey
    customers = subscribers(env, 3)
    drain_queue(huey)
    huey.storage.flush_schedule()  # e.g. a Redis failover lost the schedule
    env.clock.advance(timedelta(days=30, seconds=1))

    memory_queue.tasks.sweep()
    drain_queue(huey)

    assert {env.customer(customer_id).status for customer_id in customers} == {"expired"}
    assert {item["disabled"] for item in env.sim.items(PPP_SECRET)} == {"true"}
    assert env.pending() == {}


def test_an_end_already_past_when_dispatched_is_expired_at_once_not_scheduled(
    router_env, memory_queue, drain_queue, clock
):
    """The event reached the queue after the paid time it announced had run out (a slow commit,
    a backlog): the run is queued at once rather than scheduled in the past."""
    env, huey = router_env, memory_queue.huey
    clock.set(datetime.now(UTC) - timedelta(days=30, seconds=5))
    env.create("John Kamau", username="john")

    waiting = [task for task in huey.pending() if task.name == "expire_due"]
    assert len(waiting) == 1 and waiting[0].eta is None
    clock.set(datetime.now(UTC))
    drain_queue(huey)

    assert expiry_runs(huey) == []
    assert env.item(PPP_SECRET, name="john")["disabled"] == "true"
    assert env.pending() == {}
