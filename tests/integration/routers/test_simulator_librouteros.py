"""The simulator driven by librouteros directly, the way any librouteros user would."""

from __future__ import annotations

from typing import Any

import librouteros
import pytest
from librouteros.exceptions import FatalError, MultiTrapError, TrapError
from librouteros.query import And, Key, Or

from sim.routeros import SimulatedRouter

NAME, DISABLED, PROFILE = Key("name"), Key("disabled"), Key("profile")


@pytest.fixture
def secrets(api: Any, sim: SimulatedRouter) -> Any:
    sim.seed("/ppp/profile", name="gold", rate_limit="10M/10M")
    path = api.path("/ppp/secret")
    for name, disabled, profile in (
        ("alice", "no", "default"),
        ("bob", "yes", "gold"),
        ("carol", "no", "gold"),
        ("dave", "yes", "default"),
    ):
        path.add(name=name, password="pw", disabled=disabled, profile=profile)
    return path


def names(rows: Any) -> list[str]:
    return [row["name"] for row in rows]


def test_librouteros_login_is_refused_with_a_trap(sim: SimulatedRouter) -> None:
    with pytest.raises(TrapError) as caught:
        librouteros.connect(sim.host, sim.username, "wrong", port=sim.port, timeout=5)

    assert caught.value.message == "invalid user name or password (6)"


def test_print_with_proplist(secrets: Any) -> None:
    rows = list(secrets.select(Key(".id"), NAME))

    assert rows[0] == {".id": "*1", "name": "alice"}
    assert len(rows) == 4


def test_equality_and_not_equal(secrets: Any) -> None:
    assert names(secrets.select(NAME).where(PROFILE == "gold")) == ["bob", "carol"]
    assert names(secrets.select(NAME).where(PROFILE != "gold")) == ["alice", "dave"]


def test_booleans_in_queries(secrets: Any) -> None:
    # librouteros sends True as "yes"; the router prints "true".
    assert names(secrets.select(NAME).where(DISABLED == True)) == ["bob", "dave"]  # noqa: E712


def test_or_and_in(secrets: Any) -> None:
    either = secrets.select(NAME).where(Or(NAME == "alice", NAME == "dave"))
    several = secrets.select(NAME).where(NAME.In("bob", "carol", "zed"))

    assert names(either) == ["alice", "dave"]
    assert names(several) == ["bob", "carol"]


def test_and_of_or(secrets: Any) -> None:
    query = And(Or(NAME == "alice", NAME == "bob"), PROFILE == "gold")

    assert names(secrets.select(NAME).where(query)) == ["bob"]


def test_raw_stack_operators(api: Any, secrets: Any) -> None:
    nand = api.rawCmd(
        "/ppp/secret/print", "=.proplist=name", "?disabled=true", "?profile=gold", "?#&!"
    )
    has_comment = api.rawCmd("/ppp/secret/print", "?comment")
    lacks_comment = api.rawCmd("/ppp/secret/print", "=.proplist=name", "?-comment")

    assert names(nand) == ["alice", "carol", "dave"]
    assert list(has_comment) == []
    assert len(list(lacks_comment)) == 4


def test_add_set_remove_enable_disable(api: Any, sim: SimulatedRouter) -> None:
    path = api.path("/ppp/secret")
    alice = path.add(name="alice", password="pw")
    path.update(**{".id": alice, "password": "new"})
    tuple(path("disable", **{".id": alice}))
    disabled = sim.items("/ppp/secret")[0]["disabled"]
    tuple(path("enable", **{".id": alice}))
    bob = path.add(name="bob")

    path.remove(alice, bob)

    assert alice == "*1"
    assert disabled == "true"
    assert sim.items("/ppp/secret") == []


def test_librouteros_typecasts_what_it_reads(api: Any, sim: SimulatedRouter) -> None:
    # Why RouterOsGateway reads replies itself: librouteros's own parsing changes values.
    sim.seed("/ppp/secret", name="12345", comment="yes")

    [row] = api.path("/ppp/secret").select(NAME, Key("comment"), DISABLED)

    assert row == {"name": 12345, "comment": True, "disabled": False}


def test_duplicate_and_unknown_id_traps(api: Any, secrets: Any) -> None:
    with pytest.raises(TrapError) as duplicate:
        secrets.add(name="alice")
    with pytest.raises(TrapError) as unknown:
        secrets.update(**{".id": "*FF", "comment": "x"})
    with pytest.raises(TrapError) as missing:
        secrets.remove("*1", "*FF")

    assert duplicate.value.message == "failure: secret with the same name already exists"
    assert unknown.value.message == "no such item"
    assert missing.value.message == "no such item"
    assert len(list(secrets)) == 4


def test_address_list_duplicates_and_category(api: Any) -> None:
    lists = api.path("/ip/firewall/address-list")
    lists.add(list="mteja-blocked", address="10.0.0.9")

    with pytest.raises(TrapError) as duplicate:
        lists.add(list="mteja-blocked", address="10.0.0.9")
    with pytest.raises(TrapError) as bad_profile:
        api.path("/ppp/secret").add(name="x", profile="platinum")

    assert duplicate.value.message == "failure: already have such entry"
    assert bad_profile.value.category == 1


def test_unknown_menu_gives_two_traps(api: Any) -> None:
    with pytest.raises(MultiTrapError) as caught:
        tuple(api.path("/interface/wireless"))

    assert [trap.message for trap in caught.value.traps] == [
        "no such command or directory (wireless)",
        "no such command prefix",
    ]


def test_identity_and_resource(api: Any) -> None:
    tuple(api.path("/system/identity")("set", name="ruaka"))

    [identity] = api.path("/system/identity")
    [resource] = api.path("/system/resource")

    assert identity == {"name": "ruaka"}
    assert resource["board-name"] == "CHR"


def test_quit(api: Any) -> None:
    with pytest.raises(FatalError):
        tuple(api("/quit"))
