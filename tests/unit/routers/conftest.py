"""Fixtures for unit tests of the routers package: no sockets, no threads, a clock we move."""

from __future__ import annotations

import pytest

from sim.routeros.clock import ManualClock
from sim.routeros.memory_gateway import InMemoryRouterGateway
from sim.routeros.state import RouterState


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def state(clock: ManualClock) -> RouterState:
    return RouterState(identity="kahawa-west", clock=clock, wall_clock=lambda: 1_700_000_000.0)


@pytest.fixture
def gateway(state: RouterState) -> InMemoryRouterGateway:
    return InMemoryRouterGateway(state)
