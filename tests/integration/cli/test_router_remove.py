"""``mteja router remove`` (customers moved, pools gone, the router's entries cleaned off it when
it answers) and ``mteja staff remove|role``."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from sim.routeros import SimulatedRouter

SECRETS = "/ppp/secret"


@pytest.fixture
def sim() -> Iterator[SimulatedRouter]:
    with SimulatedRouter(username="mteja", password="pw") as router:
        yield router


def _add_router(ready, name: str, port: int) -> None:  # type: ignore[no-untyped-def]
    added = ready(
        "router", "add", name, "--host", "127.0.0.1", "--port", str(port),
        "--username", "mteja", "--password", "pw", "--plain-api",
    )  # fmt: skip
    assert added.exit_code == 0, added.stderr


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_customers_are_moved_and_the_router_leaves_every_list(ready) -> None:  # type: ignore[no-untyped-def]
    assert ready("router", "add", "edge-2", "--host", "10.0.0.2", "--username", "a",
                 "--password", "p", "--plain-api").exit_code == 0  # fmt: skip
    assert ready("pool", "add", "edge-2", "10.40.0.0/24").exit_code == 0
    added = ready(
        "customer", "add", "--name", "Wanjiru Kamau", "--phone", "0712345678",
        "--plan", "Home 10M", "--router", "core-1",
    )  # fmt: skip
    assert added.exit_code == 0, added.stderr

    refused = ready("router", "remove", "core-1")
    assert refused.exit_code == 1
    assert refused.stderr.startswith("error: 1 customer(s) are still on core-1")

    removed = ready("router", "remove", "core-1", "--move-to", "edge-2")

    assert removed.exit_code == 0, removed.stderr
    assert "router core-1 removed; 1 customer(s) moved to edge-2" in removed.output
    assert "pools removed: 10.10.0.0/24" in removed.output
    listing = ready("router", "list").output
    assert "edge-2" in listing and "core-1" not in listing
    assert "edge-2" in ready("customer", "list").output


def test_cleanup_takes_only_mteja_entries_off_the_router(ready, sim: SimulatedRouter) -> None:  # type: ignore[no-untyped-def]
    _add_router(ready, "old-1", sim.port)
    sim.seed(SECRETS, name="leftover", password="x", comment="mteja:ACC-9")
    sim.seed(SECRETS, name="the-isp-own", password="y")

    removed = ready("router", "remove", "old-1", "--cleanup")

    assert removed.exit_code == 0, removed.stderr
    assert "1 mteja entries taken off old-1" in removed.output
    assert [item["name"] for item in sim.items(SECRETS)] == ["the-isp-own"]


def test_an_unreachable_router_is_still_removed(ready) -> None:  # type: ignore[no-untyped-def]
    _add_router(ready, "gone-1", _closed_port())

    removed = ready("router", "remove", "gone-1", "--cleanup")

    assert removed.exit_code == 1
    assert "router gone-1 removed" in removed.output
    assert removed.stderr.startswith("could not clean gone-1")
    assert "the removal stands" in removed.stderr
    assert "gone-1" not in ready("router", "list").output


def test_staff_role_and_remove_by_name_or_id(ready) -> None:  # type: ignore[no-untyped-def]
    assert ready("staff", "add", "1001", "Amina Owner", "--role", "owner").exit_code == 0
    assert ready("staff", "add", "1002", "Brian Agent", "--role", "agent").exit_code == 0

    promoted = ready("staff", "role", "brian", "admin")
    assert promoted.exit_code == 0, promoted.stderr
    assert "Brian Agent is now admin" in promoted.output
    assert ready("staff", "remove", "1002").exit_code == 0
    assert "Brian" not in ready("staff", "list").output

    last_owner = ready("staff", "remove", "Amina")
    assert last_owner.exit_code == 1 and last_owner.stderr.startswith("error:")
    bad_role = ready("staff", "role", "amina", "boss")
    assert bad_role.exit_code == 1 and bad_role.stderr.startswith("error:")
    assert "Amina Owner" in ready("staff", "list").output
