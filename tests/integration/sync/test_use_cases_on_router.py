"""Every core use case ends with the router in the right state, over real TCP.

The wiring is the production one: core publishes events on commit, the HueyDispatcher turns them
into the real tasks (run at once, in-process, by huey's immediate mode), and the tasks converge
the simulated MikroTik through the librouteros gateway under the per-router file lock. Each test
then checks the router the way a subscriber meets it: can they dial in, at what speed.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.usecases.billing import IncomingPayment, record_debt, record_payment
from core.usecases.customers import CustomerChanges, change_password, delete_customer, edit_customer
from core.usecases.service import (
    PlanChangeTiming,
    change_plan,
    disconnect,
    expire_if_due,
    extend,
    suspend,
    unsuspend,
)

PPP_SECRET = "/ppp/secret"
PPP_PROFILE = "/ppp/profile"
HOTSPOT_USER = "/ip/hotspot/user"
HOTSPOT_PROFILE = "/ip/hotspot/user/profile"
QUEUE = "/queue/simple"
ADDRESS_LIST = "/ip/firewall/address-list"


@pytest.fixture
def env(router_env, immediate_queue):
    """``router_env`` with core's events running the real tasks as each use case commits.

    Whatever a test did, it must leave the router converged and nobody waiting for a sync.
    """
    yield router_env
    assert router_env.pending() == {}
    assert router_env.mismatches() == []


def expire(env, customer_id):
    env.clock.advance(timedelta(days=31))
    assert env.do(expire_if_due, customer_id) == "expired"


# -- creating customers ---------------------------------------------------------------------


def test_paid_pppoe_customer_gets_an_enabled_secret_on_a_profile_with_the_plan_speed(env):
    customer_id, password = env.create("John Kamau", username="john.kamau")

    secret = env.item(PPP_SECRET, name="john.kamau")
    assert secret is not None
    assert secret["password"] == password
    assert secret["service"] == "pppoe"
    assert secret["disabled"] == "false"
    assert secret["comment"] == f"mteja:{env.customer(customer_id).account_number}"
    assert "remote-address" not in secret  # no IP was given
    assert env.speed_of(PPP_PROFILE, secret["profile"]) == env.speed("5M/10M")
    assert env.sim.connect("john.kamau", password)


def test_a_given_ip_becomes_the_secrets_remote_address(env):
    _, password = env.create("Mary Wanjiku", username="mary", ip_address="10.20.0.7")

    assert env.item(PPP_SECRET, name="mary")["remote-address"] == "10.20.0.7"
    assert env.sim.connect("mary", password)
    assert env.sim.sessions()[0]["address"] == "10.20.0.7"


def test_unpaid_customer_is_on_the_router_but_cannot_connect(env):
    _, password = env.create("Peter Otieno", username="peter", paid=False)

    assert env.item(PPP_SECRET, name="peter")["disabled"] == "true"
    assert not env.sim.connect("peter", password)


def test_paid_hotspot_customer_gets_an_enabled_user_on_a_profile_with_the_plan_speed(env):
    _, password = env.create(
        "Akinyi Hotspot", "Daily 5M", connection_type="hotspot", username="akinyi"
    )

    user = env.item(HOTSPOT_USER, name="akinyi")
    assert user["password"] == password
    assert user["disabled"] == "false"
    assert env.speed_of(HOTSPOT_PROFILE, user["profile"]) == env.speed("2M/5M")
    assert env.sim.connect("akinyi", password, service="hotspot")


def test_static_customer_gets_a_queue_at_the_plan_speed_and_is_not_blocked(env):
    customer_id, _ = env.create(
        "Duka Ltd",
        "Business 50M",
        connection_type="static",
        username="duka",
        ip_address="10.20.0.50",
    )

    queues = [
        item
        for item in env.sim.items(QUEUE)
        if item.get("comment") == f"mteja:{env.customer(customer_id).account_number}"
    ]
    assert len(queues) == 1
    assert queues[0]["target"] in ("10.20.0.50", "10.20.0.50/32")
    assert env.speed(queues[0]["max-limit"]) == env.speed("25M/50M")
    assert not env.sim.is_blocked("10.20.0.50")


# -- service state ------------------------------------------------------------------------


def test_suspend_disables_the_secret_and_drops_the_live_session(env):
    customer_id, password = env.create("John Kamau", username="john")
    assert env.sim.connect("john", password)

    env.do(suspend, customer_id, env.staff, "abuse report")

    assert env.item(PPP_SECRET, name="john")["disabled"] == "true"
    assert not env.sim.is_connected("john")
    assert not env.sim.connect("john", password)


def test_suspending_a_hotspot_customer_drops_the_hotspot_session(env):
    customer_id, password = env.create(
        "Akinyi Hotspot", "Daily 5M", connection_type="hotspot", username="akinyi"
    )
    assert env.sim.connect("akinyi", password, service="hotspot")

    env.do(suspend, customer_id, env.staff, "shared the login")

    assert not env.sim.is_connected("akinyi", service="hotspot")
    assert not env.sim.connect("akinyi", password, service="hotspot")


def test_unsuspend_lets_the_customer_back_in(env):
    customer_id, password = env.create("John Kamau", username="john")
    env.do(suspend, customer_id, env.staff, "abuse report")

    env.do(unsuspend, customer_id, env.staff)

    assert env.item(PPP_SECRET, name="john")["disabled"] == "false"
    assert env.sim.connect("john", password)


def test_expiry_disables_the_secret_and_drops_the_session(env):
    customer_id, password = env.create("John Kamau", username="john", auto_renew=False)
    assert env.sim.connect("john", password)

    expire(env, customer_id)

    assert env.item(PPP_SECRET, name="john")["disabled"] == "true"
    assert not env.sim.is_connected("john")
    assert not env.sim.connect("john", password)


def test_a_payment_from_an_expired_customer_lets_them_back_in(env):
    customer_id, password = env.create("John Kamau", username="john")
    expire(env, customer_id)

    env.do(record_payment, customer_id, env.staff, IncomingPayment(1500, "cash"))

    assert env.item(PPP_SECRET, name="john")["disabled"] == "false"
    assert env.sim.connect("john", password)


def test_extending_an_expired_customer_lets_them_back_in(env):
    customer_id, password = env.create("John Kamau", username="john")
    expire(env, customer_id)

    env.do(extend, customer_id, env.staff, days=3, reason="outage compensation")

    assert env.item(PPP_SECRET, name="john")["disabled"] == "false"
    assert env.sim.connect("john", password)


def test_serving_an_unpaid_customer_on_debt_lets_them_in(env):
    customer_id, password = env.create("Peter Otieno", username="peter", paid=False)

    env.do(record_debt, customer_id, env.staff, 1500, "pays on Friday")

    assert env.item(PPP_SECRET, name="peter")["disabled"] == "false"
    assert env.sim.connect("peter", password)


def test_changing_plan_now_moves_the_secret_to_the_new_speed_and_drops_the_session(env):
    customer_id, password = env.create("John Kamau", username="john")
    assert env.sim.connect("john", password)

    env.do(change_plan, customer_id, env.staff, "Home 20M", PlanChangeTiming.NOW)

    secret = env.item(PPP_SECRET, name="john")
    assert env.speed_of(PPP_PROFILE, secret["profile"]) == env.speed("10M/20M")
    assert not env.sim.is_connected("john"), "the old speed would stay until the session ends"
    assert env.sim.connect("john", password)


def test_a_plan_change_at_renewal_waits_for_the_renewed_period(env, immediate_queue):
    customer_id, password = env.create("John Kamau", username="john")
    env.do(change_plan, customer_id, env.staff, "Home 20M", PlanChangeTiming.RENEWAL)
    assert env.sim.connect("john", password)

    profile = env.item(PPP_SECRET, name="john")["profile"]
    assert env.speed_of(PPP_PROFILE, profile) == env.speed("5M/10M")
    assert env.sim.is_connected("john")

    # Paid ten days early: the rest of the paid period keeps its speed.
    env.clock.advance(timedelta(days=20))
    env.do(record_payment, customer_id, env.staff, IncomingPayment(2500, "cash"))

    profile = env.item(PPP_SECRET, name="john")["profile"]
    assert env.speed_of(PPP_PROFILE, profile) == env.speed("5M/10M")
    assert env.sim.is_connected("john")

    # The new period starts: its plan's speed, the session dropped so it applies.
    env.clock.advance(timedelta(days=10))
    assert immediate_queue.tasks.begin_periods().get() == 1

    profile = env.item(PPP_SECRET, name="john")["profile"]
    assert env.speed_of(PPP_PROFILE, profile) == env.speed("10M/20M")
    assert not env.sim.is_connected("john")
    assert env.sim.connect("john", password)


def test_an_auto_renewing_customer_with_credit_stays_online_at_expiry(env):
    customer_id, password = env.create("John Kamau", username="john")
    env.do(record_payment, customer_id, env.staff, IncomingPayment(1500, "cash"), activate=False)
    assert env.sim.connect("john", password)
    env.clock.advance(timedelta(days=30, seconds=1))

    assert env.do(expire_if_due, customer_id) == "renewed"

    assert env.item(PPP_SECRET, name="john")["disabled"] == "false"
    assert env.sim.is_connected("john")


def test_changing_the_password_lets_in_the_new_one_only(env):
    customer_id, old_password = env.create("John Kamau", username="john")

    new_password = env.do(change_password, customer_id, env.staff, "n3w-pass")

    assert not env.sim.connect("john", old_password)
    assert env.sim.connect("john", new_password)


def test_disconnect_drops_the_session_and_the_customer_can_dial_in_again(env):
    customer_id, password = env.create("John Kamau", username="john")
    assert env.sim.connect("john", password)

    env.do(disconnect, customer_id, env.staff, "router says stuck session")

    assert not env.sim.is_connected("john")
    assert env.item(PPP_SECRET, name="john")["disabled"] == "false"
    assert env.sim.connect("john", password)


def test_renaming_the_login_replaces_the_old_secret(env):
    customer_id, password = env.create("John Kamau", username="john")

    env.do(edit_customer, customer_id, env.staff, CustomerChanges(username="john.kamau"))

    assert env.item(PPP_SECRET, name="john") is None
    assert env.item(PPP_SECRET, name="john.kamau")["password"] == password
    assert not env.sim.connect("john", password)
    assert env.sim.connect("john.kamau", password)


def test_a_new_ip_becomes_the_remote_address(env):
    customer_id, _ = env.create("Mary Wanjiku", username="mary", ip_address="10.20.0.7")

    env.do(edit_customer, customer_id, env.staff, CustomerChanges(ip_address="10.20.0.8"))

    assert env.item(PPP_SECRET, name="mary")["remote-address"] == "10.20.0.8"


def test_a_blocked_static_customer_given_a_new_ip_is_blocked_at_the_new_address_only(env):
    customer_id, _ = env.create(
        "Duka Ltd",
        "Business 50M",
        connection_type="static",
        username="duka",
        ip_address="10.20.0.50",
    )
    env.do(suspend, customer_id, env.staff, "unpaid invoice")

    env.do(edit_customer, customer_id, env.staff, CustomerChanges(ip_address="10.20.0.60"))

    assert env.sim.is_blocked("10.20.0.60")
    assert not env.sim.is_blocked("10.20.0.50")
    assert env.item(QUEUE, name="mteja-duka")["target"] in ("10.20.0.60", "10.20.0.60/32")


def test_moving_a_customer_to_another_router_takes_them_off_the_old_one(
    env, more_routers, router_mismatches
):
    [(other_id, other_name, other_sim)] = more_routers(1)
    customer_id, password = env.create("John Kamau", username="john")
    assert env.sim.connect("john", password)

    env.do(edit_customer, customer_id, env.staff, CustomerChanges(router=other_name))

    assert env.item(PPP_SECRET, name="john") is None
    assert not env.sim.is_connected("john")
    assert other_sim.connect("john", password)
    assert router_mismatches(env.services, other_sim, other_id) == []


def test_deleting_a_customer_removes_the_secret_and_the_session(env):
    customer_id, password = env.create("John Kamau", username="john")
    assert env.sim.connect("john", password)

    env.do(delete_customer, customer_id, env.staff, force=True, reason="moved away")

    assert env.item(PPP_SECRET, name="john") is None
    assert not env.sim.is_connected("john")
    assert not env.sim.connect("john", password)


def test_deleting_a_static_customer_removes_the_queue_and_any_block(env):
    customer_id, _ = env.create(
        "Duka Ltd",
        "Business 50M",
        connection_type="static",
        username="duka",
        ip_address="10.20.0.50",
    )
    env.do(suspend, customer_id, env.staff, "unpaid invoice")
    assert env.sim.is_blocked("10.20.0.50")

    env.do(delete_customer, customer_id, env.staff, force=True)

    assert env.item(QUEUE, name="mteja-duka") is None
    assert [item for item in env.sim.items(QUEUE) if item.get("comment")] == []
    assert not env.sim.is_blocked("10.20.0.50")


def test_a_blocked_static_customer_is_on_the_blocked_list_until_unblocked(env):
    customer_id, _ = env.create(
        "Duka Ltd",
        "Business 50M",
        connection_type="static",
        username="duka",
        ip_address="10.20.0.50",
    )

    env.do(suspend, customer_id, env.staff, "unpaid invoice")
    entry = env.item(ADDRESS_LIST, list="mteja-blocked")
    assert entry is not None and entry["address"] in ("10.20.0.50", "10.20.0.50/32")
    assert env.sim.is_blocked("10.20.0.50")

    env.do(unsuspend, customer_id, env.staff)
    assert not env.sim.is_blocked("10.20.0.50")
    assert env.item(ADDRESS_LIST, list="mteja-blocked") is None


def test_a_customer_renamed_while_online_is_cut_off_when_suspended(env):
    """Removing a secret does not end its session on RouterOS: the sync must drop it too."""
    customer_id, password = env.create("John Kamau", username="john")
    assert env.sim.connect("john", password)
    env.do(edit_customer, customer_id, env.staff, CustomerChanges(username="john.kamau"))

    env.do(suspend, customer_id, env.staff, "abuse report")

    assert env.sim.sessions() == []
