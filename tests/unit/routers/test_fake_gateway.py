"""InMemoryRouterGateway: what it records and how it fails (the shared contract is elsewhere)."""

from __future__ import annotations

import pytest

from routers.gateway import (
    RouterAuthFailed,
    RouterGateway,
    RouterRejected,
    RouterUnreachable,
)
from sim.routeros.memory_gateway import InMemoryRouterGateway, Write
from sim.routeros.state import RouterState


def test_it_is_a_router_gateway(gateway: InMemoryRouterGateway) -> None:
    assert isinstance(gateway, RouterGateway)


def test_writes_are_recorded_in_order(gateway: InMemoryRouterGateway) -> None:
    alice = gateway.add("/ppp/secret", {"name": "alice", "password": "pw"})
    gateway.set("/ppp/secret", alice, {"disabled": "yes"})
    gateway.remove("/ppp/secret", [alice])
    gateway.print("/ppp/secret")

    assert gateway.writes == [
        Write("add", "/ppp/secret", attrs={"name": "alice", "password": "pw"}),
        Write("set", "/ppp/secret", (alice,), {"disabled": "yes"}),
        Write("remove", "/ppp/secret", (alice,)),
    ]
    assert gateway.reads == 1


def test_refused_writes_are_recorded_too(gateway: InMemoryRouterGateway) -> None:
    gateway.add("/ppp/secret", {"name": "alice"})

    with pytest.raises(RouterRejected):
        gateway.add("/ppp/secret", {"name": "alice"})

    assert len(gateway.writes_to("/ppp/secret")) == 2
    assert gateway.writes_to("/queue/simple") == []


def test_removing_nothing_is_not_a_write(gateway: InMemoryRouterGateway) -> None:
    gateway.remove("/ppp/secret", [])

    assert gateway.writes == []


def test_the_recorded_attrs_are_a_copy(gateway: InMemoryRouterGateway) -> None:
    attrs = {"name": "alice"}
    gateway.add("/ppp/secret", attrs)
    attrs["name"] = "mallory"

    assert gateway.writes[0].attrs == {"name": "alice"}


def test_down_and_rejected_login(state: RouterState) -> None:
    gateway = InMemoryRouterGateway(state)

    gateway.down = True
    with pytest.raises(RouterUnreachable):
        gateway.identity()
    gateway.down = False
    gateway.reject_login = True
    with pytest.raises(RouterAuthFailed):
        gateway.print("/ppp/secret")


def test_a_test_can_seed_and_dial_in_through_the_shared_state(
    state: RouterState, gateway: InMemoryRouterGateway
) -> None:
    state.seed("/ppp/secret", {"name": "alice", "password": "pw"})
    state.connect("alice", "pw")

    [session] = gateway.print("/ppp/active", proplist=["name"])

    assert session == {"name": "alice"}


def test_a_new_fake_has_its_own_router() -> None:
    first, second = InMemoryRouterGateway(), InMemoryRouterGateway(identity="ruaka")
    first.add("/ppp/secret", {"name": "alice"})

    assert second.print("/ppp/secret") == []
    assert second.identity() == "ruaka"
