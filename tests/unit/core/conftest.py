"""Fixtures for core unit tests: a small ISP (a router with a pool, plans of each type)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from core.actors import Actor
from core.unit_of_work import CoreServices
from core.usecases.network import RouterSpec, add_pool, add_router
from core.usecases.plans import PlanSpec, add_plan


@dataclass(frozen=True)
class Isp:
    router: str = "core-1"
    pppoe_plan: str = "Home 10M"
    pppoe_plan_big: str = "Home 20M"
    hotspot_plan: str = "Daily 5M"
    static_plan: str = "Business 50M"


@pytest.fixture
def isp(services: CoreServices, staff: Actor) -> Isp:
    with services.unit_of_work() as uow:
        add_router(uow, staff, RouterSpec("core-1", "127.0.0.1", 8728, "admin", "secret"))
        add_pool(uow, staff, "core-1", "10.10.0.0/29")
        add_plan(uow, staff, PlanSpec("Home 10M", "pppoe", 1500, "10M", "5M", validity_days=30))
        add_plan(uow, staff, PlanSpec("Home 20M", "pppoe", 2500, "20M", "10M", validity_days=30))
        add_plan(uow, staff, PlanSpec("Daily 5M", "hotspot", 50, "5M", "2M", validity_hours=24))
        add_plan(uow, staff, PlanSpec("Business 50M", "static", 6000, "50M", "50M", validity_days=30))
        uow.commit()
    return Isp()
