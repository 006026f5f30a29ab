"""Issue 16 in the bot: /edit as a form with before → after, /note, /login (SMS or shown)."""

from __future__ import annotations

from sqlalchemy import select

from core.events import CustomerNeedsSync, CustomerRemoved
from core.models import AuditEvent, SmsMessage
from core.usecases.network import RouterSpec, add_pool, add_router
from core.usecases.sms import SECRET_MASK


def test_edit_form_shows_before_and_after_and_saves_only_on_save(
    chat, make_customer, read_customer
) -> None:
    customer = make_customer()
    admin = chat("admin")
    form = admin.say(f"/edit {customer.account_number}")
    assert "Edit Wanjiku Kamau 1" in form.text and "Phone: 0712 345601" in form.text
    question = admin.press(form, "Phone")
    assert "New phone?" in question.text
    back = admin.say("0733 000 111")
    assert "Phone: 0712 345601 → 0733 000111" in back.text
    review = admin.press(back, "Review and save")
    assert "Phone: 0712 345601 → 0733 000111" in review.text
    assert read_customer(customer.id).phone == "+254712345601"
    saved = admin.press(review, "✅ Save")
    assert saved.text.startswith("Saved: phone.") and saved.edit
    assert read_customer(customer.id).phone == "+254733000111"


def test_edit_is_audited_with_the_staff_members_name(chat, make_customer, services) -> None:
    customer = make_customer()
    admin = chat("admin")
    review = admin.say(f"/edit {customer.account_number} email wanjiku@example.com")
    assert "Email: - → wanjiku@example.com" in review.text
    admin.press(review, "✅ Save")
    with services.unit_of_work() as uow:
        event = uow.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "customer.edit")
        ).one()
        assert event.actor_name == "Admin Person"
        assert (event.before, event.after) == ({"email": None}, {"email": "wanjiku@example.com"})


def test_a_router_move_takes_the_login_off_the_old_router(
    chat, make_customer, services, staff, dispatcher, read_customer
) -> None:
    with services.unit_of_work() as uow:
        add_router(
            uow, staff, RouterSpec("west-1", "127.0.0.2", 8728, "admin", "secret", plain_api=True)
        )
        add_pool(uow, staff, "west-1", "10.20.0.0/28")
        uow.commit()
    customer = make_customer()
    old_router = read_customer(customer.id).router_id
    dispatcher.events.clear()
    admin = chat("admin")
    question = admin.press(admin.say(f"/edit {customer.account_number}"), "Router")
    menu = admin.press(question, "west-1")
    assert "Router: core-1 → west-1" in menu.text
    review = admin.press(menu, "Review and save")
    assert "leaves the old router" in review.text
    admin.press(review, "✅ Save")
    stored = read_customer(customer.id)
    assert stored.router_id != old_router and stored.ip_address.startswith("10.20.0.")
    removed = [e for e in dispatcher.events if isinstance(e, CustomerRemoved)]
    assert [(e.router_id, e.username) for e in removed] == [(old_router, stored.username)]
    assert any(isinstance(e, CustomerNeedsSync) for e in dispatcher.events)


def test_additional_account_number_typed_or_generated(chat, make_customer, read_customer) -> None:
    customer = make_customer()
    admin = chat("admin")
    admin.press(admin.say(f"/edit {customer.account_number} account2 acc-7"), "✅ Save")
    assert read_customer(customer.id).account_number2 == "ACC-7"
    card = admin.say("/c acc-7")  # staff find the customer by it too
    assert "(also ACC-7)" in card.text
    question = admin.press(admin.say(f"/edit {customer.account_number}"), "Additional")
    menu = admin.press(question, "Generate")
    assert "ACC-7 → (a new one, generated)" in menu.text
    admin.press(admin.press(menu, "Review and save"), "✅ Save")
    assert read_customer(customer.id).account_number2.startswith("MTJ-")


def test_a_bad_value_is_refused_with_the_reason_and_nothing_changes(
    chat, make_customer, read_customer
) -> None:
    customer = make_customer()
    admin = chat("admin")
    review = admin.say(f"/edit {customer.account_number} account2 has;semicolon")
    refused = admin.press(review, "✅ Save")
    assert refused.text.startswith("⚠️ Not saved: an additional account number is")
    assert read_customer(customer.id).account_number2 is None
    assert admin.say("/cancel").text == "Editing cancelled; nothing changed."


def test_edit_with_an_unknown_field_shows_the_usage(chat, make_customer) -> None:
    customer = make_customer()
    answer = chat("admin").say(f"/edit {customer.account_number} colour blue")
    assert answer.text.startswith("Usage: /edit REF [FIELD VALUE]")
    assert "name, phone, email" in answer.text


def test_an_agent_may_not_edit(chat, make_customer) -> None:
    customer = make_customer()
    assert "may not use /edit" in chat("agent").say(f"/edit {customer.account_number}").text


def test_cancel_leaves_the_form_without_saving(chat, make_customer, read_customer) -> None:
    customer = make_customer()
    admin = chat("admin")
    admin.press(admin.say(f"/edit {customer.account_number}"), "Name")
    admin.say("Somebody Else")
    assert admin.say("/cancel").text == "Editing cancelled; nothing changed."
    assert read_customer(customer.id).full_name == "Wanjiku Kamau 1"
    assert "Send a command" in admin.say("hello").text


def test_a_note_is_kept_and_shown_in_the_history(chat, make_customer) -> None:
    customer = make_customer()
    agent = chat("agent")
    answer = agent.say(f"/note {customer.account_number} Router moved to the sitting room")
    assert answer.text.startswith("Note kept on Wanjiku Kamau 1") and "Agent Person" in answer.text
    history = agent.press(answer, "History")
    assert "note: Router moved to the sitting room" in history.text
    assert "Agent Person" in history.text
    assert agent.say(f"/note {customer.account_number}").text.startswith("Usage: /note")
    assert "may not use /note" in chat("viewer").say(f"/note {customer.account_number} x").text


def test_login_is_sent_masked_and_shown_only_to_admins(chat, make_customer, services) -> None:
    customer = make_customer(password="s3cret-pw")
    sent = chat("agent").say(f"/login {customer.account_number}")
    assert "Login sent by SMS to 0712 345601" in sent.text
    assert SECRET_MASK in sent.text and "s3cret-pw" not in sent.text
    refused = chat("agent").say(f"/login {customer.account_number} show")
    assert refused.text.startswith("⚠️ your role (agent) may not")
    shown = chat("admin").say(f"/login {customer.account_number} show")
    assert customer.username in shown.text and "s3cret-pw" in shown.text
    with services.unit_of_work() as uow:
        bodies = list(uow.session.scalars(select(SmsMessage.body)))
        actions = list(uow.session.scalars(select(AuditEvent.action)))
        audited = [
            repr((e.before, e.after, e.reason)) for e in uow.session.scalars(select(AuditEvent))
        ]
    assert all("s3cret-pw" not in body for body in bodies)
    assert actions.count("customer.login_sent") == 1
    assert actions.count("customer.password_shown") == 1
    assert all("s3cret-pw" not in values for values in audited)


def test_card_buttons_send_the_login_and_open_the_edit_form(chat, make_customer) -> None:
    customer = make_customer()
    admin = chat("admin")
    card = admin.say(f"/c {customer.account_number}")
    assert "Login sent by SMS" in admin.press(card, "Send login").text
    assert admin.press(card, "Edit details").text.startswith("Edit Wanjiku Kamau 1")
    assert admin.say("/cancel").text.startswith("Editing cancelled")
    assert f"/note {customer.account_number} TEXT" in admin.press(card, "Note").text


def test_a_bad_phone_is_asked_again_at_once(chat, make_customer) -> None:
    customer = make_customer()
    admin = chat("admin")
    admin.press(admin.say(f"/edit {customer.account_number}"), "Phone")
    again = admin.say("12")
    assert again.text.startswith("⚠️") and "New phone?" in again.text
