"""The real processes, configured only through the environment: ``mteja web``, ``mteja worker``
and ``mteja fake-africastalking``. A subscriber asks for the payment details by USSD; the worker
sends the SMS through Africa's Talking (the fake, via MTEJA_AT_BASE_URL), whose delivery report
comes back to the web app and marks the message delivered. Both Africa's Talking callbacks go to
the paths ending in the MTEJA_AT_CALLBACK_TOKEN that ``mteja init`` wrote to ``.env``."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from dotenv import dotenv_values

from core.testing import free_port
from ussd.africastalking_urls import ussd_url

# Real processes (the mteja command in a subprocess): left out of `pytest -m "not slow"`.
pytestmark = pytest.mark.slow

MTEJA = [sys.executable, "-m", "mteja.cli"]


def wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return True
        except (httpx.TransportError, sqlite3.OperationalError):
            pass
        time.sleep(0.2)
    return False


@pytest.fixture
def processes() -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Start processes; each is stopped (SIGTERM, then kill) at the end of the test."""
    started: list[subprocess.Popen[bytes]] = []

    def start(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [*MTEJA, *args], cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        started.append(process)
        return process

    yield start
    for process in started:
        process.send_signal(signal.SIGTERM)
    for process in started:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_details_by_ussd_go_out_through_africastalking_and_come_back_delivered(
    tmp_path: Path, processes
):
    web_port, at_port = free_port(), free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("MTEJA_")}
    env.update(
        MTEJA_SMS_BACKEND="africastalking",
        MTEJA_AT_USERNAME="sandbox",
        MTEJA_AT_API_KEY="fake-at-api-key",
        MTEJA_AT_BASE_URL=f"http://127.0.0.1:{at_port}",
        MTEJA_ISP_NAME="Kasarani Net",
        MTEJA_MPESA_SHORTCODE="174379",
    )

    def run(*args: str) -> None:
        subprocess.run([*MTEJA, *args], cwd=tmp_path, env=env, check=True, capture_output=True)

    run("init")
    run(
        "router",
        "add",
        "core-1",
        "--host",
        "127.0.0.1",
        "--username",
        "admin",
        "--password",
        "x",
        "--plain-api",
    )
    plan = ("--type", "pppoe", "--price", "1500", "--download", "10M", "--upload", "5M")
    run("plan", "add", "Home 10M", *plan, "--days", "30")
    run("customer", "add", "--name", "Wanjiku", "--phone", "0712345678", "--plan", "Home 10M",
        "--router", "core-1")  # fmt: skip

    web_url = f"http://127.0.0.1:{web_port}"
    fake = ("fake-africastalking", "--port", str(at_port), "--web-url", web_url, "--delay", "0")
    processes(*fake, cwd=tmp_path, env=env)
    processes("web", "--port", str(web_port), cwd=tmp_path, env=env)
    assert wait_for(lambda: httpx.get(f"{web_url}/healthz").status_code == 200)
    # The worker sends the queued welcome at once: web must be up for its delivery report.
    processes("worker", "--workers", "1", "--no-periodic", cwd=tmp_path, env=env)
    assert wait_for(lambda: httpx.get(f"http://127.0.0.1:{at_port}/_fake/state").is_success)

    token = dotenv_values(tmp_path / ".env").get("MTEJA_AT_CALLBACK_TOKEN")
    assert token, "mteja init writes MTEJA_AT_CALLBACK_TOKEN to .env"
    form = {"sessionId": "s1", "serviceCode": "*384#", "phoneNumber": "+254712345678", "text": "4"}
    assert httpx.post(f"{web_url}/ussd", data=form).status_code == 404  # only the tokened path
    screen = httpx.post(ussd_url(web_url, token), data=form).text
    assert screen == "END We have sent the payment details to you by SMS."

    def delivered() -> bool:
        with sqlite3.connect(tmp_path / "mteja.db") as database:
            rows = database.execute("select status from sms_messages").fetchall()
        # The welcome SMS that `customer add` queued, then the details asked for over USSD.
        return rows == [("delivered",), ("delivered",)]

    assert wait_for(delivered), httpx.get(f"http://127.0.0.1:{at_port}/_fake/state").json()
    welcome, sent = httpx.get(f"http://127.0.0.1:{at_port}/_fake/state").json()["sent"]
    assert welcome["message"].startswith("Welcome to Kasarani Net! Account MTJ-")
    assert sent["to"] == welcome["to"] == "+254712345678"
    assert sent["message"].startswith("Pay Kasarani Net by M-Pesa: paybill 174379, account MTJ-")
    assert sent["message"].endswith("KES 1,500 renews Home 10M.")

    # The worker's counts reach the web process's /metrics through the shared metrics directory.
    def worker_counts_scraped() -> bool:
        text = httpx.get(f"{web_url}/metrics").text
        return 'mteja_sms_total{status="sent"} 2.0' in text and (
            'mteja_jobs_total{event="complete",task="send_sms"} 2.0' in text
        )

    assert wait_for(worker_counts_scraped), httpx.get(f"{web_url}/metrics").text
    # The USSD request's SMS was queued by the web process (a single one: uvicorn without workers).
    jobs = [line for line in httpx.get(f"{web_url}/metrics").text.splitlines() if "jobs" in line]
    assert 'mteja_jobs_total{event="enqueued",task="send_sms"} 1.0' in jobs, jobs
