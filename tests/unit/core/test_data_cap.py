"""Data caps: one SMS at 80% per period, the throttled profile (or a block) at 100% until the
next renewal, and renewal starting the count again.

Usage comes from real samples of the simulator's in-memory router, and the router is converged
by the real RouterSync through the in-memory gateway, so the throttle is checked where it acts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select

from core.clock import FrozenClock
from core.models import AuditEvent, Customer, Router, SmsMessage, UsagePeriod
from core.queries import customer_card
from core.unit_of_work import CoreServices
from core.usecases.billing import IncomingPayment, record_payment
from core.usecases.plans import PlanSpec, add_plan
from core.usecases.service import PlanChangeTiming, change_plan
from core.usecases.usage import CapOutcome, enforce_data_cap
from routers.sync import RouterSync
from routers.usage import SampleResult, UsageSampler
from sim.routeros.clock import ManualClock
from sim.routeros.memory_gateway import InMemoryRouterGateway
from sim.routeros.state import RouterState

MB = 1_000_000
PASSWORD = "cap-test-pw"


@dataclass
class CapWorld:
    services: CoreServices
    clock: FrozenClock
    sim_clock: ManualClock
    state: RouterState
    sampler: UsageSampler
    sync: RouterSync
    router_id: int

    def tick(self, seconds: float) -> None:
        self.clock.advance(timedelta(seconds=seconds))
        self.sim_clock.advance(seconds)

    def sample(self) -> SampleResult:
        return self.sampler.sample(self.router_id)

    def converge(self) -> None:
        self.sync.sync_all_pending(self.router_id)

    def online(self, customer_id: int) -> str:
        """Put the customer on the router and dial in; returns the login."""
        self.converge()
        username = self.customer(customer_id).username
        assert self.state.connect(username, PASSWORD)
        return username

    def customer(self, customer_id: int) -> Customer:
        with self.services.unit_of_work() as uow:
            customer = uow.session.get(Customer, customer_id)
            assert customer is not None
            uow.session.expunge(customer)
            return customer

    def secret(self, username: str) -> dict[str, str]:
        (secret,) = [s for s in self.state.items("/ppp/secret") if s["name"] == username]
        return secret

    def profile(self, name: str) -> dict[str, str]:
        (profile,) = [p for p in self.state.items("/ppp/profile") if p["name"] == name]
        return profile

    def cap_sms(self, customer_id: int) -> list[tuple[str, str]]:
        with self.services.unit_of_work() as uow:
            return [
                (sms.kind, sms.body)
                for sms in uow.session.scalars(
                    select(SmsMessage)
                    .where(
                        SmsMessage.customer_id == customer_id,
                        SmsMessage.kind.like("datacap:%"),
                    )
                    .order_by(SmsMessage.id)
                )
            ]

    def card_data(self, customer_id: int) -> str:
        from bot.views import data_line

        with self.services.unit_of_work() as uow:
            customer = uow.session.get(Customer, customer_id)
            assert customer is not None
            line = data_line(customer_card(uow, customer))
            assert line is not None
            return line


@pytest.fixture
def world(services: CoreServices, clock: FrozenClock, staff, isp) -> CapWorld:
    with services.unit_of_work() as uow:
        add_plan(
            uow,
            staff,
            PlanSpec(
                "Capped 1G", "pppoe", 1000, "10M", "5M", 30, data_cap_mb=1000, throttle="1M/512k"
            ),
        )
        add_plan(uow, staff, PlanSpec("Blocked 1G", "pppoe", 900, "10M", "5M", 30, None, 1000))
        router_id = uow.session.scalars(select(Router.id).where(Router.name == "core-1")).one()
        uow.commit()
    sim_clock = ManualClock()
    state = RouterState(identity="core-1", clock=sim_clock)
    gateway = InMemoryRouterGateway(state)
    world = CapWorld(
        services,
        clock,
        sim_clock,
        state,
        UsageSampler(services, lambda login: gateway),
        RouterSync(services, lambda login: gateway),
        router_id,
    )
    world.sample()  # the router's first sample: from here on every byte is counted
    state.set_traffic_rate(0, MB)  # each session downloads 1 MB a second
    return world


def test_the_80_percent_sms_goes_once_a_period(world: CapWorld, make_customer) -> None:
    customer_id = make_customer(paid=1000, plan="Capped 1G", password=PASSWORD)
    world.online(customer_id)
    world.tick(700)
    assert world.sample().cap_outcomes == {}
    world.tick(100)
    assert world.sample().cap_outcomes == {customer_id: CapOutcome.WARNED}
    world.tick(100)
    assert world.sample().cap_outcomes == {}
    (kind, body), *more = world.cap_sms(customer_id)
    assert not more
    assert kind.startswith("datacap:80:")
    assert "800 MB of the 1 GB in Capped 1G (80%)" in body
    assert len(body) <= 160


def test_at_the_cap_the_customer_is_throttled_until_renewal(
    world: CapWorld, make_customer, dispatcher, staff
) -> None:
    customer_id = make_customer(paid=1000, plan="Capped 1G", password=PASSWORD)
    username = world.online(customer_id)
    plan_profile = world.secret(username)["profile"]
    world.tick(1000)
    dispatcher.events.clear()
    assert world.sample().cap_outcomes == {customer_id: CapOutcome.CAPPED}
    capped = world.customer(customer_id)
    assert capped.data_capped_at == world.clock.now() and capped.sync_pending
    assert [type(event).__name__ for event in dispatcher.events].count("CustomerNeedsSync") == 1
    # Straight past 80%: one SMS, the one that says the speed dropped.
    ((kind, body),) = world.cap_sms(customer_id)
    assert kind.startswith("datacap:100:")
    assert "used all 1 GB of Capped 1G. Speed is 1Mbps until you renew" in body
    world.converge()
    secret = world.secret(username)
    assert secret["profile"] == f"{plan_profile}-capped"
    assert secret["disabled"] == "false"
    assert world.profile(secret["profile"])["rate-limit"] == "512k/1M"  # upload/download
    assert not world.state.is_connected(username)  # dropped, so the new speed applies now
    assert world.card_data(customer_id).endswith("(100%) · THROTTLED to 1M down / 512k up")
    with world.services.unit_of_work() as uow:
        event = uow.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "customer.data_capped")
        ).one()
        assert event.customer_id == customer_id and event.actor_kind == "system"

    # More traffic in the same period changes nothing more.
    assert world.state.connect(username, PASSWORD)
    world.tick(600)
    assert world.sample().cap_outcomes == {}
    assert len(world.cap_sms(customer_id)) == 1

    # Renewal: the count starts again and the plan's own speed is back.
    with world.services.unit_of_work() as uow:
        record_payment(uow, customer_id, staff, IncomingPayment(1000, "cash"))
        uow.commit()
    renewed = world.customer(customer_id)
    assert renewed.data_capped_at is None
    with world.services.unit_of_work() as uow:
        period = uow.session.get(UsagePeriod, customer_id)
        assert period is not None
        assert (period.download_bytes, period.upload_bytes, period.warned_at) == (0, 0, None)
        assert period.started_at == world.clock.now()
    world.converge()
    assert world.secret(username)["profile"] == plan_profile
    assert world.card_data(customer_id) == "0 MB of 1 GB (0%)"

    # A new period, a new allowance: its own 80% SMS.
    assert world.state.connect(username, PASSWORD)
    world.tick(850)
    assert world.sample().cap_outcomes == {customer_id: CapOutcome.WARNED}
    kinds = [kind for kind, _ in world.cap_sms(customer_id)]
    assert len(kinds) == 2 and kinds[1].startswith("datacap:80:") and len(set(kinds)) == 2


def test_a_plan_without_throttle_blocks_at_the_cap(world: CapWorld, make_customer) -> None:
    customer_id = make_customer(paid=900, plan="Blocked 1G", password=PASSWORD)
    username = world.online(customer_id)
    world.tick(1200)
    assert world.sample().cap_outcomes == {customer_id: CapOutcome.CAPPED}
    world.converge()
    assert world.secret(username)["disabled"] == "true"
    assert not world.state.is_connected(username)
    assert not world.state.connect(username, PASSWORD)
    ((_, body),) = world.cap_sms(customer_id)
    assert "Service is paused until you renew" in body
    assert world.card_data(customer_id).endswith("· BLOCKED: cap reached")


def test_a_plan_change_that_lifts_the_cap_gives_the_speed_back(
    world: CapWorld, make_customer, staff, isp
) -> None:
    customer_id = make_customer(paid=1000, plan="Capped 1G", password=PASSWORD)
    username = world.online(customer_id)
    world.tick(1100)
    world.sample()
    world.converge()
    with world.services.unit_of_work() as uow:
        change_plan(uow, customer_id, staff, isp.pppoe_plan, PlanChangeTiming.NOW)
        uow.commit()
    world.converge()
    assert not world.secret(username)["profile"].endswith("-capped")
    world.tick(300)
    assert world.sample().cap_outcomes == {customer_id: CapOutcome.LIFTED}
    assert world.customer(customer_id).data_capped_at is None


def test_enforcing_twice_does_nothing_the_second_time(world: CapWorld, make_customer) -> None:
    customer_id = make_customer(paid=1000, plan="Capped 1G", password=PASSWORD)
    world.online(customer_id)
    world.tick(900)
    world.sample()
    with world.services.unit_of_work() as uow:
        assert enforce_data_cap(uow, customer_id) is CapOutcome.UNCHANGED
    assert len(world.cap_sms(customer_id)) == 1


def test_throttle_needs_a_cap_and_a_speed(run, staff) -> None:
    from core.errors import InvalidInput

    with pytest.raises(InvalidInput, match="give the cap too"):
        run(add_plan, staff, PlanSpec("T1", "pppoe", 1, "1M", "1M", 30, throttle="1M"))
    with pytest.raises(InvalidInput, match="speed must look like"):
        run(add_plan, staff, PlanSpec("T2", "pppoe", 1, "1M", "1M", 30, None, 5, "fast"))
    with pytest.raises(InvalidInput, match="speed must look like"):
        run(add_plan, staff, PlanSpec("T3", "pppoe", 1, "1M", "1M", 30, None, 5, "1M/"))
    both = run(add_plan, staff, PlanSpec("T4", "pppoe", 1, "1M", "1M", 30, None, 5, " 2m "))
    assert (both.throttle_download, both.throttle_upload) == ("2M", "2M")


# -- static-IP customers: counted on their simple queue, throttled on it, blocked by address ----


def static_world(world: CapWorld, staff, throttle: str | None) -> str:
    name = "Static 1G" if throttle else "Static 1G blocked"
    with world.services.unit_of_work() as uow:
        add_plan(uow, staff, PlanSpec(name, "static", 3000, "20M", "10M", 30, None, 1000, throttle))
        uow.commit()
    return name


def static_queue(world: CapWorld, customer_id: int) -> dict[str, str]:
    account = world.customer(customer_id).account_number
    (queue,) = [q for q in world.state.items("/queue/simple") if q["comment"] == f"mteja:{account}"]
    return queue


def test_a_static_customer_at_the_cap_is_throttled_on_their_queue(
    world: CapWorld, make_customer, staff
) -> None:
    plan = static_world(world, staff, "1M/512k")
    customer_id = make_customer(paid=3000, connection_type="static", plan=plan)
    world.converge()
    address = world.customer(customer_id).ip_address
    assert address is not None
    assert static_queue(world, customer_id)["max-limit"] == "10M/20M"  # upload/download
    world.sample()  # the queue's first reading
    world.state.device_up(address)
    world.tick(1000)
    assert world.sample().cap_outcomes == {customer_id: CapOutcome.CAPPED}
    world.converge()
    assert static_queue(world, customer_id)["max-limit"] == "512k/1M"
    assert not world.state.is_blocked(address)
    assert world.card_data(customer_id).endswith("(100%) · THROTTLED to 1M down / 512k up")
    ((kind, _),) = world.cap_sms(customer_id)
    assert kind.startswith("datacap:100:")


def test_a_static_plan_without_throttle_blocks_the_address_at_the_cap(
    world: CapWorld, make_customer, staff
) -> None:
    plan = static_world(world, staff, None)
    customer_id = make_customer(paid=3000, connection_type="static", plan=plan)
    world.converge()
    address = world.customer(customer_id).ip_address
    assert address is not None
    world.sample()
    world.state.device_up(address)
    world.tick(1200)
    assert world.sample().cap_outcomes == {customer_id: CapOutcome.CAPPED}
    world.converge()
    assert world.state.is_blocked(address)
    assert world.card_data(customer_id).endswith("· BLOCKED: cap reached")
