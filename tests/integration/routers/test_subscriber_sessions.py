"""Subscribers dialling in to the simulator while mteja manages it over the API."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from routers.gateway import RouterCredentials
from routers.librouteros_gateway import RouterOsGateway
from routers.presence import static_presence
from routers.usage import read_sessions
from sim.routeros import ManualClock, SimulatedRouter

SECRETS = "/ppp/secret"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def timed_sim(clock: ManualClock) -> Iterator[SimulatedRouter]:
    with SimulatedRouter(clock=clock) as router:
        yield router


@pytest.fixture
def timed_gateway(
    timed_sim: SimulatedRouter, credentials_of: Callable[..., RouterCredentials]
) -> Iterator[RouterOsGateway]:
    gateway = RouterOsGateway(credentials_of(timed_sim))
    yield gateway
    gateway.close()


def test_a_secret_added_over_the_api_can_dial_in(
    sim: SimulatedRouter, routeros_gateway: RouterOsGateway
) -> None:
    routeros_gateway.add(SECRETS, {"name": "MTJ-4K7Q2D9", "password": "pw", "service": "pppoe"})

    assert sim.connect("MTJ-4K7Q2D9", "pw")
    [session] = routeros_gateway.print("/ppp/active", ["name", "service", "address"])
    assert session["name"] == "MTJ-4K7Q2D9"
    assert session["service"] == "pppoe"


def test_a_disabled_secret_cannot_dial_in(
    sim: SimulatedRouter, routeros_gateway: RouterOsGateway
) -> None:
    routeros_gateway.add(SECRETS, {"name": "alice", "password": "pw", "disabled": "yes"})

    assert not sim.connect("alice", "pw")
    assert routeros_gateway.print("/ppp/active") == []


def test_disabling_keeps_the_live_session_until_it_is_removed(
    sim: SimulatedRouter, routeros_gateway: RouterOsGateway
) -> None:
    alice = routeros_gateway.add(SECRETS, {"name": "alice", "password": "pw"})
    sim.connect("alice", "pw")

    routeros_gateway.set(SECRETS, alice, {"disabled": "yes"})
    still_online = sim.is_connected("alice")
    [session] = routeros_gateway.print("/ppp/active", [".id"], {"name": "alice"})
    routeros_gateway.remove("/ppp/active", [session[".id"]])

    assert still_online
    assert not sim.is_connected("alice")
    assert not sim.connect("alice", "pw")


def test_hotspot_users_and_their_sessions(
    sim: SimulatedRouter, routeros_gateway: RouterOsGateway
) -> None:
    routeros_gateway.add("/ip/hotspot/user", {"name": "v-1234", "password": "5678"})
    sim.connect("v-1234", "5678", service="hotspot", address="10.5.50.20")

    [session] = routeros_gateway.print("/ip/hotspot/active", [".id", "user", "address"])
    routeros_gateway.remove("/ip/hotspot/active", [session[".id"]])

    assert session["user"] == "v-1234"
    assert session["address"] == "10.5.50.20"
    assert sim.sessions("hotspot") == []


def test_the_default_trial_user_survives_managed_changes(
    sim: SimulatedRouter, routeros_gateway: RouterOsGateway
) -> None:
    voucher = routeros_gateway.add("/ip/hotspot/user", {"name": "v-1"})
    routeros_gateway.remove("/ip/hotspot/user", [voucher])

    assert [user["name"] for user in sim.items("/ip/hotspot/user")] == ["default-trial"]


def test_static_customers_are_blocked_by_address_list(
    sim: SimulatedRouter, routeros_gateway: RouterOsGateway
) -> None:
    entry = routeros_gateway.add(
        "/ip/firewall/address-list", {"list": "mteja-blocked", "address": "192.168.88.10"}
    )
    blocked = sim.is_blocked("192.168.88.10")

    routeros_gateway.remove("/ip/firewall/address-list", [entry])

    assert blocked
    assert not sim.is_blocked("192.168.88.10")


def test_usage_counters_follow_the_clock(
    timed_sim: SimulatedRouter, timed_gateway: RouterOsGateway, clock: ManualClock
) -> None:
    timed_sim.seed(SECRETS, name="alice", password="pw")
    timed_sim.set_traffic_rate(125_000, 25_000)
    timed_sim.connect("alice", "pw")

    clock.advance(3600)
    [before] = timed_gateway.print("/ppp/active", ["uptime", "bytes-in", "bytes-out"])
    timed_sim.disconnect("alice")
    timed_sim.connect("alice", "pw")
    [after] = timed_gateway.print("/ppp/active", ["uptime", "bytes-in", "bytes-out"])

    assert before == {"uptime": "1h", "bytes-in": "450000000", "bytes-out": "90000000"}
    assert after == {"uptime": "0s", "bytes-in": "0", "bytes-out": "0"}


def test_a_static_device_is_read_over_the_api_from_its_queue_and_arp_entry(
    timed_sim: SimulatedRouter, timed_gateway: RouterOsGateway, clock: ManualClock
) -> None:
    queue_id = timed_gateway.add(
        "/queue/simple",
        {
            "name": "mteja-MTJ-4K7Q2D9",
            "target": "10.10.0.5/32",
            "max-limit": "10M/20M",
            "comment": "mteja:MTJ-4K7Q2D9",
        },
    )
    timed_sim.set_subscriber_traffic(download_per_second=25_000, upload_per_second=125)
    timed_sim.device_up("10.10.0.5", mac_address="02:AA:00:00:00:05")
    clock.advance(8)

    [queue] = timed_gateway.print("/queue/simple", [".id", "bytes", "packets", "rate"])
    assert queue["bytes"] == "1000/200000"  # upload/download, as the target sees them
    [reading] = read_sessions(timed_gateway)
    assert (reading.login, reading.connection_type, reading.session_key) == (
        "MTJ-4K7Q2D9",
        "static",
        queue_id,
    )
    assert (reading.address, reading.download_bytes, reading.upload_bytes) == (
        "10.10.0.5",
        200_000,
        1000,
    )
    presence = static_presence(timed_gateway, "10.10.0.5", "MTJ-4K7Q2D9", None)
    assert presence.state == "online"
    assert presence.reason == "ARP entry complete (02:AA:00:00:00:05 on bridge-customers)"

    timed_sim.device_down("10.10.0.5")
    clock.advance(8)
    [queue] = timed_gateway.print("/queue/simple", ["bytes"])
    assert queue["bytes"] == "1000/200000"
    assert timed_gateway.print("/ip/arp", None, {"address": "10.10.0.5"}) == []
    assert static_presence(timed_gateway, "10.10.0.5", "MTJ-4K7Q2D9", None).state == "offline"
