"""A router with 50,000 subscribers: printed whole, found by name, written one by one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from routers.librouteros_gateway import RouterOsGateway
from sim.routeros import SimulatedRouter

SECRETS = "/ppp/secret"
SUBSCRIBERS = 50_000


@pytest.fixture
def crowded_sim(sim: SimulatedRouter) -> Iterator[SimulatedRouter]:
    for number in range(SUBSCRIBERS):
        sim.state.seed(SECRETS, {"name": f"MTJ-{number:06d}", "password": f"pw{number}"})
    yield sim


def test_a_full_print_with_proplist_returns_every_secret(
    crowded_sim: SimulatedRouter, routeros_gateway: RouterOsGateway
) -> None:
    rows = routeros_gateway.print(SECRETS, [".id", "name", "disabled"])

    assert len(rows) == SUBSCRIBERS
    assert rows[0] == {".id": "*1", "name": "MTJ-000000", "disabled": "false"}
    assert rows[-1]["name"] == f"MTJ-{SUBSCRIBERS - 1:06d}"
    assert len({row[".id"] for row in rows}) == SUBSCRIBERS


def test_one_secret_among_many_is_found_and_changed(
    crowded_sim: SimulatedRouter, routeros_gateway: RouterOsGateway
) -> None:
    [row] = routeros_gateway.print(SECRETS, [".id", "password"], {"name": "MTJ-031337"})

    routeros_gateway.set(SECRETS, row[".id"], {"disabled": "yes"})
    routeros_gateway.remove(SECRETS, [row[".id"]])
    new_id = routeros_gateway.add(SECRETS, {"name": "MTJ-031337", "password": "again"})

    assert row["password"] == "pw31337"
    assert new_id == f"*{SUBSCRIBERS + 1:X}"
    assert routeros_gateway.print(SECRETS, ["password"], {"name": "MTJ-031337"}) == [
        {"password": "again"}
    ]
