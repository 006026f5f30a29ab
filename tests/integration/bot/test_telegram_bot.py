"""The staff bot through python-telegram-bot and a fake Bot API server: messages, buttons,
confirmations, roles, strangers, and the one error handler."""

from __future__ import annotations

import logging

import pytest

OWNER, ADMIN, AGENT, VIEWER, STRANGER = 1001, 1002, 1003, 1004, 4242


def test_help_and_the_command_menu(telegram, bot_app) -> None:
    telegram.says(OWNER, "/start")
    reply = telegram.wait_for_messages(OWNER, 1)
    assert reply.text.startswith("You are Owner Person (owner). Your commands:")
    commands = telegram.method_calls("setMyCommands")
    assert commands and any(c["command"] == "suspend" for c in commands[0]["commands"])


def test_a_stranger_is_told_and_logged(telegram, bot_app, caplog) -> None:
    caplog.set_level(logging.WARNING, logger="bot.staffbot")
    telegram.says(STRANGER, "/find kamau")
    reply = telegram.wait_for_messages(STRANGER, 1)
    assert reply.text.startswith("You are not authorised to use this bot. Your Telegram user id")
    assert any("4242" in record.getMessage() for record in caplog.records)


def test_find_then_card_then_router_view(telegram, bot_app, add_customer) -> None:
    customer = add_customer(paid=1500, full_name="Akinyi Odhiambo")
    telegram.says(VIEWER, "/find akinyi")
    found = telegram.wait_for_messages(VIEWER, 1)
    assert found.labels == [f"{customer.account_number} Akinyi Odhiambo"]
    query = telegram.presses(VIEWER, found, customer.account_number)
    card = telegram.wait_for_messages(VIEWER, 2)
    assert card.text.startswith("🟢 ACTIVE\nAkinyi Odhiambo")
    assert telegram.wait_for(lambda: query in telegram.answered, what="the query answer")
    # Sent at once with "checking…", then edited with what the router says.
    telegram.wait_for(lambda: card.edits == 1, what="the router's view")
    assert "Online: checking…" in card.history[0]
    assert "Online: online · 10.10.0.2 · up 3h" in card.text
    assert card.labels == ["History", "↻ Refresh"]


def test_suspend_asks_then_edits_the_question_into_the_result(
    telegram, bot_app, add_customer, status_of
) -> None:
    customer = add_customer(paid=1500)
    telegram.says(ADMIN, f"/suspend {customer.account_number} cable cut")
    question = telegram.wait_for_messages(ADMIN, 1)
    assert question.labels == ["Yes, suspend", "Cancel"]
    assert status_of(customer.id) == "active"
    query = telegram.presses(ADMIN, question, "Yes, suspend")
    telegram.wait_for(lambda: question.text.startswith("Suspended"), what="the edit")
    assert "⛔ SUSPENDED (cable cut)" in question.text
    assert "Unsuspend" in question.labels
    assert status_of(customer.id) == "suspended"
    assert telegram.wait_for(lambda: query in telegram.answered)
    assert len(telegram.messages(ADMIN)) == 1


def test_cancelled_confirmation(telegram, bot_app, add_customer, status_of) -> None:
    customer = add_customer(paid=1500)
    telegram.says(ADMIN, f"/delete {customer.account_number}")
    question = telegram.wait_for_messages(ADMIN, 1)
    query = telegram.presses(ADMIN, question, "Cancel")
    telegram.wait_for(lambda: question.text == "Cancelled; nothing changed.")
    assert question.buttons == []
    assert telegram.answered[query] == "Cancelled."
    assert status_of(customer.id) == "active"


@pytest.mark.parametrize(
    ("command", "confirm"),
    [
        ("/suspend {ref}", "Yes, suspend"),
        ("/delete {ref}", "Yes, delete"),
        ("/passwd {ref}", "Yes, change it"),
        ("/plan {ref} Home 20M now", "Yes, change now"),
    ],
)
def test_destructive_actions_ask_first(telegram, bot_app, add_customer, command, confirm) -> None:
    customer = add_customer()
    telegram.says(OWNER, command.format(ref=customer.account_number))
    question = telegram.wait_for_messages(OWNER, 1)
    assert question.labels == [confirm, "Cancel"]


def test_a_role_refused_on_a_button_is_told_in_the_query_answer(
    telegram, bot_app, add_customer, status_of
) -> None:
    customer = add_customer(paid=1500)
    telegram.says(ADMIN, f"/c {customer.account_number}")
    card = telegram.wait_for_messages(ADMIN, 1)
    # The agent presses the admin's Suspend button (a shared staff group).
    query = telegram.presses(AGENT, card, "Suspend")
    telegram.wait_for(lambda: query in telegram.answered)
    assert telegram.answered[query] == "Your role (agent) may not do that."
    assert status_of(customer.id) == "active"


def test_each_role_is_refused_what_it_may_not_do(telegram, bot_app, add_customer) -> None:
    customer = add_customer(paid=1500)
    ref = customer.account_number
    refusals = {
        VIEWER: [f"/pay {ref} 100 cash", f"/stk {ref}", f"/sms {ref} hi", f"/disconnect {ref}"],
        AGENT: [f"/suspend {ref}", f"/extend {ref} 1", f"/delete {ref}", "/add", "/import"],
        ADMIN: ["/staff"],
    }
    for user, commands in refusals.items():
        for command in commands:
            telegram.says(user, command)
        telegram.wait_for_messages(user, len(commands))
        replies = [message.text for message in telegram.messages(user)]
        assert all(text.startswith("Your role (") for text in replies), replies


def test_bad_arguments_get_the_usage_line(telegram, bot_app) -> None:
    telegram.says(AGENT, "/pay")
    assert telegram.wait_for_messages(AGENT, 1).text.startswith("Usage: /pay REF AMOUNT")


def test_history_pages_by_editing_one_message(telegram, bot_app, add_customer, clock) -> None:
    from datetime import timedelta

    customer = add_customer(paid=1500)
    for day in range(10):
        clock.advance(timedelta(minutes=5))
        telegram.says(ADMIN, f"/extend {customer.account_number} 1 day {day}")
    telegram.wait_for_messages(ADMIN, 10)
    telegram.says(ADMIN, f"/history {customer.account_number}")
    history = telegram.wait_for_messages(ADMIN, 11)
    assert "page 1" in history.text
    telegram.presses(ADMIN, history, "Older ▶")
    telegram.wait_for(lambda: "page 2" in history.text)
    telegram.presses(ADMIN, history, "◀ Newer")
    telegram.wait_for(lambda: "page 1" in history.text)
    assert len(telegram.messages(ADMIN)) == 11


def test_the_stats_chart_is_a_photo(telegram, bot_app, add_customer) -> None:
    add_customer(paid=1500)
    telegram.says(VIEWER, "/stats")
    stats = telegram.wait_for_messages(VIEWER, 1)
    telegram.presses(VIEWER, stats, "📈")
    chart = telegram.wait_for_messages(VIEWER, 2)
    assert chart.kind == "photo"
    assert chart.content.startswith(b"\x89PNG")
    assert chart.text.startswith("Revenue KES 1,500 in the last 30 days")


def test_one_error_handler_logs_and_tells_the_chat(
    telegram, bot_app, staff_bot, add_customer, caplog, monkeypatch
) -> None:
    caplog.set_level(logging.ERROR, logger="bot.telegram")
    customer = add_customer(paid=1500)
    telegram.says(OWNER, f"/c {customer.account_number}")
    card = telegram.wait_for_messages(OWNER, 1)

    def broken(*args: object) -> None:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(staff_bot, "press", broken)
    monkeypatch.setattr(staff_bot, "text", broken)
    query = telegram.presses(OWNER, card, "History")
    telegram.wait_for(lambda: query in telegram.answered)
    assert telegram.answered[query] == "Something went wrong."
    sorry = telegram.wait_for_messages(OWNER, 2)
    assert sorry.text.startswith("Sorry, something went wrong")
    telegram.says(OWNER, "/stats")
    assert telegram.wait_for_messages(OWNER, 3).text.startswith("Sorry")
    assert any("database on fire" in (r.exc_text or "") for r in caplog.records)
