"""`mteja web` as a real process: it starts, answers /healthz, and stops on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_web_serves_healthz(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MTEJA_")}
    mteja = [sys.executable, "-m", "mteja.cli"]
    subprocess.run([*mteja, "init"], cwd=tmp_path, env=env, check=True, capture_output=True)
    port = _free_port()
    process = subprocess.Popen(
        [*mteja, "web", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        response = None
        while time.monotonic() < deadline:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert response is not None, "mteja web did not start"
        assert response.status_code == 200
        assert response.json() == {"status": "ok", "database": "ok"}
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=20)
    # uvicorn shuts down gracefully, then re-raises SIGTERM so supervisors see why it stopped.
    assert process.returncode in (0, -signal.SIGTERM)
    assert b"Finished server process" in output
