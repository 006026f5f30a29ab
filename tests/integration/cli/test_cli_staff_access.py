"""``mteja staff login-link`` and ``mteja staff set-password``: how staff first get into the web
console from the server. The link printed logs in through the web app once; a password set here
logs in with the login form."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from starlette.testclient import TestClient
from typer.testing import CliRunner

from core.clock import SystemClock
from core.testing import services_for
from mteja.cli import app as cli_app
from web.app import WebConfig, create_app
from web.console import ConsoleConfig

PUBLIC = "https://isp.example"


@pytest.fixture
def staffed(ready, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("MTEJA_PUBLIC_URL", PUBLIC)
    assert ready("staff", "add", "1001", "Amina Owner", "--role", "owner").exit_code == 0
    assert ready("staff", "add", "1003", "Chebet Agent", "--role", "agent").exit_code == 0
    return ready


@pytest.fixture
def browser(workdir: Path) -> Iterator[TestClient]:
    """The web app over the install's database (on the real clock, like the command line),
    as a browser without a session."""
    engine = create_engine(f"sqlite:///{workdir}/mteja.db")
    web = create_app(
        services_for(engine, clock=SystemClock()),
        WebConfig(console=ConsoleConfig(public_url=PUBLIC)),
    )
    with TestClient(web, base_url=PUBLIC, follow_redirects=False) as client:
        yield client
    engine.dispose()


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found
    return found.group(1)


def test_login_link_prints_a_url_that_logs_in_once(staffed, browser: TestClient) -> None:
    result = staffed("staff", "login-link", "chebet")
    assert result.exit_code == 0, result.stderr
    found = re.search(rf"{re.escape(PUBLIC)}(/staff/login/link/[\w-]+)", result.stdout)
    assert found, result.stdout
    assert "Chebet Agent" in result.stdout
    path = found.group(1)
    shown = browser.get(path)
    assert shown.status_code == 200 and "Chebet Agent" in shown.text
    used = browser.post(path, data={"csrf": _csrf(shown.text)})
    assert used.status_code == 303
    assert browser.get("/staff/").status_code == 200
    assert browser.get(path).status_code == 410


def test_login_link_for_someone_unknown_fails_in_one_line(staffed) -> None:
    result = staffed("staff", "login-link", "nobody-here")
    assert result.exit_code == 1
    assert result.stderr.startswith("error:") and "nobody-here" in result.stderr


def _set_password(*args: str, input: str):
    return CliRunner().invoke(cli_app, ["staff", "set-password", *args], input=input)


def _password_login(browser: TestClient, name: str, password: str) -> int:
    page = browser.get("/staff/login")
    form = {"csrf": _csrf(page.text), "name": name, "password": password, "next": "/staff/"}
    return browser.post("/staff/login", data=form).status_code


def test_set_password_asks_twice_then_the_password_logs_in(staffed, browser: TestClient) -> None:
    result = _set_password("Amina", input="correct horse battery\ncorrect horse battery\n")
    assert result.exit_code == 0, result.output
    assert "correct horse" not in result.output  # not echoed
    assert _password_login(browser, "Amina Owner", "correct horse battery") == 303
    assert browser.get("/staff/").status_code == 200


def test_set_password_from_stdin_for_scripts(staffed, browser: TestClient) -> None:
    result = _set_password("1003", "--password-stdin", input="a-long-secret-1\n")
    assert result.exit_code == 0, result.output
    assert _password_login(browser, "Chebet Agent", "wrong-password-1") == 401
    assert _password_login(browser, "Chebet Agent", "a-long-secret-1") == 303


def test_a_short_password_is_refused_and_nothing_is_set(staffed, browser: TestClient) -> None:
    result = _set_password("Amina", "--password-stdin", input="short\n")
    assert result.exit_code == 1
    assert "10 characters" in result.output
    assert _password_login(browser, "Amina Owner", "short") == 401
