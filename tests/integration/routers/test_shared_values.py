"""A print shares repeated reply values (a profile, "pppoe", "false") between its rows instead
of holding one copy per row: a whole /ppp/secret of 100,000 items is read at once by a full
reconcile (issue 18). Values past the sharing limit, and every unique value, keep their text."""

from __future__ import annotations

import pytest

import routers.api_socket
from routers.librouteros_gateway import RouterOsGateway
from sim.routeros import SimulatedRouter

PPP_SECRET = "/ppp/secret"


def seed_secrets(sim: SimulatedRouter, count: int) -> None:
    sim.seed("/ppp/profile", name="mteja-1-home-10m", rate_limit="5M/10M")
    for n in range(count):
        sim.seed(PPP_SECRET, name=f"user{n}", password=f"pw{n}", profile="mteja-1-home-10m")


def test_a_value_repeated_in_a_print_is_one_string(
    sim: SimulatedRouter, routeros_gateway: RouterOsGateway
) -> None:
    seed_secrets(sim, 3)

    rows = routeros_gateway.print(PPP_SECRET, [".id", "name", "password", "profile"])

    assert [row["name"] for row in rows] == ["user0", "user1", "user2"]
    assert [row["password"] for row in rows] == ["pw0", "pw1", "pw2"]
    first, *others = rows
    assert first["profile"] == "mteja-1-home-10m"
    assert all(row["profile"] is first["profile"] for row in others)


def test_past_the_sharing_limit_values_keep_their_text(
    sim: SimulatedRouter, routeros_gateway: RouterOsGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(routers.api_socket, "SHARED_VALUES", 2)
    seed_secrets(sim, 6)

    rows = routeros_gateway.print(PPP_SECRET, ["name", "password", "profile"])
    again = routeros_gateway.print(PPP_SECRET, ["name", "password", "profile"])

    expected = [
        {"name": f"user{n}", "password": f"pw{n}", "profile": "mteja-1-home-10m"} for n in range(6)
    ]
    assert rows == expected
    assert again == expected
