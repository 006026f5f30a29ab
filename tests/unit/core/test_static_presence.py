"""Whether a static-IP customer is online: the router's ARP table, or their queue's counters.

The router is the simulator's in-memory state behind ``InMemoryRouterGateway``, converged by the
real RouterSync and sampled by the real UsageSampler; both clocks move together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select

from core.clock import FrozenClock
from core.models import Customer, Router
from core.unit_of_work import CoreServices
from routers.sync import Presence, RouterSync
from routers.usage import UsageSampler
from sim.routeros.clock import ManualClock
from sim.routeros.memory_gateway import InMemoryRouterGateway
from sim.routeros.state import RouterState


@dataclass
class StaticWorld:
    clock: FrozenClock
    sim_clock: ManualClock
    state: RouterState
    gateway: InMemoryRouterGateway
    sync: RouterSync
    sampler: UsageSampler
    router_id: int
    customer_id: int
    address: str

    def tick(self, seconds: float) -> None:
        self.clock.advance(timedelta(seconds=seconds))
        self.sim_clock.advance(seconds)

    def presence(self) -> Presence:
        return self.sync.presence(self.customer_id)


@pytest.fixture
def world(services: CoreServices, clock: FrozenClock, make_customer, isp) -> StaticWorld:
    sim_clock = ManualClock()
    state = RouterState(identity="core-1", clock=sim_clock)
    gateway = InMemoryRouterGateway(state)
    customer_id = make_customer(paid=6000, connection_type="static", plan=isp.static_plan)
    with services.unit_of_work() as uow:
        router_id = uow.session.scalars(select(Router.id).where(Router.name == "core-1")).one()
        customer = uow.session.get(Customer, customer_id)
        assert customer is not None and customer.ip_address
        address = customer.ip_address
    sync = RouterSync(services, lambda login: gateway)
    sync.sync_all_pending(router_id)  # the customer's queue is on the router
    state.set_traffic_rate(1000, 50_000)
    return StaticWorld(
        clock,
        sim_clock,
        state,
        gateway,
        sync,
        UsageSampler(services, lambda login: gateway),
        router_id,
        customer_id,
        address,
    )


def test_a_static_customer_with_a_complete_arp_entry_is_online(world: StaticWorld) -> None:
    world.state.device_up(world.address, mac_address="02:AA:00:00:00:07")
    world.tick(10)
    world.gateway.reads = 0
    presence = world.presence()
    assert world.gateway.reads == 2  # the ARP entry of the address, and the customer's queue
    assert presence.state == "online"
    assert presence.reason == "ARP entry complete (02:AA:00:00:00:07 on bridge-customers)"
    session = presence.session
    assert session is not None
    # The router's terms, as for a PPP session: its bytes out are the customer's download.
    assert (session.address, session.uptime) == (world.address, None)
    assert (session.bytes_out, session.bytes_in) == (500_000, 10_000)
    assert session.session_id is not None and session.session_id.startswith("*")


def test_a_static_customer_without_an_arp_entry_or_traffic_is_offline(
    world: StaticWorld,
) -> None:
    assert world.presence() == Presence(
        "offline", reason="no ARP entry, and no sample of the queue to compare with"
    )
    world.sampler.sample(world.router_id)
    world.tick(60)
    assert world.presence() == Presence(
        "offline", reason="no ARP entry, and the queue counted nothing since the last sample"
    )


def test_an_incomplete_arp_entry_is_offline(world: StaticWorld) -> None:
    world.state.device_up(world.address)
    world.tick(10)
    world.state.device_down(world.address, forget=False)
    assert world.presence() == Presence(
        "offline", reason="ARP entry incomplete: the device does not answer"
    )


def test_without_an_arp_entry_growing_queue_counters_mean_online(world: StaticWorld) -> None:
    world.state.device_up(world.address)
    world.sampler.sample(world.router_id)
    world.tick(30)
    # The router dropped the ARP entry (or the operator pins addresses with static entries,
    # which prove nothing): the queue still counts the device's traffic.
    (entry,) = world.gateway.print("/ip/arp", [".id"], {"address": world.address})
    world.gateway.remove("/ip/arp", [entry[".id"]])
    world.gateway.add(
        "/ip/arp",
        {"address": world.address, "mac-address": "02:AA:00:00:00:07", "interface": "ether2"},
    )
    presence = world.presence()
    assert presence.state == "online"
    assert presence.reason == (
        "no ARP entry learned; the queue's counters grew since the last sample"
    )
    world.sampler.sample(world.router_id)
    world.state.device_down(world.address)
    world.tick(30)
    assert world.presence().state == "offline"


def test_a_router_that_does_not_answer_leaves_it_unknown(world: StaticWorld) -> None:
    world.gateway.down = True
    presence = world.presence()
    assert presence.state == "unknown"
    assert presence.reason is not None and presence.reason.startswith("router not answering")


def test_the_card_shows_a_static_customer_online_like_a_pppoe_one(world: StaticWorld) -> None:
    from bot.views import presence_text as card_presence
    from mteja.render import presence_text

    world.state.device_up(world.address, mac_address="02:AA:00:00:00:07")
    world.tick(10)
    expected = (
        f"online · {world.address} · 0.5 MB down, 0.0 MB up "
        "(ARP entry complete (02:AA:00:00:00:07 on bridge-customers))"
    )
    assert presence_text(world.presence()) == expected
    assert card_presence(world.presence()) == expected
