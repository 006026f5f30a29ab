"""`mteja demo` as a newcomer runs it: in an empty directory, with no settings at all.

It must start everything, print commands that work when copied, and stop cleanly on Ctrl-C.
The test follows the printed hints: the USSD curl, the paybill curl, `mteja customer show`.
"""

from __future__ import annotations

import itertools
import json
import os
import queue
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from core.testing import free_port

MTEJA = [sys.executable, "-m", "mteja.cli"]
STARTUP_SECONDS = 120


def _wait_for(condition: Callable[[], bool], seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.3)
    return False


def _curl_arguments(line: str) -> tuple[str, dict[str, str], str | None]:
    """URL, form fields (``-d a=b``) and raw body (``-d '{...}'``) of a printed curl line."""
    words = shlex.split(line, comments=True)  # a "#" inside quotes is not a comment
    url = next(word for word in words if word.startswith("http"))
    fields: dict[str, str] = {}
    body = None
    for flag, value in itertools.pairwise(words):
        if flag != "-d":
            continue
        if value.startswith("{"):
            body = value
        else:
            name, _, raw = value.partition("=")
            fields[name] = raw.replace("%2B", "+")
    return url, fields, body


def _assert_logs_in_once(link: str) -> None:
    """GET the link's page, press its button (a POST with the form's token): the dashboard.
    The same link pressed again is refused."""
    with httpx.Client(timeout=10) as browser:
        page = browser.get(link)
        assert page.status_code == 200 and "Log in as Demo Owner" in page.text, page.text
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert token, page.text
        opened = browser.post(link, data={"csrf": token.group(1)})
        assert opened.status_code == 303 and opened.headers["location"] == "/staff/"
        dashboard = browser.get(link.split("/staff/")[0] + "/staff/")
        assert dashboard.status_code == 200 and "Demo Owner" in dashboard.text
        again = browser.post(link, data={"csrf": token.group(1)})
        assert again.status_code == 410, again.text


def test_the_demo_runs_what_it_prints_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("MTEJA_")}
    port = free_port()
    flags = ["--port", str(port)]
    for flag in ("--daraja-port", "--africastalking-port"):
        flags += [flag, str(free_port())]
    for flag in ("--nairobi-router-port", "--mombasa-router-port"):
        flags += [flag, str(free_port())]
    process = subprocess.Popen(
        [*MTEJA, "demo", *flags],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    seen: list[str] = []

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line.rstrip("\n"))

    threading.Thread(target=pump, daemon=True).start()
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not any("Ctrl-C stops everything" in line for line in seen):
            assert time.monotonic() < deadline, "\n".join(seen)
            assert process.poll() is None, "\n".join(seen)
            try:
                seen.append(lines.get(timeout=1))
            except queue.Empty:
                continue
        output = "\n".join(seen)
        flag_value = dict(itertools.pairwise(flags))
        # Every server on the port its flag chose.
        assert f"fake M-Pesa http://127.0.0.1:{flag_value['--daraja-port']}" in output
        assert f"fake Africa's Talking http://127.0.0.1:{flag_value['--africastalking-port']}" in (
            output
        )
        for flag in ("--nairobi-router-port", "--mombasa-router-port"):
            assert f"127.0.0.1:{flag_value[flag]}" in output
        # A second terminal prints the demo's addresses, not the default port's.
        urls = subprocess.run(
            [*MTEJA, "africastalking", "urls"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
        )
        assert f"http://127.0.0.1:{port}/ussd/" in urls.stdout, urls.stderr

        # The printed one-time link logs the demo's owner into the staff console, once.
        console_line = next(line for line in seen if line.startswith("Staff console: "))
        link = re.fullmatch(r"Staff console: (\S+) \(one-time link, 15 minutes\)", console_line)
        assert link, console_line
        assert link.group(1).startswith(f"http://127.0.0.1:{port}/staff/login/link/")
        _assert_logs_in_once(link.group(1))

        ussd_line = next(line for line in seen if "/ussd" in line and "curl" in line)
        url, fields, _ = _curl_arguments(ussd_line)
        # The hint is the tokened path Africa's Talking posts to; the bare one is not served.
        bare = url.split("/ussd/")[0] + "/ussd"
        assert url != bare and httpx.post(bare, data=fields, timeout=10).status_code == 404
        screen = httpx.post(url, data=fields, timeout=10).text
        account = re.search(r"MTJ-[0-9A-Z]{7}", screen)
        assert screen.startswith("CON Acc ") and account, screen
        assert "Status: expired" in screen

        pay_line = next(line for line in seen if "/_fake/paybill" in line)
        url, _, body = _curl_arguments(pay_line)
        assert body is not None and account.group(0) in body
        paid = httpx.post(url, content=body, headers={"content-type": "application/json"})
        assert paid.json()["accepted"] is True, paid.text

        def active() -> bool:
            shown = subprocess.run(
                [*MTEJA, "customer", "show", account.group(0), "--json"],
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
            )
            return shown.returncode == 0 and json.loads(shown.stdout)["status"] == "active"

        assert _wait_for(active), "the paybill payment did not renew the customer"

        state_line = next(line for line in seen if "/_fake/state" in line)
        state_url = _curl_arguments(state_line)[0]

        def receipt_delivered() -> bool:
            sent = httpx.get(state_url, timeout=5).json()["sent"]
            return any("received" in sms["message"] for sms in sent)

        assert _wait_for(receipt_delivered), httpx.get(state_url).text

        # The demo terminal said so as it happened, one line each.
        def told(pattern: str) -> bool:
            while not lines.empty():
                seen.append(lines.get())
            return any(re.search(pattern, line) for line in seen)

        amount = f"{json.loads(body)['amount_kes']:,}"
        credited = rf"Payment KES {amount} \(\w+\) from .* \({account.group(0)}\)"
        assert _wait_for(lambda: told(credited)), seen[-20:]
        assert _wait_for(lambda: told(r"router demo-\w+: changed /ppp/secret \S+ \(disabled=")), (
            seen[-20:]
        )
        assert _wait_for(lambda: told(r"SMS sent to \+254")), seen[-20:]
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired as timeout:
            # raised from the timeout, whose context is whatever failed in the body above
            process.kill()
            process.wait()
            rest = []
            while not lines.empty():
                rest.append(lines.get())
            raise AssertionError(
                "mteja demo did not stop on Ctrl-C:\n" + "\n".join(rest)
            ) from timeout
    rest = []
    while not lines.empty():
        rest.append(lines.get())
    assert process.returncode == 0, rest
