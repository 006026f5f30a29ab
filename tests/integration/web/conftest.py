"""The console's fixtures (tests/unit/web/conftest.py) over a real database: ``services`` is
``db_services``, so the seeded ISP, the app and the logged-in clients run on it."""

from __future__ import annotations

import pytest

from core.unit_of_work import CoreServices
from tests.unit.web.conftest import anonymous, app, login, shop

__all__ = ["anonymous", "app", "login", "shop"]


@pytest.fixture
def services(db_services: CoreServices) -> CoreServices:
    return db_services
