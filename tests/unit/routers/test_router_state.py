"""The simulated router's behaviour without sockets: menus, traps, sessions, traffic."""

from __future__ import annotations

import pytest

from sim.routeros.clock import ManualClock
from sim.routeros.state import RouterState
from sim.routeros.traps import CommandTrap

SECRETS = "/ppp/secret"


def trap_of(action: object) -> str:
    assert callable(action)
    with pytest.raises(CommandTrap) as caught:
        action()
    return ", ".join(trap.message for trap in caught.value.traps)


def test_ids_are_hex_and_never_reused(state: RouterState) -> None:
    ids = [state.seed(SECRETS, {"name": f"user{n}"}) for n in range(11)]
    state.execute(SECRETS, "remove", {".id": ids[-1]})

    assert ids[:3] == ["*1", "*2", "*3"]
    assert ids[9:] == ["*A", "*B"]
    assert state.seed(SECRETS, {"name": "next"}) == "*C"


def test_a_fresh_router_has_the_default_entries(state: RouterState) -> None:
    profiles = {item["name"]: item[".id"] for item in state.items("/ppp/profile")}
    hotspot_users = [item["name"] for item in state.items("/ip/hotspot/user")]

    assert profiles == {"default": "*0", "default-encryption": "*FFFFFFFE"}
    assert hotspot_users == ["default-trial"]
    assert [item["name"] for item in state.items("/ip/hotspot/user/profile")] == ["default"]
    assert state.items("/system/identity") == [{"name": "kahawa-west"}]


def test_an_item_prints_defaults_and_only_the_optional_properties_set(state: RouterState) -> None:
    state.seed(SECRETS, {"name": "alice", "password": "pw", "disabled": "yes"})

    [alice] = state.items(SECRETS)

    assert alice[".id"] == "*1"
    assert alice["disabled"] == "true"
    assert alice["service"] == "any"
    assert alice["profile"] == "default"
    assert "remote-address" not in alice
    assert "comment" not in alice


def test_duplicate_names_are_refused_with_routeros_wording(state: RouterState) -> None:
    state.seed(SECRETS, {"name": "alice"})
    state.seed("/ip/hotspot/user", {"name": "bob"})
    state.seed("/ip/firewall/address-list", {"list": "mteja-blocked", "address": "10.0.0.9"})

    assert trap_of(lambda: state.seed(SECRETS, {"name": "alice"})) == (
        "failure: secret with the same name already exists"
    )
    assert trap_of(lambda: state.seed("/ip/hotspot/user", {"name": "bob"})) == (
        "failure: already have user with this name for this server"
    )
    assert trap_of(
        lambda: state.seed(
            "/ip/firewall/address-list", {"list": "mteja-blocked", "address": "10.0.0.9"}
        )
    ) == ("failure: already have such entry")


def test_the_same_address_on_another_list_is_fine(state: RouterState) -> None:
    state.seed("/ip/firewall/address-list", {"list": "mteja-blocked", "address": "10.0.0.9"})

    state.seed("/ip/firewall/address-list", {"list": "mteja-allowed", "address": "10.0.0.9"})

    assert len(state.items("/ip/firewall/address-list")) == 2


def test_renaming_onto_an_existing_name_is_refused(state: RouterState) -> None:
    state.seed(SECRETS, {"name": "alice"})
    bob = state.seed(SECRETS, {"name": "bob"})

    assert "already exists" in trap_of(
        lambda: state.execute(SECRETS, "set", {".id": bob, "name": "alice"})
    )
    state.execute(SECRETS, "set", {".id": bob, "name": "bob"})
    state.execute(SECRETS, "set", {".id": bob, "name": "carol"})
    state.seed(SECRETS, {"name": "bob"})


def test_unknown_ids_are_refused_and_nothing_is_removed(state: RouterState) -> None:
    alice = state.seed(SECRETS, {"name": "alice"})

    assert trap_of(lambda: state.execute(SECRETS, "set", {".id": "*99", "comment": "x"})) == (
        "no such item"
    )
    assert trap_of(lambda: state.execute(SECRETS, "remove", {".id": f"{alice},*99"})) == (
        "no such item"
    )
    assert [item["name"] for item in state.items(SECRETS)] == ["alice"]


def test_remove_takes_a_comma_separated_list(state: RouterState) -> None:
    ids = [state.seed(SECRETS, {"name": name}) for name in ("a", "b", "c")]

    state.execute(SECRETS, "remove", {".id": f"{ids[0]},{ids[2]}"})

    assert [item["name"] for item in state.items(SECRETS)] == ["b"]


def test_a_name_can_stand_for_the_id(state: RouterState) -> None:
    state.seed(SECRETS, {"name": "alice"})

    state.execute(SECRETS, "disable", {".id": "alice"})

    assert state.items(SECRETS)[0]["disabled"] == "true"


def test_enable_disable_and_comment(state: RouterState) -> None:
    alice = state.seed(SECRETS, {"name": "alice"})

    state.execute(SECRETS, "disable", {".id": alice})
    disabled = state.items(SECRETS)[0]["disabled"]
    state.execute(SECRETS, "enable", {".id": alice})
    state.execute(SECRETS, "comment", {".id": alice, "comment": "MTJ-1"})

    assert disabled == "true"
    assert state.items(SECRETS)[0]["disabled"] == "false"
    assert state.items(SECRETS)[0]["comment"] == "MTJ-1"


def test_setting_an_optional_property_to_empty_unsets_it(state: RouterState) -> None:
    alice = state.seed(SECRETS, {"name": "alice", "remote-address": "10.1.0.5"})

    state.execute(SECRETS, "set", {".id": alice, "remote-address": ""})

    assert "remote-address" not in state.items(SECRETS)[0]


@pytest.mark.parametrize(
    ("attrs", "message"),
    [
        ({"name": "a", "profile": "gold"}, "input does not match any value of profile"),
        ({"name": "a", "service": "carrier-pigeon"}, "input does not match any value of service"),
        ({"name": "a", "disabled": "maybe"}, "input does not match any value of disabled"),
        ({"name": "a", "colour": "blue"}, "unknown parameter"),
        ({"password": "x"}, "missing value(s) of argument(s) name"),
    ],
)
def test_invalid_input_is_refused(state: RouterState, attrs: dict[str, str], message: str) -> None:
    assert trap_of(lambda: state.seed(SECRETS, attrs)) == message


def test_a_profile_must_exist_before_a_secret_uses_it(state: RouterState) -> None:
    state.seed("/ppp/profile", {"name": "gold", "rate-limit": "10M/10M"})

    state.seed(SECRETS, {"name": "alice", "profile": "gold"})

    assert state.items(SECRETS)[0]["profile"] == "gold"


def test_unknown_menus_and_commands(state: RouterState) -> None:
    assert trap_of(lambda: state.execute("/interface/wireless", "print", {})) == (
        "no such command or directory (wireless), no such command prefix"
    )
    assert trap_of(lambda: state.execute("/caps-man/interface", "print", {})) == (
        "no such command or directory (caps-man), no such command prefix"
    )
    assert trap_of(lambda: state.execute("/ppp/secret", "frobnicate", {})) == "no such command"
    assert trap_of(lambda: state.execute("/ppp/active", "add", {"name": "x"})) == (
        "no such command"
    )
    assert trap_of(lambda: state.execute("/ppp", "print", {})) == "no such command"


def test_print_with_proplist_queries_and_count_only(state: RouterState) -> None:
    for name, disabled in (("a", "no"), ("b", "yes"), ("c", "no")):
        state.seed(SECRETS, {"name": name, "disabled": disabled})

    result = state.execute(
        SECRETS, "print", {".proplist": ".id,name"}, ["?disabled=false", "?name=c", "?#|"]
    )
    count = state.execute(SECRETS, "print", {"count-only": ""}, ["?disabled=no"])

    assert result.rows == [{".id": "*1", "name": "a"}, {".id": "*3", "name": "c"}]
    assert count.ret == "2"


def test_an_equality_on_the_name_uses_the_index(state: RouterState) -> None:
    state.seed(SECRETS, {"name": "alice", "disabled": "yes"})

    found = state.execute(SECRETS, "print", {}, ["?name=alice", "?disabled=yes"]).rows
    missed = state.execute(SECRETS, "print", {}, ["?name=alice", "?disabled=no"]).rows

    assert [row["name"] for row in found] == ["alice"]
    assert missed == []


def test_queue_without_a_name_gets_one(state: RouterState) -> None:
    state.seed("/queue/simple", {"target": "10.0.0.2/32", "max-limit": "5M/5M"})

    [queue] = state.items("/queue/simple")

    assert queue["name"] == "queue1"
    assert queue["max-limit"] == "5M/5M"


def test_identity_can_be_renamed(state: RouterState) -> None:
    state.execute("/system/identity", "set", {"name": "ruaka"})

    assert state.identity == "ruaka"


def test_resource_reports_uptime(state: RouterState, clock: ManualClock) -> None:
    clock.advance(3 * 86400 + 3725)

    [resource] = state.items("/system/resource")

    assert resource["uptime"] == "3d1h2m5s"
    assert resource["board-name"] == "CHR"
    assert ".id" not in resource


class TestDialIn:
    def test_a_valid_secret_connects(self, state: RouterState) -> None:
        state.seed(SECRETS, {"name": "alice", "password": "pw", "remote-address": "10.1.0.5"})

        assert state.connect("alice", "pw")

        [session] = state.sessions()
        assert session["name"] == "alice"
        assert session["address"] == "10.1.0.5"
        assert session["service"] == "pppoe"

    @pytest.mark.parametrize(
        ("attrs", "password", "service"),
        [
            ({"name": "alice", "password": "pw", "disabled": "yes"}, "pw", "pppoe"),
            ({"name": "alice", "password": "pw"}, "wrong", "pppoe"),
            ({"name": "alice", "password": "pw", "service": "l2tp"}, "pw", "pppoe"),
            ({"name": "someone-else", "password": "pw"}, "pw", "pppoe"),
        ],
    )
    def test_refusals(
        self, state: RouterState, attrs: dict[str, str], password: str, service: str
    ) -> None:
        state.seed(SECRETS, attrs)

        assert not state.connect("alice", password, service)
        assert state.sessions() == []

    def test_service_any_accepts_every_ppp_service(self, state: RouterState) -> None:
        state.seed(SECRETS, {"name": "alice", "password": "pw", "service": "any"})

        assert state.connect("alice", "pw", "sstp")

    def test_a_pinned_caller_id_must_match(self, state: RouterState) -> None:
        state.seed(SECRETS, {"name": "alice", "password": "pw", "caller-id": "AA:BB:CC:00:00:01"})

        assert not state.connect("alice", "pw", caller_id="AA:BB:CC:00:00:02")
        assert state.connect("alice", "pw", caller_id="AA:BB:CC:00:00:01")

    def test_disabling_removing_or_repasswording_keeps_a_live_session(
        self, state: RouterState
    ) -> None:
        alice = state.seed(SECRETS, {"name": "alice", "password": "pw"})
        state.connect("alice", "pw")

        state.execute(SECRETS, "disable", {".id": alice})
        state.execute(SECRETS, "set", {".id": alice, "password": "new"})
        still_up_after_changes = state.is_connected("alice")
        state.execute(SECRETS, "remove", {".id": alice})

        assert still_up_after_changes
        assert state.is_connected("alice")

    def test_a_disabled_secret_cannot_reconnect(self, state: RouterState) -> None:
        alice = state.seed(SECRETS, {"name": "alice", "password": "pw"})
        state.connect("alice", "pw")
        state.execute(SECRETS, "disable", {".id": alice})

        state.disconnect("alice")

        assert not state.connect("alice", "pw")

    def test_removing_the_active_entry_disconnects(self, state: RouterState) -> None:
        state.seed(SECRETS, {"name": "alice", "password": "pw"})
        state.connect("alice", "pw")
        [session] = state.sessions()

        state.execute("/ppp/active", "remove", {".id": session[".id"]})

        assert not state.is_connected("alice")

    def test_hotspot_login_checks_the_hotspot_user(self, state: RouterState) -> None:
        state.seed("/ip/hotspot/user", {"name": "v-1234", "password": "5678"})

        assert not state.connect("v-1234", "0000", service="hotspot")
        assert state.connect("v-1234", "5678", service="hotspot", address="10.5.50.77")

        [session] = state.sessions("hotspot")
        assert session["user"] == "v-1234"
        assert session["address"] == "10.5.50.77"
        assert state.sessions("pppoe") == []


class TestTraffic:
    def test_counters_grow_with_time_at_the_configured_rate(
        self, state: RouterState, clock: ManualClock
    ) -> None:
        state.seed(SECRETS, {"name": "alice", "password": "pw"})
        state.set_traffic_rate(1000, 250)
        state.connect("alice", "pw")

        clock.advance(90)
        [session] = state.sessions()

        assert (session["bytes-in"], session["bytes-out"]) == ("90000", "22500")
        assert session["uptime"] == "1m30s"

    def test_default_rate_is_zero(self, state: RouterState, clock: ManualClock) -> None:
        state.seed(SECRETS, {"name": "alice", "password": "pw"})
        state.connect("alice", "pw")
        clock.advance(60)

        assert state.sessions()[0]["bytes-in"] == "0"

    def test_a_rate_change_keeps_what_was_counted(
        self, state: RouterState, clock: ManualClock
    ) -> None:
        state.seed(SECRETS, {"name": "alice", "password": "pw"})
        state.set_traffic_rate(100)
        state.connect("alice", "pw")
        clock.advance(10)
        state.set_traffic_rate(1)
        clock.advance(10)

        assert state.sessions()[0]["bytes-in"] == "1010"

    def test_a_reconnect_starts_from_zero(self, state: RouterState, clock: ManualClock) -> None:
        state.seed(SECRETS, {"name": "alice", "password": "pw"})
        state.set_traffic_rate(100)
        state.connect("alice", "pw")
        clock.advance(10)

        state.connect("alice", "pw")

        [session] = state.sessions()
        assert session["bytes-in"] == "0"
        assert session["uptime"] == "0s"


def test_blocked_addresses(state: RouterState) -> None:
    blocked = state.seed(
        "/ip/firewall/address-list", {"list": "mteja-blocked", "address": "10.0.0.9"}
    )
    state.seed("/ip/firewall/address-list", {"list": "other", "address": "10.0.0.10"})

    assert state.is_blocked("10.0.0.9")
    assert not state.is_blocked("10.0.0.10")
    state.execute("/ip/firewall/address-list", "disable", {".id": blocked})
    assert not state.is_blocked("10.0.0.9")


# -- static-IP devices: an ARP entry while up, traffic on the simple queue of their address ----

QUEUES = "/queue/simple"


def test_a_static_device_up_has_a_complete_arp_entry_and_down_has_none() -> None:
    state = RouterState(clock=ManualClock())
    assert state.items("/ip/arp") == []
    state.device_up("10.10.0.5", mac_address="02:00:00:00:00:05")
    (entry,) = state.execute("/ip/arp", "print", {}, ["?address=10.10.0.5"]).rows
    assert entry["mac-address"] == "02:00:00:00:00:05"
    assert (entry["complete"], entry["dynamic"], entry["invalid"]) == ("true", "true", "false")
    assert entry["interface"] and entry[".id"].startswith("*")
    state.device_down("10.10.0.5")
    assert state.execute("/ip/arp", "print", {}, ["?address=10.10.0.5"]).rows == []
    # A device that stopped answering may leave an incomplete entry until it times out.
    state.device_up("10.10.0.5")
    state.device_down("10.10.0.5", forget=False)
    (failed,) = state.items("/ip/arp")
    assert failed["complete"] == "false" and "mac-address" not in failed


def test_a_simple_queue_counts_its_targets_traffic_as_upload_slash_download() -> None:
    clock = ManualClock()
    state = RouterState(clock=clock)
    queue_id = state.seed(QUEUES, {"name": "mteja-alice", "target": "10.10.0.5/32"})
    other_id = state.seed(QUEUES, {"name": "bob", "target": "10.10.0.6/32"})
    state.set_traffic_rate(10, 1000)  # the router receives 10/s from each device, sends 1000/s
    clock.advance(50)  # nobody up: nothing counted
    state.device_up("10.10.0.5")
    clock.advance(7)
    queues = {item[".id"]: item for item in state.items(QUEUES)}
    assert queues[queue_id]["bytes"] == "70/7000"  # the target's upload / download
    assert queues[other_id]["bytes"] == "0/0"
    state.device_down("10.10.0.5")
    clock.advance(100)
    state.device_up("10.10.0.5")
    clock.advance(1)
    (row,) = state.execute(QUEUES, "print", {".proplist": "bytes"}, [f"?.id={queue_id}"]).rows
    assert row == {"bytes": "80/8000"}


def test_a_queue_added_for_a_device_already_up_counts_from_zero() -> None:
    clock = ManualClock()
    state = RouterState(clock=clock)
    state.set_traffic_rate(0, 100)
    state.device_up("10.10.0.5")
    clock.advance(10)
    queue_id = state.seed(QUEUES, {"name": "mteja-alice", "target": "10.10.0.5/32"})
    clock.advance(3)
    (queue,) = state.items(QUEUES)
    assert queue["bytes"] == "0/300"
    state.execute(QUEUES, "remove", {".id": queue_id})
    state.seed(QUEUES, {"name": "mteja-alice", "target": "10.10.0.5/32"})
    clock.advance(1)
    (queue,) = state.items(QUEUES)
    assert queue["bytes"] == "0/100"


def test_a_write_listener_is_told_of_each_entry_as_it_now_is() -> None:
    state = RouterState()
    seen: list[tuple[str, list[dict[str, str]]]] = []
    state.on_write(lambda menu, items: seen.append((menu, items)))
    added = state.execute("/ppp/secret", "add", {"name": "jane", "password": "pw"}).ret
    state.execute("/ppp/secret", "print", {})  # a read tells nobody
    state.execute("/ppp/secret", "disable", {".id": added})
    state.execute("/ppp/secret", "remove", {".id": added})  # nothing left to show
    assert [(menu, [item["disabled"] for item in items]) for menu, items in seen] == [
        ("/ppp/secret", ["false"]),
        ("/ppp/secret", ["true"]),
    ]
    assert seen[0][1][0]["name"] == "jane"
