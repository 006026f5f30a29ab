"""A Daraja that is down or silent is DarajaUnavailable, never a hang or a raw httpx error."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from payments.daraja import DarajaClient, DarajaUnavailable
from sim.daraja.server import FakeDaraja

CALLBACK = "https://isp.example.com/payments/stk/TOKEN"


@pytest.fixture
def closed_port() -> int:
    """A port that was free a moment ago and has nothing listening on it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections (kernel backlog) but never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


def test_server_down_is_unavailable(closed_port: int) -> None:
    config = FakeDaraja().daraja_config(f"http://127.0.0.1:{closed_port}")
    with (
        DarajaClient(config) as client,
        pytest.raises(DarajaUnavailable, match="cannot reach Daraja"),
    ):
        client.stk_push("0708374149", 10, "MTJ-1", "Internet", CALLBACK)


def test_silent_server_times_out_as_unavailable(silent_port: int) -> None:
    config = FakeDaraja().daraja_config(f"http://127.0.0.1:{silent_port}", timeout_seconds=0.3)
    with (
        DarajaClient(config) as client,
        pytest.raises(DarajaUnavailable, match=r"did not answer within 0\.3s"),
    ):
        client.stk_query("ws_CO_000")
