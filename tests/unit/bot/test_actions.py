"""Customer actions from commands and card buttons; destructive ones ask first."""

from __future__ import annotations

from datetime import timedelta

from core.events import SessionDropRequested, SmsQueued, StkPushRequested
from core.models import SmsMessage
from core.usecases.plans import PlanSpec, add_plan


def test_suspend_asks_first_and_changes_nothing_until_confirmed(
    chat, make_customer, read_customer
) -> None:
    customer = make_customer(paid=1500)
    admin = chat("admin")
    prompt = admin.say(f"/suspend {customer.account_number} did not pay")
    assert "Suspend Wanjiku Kamau" in prompt.text and "did not pay" in prompt.text
    assert read_customer(customer.id).status == "active"
    done = admin.press(prompt, "Yes, suspend")
    assert done.edit
    assert done.text.startswith("Suspended Wanjiku Kamau")
    assert "⛔ SUSPENDED (did not pay)" in done.text
    assert read_customer(customer.id).status == "suspended"


def test_cancelling_a_confirmation_changes_nothing(chat, make_customer, read_customer) -> None:
    customer = make_customer(paid=1500)
    admin = chat("admin")
    prompt = admin.say(f"/suspend {customer.account_number}")
    answer = admin.press(prompt, "Cancel")
    assert answer.text == "Cancelled; nothing changed." and answer.edit
    assert read_customer(customer.id).status == "active"
    # The confirm button of a cancelled prompt no longer works.
    again = admin.press(prompt, "Yes, suspend")
    assert "expired" in again.text
    assert read_customer(customer.id).status == "active"


def test_a_confirmation_works_once(chat, make_customer) -> None:
    customer = make_customer(paid=1500)
    admin = chat("admin")
    prompt = admin.say(f"/suspend {customer.account_number}")
    admin.press(prompt, "Yes, suspend")
    assert "already used" in admin.press(prompt, "Yes, suspend").text


def test_a_confirmation_expires(chat, make_customer, clock, read_customer) -> None:
    customer = make_customer(paid=1500)
    admin = chat("admin")
    prompt = admin.say(f"/suspend {customer.account_number}")
    clock.advance(timedelta(minutes=16))
    assert "expired" in admin.press(prompt, "Yes, suspend").text
    assert read_customer(customer.id).status == "active"


def test_another_staff_member_cannot_confirm_my_action(chat, make_customer, read_customer) -> None:
    customer = make_customer(paid=1500)
    prompt = chat("admin").say(f"/suspend {customer.account_number}")
    assert "expired" in chat("owner").press(prompt, "Yes, suspend").text
    assert read_customer(customer.id).status == "active"


def test_suspend_button_then_unsuspend_button(chat, make_customer, read_customer) -> None:
    customer = make_customer(paid=1500)
    admin = chat("admin")
    card = admin.say(f"/c {customer.account_number}")
    prompt = admin.press(card, "Suspend")
    suspended = admin.press(prompt, "Yes, suspend")
    assert read_customer(customer.id).suspended_reason == "no reason given"
    lifted = admin.press(suspended, "Unsuspend")
    assert lifted.text.startswith("Unsuspended: now active.")
    assert read_customer(customer.id).status == "active"


def test_suspending_twice_shows_cores_refusal(chat, make_customer) -> None:
    customer = make_customer(paid=1500)
    admin = chat("admin")
    admin.press(admin.say(f"/suspend {customer.account_number}"), "Yes, suspend")
    again = admin.press(admin.say(f"/suspend {customer.account_number}"), "Yes, suspend")
    assert again.text == "⚠️ the customer is already suspended"


def test_disconnect_queues_a_session_drop(chat, make_customer, dispatcher) -> None:
    customer = make_customer(paid=1500)
    dispatcher.events.clear()
    answer = chat("agent").say(f"/disconnect {customer.account_number}")
    assert answer.text.startswith("Disconnect queued")
    assert dispatcher.of_type(SessionDropRequested) == [SessionDropRequested(customer.id)]


def test_extend_by_days_and_to_a_date(chat, make_customer, read_customer) -> None:
    customer = make_customer(paid=1500)
    admin = chat("admin")
    answer = admin.say(f"/extend {customer.account_number} 5 router outage")
    assert answer.text.startswith("Expiry moved to 2026-12-27 12:00.")
    answer = admin.say(f"/extend {customer.account_number} 2027-01-31")
    assert answer.text.startswith("Expiry moved to 2027-01-31 23:59.")
    assert read_customer(customer.id).expires_at is not None


def test_extend_buttons(chat, make_customer) -> None:
    customer = make_customer(paid=1500)
    admin = chat("admin")
    choices = admin.press(admin.say(f"/c {customer.account_number}"), "Extend")
    answer = admin.press(choices, "+7 days")
    assert answer.text.startswith("Expiry moved to 2026-12-29 12:00.")


def test_bad_arguments_get_the_usage_line(chat, make_customer) -> None:
    customer = make_customer()
    admin = chat("admin")
    ref = customer.account_number
    assert admin.say("/extend").text == "Usage: /extend REF DAYS|YYYY-MM-DD [reason]"
    assert admin.say(f"/extend {ref} soon").text.startswith(
        "Usage: /extend REF DAYS|YYYY-MM-DD [reason]\n'soon' is neither"
    )
    assert admin.say(f"/pay {ref}").text.startswith("Usage: /pay REF AMOUNT")
    assert (
        "the method is one of cash, mpesa, bank, cheque" in admin.say(f"/pay {ref} 100 paypal").text
    )
    assert admin.say(f"/pay {ref} lots cash").text.startswith("Usage: /pay")
    assert admin.say("/plan").text.startswith("Usage: /plan REF PLAN")
    assert admin.say(f"/sms {ref}").text.startswith("Usage: /sms REF TEXT")
    assert admin.say("/history").text.startswith("Usage: /history")
    assert admin.say("/expiring 0").text.startswith("Usage: /expiring [DAYS]")
    assert admin.say("/assign ONLYONE").text.startswith("Usage: /assign RECEIPT REF")


def test_pay_renews_and_shows_the_card(chat, make_customer, read_customer) -> None:
    customer = make_customer()
    answer = chat("agent").say(f"/pay {customer.account_number} 1,500 mpesa qk12abc")
    assert answer.text.startswith(
        "Payment of KES 1,500 (mpesa) recorded. Renewed 1 × Home 10M until 2026-12-22 12:00."
    )
    assert "🟢 ACTIVE" in answer.text
    assert read_customer(customer.id).status == "active"
    again = chat("agent").say(f"/pay {customer.account_number} 1500 mpesa QK12ABC")
    assert again.text.startswith("That payment was already recorded; nothing changed.")


def test_mpesa_payment_without_receipt_is_refused_by_core(chat, make_customer) -> None:
    customer = make_customer()
    answer = chat("agent").say(f"/pay {customer.account_number} 1500 mpesa")
    assert answer.text == "⚠️ an M-Pesa payment needs its receipt number as the reference"


def test_pay_button_offers_cash_for_what_renews(chat, make_customer, read_customer) -> None:
    customer = make_customer()
    agent = chat("agent")
    hint = agent.press(agent.say(f"/c {customer.account_number}"), "Pay")
    assert f"/pay {customer.account_number} AMOUNT" in hint.text
    prompt = agent.press(hint, "Cash KES 1,500")
    assert read_customer(customer.id).status == "inactive"
    paid = agent.press(prompt, "Yes, record it")
    assert paid.text.startswith("Payment of KES 1,500 (cash) recorded. Renewed")
    assert read_customer(customer.id).status == "active"


def test_debt_starts_service(chat, make_customer) -> None:
    customer = make_customer()
    admin = chat("admin")
    answer = admin.say(f"/debt {customer.account_number} 1500 pays on Friday")
    assert answer.text.startswith("Debt of KES 1,500 recorded; balance debt KES 1,500.")
    assert "Service started until 2026-12-22 12:00." in answer.text
    hint = admin.press(admin.say(f"/c {customer.account_number}"), "Debt")
    assert "/debt" in hint.text


def test_pay_noactivate_keeps_the_money_as_credit(chat, make_customer, read_customer) -> None:
    customer = make_customer()
    answer = chat("agent").say(f"/pay {customer.account_number} 1500 cash noactivate rcpt-9")
    assert answer.text.startswith(
        "Payment of KES 1,500 (cash) recorded. Not activated: it stays as credit. "
        "Balance: credit KES 1,500."
    )
    stored = read_customer(customer.id)
    assert (stored.status, stored.expires_at) == ("inactive", None)
    again = chat("agent").say(f"/pay {customer.account_number} 1500 cash RCPT-9")
    assert again.text.startswith("That payment was already recorded")


def test_debt_nostart_only_records_the_debt(chat, make_customer, read_customer) -> None:
    customer = make_customer()
    answer = chat("admin").say(f"/debt {customer.account_number} 700 nostart router later")
    assert answer.text.startswith(
        "Debt of KES 700 recorded; balance debt KES 700. Service not started."
    )
    assert read_customer(customer.id).status == "inactive"


def test_the_hints_name_the_words(chat, make_customer) -> None:
    customer = make_customer()
    agent = chat("admin")
    card = agent.say(f"/c {customer.account_number}")
    assert "[noactivate]" in agent.press(card, "Pay").text
    assert "[nostart]" in agent.press(card, "Debt").text


def test_stk_push_is_queued_not_sent_inline(chat, make_customer, dispatcher) -> None:
    customer = make_customer(phone="0712999888")
    answer = chat("agent").say(f"/stk {customer.account_number}")
    assert answer.text.startswith("M-Pesa prompt for KES 1,500 is on its way to 0712 999888")
    assert len(dispatcher.of_type(StkPushRequested)) == 1
    answer = chat("agent").say(f"/stk {customer.account_number} 200")
    assert "KES 200" in answer.text


def test_details_and_sms_are_queued_and_audited(chat, make_customer, services, dispatcher) -> None:
    from sqlalchemy import select

    from core.models import AuditEvent

    customer = make_customer(phone="0712999777")
    agent = chat("agent")
    details = agent.say(f"/details {customer.account_number}")
    assert details.text.startswith("Sent by SMS to 0712 999777:")
    assert f"Account {customer.account_number}: KES" in details.text
    sms = agent.say(f"/sms {customer.account_number} Technician arrives at 3pm.")
    assert sms.text == "SMS queued to 0712 999777."
    assert len(dispatcher.of_type(SmsQueued)) == 2
    with services.unit_of_work() as uow:
        bodies = [m.body for m in uow.session.scalars(select(SmsMessage).order_by(SmsMessage.id))]
        actions = list(
            uow.session.scalars(select(AuditEvent.action).where(AuditEvent.actor_id == "1003"))
        )
    assert bodies[-1] == "Technician arrives at 3pm."
    assert actions == ["customer.payment_details", "customer.sms"]


def test_plan_change_at_renewal_is_direct_and_now_asks_first(
    chat, make_customer, read_customer
) -> None:
    customer = make_customer(paid=1500)
    admin = chat("admin")
    answer = admin.say(f"/plan {customer.account_number} home 20m")
    assert answer.text.startswith("home 20m starts at the next renewal.")
    assert "Next plan: Home 20M" in answer.text
    prompt = admin.say(f"/plan {customer.account_number} Home 20M now")
    assert "Move Wanjiku Kamau" in prompt.text
    assert read_customer(customer.id).plan == "Home 10M"
    done = admin.press(prompt, "Yes, change now")
    assert "is now on Home 20M" in done.text
    assert read_customer(customer.id).plan == "Home 20M"


def test_plan_change_now_names_the_renewal_change_it_cancels(
    chat, services, staff, make_customer, read_customer
) -> None:
    with services.unit_of_work() as uow:
        add_plan(uow, staff, PlanSpec("Home 5M", "pppoe", 1000, "5M", "2M", validity_days=30))
        uow.commit()
    customer = make_customer(paid=1500)
    admin = chat("admin")
    admin.say(f"/plan {customer.account_number} Home 20M")
    prompt = admin.say(f"/plan {customer.account_number} Home 5M now")
    assert "This cancels the change to Home 20M planned for the next renewal." in prompt.text
    done = admin.press(prompt, "Yes, change now")
    assert "is now on Home 5M. The change to Home 20M at the next renewal is cancelled." in (
        done.text
    )
    assert "Next plan:" not in done.text
    assert read_customer(customer.id).plan == "Home 5M"


def test_plan_buttons(chat, make_customer, read_customer, button_labels) -> None:
    customer = make_customer(paid=1500)
    admin = chat("admin")
    choices = admin.press(admin.say(f"/c {customer.account_number}"), "Change plan")
    assert button_labels(choices) == ["Home 20M · KES 2,500"]
    timing = admin.press(choices, "Home 20M")
    assert timing.edit and button_labels(timing) == ["At next renewal", "Now"]
    prompt = admin.press(timing, "Now")
    assert prompt.edit
    admin.press(prompt, "Yes, change now")
    assert read_customer(customer.id).plan == "Home 20M"


def test_plan_of_another_type_is_refused(chat, make_customer) -> None:
    customer = make_customer(paid=1500)
    answer = chat("admin").say(f"/plan {customer.account_number} Daily 5M")
    assert answer.text == "⚠️ plan is for hotspot, customer is pppoe"


def test_plans_lists_what_is_on_sale(chat) -> None:
    text = chat("viewer").say("/plans").text
    assert "Home 10M · pppoe · 10M down / 5M up · KES 1,500 / 30 days" in text
    assert "Daily 5M · hotspot" in text


def test_password_change_asks_then_shows_the_password_once(chat, make_customer) -> None:
    customer = make_customer(paid=1500)
    admin = chat("admin")
    prompt = admin.say(f"/passwd {customer.account_number} s3cret-pw")
    assert "Set a new login password" in prompt.text
    done = admin.press(prompt, "Yes, change it")
    assert f"login {customer.username}: s3cret-pw" in done.text
    generated = admin.press(
        admin.press(admin.say(f"/c {customer.account_number}"), "Password"), "Yes, change it"
    )
    assert "Shown once" in generated.text


def test_delete_asks_and_shows_cores_refusal_with_force_for_admins(
    chat, make_customer, read_customer, button_labels
) -> None:
    customer = make_customer(paid=1700)
    admin = chat("admin")
    prompt = admin.say(f"/delete {customer.account_number}")
    assert "cannot be undone" in prompt.text
    refused = admin.press(prompt, "Yes, delete")
    assert refused.text == "Not deleted: the customer has KES 200 credit; refund or force it."
    assert "Delete anyway" in button_labels(refused)
    forced = admin.press(admin.press(refused, "Delete anyway"), "Yes, delete")
    assert forced.text.startswith("Deleted Wanjiku Kamau")
    assert read_customer(customer.id).deleted_at is not None


def test_delete_of_a_customer_with_nothing_left(chat, make_customer, read_customer) -> None:
    customer = make_customer()
    owner = chat("owner")
    owner.press(owner.press(owner.say(f"/c {customer.account_number}"), "Delete"), "Yes, delete")
    assert read_customer(customer.id).deleted_at is not None
    assert "no customer matches" in owner.say(f"/c {customer.account_number}").text
