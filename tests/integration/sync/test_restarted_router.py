"""A router that restarts empty between two health checks is repaired by the next check.

The fault this proves fixed: a MikroTik killed and restarted with no configuration within a few
seconds never looked offline to the minute check, so nothing resynced it and paid customers
could not log in until the periodic full reconcile. The check now reads the router's uptime; an
uptime that went back means a restart, and the router is reconciled at once.

Each simulator here runs on a manual clock, so its uptime is exactly what the test says.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from cryptography.fernet import Fernet
from typer.testing import CliRunner

from core.display import local_time
from mteja.cli import app
from sim.routeros import SimulatedRouter
from sim.routeros.clock import ManualClock

from .conftest import API_PASSWORD, API_USER, mismatches

PAID_CUSTOMERS = 26
RESTART_NOTICE = "Router kahawa restarted (its uptime went back); resyncing it now."


def simulator(clock: ManualClock, port: int = 0) -> SimulatedRouter:
    return SimulatedRouter(
        username=API_USER, password=API_PASSWORD, identity="kahawa-west", port=port, clock=clock
    ).start()


@pytest.fixture
def sim_clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sim(sim_clock: ManualClock) -> Iterator[SimulatedRouter]:
    """The registered router, up for three hours when the test begins."""
    router = simulator(sim_clock)
    sim_clock.advance(3 * 3600)
    try:
        yield router
    finally:
        router.stop()


@pytest.fixture
def paid_office(router_env, memory_queue, drain_queue):
    """26 paid customers synced to the router, and one health check already made."""
    env = router_env
    for number in range(PAID_CUSTOMERS):
        if number % 4 == 3:
            env.create(f"Guest {number}", "Daily 5M", connection_type="hotspot")
        else:
            env.create(f"Subscriber {number}", "Home 10M", username=f"sub{number}")
    drain_queue(memory_queue.huey)
    assert env.pending() == {}
    assert env.mismatches() == []
    memory_queue.tasks.check_routers()
    drain_queue(memory_queue.huey)
    assert env.router().status == "online"
    memory_queue.notifier.messages.clear()
    return env


def router_notices(queue) -> list[str]:
    return [text for text in queue.notifier.messages if text.startswith("Router ")]


def router_list(monkeypatch: pytest.MonkeyPatch, tmp_path, database_url: str) -> str:
    """``mteja router list`` on this test's database, as staff would run it."""
    for name in ("MTEJA_HOME", "MTEJA_DATABASE_URL", "MTEJA_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MTEJA_HOME", str(tmp_path / "install"))
    monkeypatch.setenv("MTEJA_DATABASE_URL", database_url)
    monkeypatch.setenv("MTEJA_SECRET_KEY", Fernet.generate_key().decode())
    (tmp_path / "install").mkdir(exist_ok=True)
    result = CliRunner().invoke(app, ["router", "list"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.slow
def test_a_router_restarted_empty_between_checks_is_resynced_by_the_next_check(
    paid_office, memory_queue, drain_queue, sim, database_url, monkeypatch, tmp_path
):
    env, huey = paid_office, memory_queue.huey
    reconciles_before = len(env.reconcile_runs())

    # Killed and back, empty, on the same port 13 seconds later: the router never looks offline.
    sim.stop()
    restarted_clock = ManualClock()
    restarted = simulator(restarted_clock, port=sim.port)
    try:
        restarted_clock.advance(13)
        assert mismatches(env.services, restarted, env.router_id), "the router came back empty"

        env.clock.advance(timedelta(minutes=1))  # the next minute's check
        memory_queue.tasks.check_routers()
        drain_queue(huey)

        assert len(env.reconcile_runs()) == reconciles_before + 1
        assert mismatches(env.services, restarted, env.router_id) == [], (
            "every customer's login must be back right after the check"
        )
        assert router_notices(memory_queue) == [RESTART_NOTICE]
        router = env.router()
        assert router.status == "online"
        assert router.last_uptime_seconds == 13
        assert router.restarted_at == env.clock.now() - timedelta(seconds=13)

        listing = router_list(monkeypatch, tmp_path, database_url)
        restart_time = local_time(router.restarted_at, ZoneInfo("Africa/Nairobi"))
        assert f"kahawa restarted at {restart_time}" in listing.splitlines()
    finally:
        restarted.stop()


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_router_whose_uptime_grows_normally_is_not_reconciled(
    paid_office, memory_queue, drain_queue, sim_clock
):
    env, huey = paid_office, memory_queue.huey
    reconciles_before = len(env.reconcile_runs())

    for _ in range(3):
        sim_clock.advance(60)
        env.clock.advance(timedelta(minutes=1))
        memory_queue.tasks.check_routers()
        drain_queue(huey)

    assert len(env.reconcile_runs()) == reconciles_before
    assert router_notices(memory_queue) == []
    router = env.router()
    assert router.last_uptime_seconds == 3 * 3600 + 3 * 60
    assert router.restarted_at is None


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_router_back_from_offline_with_a_fresh_uptime_is_reconciled_once(
    paid_office, memory_queue, drain_queue, sim
):
    """A restart long enough to be seen offline is the 'back online' case: one reconcile, one
    notice each way, not a second one for the uptime."""
    env, huey = paid_office, memory_queue.huey
    reconciles_before = len(env.reconcile_runs())
    sim.stop()
    env.clock.advance(timedelta(minutes=1))
    memory_queue.tasks.check_routers()
    drain_queue(huey)

    restarted_clock = ManualClock()
    restarted = simulator(restarted_clock, port=sim.port)
    try:
        restarted_clock.advance(40)
        env.clock.advance(timedelta(minutes=1))
        memory_queue.tasks.check_routers()
        drain_queue(huey)

        assert len(env.reconcile_runs()) == reconciles_before + 1
        [offline, back] = router_notices(memory_queue)
        assert "OFFLINE" in offline and "back online" in back
        assert mismatches(env.services, restarted, env.router_id) == []
    finally:
        restarted.stop()
