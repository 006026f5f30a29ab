"""Writes the router acknowledged but did not apply, and replies cut mid-way.

Real RouterOS sometimes answers ``!done`` to a write it then does not apply; the simulator does
the same on demand (``faults.silently_ignore_writes``). The sync reads back what it wrote, so it
must notice and write again; when the router never applies a write, say so on the customer and
keep it pending rather than pretend. A connection cut after the router acted (``drop_mid_reply``)
leaves the outcome unknown: the sync fails, and the next one must converge without duplicates.
"""

from __future__ import annotations

import pytest

from core.events import CustomerRemoved
from core.usecases.customers import delete_customer
from core.usecases.service import suspend
from routers.desired import RemovedLogin
from routers.gateway import RouterUnreachable

PPP_SECRET = "/ppp/secret"
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def online_customer(router_env):
    """A paid PPPoE customer, synced to the router and online: (id, password)."""
    customer_id, password = router_env.create("John Kamau", username="john")
    router_env.sync.sync_pending(router_env.router_id)
    assert router_env.sim.connect("john", password)
    return customer_id, password


@pytest.mark.parametrize("ignored", [1, 2])
def test_a_new_secret_the_router_did_not_keep_is_written_again(router_env, ignored):
    env = router_env
    customer_id, password = env.create("John Kamau", username="john")
    env.sim.faults.silently_ignore_writes(times=ignored, menu=PPP_SECRET, command="add")

    report = env.sync.sync_pending(env.router_id)

    assert report.rounds == ignored + 1
    assert customer_id in report.verified and report.failed == {}
    assert len([item for item in env.sim.items(PPP_SECRET) if item["name"] == "john"]) == 1
    assert env.pending() == {}
    assert env.sim.connect("john", password)


@pytest.mark.parametrize("ignored", [1, 2])
def test_a_suspension_the_router_did_not_apply_is_written_again(
    router_env, online_customer, ignored
):
    env = router_env
    customer_id, password = online_customer
    env.do(suspend, customer_id, env.staff, "abuse report")
    env.sim.faults.silently_ignore_writes(times=ignored, menu=PPP_SECRET, command="set")

    report = env.sync.sync_pending(env.router_id)

    assert report.rounds == ignored + 1
    assert env.item(PPP_SECRET, name="john")["disabled"] == "true"
    assert not env.sim.is_connected("john")
    assert not env.sim.connect("john", password)
    assert env.pending() == {}


@SQLITE_ONLY
def test_a_removal_the_router_did_not_apply_is_written_again(
    router_env, online_customer, dispatcher
):
    env = router_env
    customer_id, password = online_customer
    env.do(delete_customer, customer_id, env.staff, force=True)
    [removed] = dispatcher.of_type(CustomerRemoved)
    env.sim.faults.silently_ignore_writes(times=1, menu=PPP_SECRET, command="remove")

    report = env.sync.remove_login(
        env.router_id,
        RemovedLogin(removed.account_number, removed.username, removed.connection_type),
    )

    assert report.rounds == 2
    assert env.item(PPP_SECRET, name="john") is None
    assert not env.sim.connect("john", password)


def test_a_write_the_router_never_applies_marks_the_customer_and_keeps_it_pending(
    router_env, online_customer
):
    env = router_env
    customer_id, password = online_customer
    env.do(suspend, customer_id, env.staff, "abuse report")
    env.sim.faults.silently_ignore_writes(times=None, menu=PPP_SECRET)

    report = env.sync.sync_pending(env.router_id)

    assert customer_id in report.failed and customer_id not in report.verified
    error = env.pending()[customer_id]
    assert error and "did not apply" in error
    # Nothing pretends: the router still lets them in, and the database says it is not synced.
    assert env.item(PPP_SECRET, name="john")["disabled"] == "false"

    env.sim.faults.clear()
    env.sync.reconcile(env.router_id)  # the periodic full reconcile gives it another go
    assert env.pending() == {}
    assert env.item(PPP_SECRET, name="john")["disabled"] == "true"
    assert not env.sim.connect("john", password)


def test_a_reply_cut_after_an_add_fails_the_sync_and_the_retry_converges_without_duplicates(
    router_env,
):
    env = router_env
    customer_id, password = env.create("John Kamau", username="john")
    env.sim.faults.drop_mid_reply(times=1, menu=PPP_SECRET, command="add")

    with pytest.raises(RouterUnreachable):
        env.sync.sync_pending(env.router_id)
    assert customer_id in env.pending()

    report = env.sync.sync_pending(env.router_id)

    assert customer_id in report.verified
    assert len([item for item in env.sim.items(PPP_SECRET) if item["name"] == "john"]) == 1
    assert env.pending() == {}
    assert env.mismatches() == []
    assert env.sim.connect("john", password)


@SQLITE_ONLY
def test_a_reply_cut_during_a_suspension_fails_the_sync_and_the_retry_converges(
    router_env, online_customer
):
    env = router_env
    customer_id, password = online_customer
    env.do(suspend, customer_id, env.staff, "abuse report")
    env.sim.faults.drop_mid_reply(times=1, menu=PPP_SECRET, command="set")

    with pytest.raises(RouterUnreachable):
        env.sync.sync_pending(env.router_id)
    assert customer_id in env.pending()

    env.sync.sync_pending(env.router_id)

    assert env.pending() == {}
    assert not env.sim.is_connected("john")
    assert not env.sim.connect("john", password)
