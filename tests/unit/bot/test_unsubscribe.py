"""/unsubscribe: cancel a subscription after a confirmation that shows the refund (16.10)."""

from __future__ import annotations

from datetime import timedelta


def test_confirmation_shows_the_credit_and_nothing_changes_until_pressed(
    chat, make_customer, read_customer, clock
) -> None:
    customer = make_customer(paid=1500)
    clock.advance(timedelta(days=10))
    admin = chat("admin")
    prompt = admin.say(f"/unsubscribe {customer.account_number} credit moving to Nakuru")
    assert prompt.text.startswith("Cancel the subscription of Wanjiku Kamau")
    assert "KES 1,000 is credited (balance then KES 1,000)" in prompt.text
    assert "Reason: moving to Nakuru." in prompt.text
    assert read_customer(customer.id).status == "active"
    done = admin.press(prompt, "Yes, cancel it")
    assert done.edit
    assert done.text.startswith("Cancelled: KES 1,000 credited.")
    stored = read_customer(customer.id)
    assert (stored.status, stored.expires_at) == ("expired", clock.now())


def test_forfeit_says_what_is_lost_and_delete_then_works(
    chat, make_customer, read_customer
) -> None:
    customer = make_customer(paid=1500)
    admin = chat("admin")
    prompt = admin.say(f"/unsubscribe {customer.account_number} forfeit fraud")
    assert "the unused KES 1,500 is forfeited" in prompt.text
    assert admin.press(prompt, "Yes, cancel it").text.startswith("Cancelled: KES 1,500 forfeited.")
    deleted = admin.press(admin.say(f"/delete {customer.account_number}"), "Yes, delete")
    assert deleted.text.startswith("Deleted Wanjiku Kamau")


def test_bad_input_is_refused_clearly(chat, make_customer) -> None:
    customer = make_customer(paid=1500)
    admin = chat("admin")
    assert admin.say(f"/unsubscribe {customer.account_number} cash moving").text == (
        "⚠️ the refund must be one of credit, forfeit, not 'cash'"
    )
    missing_reason = admin.say(f"/unsubscribe {customer.account_number} credit")
    assert "/unsubscribe REF credit|forfeit REASON" in missing_reason.text
    unpaid = make_customer(phone="0722000111")
    assert admin.say(f"/unsubscribe {unpaid.account_number} credit x").text == (
        "⚠️ the customer has no paid time left to cancel"
    )


def test_agents_may_not_unsubscribe(chat, make_customer, read_customer) -> None:
    customer = make_customer(paid=1500)
    answer = chat("agent").say(f"/unsubscribe {customer.account_number} credit x")
    assert answer.text == "Your role (agent) may not use /unsubscribe."
    assert read_customer(customer.id).status == "active"
