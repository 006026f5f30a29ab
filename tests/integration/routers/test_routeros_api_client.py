"""The simulator driven by the independent ``routeros_api`` package (tags on every command)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import routeros_api
from routeros_api.exceptions import RouterOsApiCommunicationError

from sim.routeros import SimulatedRouter


@pytest.fixture
def pool(sim: SimulatedRouter) -> Iterator[Any]:
    connection = routeros_api.RouterOsApiPool(
        sim.host,
        username=sim.username,
        password=sim.password,
        port=sim.port,
        plaintext_login=True,
    )
    yield connection
    connection.disconnect()


def test_add_get_set_remove(pool: Any, sim: SimulatedRouter) -> None:
    secrets = pool.get_api().get_resource("/ppp/secret")

    secrets.add(name="alice", password="pw", service="pppoe")
    [alice] = secrets.get(name="alice")
    secrets.set(id=alice["id"], password="new", comment="MTJ-4K7Q2D9")
    [changed] = secrets.get(name="alice")
    secrets.remove(id=alice["id"])

    assert alice["service"] == "pppoe"
    assert changed["password"] == "new"
    assert changed["comment"] == "MTJ-4K7Q2D9"
    assert secrets.get() == []
    assert sim.items("/ppp/secret") == []


def test_traps_reach_routeros_api(pool: Any) -> None:
    secrets = pool.get_api().get_resource("/ppp/secret")
    secrets.add(name="alice")

    with pytest.raises(RouterOsApiCommunicationError) as caught:
        secrets.add(name="alice")

    assert caught.value.original_message == b"failure: secret with the same name already exists"


def test_the_challenge_login_works_too(sim: SimulatedRouter) -> None:
    legacy = routeros_api.RouterOsApiPool(
        sim.host, username=sim.username, password=sim.password, port=sim.port
    )
    try:
        [identity] = legacy.get_api().get_resource("/system/identity").get()
    finally:
        legacy.disconnect()

    assert identity == {"name": "kahawa-west"}


def test_a_wrong_password_is_refused(sim: SimulatedRouter) -> None:
    refused = routeros_api.RouterOsApiPool(
        sim.host, username=sim.username, password="guess", port=sim.port, plaintext_login=True
    )
    try:
        with pytest.raises(RouterOsApiCommunicationError) as caught:
            refused.get_api()
    finally:
        refused.disconnect()

    assert b"invalid user name or password" in caught.value.original_message
