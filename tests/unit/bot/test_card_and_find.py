"""/find and /c: matches as buttons, the card with its status badge, facts and fitting buttons."""

from __future__ import annotations

from core.usecases.service import suspend


def test_find_shows_matches_as_buttons(chat, make_customer) -> None:
    first = make_customer(full_name="Achieng Otieno")
    make_customer(full_name="Achieng Wambui")
    make_customer(full_name="Baraka Mwangi")
    answer = chat("viewer").say("/find achieng")
    assert answer.text.startswith("2 customers match 'achieng'")
    assert len(answer.button_list()) == 2
    card = chat("viewer").press(answer, first.account_number)
    assert "Achieng Otieno" in card.text


def test_find_by_phone_in_another_format(chat, make_customer) -> None:
    customer = make_customer(phone="0722000111")
    answer = chat("viewer").say("/find +254722000111")
    assert customer.account_number in answer.text


def test_find_without_text_gets_the_usage_line(chat) -> None:
    assert chat("viewer").say("/find").text == "Usage: /find TEXT"


def test_find_nothing(chat) -> None:
    assert chat("viewer").say("/find nobody").text == "No customer matches 'nobody'."


def test_card_of_an_active_customer(chat, make_customer, presence) -> None:
    customer = make_customer(paid=1700, full_name="Jane Muthoni", phone="0712000001")
    answer = chat("owner").say(f"/c {customer.account_number.lower()}")
    text = answer.text
    assert text.startswith("🟢 ACTIVE")
    assert "Jane Muthoni" in text and customer.account_number in text
    assert "Plan: Home 10M · 10M down / 5M up · KES 1,500 / 30 days" in text
    assert "Expires: 2026-12-22 12:00 (in 30 days)" in text
    assert "Balance: credit KES 200" in text
    assert "Router: core-1 · IP 10.10.0.2" in text
    assert "0712 000001" in text
    assert "KES 1,700 cash" in text
    assert "Online: checking…" in text
    assert presence.asked == []
    assert answer.then is not None
    fuller = answer.then()
    assert presence.asked == [customer.id]
    assert "Online: online · 10.10.0.2 · up 1h2m · 34.5 MB down, 1.2 MB up" in fuller.text
    assert fuller.edit
    assert fuller.buttons == answer.buttons


def test_card_says_unknown_when_the_router_cannot_tell(chat, make_customer, presence) -> None:
    presence.state = "unknown"
    customer = make_customer(paid=1500)
    answer = chat("viewer").say(f"/c {customer.username}")
    assert answer.then is not None
    assert "Online: unknown (router not answering)" in answer.then().text


def test_buttons_fit_the_status(chat, make_customer, button_labels, services, staff) -> None:
    active = make_customer(paid=1500)
    inactive = make_customer()
    suspended = make_customer(paid=1500)
    with services.unit_of_work() as uow:
        suspend(uow, suspended.id, staff, "late")
        uow.commit()
    owner = chat("owner")
    active_buttons = button_labels(owner.say(f"/c {active.account_number}"))
    assert "Suspend" in active_buttons and "Unsuspend" not in active_buttons
    assert "Extend" in active_buttons and "Disconnect" in active_buttons
    for label in (
        "Pay",
        "STK push",
        "Change plan",
        "Password",
        "Send payment details",
        "History",
        "Delete",
        "Debt",
    ):
        assert label in active_buttons
    suspended_card = owner.say(f"/c {suspended.account_number}")
    assert suspended_card.text.startswith("⛔ SUSPENDED (late)")
    suspended_buttons = button_labels(suspended_card)
    assert "Unsuspend" in suspended_buttons and "Suspend" not in suspended_buttons
    assert "Extend" not in suspended_buttons
    inactive_buttons = button_labels(owner.say(f"/c {inactive.account_number}"))
    assert "Suspend" not in inactive_buttons and "Extend" not in inactive_buttons
    assert "Pay" in inactive_buttons


def test_buttons_fit_the_role(chat, make_customer, button_labels) -> None:
    customer = make_customer(paid=1500)
    viewer = button_labels(chat("viewer").say(f"/c {customer.account_number}"))
    assert viewer == ["History", "↻ Refresh"]
    agent = button_labels(chat("agent").say(f"/c {customer.account_number}"))
    assert set(agent) == {
        "Pay",
        "STK push",
        "Disconnect",
        "Send payment details",
        "Send login",
        "Note",
        "History",
        "↻ Refresh",
    }


def test_card_of_nobody_shows_cores_reason(chat) -> None:
    answer = chat("viewer").say("/c nobody-here")
    assert answer.text == "⚠️ no customer matches 'nobody-here'"


def test_a_typo_in_an_account_number_is_reported(chat, make_customer) -> None:
    customer = make_customer()
    number = customer.account_number
    typo = number[:-1] + ("A" if number[-1] != "A" else "B")
    assert "check" in chat("viewer").say(f"/c {typo}").text.lower()


def test_refresh_button_shows_the_card_again(chat, make_customer) -> None:
    customer = make_customer(paid=1500)
    viewer = chat("viewer")
    card = viewer.say(f"/c {customer.account_number}")
    again = viewer.press(card, "↻ Refresh")
    assert again.text == card.text


def test_staff_actor_is_the_telegram_user(chat, make_customer, services) -> None:
    from sqlalchemy import select

    from core.models import AuditEvent

    customer = make_customer(paid=1500)
    chat("agent").say(f"/disconnect {customer.account_number}")
    with services.unit_of_work() as uow:
        event = uow.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "customer.disconnect")
        ).one()
        assert (event.actor_kind, event.actor_id, event.actor_name) == (
            "staff",
            "1003",
            "Agent Person",
        )
