"""Usage sampling: counters become daily and per-period totals, never negative nor doubled.

The router is the simulator's in-memory state (its traffic model gives exact counters on a manual
clock) behind ``InMemoryRouterGateway``; core runs on the in-memory database with a FrozenClock.
Both clocks are moved together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from core.clock import FrozenClock
from core.models import Customer, DailyUsage, Router, UsagePeriod, UsageReading
from core.unit_of_work import CoreServices
from core.usecases import usage as usage_module
from core.usecases.network import RouterSpec, add_router
from core.usecases.usage import SessionReading, UsageSample, record_usage
from routers.desired import queue_name
from routers.usage import UsageSampler, parse_duration, read_sessions
from sim.routeros.clock import ManualClock
from sim.routeros.memory_gateway import InMemoryRouterGateway
from sim.routeros.state import RouterState

MB = 1_000_000


@dataclass
class Router1:
    """The ISP's router ``core-1`` as a simulated router, and a sampler reading it."""

    services: CoreServices
    clock: FrozenClock
    sim_clock: ManualClock
    state: RouterState
    gateway: InMemoryRouterGateway
    sampler: UsageSampler
    router_id: int
    passwords: dict[str, str] = field(default_factory=dict)

    def tick(self, seconds: float) -> None:
        self.clock.advance(timedelta(seconds=seconds))
        self.sim_clock.advance(seconds)

    def sample(self) -> UsageSample:
        return self.sampler.sample(self.router_id).sample

    def add_login(self, customer_id: int, menu: str = "/ppp/secret") -> str:
        """Put the customer's login on the router (as the converger would) and return it."""
        with self.services.unit_of_work() as uow:
            customer = uow.session.get(Customer, customer_id)
            assert customer is not None
            username = customer.username
        self.state.seed(menu, {"name": username, "password": "pw"})
        return username

    def dial(self, username: str, service: str = "pppoe") -> None:
        assert self.state.connect(username, "pw", service)


@pytest.fixture
def router(services: CoreServices, clock: FrozenClock, isp) -> Router1:
    sim_clock = ManualClock()
    state = RouterState(identity="core-1", clock=sim_clock)
    gateway = InMemoryRouterGateway(state)
    with services.unit_of_work() as uow:
        router_id = uow.session.scalars(select(Router.id).where(Router.name == "core-1")).one()
    sampler = UsageSampler(services, lambda login: gateway)
    return Router1(services, clock, sim_clock, state, gateway, sampler, router_id)


def daily(services: CoreServices, customer_id: int) -> dict[date, tuple[int, int]]:
    with services.unit_of_work() as uow:
        rows = uow.session.scalars(select(DailyUsage).where(DailyUsage.customer_id == customer_id))
        return {row.day: (row.download_bytes, row.upload_bytes) for row in rows}


def period(services: CoreServices, customer_id: int) -> tuple[int, int]:
    with services.unit_of_work() as uow:
        row = uow.session.get(UsagePeriod, customer_id)
        return (row.download_bytes, row.upload_bytes) if row else (0, 0)


def total(services: CoreServices, customer_id: int) -> tuple[int, int]:
    days = daily(services, customer_id).values()
    return sum(down for down, _ in days), sum(up for _, up in days)


def test_one_sample_reads_the_router_three_times_whatever_the_number_of_customers(
    router: Router1, make_customer
) -> None:
    for number in range(5):
        customer_id = make_customer(paid=1500, phone=f"071234560{number}")
        router.dial(router.add_login(customer_id))
    router.gateway.reads = 0
    sample = router.sample()
    assert (sample.sessions, sample.customers) == (5, 5)
    # /ppp/active, /ip/hotspot/active and /queue/simple, once each
    assert router.gateway.reads == 3


def test_the_first_sample_of_a_router_only_notes_where_the_counters_stand(
    router: Router1, make_customer
) -> None:
    customer_id = make_customer(paid=1500)
    router.state.set_traffic_rate(100_000, 1_000_000)  # router in (upload), out (download)
    router.dial(router.add_login(customer_id))
    router.tick(600)
    first = router.sample()
    assert first.baseline and total(router.services, customer_id) == (0, 0)
    router.tick(300)
    router.sample()
    assert total(router.services, customer_id) == (300 * MB, 30 * MB)
    assert period(router.services, customer_id) == (300 * MB, 30 * MB)


def test_samples_add_only_growth_and_a_reconnect_counts_from_zero(
    router: Router1, make_customer
) -> None:
    customer_id = make_customer(paid=1500)
    router.state.set_traffic_rate(0, MB)
    username = router.add_login(customer_id)
    router.sample()  # the router's first sample: nothing online yet
    router.dial(username)
    router.tick(300)
    router.sample()  # a session mteja never saw: all of its 300 MB is new
    router.tick(300)
    router.sample()
    assert total(router.services, customer_id) == (600 * MB, 0)
    # Online 100 s more, then a reconnect: the new session starts at zero, and is only 50 s old
    # at the next sample, far below the last reading (600 MB). The 100 s before the drop were
    # never sampled: lost, never guessed.
    router.tick(100)
    router.state.disconnect(username)
    router.dial(username)
    router.tick(50)
    sample = router.sample()
    assert (sample.new_sessions, sample.counter_resets) == (1, 0)
    assert total(router.services, customer_id) == (650 * MB, 0)
    # The same session again: only growth.
    router.tick(10)
    router.sample()
    assert total(router.services, customer_id) == (660 * MB, 0)
    assert period(router.services, customer_id) == (660 * MB, 0)


def test_a_session_that_ended_is_marked_ended_and_counts_nothing_more(
    router: Router1, make_customer
) -> None:
    customer_id = make_customer(paid=1500)
    router.state.set_traffic_rate(0, MB)
    username = router.add_login(customer_id)
    router.sample()
    router.dial(username)
    router.tick(60)
    router.sample()
    router.state.disconnect(username)
    router.tick(300)
    sample = router.sample()
    assert sample.ended_sessions == 1
    router.tick(300)
    router.sample()
    assert total(router.services, customer_id) == (60 * MB, 0)
    with router.services.unit_of_work() as uow:
        reading = uow.session.get(UsageReading, customer_id)
        assert reading is not None and reading.ended_at is not None


def test_hotspot_sessions_are_counted_and_other_logins_ignored(
    router: Router1, make_customer
) -> None:
    customer_id = make_customer(
        paid=50, connection_type="hotspot", plan="Daily 5M", phone="0712000111"
    )
    router.state.set_traffic_rate(10, 20)
    username = router.add_login(customer_id, "/ip/hotspot/user")
    router.state.seed("/ppp/secret", {"name": "operator-test", "password": "pw"})
    router.sample()
    router.dial(username, "hotspot")
    assert router.state.connect("operator-test", "pw")
    router.tick(100)
    sample = router.sample()
    assert (sample.sessions, sample.customers) == (2, 1)
    assert total(router.services, customer_id) == (2000, 1000)


# -- record_usage with readings written out by hand ---------------------------------------------


def reading(
    login: str, key: str, uptime: int, down: int, up: int, kind: str = "pppoe"
) -> SessionReading:
    return SessionReading(login, kind, key, "10.99.0.7", uptime, down, up)


@pytest.fixture
def record(services: CoreServices, router: Router1):
    def run(at: datetime, *readings: SessionReading) -> UsageSample:
        with services.unit_of_work() as uow:
            sample = record_usage(uow, router.router_id, at, list(readings))
            uow.commit()
            return sample

    return run


T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def test_a_counter_below_its_last_reading_counts_from_zero(
    services, record, make_customer, view
) -> None:
    customer = view(make_customer(paid=1500))
    record(T0)
    record(T0 + timedelta(minutes=5), reading(customer.username, "*A", 300, 5000, 700))
    # Same session (same id, uptime grew) but the download counter went back to 800: it was
    # reset, and the 800 are new. The upload counter grew normally.
    sample = record(T0 + timedelta(minutes=10), reading(customer.username, "*A", 600, 800, 900))
    assert sample.counter_resets == 1
    assert total(services, customer.id) == (5000 + 800, 700 + 200)


def test_the_same_id_with_a_lower_uptime_is_a_new_session(
    services, record, make_customer, view
) -> None:
    customer = view(make_customer(paid=1500))
    record(T0)
    record(T0 + timedelta(minutes=5), reading(customer.username, "*1", 300, 9000, 900))
    # The router rebooted and gave the id *1 to the customer's new session.
    sample = record(T0 + timedelta(minutes=10), reading(customer.username, "*1", 120, 10_000, 50))
    assert sample.new_sessions == 1
    assert total(services, customer.id) == (9000 + 10_000, 900 + 50)


def test_a_sample_older_than_the_last_one_recorded_is_dropped(
    services, record, make_customer, view
) -> None:
    customer = view(make_customer(paid=1500))
    record(T0)
    record(T0 + timedelta(minutes=10), reading(customer.username, "*1", 600, 6000, 600))
    # A slower worker's read from before that one: counting it would see a "reset".
    late = record(T0 + timedelta(minutes=9), reading(customer.username, "*1", 540, 5400, 540))
    assert late.stale
    assert total(services, customer.id) == (6000, 600)
    again = record(T0 + timedelta(minutes=10), reading(customer.username, "*1", 600, 6000, 600))
    assert again.stale


def test_daily_totals_are_per_local_day_across_midnight(
    services, record, make_customer, view
) -> None:
    customer = view(make_customer(paid=1500))
    # 23:49 in Nairobi (UTC+3) is 20:49 UTC: from 21:00 UTC the local date is a day ahead.
    before_midnight = datetime(2026, 11, 22, 20, 49, tzinfo=UTC)
    record(before_midnight, reading(customer.username, "*1", 60, 100, 10))  # baseline
    record(before_midnight + timedelta(minutes=5), reading(customer.username, "*1", 360, 400, 40))
    record(before_midnight + timedelta(minutes=10), reading(customer.username, "*1", 660, 900, 90))
    record(
        before_midnight + timedelta(minutes=15), reading(customer.username, "*1", 960, 1500, 150)
    )
    assert daily(services, customer.id) == {
        date(2026, 11, 22): (300 + 500, 30 + 50),
        date(2026, 11, 23): (600, 60),
    }


def test_a_customer_moved_to_another_router_is_read_there_with_one_reading(
    services, record, make_customer, view, staff
) -> None:
    customer = view(make_customer(paid=1500))
    record(T0)
    record(T0 + timedelta(minutes=5), reading(customer.username, "*1", 300, 300, 30))
    with services.unit_of_work() as uow:
        other = add_router(
            uow, staff, RouterSpec("core-2", "127.0.0.2", 8728, "admin", "pw", plain_api=True)
        )
        uow.session.get(Customer, customer.id).router_id = other.id
        uow.commit()
        other_id = other.id
    with services.unit_of_work() as uow:
        record_usage(uow, other_id, T0 + timedelta(minutes=6), [])  # core-2's first sample
        uow.commit()
    with services.unit_of_work() as uow:
        moved = reading(customer.username, "*9", 200, 2000, 20)
        record_usage(uow, other_id, T0 + timedelta(minutes=10), [moved])
        uow.commit()
    assert total(services, customer.id) == (2300, 50)
    with services.unit_of_work() as uow:
        rows = list(uow.session.scalars(select(UsageReading)))
        assert [(row.customer_id, row.router_id) for row in rows] == [(customer.id, other_id)]


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("0s", 0),
        ("45s", 45),
        ("3h4m", 11_040),
        ("1w2d3h4m5s", 788_645),
        ("02:03:04", 7384),
        ("1d02:03:04", 93_784),
        ("2w3d04:05:06", 1_483_506),
        ("", None),
        ("soon", None),
        ("1h2x", None),
    ],
)
def test_router_durations_are_read_in_every_spelling(text: str, seconds: int | None) -> None:
    assert parse_duration(text) == seconds


def test_sessions_are_read_in_the_customers_terms(router: Router1, make_customer) -> None:
    customer_id = make_customer(paid=1500)
    router.state.set_traffic_rate(10, 1000)  # the router receives 10/s, sends 1000/s
    router.dial(router.add_login(customer_id))
    router.tick(7)
    (session,) = read_sessions(router.gateway)
    assert (session.download_bytes, session.upload_bytes, session.uptime_seconds) == (7000, 70, 7)
    assert session.session_key.startswith("*")


class RealRouterShape:
    """The in-memory router printing ``/ppp/active`` as a real RouterOS does: without byte
    counters, which live on each session's dynamic interface."""

    def __init__(self, inner: InMemoryRouterGateway, *, drop_interfaces: bool = False) -> None:
        self.inner = inner
        self.drop_interfaces = drop_interfaces
        self.menus: list[str] = []

    def print(self, menu, proplist=None, where=None):
        self.menus.append(menu)
        rows = self.inner.print(menu, proplist, where)
        if menu == "/ppp/active":
            rows = [{k: v for k, v in row.items() if not k.startswith("bytes-")} for row in rows]
        if menu == "/interface" and self.drop_interfaces:
            return []
        return rows

    def close(self) -> None:
        pass


def test_ppp_counters_come_from_the_sessions_interfaces_on_a_real_router(
    router: Router1, make_customer
) -> None:
    customer_id = make_customer(paid=1500)
    router.state.set_traffic_rate(10, 1000)
    router.dial(router.add_login(customer_id))
    router.state.seed("/ip/hotspot/user", {"name": "guest", "password": "pw"})
    assert router.state.connect("guest", "pw", "hotspot")
    router.tick(7)
    shaped = RealRouterShape(router.gateway)
    ppp, hotspot = read_sessions(shaped)  # type: ignore[arg-type]
    assert shaped.menus == ["/ppp/active", "/interface", "/ip/hotspot/active", "/queue/simple"]
    assert (ppp.download_bytes, ppp.upload_bytes) == (7000, 70)
    assert (hotspot.login, hotspot.download_bytes) == ("guest", 7000)


def test_a_session_without_counters_waits_for_the_next_sample(
    router: Router1, make_customer
) -> None:
    customer_id = make_customer(paid=1500)
    router.state.set_traffic_rate(0, MB)
    router.sample()
    router.dial(router.add_login(customer_id))
    router.tick(60)
    router.sample()
    shaped = RealRouterShape(router.gateway, drop_interfaces=True)
    router.sampler.gateways = lambda login: shaped  # type: ignore[assignment]
    router.tick(60)
    router.sample()  # the interface vanished between the prints: nothing read, nothing counted
    assert total(router.services, customer_id) == (60 * MB, 0)
    shaped.drop_interfaces = False
    router.tick(60)
    router.sample()  # the same session again: only its growth since the last reading
    assert total(router.services, customer_id) == (180 * MB, 0)


def test_the_simulator_prints_ppp_interfaces_with_their_counters(
    router: Router1, make_customer
) -> None:
    customer_id = make_customer(paid=1500)
    router.state.set_traffic_rate(5, 50)
    username = router.add_login(customer_id)
    router.dial(username)
    router.tick(10)
    (interface,) = router.gateway.print("/interface", None, {"type": "pppoe-in"})
    assert interface["name"] == f"<pppoe-{username}>"
    assert (interface["rx-byte"], interface["tx-byte"]) == ("50", "500")
    router.state.disconnect(username)
    assert router.gateway.print("/interface") == []


# -- static-IP customers: their simple queue's counters -----------------------------------------


def put_queue(router: Router1, customer_id: int) -> tuple[str, str]:
    """Put the customer's simple queue on the router as the converger would; returns the queue's
    id and the customer's address."""
    with router.services.unit_of_work() as uow:
        customer = uow.session.get(Customer, customer_id)
        assert customer is not None and customer.ip_address
        attrs = {
            "name": queue_name(customer.username),
            "target": f"{customer.ip_address}/32",
            "max-limit": "50M/50M",
            "comment": f"mteja:{customer.account_number}",
        }
        address = customer.ip_address
    return router.state.seed("/queue/simple", attrs), address


def static_customer(make_customer, isp, phone: str = "0712000222") -> int:
    return make_customer(paid=6000, connection_type="static", plan=isp.static_plan, phone=phone)


def test_a_static_customer_is_metered_on_its_simple_queue(
    router: Router1, make_customer, isp
) -> None:
    customer_id = static_customer(make_customer, isp)
    _, address = put_queue(router, customer_id)
    router.state.set_traffic_rate(10, 1000)  # the router receives 10/s, sends 1000/s
    router.sample()  # the router's first sample
    router.state.device_up(address)
    router.tick(100)
    router.gateway.reads = 0
    first = router.sample()
    assert router.gateway.reads == 3  # /ppp/active, /ip/hotspot/active, /queue/simple
    assert (first.sessions, first.customers, first.new_sessions) == (1, 1, 0)
    router.tick(100)
    router.sample()
    # The queue's bytes are "upload/download" as its target (the customer) sees them.
    (queue,) = router.gateway.print("/queue/simple", ["bytes"])
    assert queue["bytes"] == "2000/200000"
    assert total(router.services, customer_id) == (200_000, 2000)
    assert period(router.services, customer_id) == (200_000, 2000)
    # The device goes away: the queue stops counting and nothing more is added.
    router.state.device_down(address)
    router.tick(300)
    router.sample()
    assert total(router.services, customer_id) == (200_000, 2000)


def test_a_recreated_queue_counts_from_zero_and_nothing_twice(
    router: Router1, make_customer, isp
) -> None:
    customer_id = static_customer(make_customer, isp)
    queue_id, address = put_queue(router, customer_id)
    router.state.set_traffic_rate(0, 1000)
    router.sample()
    router.state.device_up(address)
    router.tick(100)
    router.sample()
    assert total(router.services, customer_id) == (100_000, 0)
    # Someone deletes the queue in WinBox; the reconcile puts it back (a new id, counters at 0).
    router.gateway.remove("/queue/simple", [queue_id])
    new_id, _ = put_queue(router, customer_id)
    assert new_id != queue_id
    router.tick(30)
    sample = router.sample()
    assert sample.new_sessions == 1
    assert total(router.services, customer_id) == (130_000, 0)
    router.tick(10)
    router.sample()
    assert total(router.services, customer_id) == (140_000, 0)


def test_queue_counters_reset_under_the_same_id_count_from_zero(
    services, record, make_customer, isp, view
) -> None:
    customer = view(static_customer(make_customer, isp))
    account = customer.account_number
    record(T0)
    record(T0 + timedelta(minutes=5), reading(account, "*2", 0, 5000, 700, "static"))
    record(T0 + timedelta(minutes=10), reading(account, "*2", 0, 6000, 900, "static"))
    # The router rebooted (or someone reset the counters): the queue keeps its id, its bytes
    # start again. What it shows now is new; the 6000/900 already counted are not counted again.
    sample = record(T0 + timedelta(minutes=15), reading(account, "*2", 0, 400, 40, "static"))
    assert sample.counter_resets == 1
    assert total(services, customer.id) == (6000 + 400, 900 + 40)


def test_queues_are_matched_by_account_number_and_others_ignored(
    router: Router1, make_customer, isp
) -> None:
    customer_id = static_customer(make_customer, isp)
    _, address = put_queue(router, customer_id)
    # The operator's own queue on the same address, and a queue named like ours by hand.
    router.state.seed("/queue/simple", {"name": "uplink", "target": f"{address}/32"})
    router.state.seed(
        "/queue/simple", {"name": "mteja-someone", "target": "10.10.0.6/32", "comment": "x"}
    )
    router.state.set_traffic_rate(0, 1000)
    router.sample()
    router.state.device_up(address)
    router.tick(10)
    sample = router.sample()
    assert (sample.sessions, sample.customers) == (1, 1)
    assert total(router.services, customer_id) == (10_000, 0)


def test_static_readings_are_in_the_customers_terms(
    router: Router1, make_customer, isp, view
) -> None:
    customer = view(static_customer(make_customer, isp))
    queue_id, address = put_queue(router, customer.id)
    router.state.set_traffic_rate(10, 1000)
    router.state.device_up(address)
    router.tick(7)
    (session,) = read_sessions(router.gateway)
    assert session == SessionReading(
        login=customer.account_number,
        connection_type="static",
        session_key=queue_id,
        address=address,
        uptime_seconds=0,
        download_bytes=7000,
        upload_bytes=70,
    )


# -- rows written a batch at a time (issue 18: a sample of 100,000 sessions held every row) -----


@pytest.mark.parametrize("sessions", [4, 5])
def test_a_sample_larger_than_a_batch_records_every_session(
    router: Router1, make_customer, monkeypatch, sessions: int
) -> None:
    """Exactly two batches' worth of sessions, and one more than that: all written."""
    monkeypatch.setattr(usage_module, "UPSERT_BATCH", 2)
    router.state.set_traffic_rate(1_000, 10_000)
    customers = []
    for number in range(sessions):
        customer_id = make_customer(paid=1500, phone=f"071234561{number}")
        router.dial(router.add_login(customer_id))
        customers.append(customer_id)
    assert router.sample().baseline
    for seconds in (100, 200):
        router.tick(100)
        assert router.sample().customers == sessions
        for customer_id in customers:
            assert total(router.services, customer_id) == (seconds * 10_000, seconds * 1_000)
            assert period(router.services, customer_id) == (seconds * 10_000, seconds * 1_000)
