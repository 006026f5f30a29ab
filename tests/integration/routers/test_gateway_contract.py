"""The RouterGateway contract, run against RouterOsGateway (on the simulator) and the fake."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from routers.gateway import (
    RouterAuthFailed,
    RouterError,
    RouterGateway,
    RouterRejected,
    RouterUnreachable,
)
from sim.routeros.state import RouterState

SECRETS = "/ppp/secret"


def test_both_implementations_satisfy_the_protocol(router_gateway: RouterGateway) -> None:
    assert isinstance(router_gateway, RouterGateway)


class TestPrint:
    def test_every_value_is_a_string_as_routeros_prints_it(
        self, router_gateway: RouterGateway
    ) -> None:
        router_gateway.add(
            SECRETS,
            {"name": "12345", "password": "007", "disabled": "yes", "comment": "yes"},
        )

        [secret] = router_gateway.print(SECRETS)

        assert all(isinstance(value, str) for value in secret.values())
        assert secret["name"] == "12345"
        assert secret["password"] == "007"
        assert secret["disabled"] == "true"
        assert secret["comment"] == "yes"
        assert secret["limit-bytes-in"] == "0"
        assert secret[".id"].startswith("*")

    def test_proplist_limits_the_properties(self, router_gateway: RouterGateway) -> None:
        router_gateway.add(SECRETS, {"name": "alice", "password": "pw"})

        rows = router_gateway.print(SECRETS, proplist=[".id", "name", "disabled"])

        assert rows == [{".id": rows[0][".id"], "name": "alice", "disabled": "false"}]

    def test_where_keeps_items_matching_every_pair(self, router_gateway: RouterGateway) -> None:
        for name, disabled, profile in (
            ("alice", "no", "default"),
            ("bob", "yes", "default"),
            ("carol", "yes", "default-encryption"),
        ):
            router_gateway.add(SECRETS, {"name": name, "disabled": disabled, "profile": profile})

        disabled = router_gateway.print(SECRETS, ["name"], {"disabled": "true"})
        both = router_gateway.print(SECRETS, ["name"], {"disabled": "yes", "profile": "default"})
        by_name = router_gateway.print(SECRETS, ["name"], {"name": "carol"})
        nobody = router_gateway.print(SECRETS, ["name"], {"name": "dave"})

        assert disabled == [{"name": "bob"}, {"name": "carol"}]
        assert both == [{"name": "bob"}]
        assert by_name == [{"name": "carol"}]
        assert nobody == []

    def test_the_default_entries_of_a_fresh_router(self, router_gateway: RouterGateway) -> None:
        profiles = router_gateway.print("/ppp/profile", ["name"])
        trial_users = router_gateway.print("/ip/hotspot/user", ["name"])

        assert {"name": "default"} in profiles
        assert trial_users == [{"name": "default-trial"}]

    def test_text_outside_ascii_survives(self, router_gateway: RouterGateway) -> None:
        router_gateway.add(SECRETS, {"name": "wanjiru", "comment": "Wanjirũ — Kahawa Wendani"})

        [row] = router_gateway.print(SECRETS, ["comment"])

        assert row["comment"] == "Wanjirũ — Kahawa Wendani"

    def test_items_seeded_by_hand_are_seen(
        self, router_gateway: RouterGateway, router_state: RouterState
    ) -> None:
        router_state.seed("/queue/simple", {"name": "office", "target": "10.0.0.0/24"})

        [queue] = router_gateway.print("/queue/simple", ["name", "target", "max-limit"])

        assert queue == {"name": "office", "target": "10.0.0.0/24", "max-limit": "0/0"}


class TestPrintEach:
    """``print_each`` gives what ``print`` gives, item by item (a whole menu is never held)."""

    def test_the_same_items_as_print_in_the_same_order(self, router_gateway: RouterGateway) -> None:
        for name in ("alice", "bob", "carol"):
            router_gateway.add(SECRETS, {"name": name, "password": "pw", "disabled": "yes"})

        each = list(router_gateway.print_each(SECRETS, [".id", "name", "disabled"]))

        assert each == router_gateway.print(SECRETS, [".id", "name", "disabled"])
        assert list(router_gateway.print_each(SECRETS, ["name"], {"name": "bob"})) == [
            {"name": "bob"}
        ]

    def test_a_refusal_is_raised_and_the_gateway_stays_usable(
        self, router_gateway: RouterGateway
    ) -> None:
        with pytest.raises(RouterRejected):
            list(router_gateway.print_each("/no/such/menu"))

        assert router_gateway.identity()

    def test_stopping_early_leaves_the_gateway_usable(self, router_gateway: RouterGateway) -> None:
        for name in ("alice", "bob", "carol"):
            router_gateway.add(SECRETS, {"name": name})
        items = router_gateway.print_each(SECRETS, ["name"])
        first = next(items)
        items.close()  # the rest of the reply is never read

        assert first == {"name": "alice"}
        assert [row["name"] for row in router_gateway.print(SECRETS, ["name"])] == [
            "alice",
            "bob",
            "carol",
        ]


class TestWrites:
    def test_add_returns_the_new_id(self, router_gateway: RouterGateway) -> None:
        first = router_gateway.add(SECRETS, {"name": "alice"})
        second = router_gateway.add(SECRETS, {"name": "bob"})

        ids = [row[".id"] for row in router_gateway.print(SECRETS, [".id"])]

        assert ids == [first, second]
        assert first != second

    def test_set_changes_only_what_it_names(self, router_gateway: RouterGateway) -> None:
        alice = router_gateway.add(SECRETS, {"name": "alice", "password": "old"})

        router_gateway.set(SECRETS, alice, {"password": "new", "profile": "default-encryption"})

        [row] = router_gateway.print(SECRETS, ["name", "password", "profile"])
        assert row == {"name": "alice", "password": "new", "profile": "default-encryption"}

    def test_set_to_empty_unsets_an_optional_property(self, router_gateway: RouterGateway) -> None:
        alice = router_gateway.add(SECRETS, {"name": "alice", "remote-address": "10.1.0.5"})

        router_gateway.set(SECRETS, alice, {"remote-address": ""})

        assert "remote-address" not in router_gateway.print(SECRETS)[0]

    def test_remove_takes_several_ids(self, router_gateway: RouterGateway) -> None:
        ids = [router_gateway.add(SECRETS, {"name": name}) for name in ("a", "b", "c")]

        router_gateway.remove(SECRETS, [ids[0], ids[2]])
        router_gateway.remove(SECRETS, [])

        assert router_gateway.print(SECRETS, ["name"]) == [{"name": "b"}]

    def test_removing_an_active_session_disconnects_it(
        self, router_gateway: RouterGateway, router_state: RouterState
    ) -> None:
        router_gateway.add(SECRETS, {"name": "alice", "password": "pw"})
        assert router_state.connect("alice", "pw")
        [session] = router_gateway.print("/ppp/active", [".id", "name"])

        router_gateway.remove("/ppp/active", [session[".id"]])

        assert router_gateway.print("/ppp/active") == []
        assert not router_state.is_connected("alice")


class TestRefusals:
    def test_a_duplicate_name_is_rejected_with_routeros_text(
        self, router_gateway: RouterGateway
    ) -> None:
        router_gateway.add(SECRETS, {"name": "alice"})

        with pytest.raises(RouterRejected) as caught:
            router_gateway.add(SECRETS, {"name": "alice"})

        assert caught.value.message == "failure: secret with the same name already exists"
        assert isinstance(caught.value, RouterError)

    @pytest.mark.parametrize(
        "write",
        [
            lambda gateway: gateway.set(SECRETS, "*7F", {"comment": "x"}),
            lambda gateway: gateway.remove(SECRETS, ["*7F"]),
        ],
        ids=["set", "remove"],
    )
    def test_an_unknown_id_is_rejected(
        self, router_gateway: RouterGateway, write: Callable[[RouterGateway], None]
    ) -> None:
        with pytest.raises(RouterRejected) as caught:
            write(router_gateway)

        assert caught.value.message == "no such item"

    def test_a_missing_profile_is_an_argument_failure(self, router_gateway: RouterGateway) -> None:
        with pytest.raises(RouterRejected) as caught:
            router_gateway.add(SECRETS, {"name": "alice", "profile": "gold-10M"})

        assert caught.value.message == "input does not match any value of profile"
        assert caught.value.category == 1

    def test_an_unknown_menu_is_rejected(self, router_gateway: RouterGateway) -> None:
        with pytest.raises(RouterRejected) as caught:
            router_gateway.print("/interface/wireless")

        assert caught.value.message == (
            "no such command or directory (wireless), no such command prefix"
        )

    def test_a_rejection_leaves_the_gateway_usable(self, router_gateway: RouterGateway) -> None:
        with pytest.raises(RouterRejected):
            router_gateway.set(SECRETS, "*7F", {"comment": "x"})

        assert router_gateway.identity() == "kahawa-west"


class TestRouter:
    def test_identity(self, router_gateway: RouterGateway) -> None:
        assert router_gateway.identity() == "kahawa-west"

    def test_resource(self, router_gateway: RouterGateway) -> None:
        resource = router_gateway.resource()

        for key in ("uptime", "version", "cpu-load", "free-memory", "board-name"):
            assert isinstance(resource[key], str)
        assert resource["architecture-name"] == "x86_64"
        assert ".id" not in resource

    def test_close_is_idempotent_and_the_gateway_reconnects(
        self, router_gateway: RouterGateway
    ) -> None:
        router_gateway.identity()

        router_gateway.close()
        router_gateway.close()

        assert router_gateway.identity() == "kahawa-west"


class TestFailures:
    def test_wrong_credentials(
        self, gateway_with_wrong_password: Callable[[], RouterGateway]
    ) -> None:
        gateway = gateway_with_wrong_password()

        with pytest.raises(RouterAuthFailed) as caught:
            gateway.print(SECRETS)

        assert isinstance(caught.value, RouterError)
        assert not isinstance(caught.value, RouterUnreachable | RouterRejected)

    def test_a_down_router_is_unreachable_for_reads_and_writes(
        self,
        router_gateway: RouterGateway,
        take_router_down: Callable[[], None],
        bring_router_up: Callable[[], None],
    ) -> None:
        router_gateway.identity()
        take_router_down()

        with pytest.raises(RouterUnreachable):
            router_gateway.print(SECRETS)
        with pytest.raises(RouterUnreachable):
            router_gateway.add(SECRETS, {"name": "alice"})

        bring_router_up()
        assert router_gateway.print(SECRETS) == []
