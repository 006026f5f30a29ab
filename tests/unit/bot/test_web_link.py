"""/web: every staff member gets their own one-time login link to the web console."""

from __future__ import annotations

import re

import pytest

from bot.staffbot import Caller, StaffBot
from core.actors import Actor
from core.unit_of_work import CoreServices
from core.usecases.staff_access import link_holder, redeem_login_link

PUBLIC_URL = "https://isp.example"


@pytest.fixture
def staff_bot(services: CoreServices, isp: None, presence) -> StaffBot:
    return StaffBot(services, presence=presence, public_url=PUBLIC_URL + "/")


def _token(text: str) -> str:
    found = re.search(rf"{re.escape(PUBLIC_URL)}/staff/login/link/([\w-]+)", text)
    assert found, text
    return found.group(1)


@pytest.mark.parametrize("role", ["owner", "admin", "agent", "viewer"])
def test_every_role_gets_a_link_that_logs_in_as_themselves(
    chat, services: CoreServices, role: str
) -> None:
    answer = chat(role).say("/web")
    token = _token(answer.text)
    assert "once" in answer.text and "15 minutes" in answer.text
    assert "Do not forward it" in answer.text
    with services.unit_of_work() as uow:
        assert link_holder(uow, token) == f"{role.title()} Person"
        redeem_login_link(uow, token)
        uow.commit()
    with services.unit_of_work() as uow:
        assert link_holder(uow, token) is None  # used once


def test_each_web_link_is_new(chat) -> None:
    agent = chat("agent")
    assert _token(agent.say("/web").text) != _token(agent.say("/web").text)


def test_web_is_in_everyones_help(chat) -> None:
    assert "/web" in chat("viewer").say("/help").text


def test_a_stranger_gets_no_link(chat) -> None:
    answer = chat("stranger").say("/web")
    assert "not authorised" in answer.text and "/staff/login" not in answer.text


def test_the_operator_at_the_console_is_told_to_use_the_command_line(services, isp) -> None:
    operator = StaffBot(services, identify=lambda uow, user_id: Actor.cli(), public_url=PUBLIC_URL)
    answer = operator.text(Caller(0, "console"), "/web")
    assert "mteja staff login-link NAME" in answer.text and "/staff/login" not in answer.text
