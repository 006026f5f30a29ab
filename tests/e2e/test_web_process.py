"""`mteja web` as a real process: it starts, answers /healthz, and stops on SIGTERM."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from dotenv import dotenv_values

from core.testing import free_port
from sim.telegram import FakeTelegram, SentMessage
from ussd.africastalking_urls import ussd_url


def test_web_serves_healthz(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MTEJA_")}
    mteja = [sys.executable, "-m", "mteja.cli"]
    subprocess.run([*mteja, "init"], cwd=tmp_path, env=env, check=True, capture_output=True)
    port = free_port()
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
        assert response.json() == {"status": "ok"}
        ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5)
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"]["database"] == "ok"
        assert ready.json()["checks"]["queue"] == "ok"
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=20)
    # uvicorn shuts down gracefully, then re-raises SIGTERM so supervisors see why it stopped.
    assert process.returncode in (0, -signal.SIGTERM)
    assert b"Finished server process" in output


def test_web_with_two_workers_serves_from_two_processes_and_stops_on_sigterm(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MTEJA_")}
    mteja = [sys.executable, "-m", "mteja.cli"]
    subprocess.run([*mteja, "init"], cwd=tmp_path, env=env, check=True, capture_output=True)
    port = free_port()
    process = subprocess.Popen(
        [*mteja, "web", "--port", str(port), "--workers", "2"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        answers: list[int] = []
        while time.monotonic() < deadline and len(answers) < 20:
            try:
                answers.append(httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code)
            except httpx.TransportError:
                time.sleep(0.2)
        assert answers == [200] * 20, "mteja web --workers 2 did not serve"
        # An unknown phone's USSD screen: the app of a worker process reads the database.
        token = dotenv_values(tmp_path / ".env")["MTEJA_AT_CALLBACK_TOKEN"] or ""
        screen = httpx.post(
            ussd_url(f"http://127.0.0.1:{port}", token),
            data={
                "sessionId": "w",
                "serviceCode": "*384#",
                "phoneNumber": "+254700000001",
                "text": "",
            },
            timeout=5,
        )
        assert screen.status_code == 200 and screen.text.startswith("END "), screen.text
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    text = output.decode()
    started = re.findall(r"Started server process \[(\d+)\]", text)
    assert len(set(started)) == 2, text
    assert text.count("Finished server process") == 2, text
    assert process.returncode in (0, -signal.SIGTERM), text


WEBHOOK_SECRET = "s3cret-path"
OWNER = 1001
TEAMMATE = 1002


@pytest.mark.slow
def test_two_web_processes_share_the_bots_forms_and_confirmations(tmp_path: Path) -> None:
    """The Telegram webhook on ``mteja web --workers 2``: each update may reach either process,
    and a form or confirmation begun in one carries on in the other."""
    with FakeTelegram() as telegram:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MTEJA_")}
        env |= {
            "MTEJA_TELEGRAM_TOKEN": telegram.token,
            "MTEJA_TELEGRAM_BASE_URL": telegram.base_url,
            "MTEJA_TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
        }
        mteja = [sys.executable, "-m", "mteja.cli"]
        for command in (
            ["init"],
            ["staff", "add", str(OWNER), "Owner Person", "--role", "owner"],
            ["staff", "add", str(TEAMMATE), "Agent Person", "--role", "agent"],
        ):
            subprocess.run([*mteja, *command], cwd=tmp_path, env=env, check=True)
        port = free_port()
        process = subprocess.Popen(
            [*mteja, "web", "--port", str(port), "--workers", "2"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_until_serving(process, port)

            def deliver(update: dict[str, object]) -> None:
                # A new connection each time, so either process may take it.
                response = httpx.post(
                    f"http://127.0.0.1:{port}/telegram/{WEBHOOK_SECRET}",
                    json=update,
                    headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET},
                    timeout=10,
                )
                assert response.status_code == 200, response.text

            def press(message: SentMessage, label: str) -> None:
                deliver(_press(telegram, message, label))

            sent = 0
            for _ in range(6):
                deliver(telegram.says(OWNER, "/add"))
                sent += 1
                form = telegram.wait_for_messages(OWNER, sent)
                assert "Connection type" in form.text
                press(form, "PPPoE")
                telegram.wait_for(lambda form=form: form.edits == 1, what="the form's next step")
                assert "No pppoe plan is on sale" in form.text, form.text
                press(form, "◀ Back")
                telegram.wait_for(lambda form=form: form.edits == 2, what="the form's first step")
                assert "Connection type" in form.text, form.text
            # The last form is still open, whichever process takes the next message.
            deliver(telegram.says(OWNER, "/cancel"))
            sent += 1
            assert "cancelled" in telegram.wait_for_messages(OWNER, sent).text
            for _ in range(3):
                deliver(telegram.says(OWNER, f"/staff remove {TEAMMATE}"))
                sent += 1
                question = telegram.wait_for_messages(OWNER, sent)
                assert "Remove Telegram user" in question.text
                press(question, "Cancel")
                telegram.wait_for(lambda q=question: q.edits == 1, what="the cancellation")
                assert question.text == "Cancelled; nothing changed."
            deliver(telegram.says(OWNER, f"/staff remove {TEAMMATE}"))
            question = telegram.wait_for_messages(OWNER, sent + 1)
            press(question, "Yes, remove")
            telegram.wait_for(lambda: question.edits == 1, what="the removal")
            assert question.text == "Agent Person may no longer use the bot.", question.text
        finally:
            process.send_signal(signal.SIGTERM)
            output, _ = process.communicate(timeout=30)
    text = output.decode()
    assert len(set(re.findall(r"Started server process \[(\d+)\]", text))) == 2, text


def _wait_until_serving(process: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    output = process.stdout.read().decode() if process.poll() is not None and process.stdout else ""
    raise AssertionError(f"mteja web did not start\n{output}")


def _press(telegram: FakeTelegram, message: SentMessage, label: str) -> dict[str, object]:
    """The update Telegram posts when staff press ``label`` under ``message``."""
    chat = {"id": message.chat_id, "type": "private", "first_name": "Staff"}
    return {
        "update_id": int(time.time() * 1000),
        "callback_query": {
            "id": str(time.monotonic_ns()),
            "from": telegram.user(message.chat_id),
            "message": {
                "message_id": message.message_id,
                "date": int(time.time()),
                "chat": chat,
                "text": message.text,
            },
            "chat_instance": f"chat-{message.chat_id}",
            "data": message.button(label),
        },
    }


@pytest.mark.slow
def test_two_workers_share_their_metrics_and_log_json_lines_with_the_request_id(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MTEJA_")}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env |= {"MTEJA_LOG_FORMAT": "json"}
    mteja = [sys.executable, "-m", "mteja.cli"]
    subprocess.run([*mteja, "init"], cwd=tmp_path, env=env, check=True, capture_output=True)
    stale = tmp_path / ".mteja-metrics" / "counter_999999999.db"  # a long-gone process's file
    stale.parent.mkdir()
    stale.write_bytes(b"")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [*mteja, "web", "--port", str(port), "--workers", "2"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    sessions = 12
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{base}/healthz", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        token = dotenv_values(tmp_path / ".env")["MTEJA_AT_CALLBACK_TOKEN"] or ""
        for number in range(sessions):
            form = {"sessionId": f"s{number}", "serviceCode": "*384#", "text": ""}
            form["phoneNumber"] = f"+2547000000{number:02d}"
            headers = {"X-Request-ID": f"ussd-{number}"}
            answer = httpx.post(ussd_url(base, token), data=form, headers=headers, timeout=5)
            assert answer.headers["X-Request-ID"] == f"ussd-{number}"
        # Every request is answered by one of two processes; /metrics adds up both.
        scrapes = [httpx.get(f"{base}/metrics", timeout=5) for _ in range(4)]
        assert {scrape.status_code for scrape in scrapes} == {200}
        assert all(f"mteja_ussd_sessions_total {sessions}.0" in s.text for s in scrapes)
        assert all("\nmteja_queue_pending 0.0\n" in scrape.text for scrape in scrapes)
        pids = {path.name for path in (tmp_path / ".mteja-metrics").glob("counter_*.db")}
        assert len(pids) == 2 and stale.name not in pids, pids
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    lines = [json.loads(line) for line in output.decode().splitlines() if line.startswith("{")]
    assert lines and len(lines) == len(output.decode().splitlines()), output.decode()
    access = [line for line in lines if line["logger"] == "uvicorn.access"]
    assert {line["correlation_id"] for line in access} >= {f"ussd-{n}" for n in range(sessions)}
