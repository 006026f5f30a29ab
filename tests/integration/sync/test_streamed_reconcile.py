"""A full reconcile reads its customers, and writes their sync results, a batch at a time
(issue 18: a worker under 300 MB at 100,000 customers) and still brings every one of them, and
every plan's profile, to the router, and marks every one of them synced.

Each customer's plan is loaded when its first customer comes, while the rows are still being
read: on PostgreSQL through a server-side cursor on the same connection.
"""

from __future__ import annotations

import pytest

import routers.customer_rows
import routers.sync
from core.usecases.plans import set_plan_active
from routers.customer_rows import iter_customers, load_customers

PPP_PROFILE = "/ppp/profile"
PPP_SECRET = "/ppp/secret"


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Customers read two at a time; their sync results written two at a time."""
    monkeypatch.setattr(routers.customer_rows, "STREAM_BATCH", 2)
    monkeypatch.setattr(routers.sync, "RESULT_CHUNK", 2)


def test_a_reconcile_in_batches_of_two_puts_every_customer_and_plan_on_the_router(
    router_env, small_batches
):
    env = router_env
    usernames = [f"user{n}" for n in range(7)]
    for n, username in enumerate(usernames):
        env.create(f"Customer {n}", "Home 20M" if n % 3 == 0 else "Home 10M", username=username)
    # A retired plan keeps its profile while a customer is still on it.
    env.do(set_plan_active, env.staff, "Home 20M", False)

    report = env.sync.reconcile(env.router_id)

    assert report.failed == {}
    assert report.customers == len(usernames)
    assert {item["name"] for item in env.sim.items(PPP_SECRET)} >= set(usernames)
    profiles = {item["name"] for item in env.sim.items(PPP_PROFILE)}
    assert any(name.endswith("-home-20m") for name in profiles)
    assert any(name.endswith("-home-10m") for name in profiles)
    assert env.pending() == {}
    assert env.mismatches() == []


def test_streamed_rows_are_the_loaded_rows_with_one_plan_object_per_plan(router_env, small_batches):
    env = router_env
    for n in range(5):
        env.create(f"Customer {n}", "Home 20M" if n % 2 else "Home 10M", username=f"user{n}")

    with env.services.unit_of_work() as uow:
        streamed = list(iter_customers(uow, env.router_id))
        loaded = load_customers(uow, env.router_id)
        pending = list(iter_customers(uow, env.router_id, pending_only=True, limit=3))
        plan_names = {row.plan.name for row in streamed}

    assert [row.id for row in streamed] == sorted(row.id for row in loaded)
    assert [row[:-1] for row in streamed] == [row[:-1] for row in loaded]
    plans = {row.plan_id: row.plan for row in streamed}
    assert all(row.plan is plans[row.plan_id] for row in streamed)
    assert plan_names == {"Home 10M", "Home 20M"}
    assert [row.id for row in pending] == [row.id for row in streamed][:3]
