"""The converger: only differences are written, writes are verified, strays handled by scope."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import pytest

from routers import reconciler
from routers.desired import (
    ADDRESS_LIST,
    BLOCKED_LIST,
    HOTSPOT_PROFILE,
    HOTSPOT_USER,
    PPP_ACTIVE,
    PPP_PROFILE,
    PPP_SECRET,
    QUEUE,
    CustomerState,
    Entry,
    RemovedLogin,
    RouterDesired,
)
from routers.reconciler import Converger
from sim.routeros.memory_gateway import InMemoryRouterGateway

PROFILE_10M = Entry(PPP_PROFILE, {"name": "mteja-1-home-10m", "rate-limit": "5M/10M"})
PROFILE_20M = Entry(PPP_PROFILE, {"name": "mteja-2-home-20m", "rate-limit": "10M/20M"})


def pppoe(
    customer_id: int,
    username: str,
    *,
    allowed: bool = True,
    profile: str = "mteja-1-home-10m",
    password: str = "secret1",
    address: str | None = None,
) -> CustomerState:
    account = f"MTJ-{customer_id:07d}"
    attrs = {
        "name": username,
        "password": password,
        "service": "pppoe",
        "profile": profile,
        "disabled": "false" if allowed else "true",
        "comment": f"mteja:{account}",
    }
    if address:
        attrs["remote-address"] = address
    return CustomerState(
        customer_id, account, username, "pppoe", allowed, 1, (Entry(PPP_SECRET, attrs),)
    )


def hotspot(customer_id: int, username: str, *, allowed: bool = True) -> CustomerState:
    account = f"MTJ-{customer_id:07d}"
    attrs = {
        "name": username,
        "password": "pw",
        "profile": "mteja-3-daily",
        "disabled": "false" if allowed else "true",
        "comment": f"mteja:{account}",
    }
    return CustomerState(
        customer_id, account, username, "hotspot", allowed, 1, (Entry(HOTSPOT_USER, attrs),)
    )


def static(customer_id: int, username: str, address: str, *, allowed: bool = True) -> CustomerState:
    account = f"MTJ-{customer_id:07d}"
    comment = f"mteja:{account}"
    entries = [
        Entry(
            QUEUE,
            {
                "name": f"mteja-{username}",
                "target": f"{address}/32",
                "max-limit": "50M/50M",
                "disabled": "false",
                "comment": comment,
            },
        )
    ]
    if not allowed:
        entries.append(
            Entry(ADDRESS_LIST, {"list": BLOCKED_LIST, "address": address, "comment": comment})
        )
    return CustomerState(customer_id, account, username, "static", allowed, 1, tuple(entries))


@pytest.fixture
def gateway() -> InMemoryRouterGateway:
    return InMemoryRouterGateway()


def _secret(gateway: InMemoryRouterGateway, name: str) -> dict[str, str] | None:
    found = gateway.print(PPP_SECRET, where={"name": name})
    return found[0] if found else None


def test_empty_router_gets_profiles_and_secrets_then_nothing_more(gateway):
    desired = RouterDesired(
        profiles=[PROFILE_10M], customers=[pppoe(1, "amina"), pppoe(2, "baraka")]
    )
    first = Converger(gateway).converge(desired, full=True)
    assert first.drift == 3 and first.writes == 3
    assert first.verified == {1, 2} and not first.failed
    secret = _secret(gateway, "amina")
    assert secret is not None
    assert secret["profile"] == "mteja-1-home-10m" and secret["disabled"] == "false"
    assert secret["comment"] == "mteja:MTJ-0000001"
    gateway.writes.clear()
    second = Converger(gateway).converge(desired, full=True)
    assert second.drift == 0 and second.writes == 0 and gateway.writes == []


def test_only_changed_properties_are_written(gateway):
    Converger(gateway).converge(RouterDesired([PROFILE_10M], [pppoe(1, "amina")]), full=True)
    gateway.writes.clear()
    blocked = RouterDesired([PROFILE_10M], [pppoe(1, "amina", allowed=False)])
    report = Converger(gateway).converge(blocked, full=False)
    assert report.writes == 1
    (write,) = gateway.writes
    assert write.verb == "set" and dict(write.attrs) == {"disabled": "true"}


def test_blocking_drops_live_session_and_allowing_keeps_it(gateway):
    Converger(gateway).converge(RouterDesired([PROFILE_10M], [pppoe(1, "amina")]), full=True)
    assert gateway.state.connect("amina", "secret1", "pppoe")
    Converger(gateway).converge(RouterDesired([PROFILE_10M], [pppoe(1, "amina")]), full=False)
    assert gateway.state.is_connected("amina")
    report = Converger(gateway).converge(
        RouterDesired([PROFILE_10M], [pppoe(1, "amina", allowed=False)]), full=False
    )
    assert report.sessions_dropped == 1
    assert not gateway.state.is_connected("amina")
    assert not gateway.state.connect("amina", "secret1", "pppoe")


def test_plan_change_drops_session_so_the_new_speed_applies(gateway):
    desired = RouterDesired([PROFILE_10M, PROFILE_20M], [pppoe(1, "amina")])
    Converger(gateway).converge(desired, full=True)
    gateway.state.connect("amina", "secret1", "pppoe")
    faster = RouterDesired(
        [PROFILE_10M, PROFILE_20M], [pppoe(1, "amina", profile=PROFILE_20M.attrs["name"])]
    )
    report = Converger(gateway).converge(faster, full=False)
    assert report.sessions_dropped == 1
    assert _secret(gateway, "amina")["profile"] == "mteja-2-home-20m"  # type: ignore[index]


def test_password_change_keeps_the_session(gateway):
    Converger(gateway).converge(RouterDesired([PROFILE_10M], [pppoe(1, "amina")]), full=True)
    gateway.state.connect("amina", "secret1", "pppoe")
    report = Converger(gateway).converge(
        RouterDesired([PROFILE_10M], [pppoe(1, "amina", password="new-one")]), full=False
    )
    assert report.writes == 1 and report.sessions_dropped == 0
    assert gateway.state.is_connected("amina")


def test_unmanaged_entries_survive_a_full_reconcile_and_managed_strays_go(gateway):
    gateway.state.seed(PPP_SECRET, {"name": "office", "password": "x", "profile": "default"})
    gateway.state.seed(PPP_PROFILE, {"name": "staff-profile", "rate-limit": "1M/1M"})
    gateway.state.seed(QUEUE, {"name": "uplink", "target": "10.0.0.0/24", "max-limit": "1G/1G"})
    gateway.state.seed(
        PPP_SECRET, {"name": "gone", "password": "x", "comment": "mteja:MTJ-GONE000"}
    )
    gateway.state.seed(PPP_PROFILE, {"name": "mteja-9-retired", "rate-limit": "1M/1M"})
    before = {
        menu: gateway.print(menu) for menu in (PPP_SECRET, PPP_PROFILE, QUEUE, HOTSPOT_PROFILE)
    }
    report = Converger(gateway).converge(
        RouterDesired([PROFILE_10M], [pppoe(1, "amina")]), full=True
    )
    names = {item["name"] for item in gateway.print(PPP_SECRET)}
    assert names == {"office", "amina"}
    profiles = {item["name"] for item in gateway.print(PPP_PROFILE)}
    assert "staff-profile" in profiles and "mteja-9-retired" not in profiles
    for menu, items in before.items():
        for item in items:
            if item.get("comment", "").startswith("mteja:") or item["name"].startswith("mteja-"):
                continue
            assert item in gateway.print(menu), (menu, item)
    assert "extra /ppp/secret gone" in report.drift_details


def test_targeted_sync_never_removes_other_customers_entries(gateway):
    Converger(gateway).converge(
        RouterDesired([PROFILE_10M], [pppoe(1, "amina"), pppoe(2, "baraka")]), full=True
    )
    report = Converger(gateway).converge(
        RouterDesired([PROFILE_10M], [pppoe(1, "amina")]), full=False
    )
    assert report.writes == 0
    assert _secret(gateway, "baraka") is not None


def test_same_name_unmanaged_entry_is_a_conflict_left_untouched(gateway):
    gateway.state.seed(PPP_SECRET, {"name": "amina", "password": "by-hand"})
    report = Converger(gateway).converge(
        RouterDesired([PROFILE_10M], [pppoe(1, "amina")]), full=True
    )
    assert 1 in report.failed and "not managed by mteja" in report.failed[1]
    assert 1 not in report.verified
    assert _secret(gateway, "amina")["password"] == "by-hand"  # type: ignore[index]


def test_renamed_login_is_found_by_its_account_tag_and_removed(gateway):
    Converger(gateway).converge(RouterDesired([PROFILE_10M], [pppoe(1, "amina")]), full=True)
    report = Converger(gateway).converge(
        RouterDesired([PROFILE_10M], [pppoe(1, "amina.w")]), full=False
    )
    assert report.verified == {1}
    assert _secret(gateway, "amina") is None
    assert _secret(gateway, "amina.w") is not None


def test_removed_login_is_taken_off(gateway):
    Converger(gateway).converge(RouterDesired([PROFILE_10M], [pppoe(1, "amina")]), full=True)
    gateway.state.connect("amina", "secret1", "pppoe")
    removed = RouterDesired(removed=[RemovedLogin("MTJ-0000001", "amina", "pppoe")])
    report = Converger(gateway).converge(removed, full=False)
    assert _secret(gateway, "amina") is None
    assert report.sessions_dropped == 1


def test_static_customer_is_blocked_by_address_list_and_unblocked(gateway):
    Converger(gateway).converge(
        RouterDesired([], [static(1, "shop", "10.9.0.5", allowed=False)]), full=False
    )
    listed = gateway.print(ADDRESS_LIST, where={"list": "mteja-blocked"})
    assert [item["address"] for item in listed] == ["10.9.0.5"]
    queue = gateway.print(QUEUE, where={"name": "mteja-shop"})[0]
    assert queue["target"].startswith("10.9.0.5")
    Converger(gateway).converge(RouterDesired([], [static(1, "shop", "10.9.0.5")]), full=False)
    assert gateway.print(ADDRESS_LIST, where={"list": "mteja-blocked"}) == []


def test_hotspot_user_follows_the_same_rules(gateway):
    profile = Entry(HOTSPOT_PROFILE, {"name": "mteja-3-daily", "rate-limit": "2M/5M"})
    Converger(gateway).converge(RouterDesired([profile], [hotspot(1, "guest1")]), full=True)
    assert gateway.state.connect("guest1", "pw", "hotspot")
    report = Converger(gateway).converge(
        RouterDesired([profile], [hotspot(1, "guest1", allowed=False)]), full=False
    )
    assert report.sessions_dropped == 1
    assert not gateway.state.connect("guest1", "pw", "hotspot")


class _IgnoringGateway(InMemoryRouterGateway):
    """Acknowledges the first ``ignore`` writes without applying them, as real routers do."""

    def __init__(self, ignore: int) -> None:
        super().__init__()
        self.ignore = ignore

    def set(self, menu: str, item_id: str, attrs: Mapping[str, str]) -> None:
        if self.ignore:
            self.ignore -= 1
            return
        super().set(menu, item_id, attrs)

    def add(self, menu: str, attrs: Mapping[str, str]) -> str:
        if self.ignore:
            self.ignore -= 1
            return "*FFFF"
        return super().add(menu, attrs)

    def remove(self, menu: str, item_ids: Sequence[str]) -> None:
        if self.ignore:
            self.ignore -= 1
            return
        super().remove(menu, item_ids)


def test_acknowledged_but_unapplied_write_is_caught_and_retried():
    gateway = _IgnoringGateway(ignore=1)
    report = Converger(gateway).converge(
        RouterDesired([PROFILE_10M], [pppoe(1, "amina")]), full=True
    )
    assert report.rounds == 2 and report.verified == {1}
    assert _secret(gateway, "amina") is not None


def test_writes_never_applied_fail_the_customer_after_the_last_round():
    gateway = _IgnoringGateway(ignore=100)
    report = Converger(gateway, max_rounds=3).converge(
        RouterDesired([], [pppoe(1, "amina")]), full=False
    )
    assert report.rounds == 3
    assert "did not apply" in report.failed[1]
    assert report.verified == set()


def test_many_customers_are_read_in_bulk_not_one_by_one(gateway):
    customers = [pppoe(index, f"user{index}") for index in range(1, 201)]
    Converger(gateway).converge(RouterDesired([PROFILE_10M], customers), full=True)
    gateway.reads = 0
    blocked = [pppoe(index, f"user{index}", allowed=False) for index in range(1, 201)]
    report = Converger(gateway).converge(RouterDesired([PROFILE_10M], blocked), full=False)
    assert report.writes == 200
    assert gateway.reads <= 10
    assert all(item["disabled"] == "true" for item in gateway.print(PPP_SECRET))
    assert gateway.print(PPP_ACTIVE) == []


def test_each_write_is_one_log_line_without_the_password(gateway, caplog):
    with caplog.at_level(logging.INFO, logger="routers.reconciler"):
        converger = Converger(gateway, name="demo-nairobi")
        converger.converge(RouterDesired([PROFILE_10M], [pppoe(1, "amina")]), full=True)
        blocked = RouterDesired([PROFILE_10M], [pppoe(1, "amina", allowed=False)])
        converger.converge(blocked, full=False)
    lines = [record.getMessage() for record in caplog.records]
    assert any(
        line.startswith("router demo-nairobi: added /ppp/secret amina (") for line in lines
    ), lines
    assert "router demo-nairobi: changed /ppp/secret amina (disabled=true)" in lines
    assert not any("secret1" in line for line in lines)  # amina's password


# -- writes in chunks (issue 18: an empty router's adds, all at once, held hundreds of MB) -------


class CountingGateway(InMemoryRouterGateway):
    """Records the size of each ``write_many`` call."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[int] = []

    def write_many(self, writes):
        self.batches.append(len(writes))
        return super().write_many(writes)


def test_adds_and_sets_go_in_chunks_and_all_apply(monkeypatch):
    monkeypatch.setattr(reconciler, "WRITE_CHUNK", 2)
    gateway = CountingGateway()
    customers = [pppoe(number, f"user{number}") for number in range(1, 6)]
    first = Converger(gateway).converge(
        RouterDesired(profiles=[PROFILE_10M], customers=customers), full=True
    )
    # The profile alone, then five secrets two by two (and the removals' call, with none).
    assert gateway.batches == [1, 2, 2, 1, 0]
    assert first.writes == 6 and first.verified == {1, 2, 3, 4, 5} and not first.failed
    gateway.batches.clear()
    moved = [pppoe(number, f"user{number}", profile="mteja-2-home-20m") for number in range(1, 5)]
    second = Converger(gateway).converge(
        RouterDesired(profiles=[PROFILE_10M, PROFILE_20M], customers=[*moved, customers[4]]),
        full=True,
    )
    # The new profile, then four sets exactly two by two (and no removals).
    assert gateway.batches == [1, 2, 2, 0]
    assert second.writes == 5 and not second.failed
    for number in range(1, 5):
        secret = _secret(gateway, f"user{number}")
        assert secret is not None and secret["profile"] == "mteja-2-home-20m"


def test_a_report_counts_all_drift_but_keeps_only_the_first_lines_of_it(gateway):
    customers = [pppoe(n, f"user{n}") for n in range(1, reconciler.DRIFT_DETAILS_KEPT + 51)]

    report = Converger(gateway).converge(RouterDesired([PROFILE_10M], customers), full=True)

    assert report.drift == len(customers) + 1  # the profile too
    assert report.drift_added == len(customers) + 1
    assert len(report.drift_details) == reconciler.DRIFT_DETAILS_KEPT
    assert report.drift_details[0].startswith("missing /ppp/profile")
    assert len(gateway.print(PPP_SECRET)) >= len(customers)
    assert report.failed == {}
