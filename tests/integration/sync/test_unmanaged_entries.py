"""What the operator made by hand on the router is never touched; mteja's own drift is repaired.

mteja owns an entry when it carries the ``mteja:<account>`` comment (profiles: the ``mteja-`` name
prefix). Everything else — the router's defaults, the operator's WinBox work — must come through a
full reconcile byte for byte, even when it sits in the same menus and the same address list.
"""

from __future__ import annotations

import pytest

from core.usecases.service import suspend
from routers.gateway import RouterCredentials
from routers.librouteros_gateway import RouterOsGateway

PPP_SECRET = "/ppp/secret"
PPP_PROFILE = "/ppp/profile"
HOTSPOT_USER = "/ip/hotspot/user"
HOTSPOT_PROFILE = "/ip/hotspot/user/profile"
QUEUE = "/queue/simple"
ADDRESS_LIST = "/ip/firewall/address-list"
MENUS = (PPP_SECRET, PPP_PROFILE, HOTSPOT_USER, HOTSPOT_PROFILE, QUEUE, ADDRESS_LIST)
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def seed_operator_work(sim) -> None:
    """What an operator typically has on a router before mteja arrives."""
    sim.seed(PPP_PROFILE, name="office", rate_limit="20M/20M", comment="staff")
    sim.seed(PPP_SECRET, name="office-link", password="x", profile="office")
    sim.seed(PPP_SECRET, name="boss", password="y", service="any", comment="do not touch")
    sim.seed(PPP_SECRET, name="legacy", password="z", disabled="yes", comment="mteja was here")
    sim.seed(HOTSPOT_PROFILE, name="guests", rate_limit="1M/1M")
    sim.seed(HOTSPOT_USER, name="guest", password="welcome", profile="guests")
    sim.seed(QUEUE, name="cctv", target="192.168.88.20/32", max_limit="2M/2M", comment="cameras")
    sim.seed(QUEUE, name="upstream", target="192.168.88.0/24", max_limit="100M/100M")
    sim.seed(ADDRESS_LIST, list="mteja-blocked", address="172.16.0.9", comment="manual block")
    sim.seed(ADDRESS_LIST, list="office", address="192.168.88.0/24")


def snapshot(sim) -> dict[str, list[dict[str, str]]]:
    return {menu: sim.items(menu) for menu in MENUS}


def unmanaged(items: dict[str, list[dict[str, str]]]) -> dict[str, list[dict[str, str]]]:
    """The entries mteja does not own, as printed (every property, ids included)."""

    def owned(menu: str, item: dict[str, str]) -> bool:
        if menu in (PPP_PROFILE, HOTSPOT_PROFILE):
            return item["name"].startswith("mteja-")
        return item.get("comment", "").startswith("mteja:")

    return {
        menu: [item for item in found if not owned(menu, item)] for menu, found in items.items()
    }


@pytest.fixture
def busy_router(router_env):
    """The operator's entries, then a mix of mteja customers synced next to them."""
    env = router_env
    seed_operator_work(env.sim)
    env.create("John Kamau", username="john")
    env.create("Peter Otieno", username="peter", paid=False, ip_address="10.20.0.9")
    env.create("Akinyi", "Daily 5M", connection_type="hotspot", username="akinyi")
    blocked_id, _ = env.create(
        "Duka Ltd",
        "Business 50M",
        connection_type="static",
        username="duka",
        ip_address="10.20.0.50",
    )
    env.create(
        "Shop Two",
        "Business 50M",
        connection_type="static",
        username="shop2",
        ip_address="10.20.0.51",
    )
    env.do(suspend, blocked_id, env.staff, "unpaid invoice")
    env.sync.sync_pending(env.router_id)
    # The fast path brings only the customers' own plans; a full reconcile also puts every
    # active plan's profile on the router. After it, the router is converged in full.
    env.sync.reconcile(env.router_id)
    assert env.pending() == {}
    return env


def test_the_operators_entries_and_the_router_defaults_survive_a_full_reconcile(router_env):
    env = router_env
    seed_operator_work(env.sim)
    before = unmanaged(snapshot(env.sim))
    assert {item["name"] for item in before[PPP_PROFILE]} >= {"default", "default-encryption"}
    assert any(item["name"] == "default-trial" for item in before[HOTSPOT_USER])
    env.create("John Kamau", username="john")
    env.create("Akinyi", "Daily 5M", connection_type="hotspot", username="akinyi")
    blocked_id, _ = env.create(
        "Duka Ltd",
        "Business 50M",
        connection_type="static",
        username="duka",
        ip_address="10.20.0.50",
    )
    env.do(suspend, blocked_id, env.staff, "unpaid invoice")

    report = env.sync.reconcile(env.router_id)

    assert report.failed == {}
    assert unmanaged(snapshot(env.sim)) == before
    assert env.mismatches() == []


def test_a_reconcile_of_a_converged_router_writes_nothing(busy_router):
    env = busy_router
    before = snapshot(env.sim)

    report = env.sync.reconcile(env.router_id)

    assert (report.drift, report.writes) == (0, 0)
    assert snapshot(env.sim) == before


def test_a_managed_entry_of_no_customer_is_removed(busy_router):
    env = busy_router
    env.sim.seed(
        PPP_SECRET, name="ghost", password="boo", comment="mteja:MTJ-ZZZZZZ", profile="default"
    )
    env.sim.seed(
        ADDRESS_LIST, list="mteja-blocked", address="10.20.0.77", comment="mteja:MTJ-ZZZZZZ"
    )
    env.sim.seed(PPP_PROFILE, name="mteja-99-retired-plan", rate_limit="1M/1M")
    before = unmanaged(snapshot(env.sim))

    report = env.sync.reconcile(env.router_id)

    assert env.item(PPP_SECRET, name="ghost") is None
    assert not env.sim.is_blocked("10.20.0.77")
    assert env.item(PPP_PROFILE, name="mteja-99-retired-plan") is None
    assert report.drift == 3
    assert unmanaged(snapshot(env.sim)) == before


@SQLITE_ONLY
def test_a_customer_whose_login_the_operator_already_has_is_reported_and_the_entry_untouched(
    router_env,
):
    env = router_env
    env.sim.seed(PPP_SECRET, name="john", password="operators", comment="the real John")
    before = env.item(PPP_SECRET, name="john")
    customer_id, password = env.create("John Kamau", username="john")

    report = env.sync.sync_pending(env.router_id)

    assert customer_id in report.failed
    assert "not managed" in env.pending()[customer_id]
    assert env.item(PPP_SECRET, name="john") == before

    report = env.sync.reconcile(env.router_id)
    assert customer_id in report.failed
    assert env.item(PPP_SECRET, name="john") == before
    assert not env.sim.connect("john", password)


def test_drift_made_by_hand_is_found_fixed_with_one_write_each_and_recorded(busy_router):
    env = busy_router
    secret = env.item(PPP_SECRET, name="john")
    queue = next(item for item in env.sim.items(QUEUE) if item["name"].startswith("mteja-"))
    credentials = RouterCredentials(
        host=env.sim.host,
        port=env.sim.port,
        username=env.sim.username,
        password=env.sim.password,
        connect_timeout=2.0,
        command_timeout=5.0,
    )
    winbox = RouterOsGateway(credentials)  # someone else's session on the router
    try:
        winbox.set(PPP_SECRET, secret[".id"], {"profile": "office", "disabled": "yes"})
        winbox.set(HOTSPOT_USER, env.item(HOTSPOT_USER, name="akinyi")[".id"], {"password": "x"})
        winbox.set(QUEUE, queue[".id"], {"max-limit": "1M/1M"})
        winbox.remove(ADDRESS_LIST, [env.item(ADDRESS_LIST, comment=queue["comment"])[".id"]])
    finally:
        winbox.close()
    before = unmanaged(snapshot(env.sim))

    report = env.sync.reconcile(env.router_id)

    assert report.drift == 4
    assert report.writes == 4
    assert env.mismatches() == []
    assert unmanaged(snapshot(env.sim)) == before
    run = env.reconcile_runs()[-1]
    assert (run.kind, run.drift, run.writes, run.error) == ("reconcile", 4, 4, None)
    assert len(run.details["drift"]) == 4

    again = env.sync.reconcile(env.router_id)
    assert (again.drift, again.writes) == (0, 0)
    assert [(run.drift, run.writes) for run in env.reconcile_runs()[-2:]] == [(4, 4), (0, 0)]
