"""The simulator's traffic options: ``python -m sim.routeros --download-rate/--upload-rate``
and ``mteja simulate-router`` make every session move that many bytes a second, in the
subscriber's terms (download = the router's bytes out)."""

from __future__ import annotations

from typing import Any

import pytest

from sim.routeros import __main__ as simulator_main
from sim.routeros import server
from sim.routeros.clock import ManualClock
from sim.routeros.state import RouterState


def test_the_module_passes_the_rates_on(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}
    monkeypatch.setattr(
        simulator_main, "run_simulator", lambda *args, **kwargs: seen.update(kwargs)
    )
    simulator_main.main(["--port", "0", "--download-rate", "50000", "--upload-rate", "5000"])
    assert seen == {"download_rate": 50_000.0, "upload_rate": 5_000.0}


def test_negative_rates_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        simulator_main.main(["--download-rate", "-1"])
    assert "traffic rates are 0 or more bytes per second" in capsys.readouterr().err


def test_a_served_router_counts_download_as_bytes_out(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = ManualClock()
    made: list[RouterState] = []

    class Stop(Exception):
        pass

    class OnManualClock(RouterState):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(clock=clock, **kwargs)
            made.append(self)

    def no_server(*args: Any) -> None:
        raise Stop

    monkeypatch.setattr(server, "RouterState", OnManualClock)
    monkeypatch.setattr(server, "ApiServer", no_server)
    with pytest.raises(Stop):
        server.run_simulator("127.0.0.1", 0, "admin", "pw", download_rate=300, upload_rate=20)
    (state,) = made
    state.seed("/ppp/secret", {"name": "x", "password": "p"})
    assert state.connect("x", "p")
    clock.advance(10)
    (session,) = state.sessions()
    assert (session["bytes-out"], session["bytes-in"]) == ("3000", "200")
