"""End-to-end tests start real processes and servers: every one is ``slow``."""

from __future__ import annotations

from pathlib import Path

import pytest

E2E = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if E2E in Path(item.path).parents:
            item.add_marker(pytest.mark.slow)
