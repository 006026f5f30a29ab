"""Who may do what: help by role, refusals by role, and strangers told they are not authorised."""

from __future__ import annotations

import logging

import pytest

from bot.access import COMMANDS


def test_help_lists_what_each_role_may_use(chat) -> None:
    owner = "\n" + chat("owner").say("/help").text
    admin = "\n" + chat("admin").say("/help").text
    agent = "\n" + chat("agent").say("/help").text
    viewer = "\n" + chat("viewer").say("/start").text
    assert "\n/staff" in owner and "\n/staff" not in admin
    assert "\n/suspend" in admin and "\n/import" in admin
    assert "\n/pay" in agent and "\n/stk" in agent and "\n/disconnect" in agent
    assert "\n/suspend" not in agent and "\n/delete" not in agent and "\n/add" not in agent
    assert "\n/find" in viewer and "\n/history" in viewer
    assert "\n/pay" not in viewer and "\n/sms" not in viewer


def test_every_command_is_in_the_owners_help(chat) -> None:
    text = chat("owner").say("/help").text
    for name in COMMANDS:
        assert f"/{name}" in text


@pytest.mark.parametrize(
    ("role", "command"),
    [
        ("viewer", "/pay MTJ 100 cash"),
        ("viewer", "/stk MTJ"),
        ("viewer", "/sms MTJ hello"),
        ("viewer", "/disconnect MTJ"),
        ("agent", "/suspend MTJ"),
        ("agent", "/extend MTJ 3"),
        ("agent", "/delete MTJ"),
        ("agent", "/passwd MTJ"),
        ("agent", "/plan MTJ Home 20M now"),
        ("agent", "/add"),
        ("agent", "/import"),
        ("admin", "/staff"),
    ],
)
def test_roles_are_refused_before_anything_happens(chat, role: str, command: str) -> None:
    answer = chat(role).say(command)
    assert answer.text.startswith(f"Your role ({role}) may not use /")
    assert not answer.buttons


def test_a_stranger_is_not_authorised_and_logged(chat, caplog) -> None:
    caplog.set_level(logging.WARNING, logger="bot.staffbot")
    answer = chat("stranger").say("/find kamau")
    assert "not authorised" in answer.text
    assert "4242" in answer.text
    assert any("4242" in record.getMessage() for record in caplog.records)


def test_a_stranger_pressing_a_button_is_refused(chat, make_customer) -> None:
    customer = make_customer()
    answer = chat("stranger").press_data(f"a:sus:{customer.id}")
    assert "not authorised" in answer.text
    assert answer.toast


def test_removed_staff_are_strangers_again(chat) -> None:
    owner = chat("owner")
    answer = owner.say("/staff remove 1004")
    owner.press(answer, "Yes, remove")
    assert "not authorised" in chat("viewer").say("/stats").text


def test_a_viewer_cannot_use_an_old_button_of_an_admins_card(chat, make_customer) -> None:
    customer = make_customer(paid=1500)
    answer = chat("viewer").press_data(f"a:sus:{customer.id}")
    assert answer.text == "Your role (viewer) may not do that."
    assert answer.toast == answer.text


def test_unknown_commands_and_plain_text(chat) -> None:
    agent = chat("agent")
    assert "There is no /frobnicate" in agent.say("/frobnicate").text
    assert "/help" in agent.say("hello").text


def test_buttons_the_bot_never_made_are_answered_quietly(chat) -> None:
    for data in ("zz:1", "c:abc", "a:nope:1", "h:1:bogus:0", "c"):
        answer = chat("owner").press_data(data)
        assert answer.text == ""
        assert answer.toast


def test_every_command_and_card_button_has_a_handler() -> None:
    from bot.staffbot import CARD_ACTIONS, HANDLERS
    from bot.views import ACTION_PERMISSIONS

    assert set(HANDLERS) == set(COMMANDS)
    assert set(CARD_ACTIONS) == set(ACTION_PERMISSIONS) | {"fdel"}
