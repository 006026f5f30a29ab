"""Usage over the real RouterOS API: the 5-minute job samples the simulator's session counters
through librouteros, on SQLite and PostgreSQL, and the data cap acts on the router.

The simulator runs on a manual clock so its counters are exact; core's FrozenClock is moved
with it. Jobs run on an in-memory huey queue drained by the test, as a worker would run them.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from core.models import Customer, Router, SmsMessage, UsagePeriod, UsageReading
from core.retry import in_transaction
from core.usage import daily_usage
from core.usecases.billing import IncomingPayment, record_payment
from core.usecases.plans import PlanSpec, add_plan
from core.usecases.usage import SessionReading, record_usage
from sim.routeros import ManualClock, SimulatedRouter

MB = 1_000_000
# 23:50 in Nairobi: the samples below straddle local midnight (21:00 UTC).
START = datetime(2026, 11, 22, 20, 50, tzinfo=UTC)


@pytest.fixture
def sim_clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sim(sim_clock: ManualClock) -> Iterator[SimulatedRouter]:
    """The simulated MikroTik of ``router_env``, on a clock the test moves."""
    router = SimulatedRouter(
        username="mteja-api", password="api-s3cret", identity="kahawa-west", clock=sim_clock
    ).start()
    try:
        yield router
    finally:
        router.stop()


@pytest.fixture
def usage_env(router_env, memory_queue, drain_queue, sim_clock):
    router_env.clock.set(START)

    class Env:
        env = router_env
        queue = memory_queue

        @staticmethod
        def tick(seconds: float) -> None:
            router_env.clock.advance(timedelta(seconds=seconds))
            sim_clock.advance(seconds)

        @staticmethod
        def run_jobs() -> None:
            drain_queue(memory_queue.huey)

        @classmethod
        def sample(cls) -> None:
            """The router's sample that the 5-minute task queues, run now. Not the periodic task
            itself: these tests sample at any moment, and it runs once per 5-minute slot."""
            memory_queue.usage.sample_usage(router_env.router_id)
            cls.run_jobs()

    Env.run_jobs()
    return Env


def days_of(env, customer_id: int) -> dict[date, tuple[int, int]]:
    with env.services.unit_of_work() as uow:
        days = daily_usage(uow, customer_id, date(2026, 11, 22), date(2026, 11, 23))
    return {day.day: (day.download_bytes, day.upload_bytes) for day in days if day.download_bytes}


def test_sampling_through_reconnects_and_local_midnight(usage_env) -> None:
    env = usage_env.env
    pppoe_id, pppoe_password = env.create("Amina Wafula", username="amina")
    hotspot_id, hotspot_password = env.create(
        "Baraka Otieno", "Daily 5M", connection_type="hotspot", username="baraka"
    )
    usage_env.run_jobs()  # their logins reach the router
    usage_env.sample()  # the router's first sample (23:50): nobody is online yet
    env.sim.set_subscriber_traffic(MB, 100_000)
    assert env.sim.connect("amina", pppoe_password)
    assert env.sim.connect("baraka", hotspot_password, "hotspot")

    usage_env.tick(300)
    usage_env.sample()  # 23:55: both sessions are new, all their bytes count
    # Amina's line drops and comes back: the new session's counters start at zero and are far
    # below the last reading at the next sample, which counts them, not a negative difference.
    usage_env.tick(100)
    assert env.sim.disconnect("amina")
    assert env.sim.connect("amina", pppoe_password)
    usage_env.tick(200)
    usage_env.sample()  # 00:00 on the 23rd, local time
    usage_env.tick(60)
    usage_env.sample()

    assert days_of(env, pppoe_id) == {
        date(2026, 11, 22): (300 * MB, 30 * MB),
        date(2026, 11, 23): (260 * MB, 26 * MB),  # the 100 s before the drop were never seen
    }
    assert days_of(env, hotspot_id) == {
        date(2026, 11, 22): (300 * MB, 30 * MB),
        date(2026, 11, 23): (360 * MB, 36 * MB),
    }
    with env.services.unit_of_work() as uow:
        period = uow.session.get(UsagePeriod, hotspot_id)
        assert period is not None
        assert (period.download_bytes, period.upload_bytes) == (660 * MB, 66 * MB)


def test_the_cap_throttles_on_the_router_and_renewal_restores_the_speed(usage_env) -> None:
    env = usage_env.env
    env.do(
        add_plan,
        env.staff,
        PlanSpec("Capped 1G", "pppoe", 1000, "10M", "5M", 30, None, 1000, "2M/1M"),
    )
    customer_id, password = env.create("Chebet Kiprop", "Capped 1G", username="chebet")
    usage_env.run_jobs()
    usage_env.sample()
    normal = env.item("/ppp/secret", name="chebet")["profile"]
    env.sim.set_subscriber_traffic(MB, 0)
    assert env.sim.connect("chebet", password)

    usage_env.tick(850)
    usage_env.sample()
    usage_env.tick(100)
    usage_env.sample()
    usage_env.tick(100)
    usage_env.sample()  # 1,050 MB: over the cap

    secret = env.item("/ppp/secret", name="chebet")
    assert secret["profile"] == f"{normal}-capped" and secret["disabled"] == "false"
    assert env.speed_of("/ppp/profile", secret["profile"]) == env.speed("1M/2M")
    assert not env.sim.is_connected("chebet")  # dropped so the throttle applies at once
    assert env.sim.connect("chebet", password)
    assert env.pending() == {}
    with env.services.unit_of_work() as uow:
        kinds = list(
            uow.session.scalars(
                select(SmsMessage.kind)
                .where(SmsMessage.customer_id == customer_id, SmsMessage.kind.like("datacap:%"))
                .order_by(SmsMessage.id)
            )
        )
        assert [kind.split(":")[1] for kind in kinds] == ["80", "100"]
        assert uow.session.get(Customer, customer_id).data_capped_at is not None

    env.do(record_payment, customer_id, env.staff, IncomingPayment(1000, "cash"))
    usage_env.run_jobs()
    assert env.item("/ppp/secret", name="chebet")["profile"] == normal
    assert env.pending() == {}
    with env.services.unit_of_work() as uow:
        period = uow.session.get(UsagePeriod, customer_id)
        assert (period.download_bytes, period.warned_at) == (0, None)


def test_the_periodic_sample_runs_every_five_minutes(memory_queue) -> None:
    periodic = memory_queue.usage.sample_all_usage.s()
    minutes = [m for m in range(60) if periodic.validate_datetime(datetime(2026, 11, 22, 9, m))]
    assert minutes == list(range(0, 60, 5))


def test_an_unreachable_router_is_skipped_until_the_next_sample(usage_env) -> None:
    env = usage_env.env
    usage_env.sample()
    env.sim.down()
    usage_env.tick(300)
    usage_env.sample()  # logged and skipped, not retried: the counters keep counting
    env.sim.up()
    with env.services.unit_of_work() as uow:
        router = uow.session.get(Router, env.router_id)
        assert router.usage_sampled_at == START


def test_samples_racing_each_other_never_count_a_byte_twice(usage_env) -> None:
    """Eight workers record samples of one session taken a second apart, in whatever order the
    threads get there: the router row's lock and the "older than the last one" rule leave the
    total equal to the last recorded counter, never more."""
    env = usage_env.env
    customer_id, _ = env.create("Dan Mwangi", username="dan")

    def record(second: int) -> None:
        reading = SessionReading("dan", "pppoe", "*1", "10.99.0.9", second, second * 1000, 0)
        in_transaction(
            env.services,
            lambda uow: record_usage(
                uow, env.router_id, START + timedelta(seconds=second), [reading]
            ),
        )

    record(0)  # the router's first sample
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(record, range(1, 9)))
    with env.services.unit_of_work() as uow:
        reading = uow.session.get(UsageReading, customer_id)
        counted = uow.session.get(UsagePeriod, customer_id)
        assert reading is not None and counted is not None
        assert counted.download_bytes == reading.download_bytes <= 8000
        assert reading.sampled_at == START + timedelta(seconds=reading.uptime_seconds)
