"""Faults injected into the simulator, seen through RouterOsGateway (no timing is asserted)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from routers.gateway import RouterUnreachable
from routers.librouteros_gateway import RouterOsGateway
from sim.routeros import SimulatedRouter

SECRETS = "/ppp/secret"


def test_a_little_latency_is_just_slow(
    sim: SimulatedRouter, routeros_gateway: RouterOsGateway
) -> None:
    sim.faults.set_latency(0.05, menu=SECRETS)

    routeros_gateway.add(SECRETS, {"name": "alice"})

    assert routeros_gateway.print(SECRETS, ["name"]) == [{"name": "alice"}]


def test_latency_beyond_the_command_timeout_is_unreachable(
    sim: SimulatedRouter, make_gateway: Callable[..., RouterOsGateway]
) -> None:
    impatient = make_gateway(command_timeout=0.2)
    impatient.identity()
    sim.faults.set_latency(30, menu=SECRETS, command="print")

    with pytest.raises(RouterUnreachable, match="no reply"):
        impatient.print(SECRETS)

    # The late reply must not be mistaken for the answer to the next command.
    assert impatient.identity() == "kahawa-west"


def test_refused_connections(sim: SimulatedRouter, routeros_gateway: RouterOsGateway) -> None:
    sim.faults.refuse_connections = True

    with pytest.raises(RouterUnreachable):
        routeros_gateway.identity()

    sim.faults.refuse_connections = False
    assert routeros_gateway.identity() == "kahawa-west"


def test_a_read_cut_once_is_retried_transparently(
    sim: SimulatedRouter, routeros_gateway: RouterOsGateway
) -> None:
    sim.seed(SECRETS, name="alice")
    sim.faults.drop_mid_reply(times=1, menu=SECRETS, command="print")

    assert routeros_gateway.print(SECRETS, ["name"]) == [{"name": "alice"}]


def test_a_read_cut_twice_is_unreachable(
    sim: SimulatedRouter, routeros_gateway: RouterOsGateway
) -> None:
    sim.faults.drop_mid_reply(times=2, menu=SECRETS, command="print")

    with pytest.raises(RouterUnreachable, match="connection lost"):
        routeros_gateway.print(SECRETS)

    assert routeros_gateway.print(SECRETS) == []


def test_a_streamed_read_cut_before_its_first_item_is_retried(
    sim: SimulatedRouter, routeros_gateway: RouterOsGateway
) -> None:
    sim.seed(SECRETS, name="alice")  # half of the reply is less than its one item
    sim.faults.drop_mid_reply(times=1, menu=SECRETS, command="print")

    assert list(routeros_gateway.print_each(SECRETS, ["name"])) == [{"name": "alice"}]


def test_a_streamed_read_cut_after_items_were_given_is_unreachable_not_repeated(
    sim: SimulatedRouter, routeros_gateway: RouterOsGateway
) -> None:
    names = ["alice", "bob", "carol", "dan", "eve", "fay"]
    for name in names:
        sim.seed(SECRETS, name=name)
    sim.faults.drop_mid_reply(times=1, menu=SECRETS, command="print")
    given: list[str] = []

    with pytest.raises(RouterUnreachable, match="connection lost"):
        for item in routeros_gateway.print_each(SECRETS, ["name"]):
            given.append(item["name"])

    # Retrying would give the first items twice; the caller reads again instead.
    assert given and given == names[: len(given)]
    assert [item["name"] for item in routeros_gateway.print(SECRETS, ["name"])] == names


def test_a_cut_write_is_not_retried_but_may_have_happened(
    sim: SimulatedRouter, routeros_gateway: RouterOsGateway
) -> None:
    sim.faults.drop_mid_reply(times=1, menu=SECRETS, command="add")

    with pytest.raises(RouterUnreachable):
        routeros_gateway.add(SECRETS, {"name": "alice"})

    # Only a read-back tells: here the router applied the add before the link broke.
    assert routeros_gateway.print(SECRETS, ["name"]) == [{"name": "alice"}]


def test_a_write_on_a_connection_the_router_dropped_is_unreachable(
    sim: SimulatedRouter, routeros_gateway: RouterOsGateway
) -> None:
    routeros_gateway.identity()
    sim.drop_connections()

    with pytest.raises(RouterUnreachable):
        routeros_gateway.add(SECRETS, {"name": "alice"})

    routeros_gateway.add(SECRETS, {"name": "alice"})
    assert len(sim.items(SECRETS)) == 1


def test_a_read_on_a_connection_the_router_dropped_reconnects(
    sim: SimulatedRouter, routeros_gateway: RouterOsGateway
) -> None:
    routeros_gateway.identity()
    sim.drop_connections()

    assert routeros_gateway.identity() == "kahawa-west"


def test_silently_ignored_writes_show_up_on_read_back(
    sim: SimulatedRouter, routeros_gateway: RouterOsGateway
) -> None:
    alice = routeros_gateway.add(SECRETS, {"name": "alice", "password": "old"})
    sim.faults.silently_ignore_writes(times=1, menu=SECRETS, command="set")
    sim.faults.silently_ignore_writes(times=1, menu=SECRETS, command="add")

    routeros_gateway.set(SECRETS, alice, {"password": "new"})
    ghost = routeros_gateway.add(SECRETS, {"name": "bob"})

    rows = routeros_gateway.print(SECRETS, [".id", "name", "password"])
    assert rows == [{".id": alice, "name": "alice", "password": "old"}]
    assert ghost not in {row[".id"] for row in rows}
    routeros_gateway.set(SECRETS, alice, {"password": "new"})
    assert routeros_gateway.print(SECRETS, ["password"]) == [{"password": "new"}]


def test_down_then_up(sim: SimulatedRouter, routeros_gateway: RouterOsGateway) -> None:
    routeros_gateway.identity()
    sim.down()

    with pytest.raises(RouterUnreachable, match="cannot connect"):
        routeros_gateway.identity()

    sim.up()
    assert routeros_gateway.identity() == "kahawa-west"


def test_probabilistic_faults_never_corrupt_what_gets_through(
    sim: SimulatedRouter, routeros_gateway: RouterOsGateway
) -> None:
    for number in range(20):
        sim.seed(SECRETS, name=f"user{number}")
    sim.faults.drop_mid_reply(times=None, probability=0.3, menu=SECRETS, command="print")
    answers, failures = 0, 0

    for _ in range(30):
        try:
            rows = routeros_gateway.print(SECRETS, ["name"])
        except RouterUnreachable:
            failures += 1
        else:
            answers += 1
            assert [row["name"] for row in rows] == [f"user{n}" for n in range(20)]

    assert answers + failures == 30
