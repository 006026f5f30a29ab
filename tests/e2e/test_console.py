"""`mteja console` as a real process: the bot's commands and answers at a terminal prompt."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _mteja(cwd: Path, env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "mteja.cli", *args],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, (args, result.stdout, result.stderr)
    return result.stdout


def test_console_runs_the_staff_commands(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MTEJA_")}
    # A router nobody answers for: the card says "unknown" instead of waiting.
    port = str(_closed_port())
    _mteja(tmp_path, env, "init")
    _mteja(
        tmp_path,
        env,
        "router",
        "add",
        "core-1",
        "--host",
        "127.0.0.1",
        "--port",
        port,
        "--username",
        "api",
        "--password",
        "pw",
        "--plain-api",
    )
    _mteja(tmp_path, env, "pool", "add", "core-1", "10.10.0.0/24")
    _mteja(
        tmp_path,
        env,
        "plan",
        "add",
        "Home 10M",
        "--type",
        "pppoe",
        "--price",
        "1500",
        "--download",
        "10M",
        "--upload",
        "5M",
        "--days",
        "30",
    )
    account = _mteja(
        tmp_path,
        env,
        "customer",
        "add",
        "--name",
        "Jane Muthoni",
        "--phone",
        "0712345678",
        "--plan",
        "Home 10M",
        "--router",
        "core-1",
        "--paid",
        "cash",
    ).splitlines()[0]
    _mteja(tmp_path, env, "staff", "add", "777", "Vera", "--role", "viewer")

    script = "\n".join(
        [
            "/find jane",
            "#1",  # the match's button: the card
            "#1",  # the card's first button: Suspend → asks first
            "#1",  # Yes, suspend
            f"/pay {account} 200 cash",
            f"/history {account}",
            "/pay",
            "/stats",
            "quit",
        ]
    )
    output = _mteja(tmp_path, env, "console", stdin=script + "\n")
    assert f"1 customer match 'jane':\n{account} Jane Muthoni" in output
    assert "🟢 ACTIVE\nJane Muthoni" in output
    assert "Online: unknown" in output
    assert "[#1] Suspend" in output
    assert "Suspend Jane Muthoni" in output and "[#1] Yes, suspend  [#2] Cancel" in output
    assert "Suspended Jane Muthoni" in output and "⛔ SUSPENDED (no reason given)" in output
    assert "Payment of KES 200 (cash) recorded. The customer is SUSPENDED" in output
    assert re.search(r"History of Jane Muthoni .* · all · page 1", output)
    assert "suspended (no reason given) — staff:command line" in output
    assert "Usage: /pay REF AMOUNT cash|mpesa|bank|cheque [noactivate] [reference]" in output
    assert "Customers: 0 inactive, 0 active, 0 expired, 1 suspended (1 in all)" in output

    as_viewer = _mteja(
        tmp_path, env, "console", "--as", "777", stdin=f"/c {account}\n/suspend {account}\n"
    )
    assert "Your role (viewer) may not use /suspend." in as_viewer
    as_stranger = _mteja(tmp_path, env, "console", "--as", "999", stdin="/stats\n")
    assert "You are not authorised to use this bot" in as_stranger
