"""Fixtures for the M-Pesa adapter unit tests: the published wire samples, a settable clock."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

# Copies of /work/shared/samples/daraja-*.json, kept next to the tests that use them.
SAMPLES_DIR = Path(__file__).parent / "samples"


@pytest.fixture
def sample_bytes() -> Callable[[str], bytes]:
    """Raw bytes of a sample, e.g. sample_bytes("daraja-stk-callback-success.json")."""

    def load(name: str) -> bytes:
        return (SAMPLES_DIR / name).read_bytes()

    return load


@pytest.fixture
def sample_json() -> Callable[[str], Any]:
    """A sample decoded from JSON (a fresh copy each call, safe to mutate)."""

    def load(name: str) -> Any:
        return json.loads((SAMPLES_DIR / name).read_text())

    return load


class SettableClock:
    """A clock that only moves when told to."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def daraja_clock() -> SettableClock:
    """Frozen at the instant of the Daraja sample request (20160216165627 in Nairobi)."""
    return SettableClock(datetime(2016, 2, 16, 13, 56, 27, tzinfo=UTC))
