"""/add: the Add Customer form as a conversation, with Back and /cancel."""

from __future__ import annotations

from sqlalchemy import func, select

from core.models import Customer


def _count(services) -> int:
    with services.unit_of_work() as uow:
        return int(uow.session.scalar(select(func.count(Customer.id))) or 0)


def test_add_a_pppoe_customer_paying_cash(chat, services, button_labels) -> None:
    admin = chat("admin")
    answer = admin.say("/add")
    assert answer.text.startswith("New customer (1/12). Connection type?")
    assert button_labels(answer) == ["PPPoE", "Hotspot", "Static IP", "✖ Cancel"]
    answer = admin.press(answer, "PPPoE")
    assert answer.edit and button_labels(answer)[:2] == [
        "Home 10M · KES 1,500/30 days",
        "Home 20M · KES 2,500/30 days",
    ]
    answer = admin.press(answer, "Home 10M")
    answer = admin.press(answer, "core-1")
    assert answer.text.startswith("IP address?")
    answer = admin.press(answer, "Pick automatically")
    assert answer.text.startswith("Full name?")
    answer = admin.say("  Grace   Akinyi ")
    assert answer.text.startswith("Phone number?")
    answer = admin.say("0722 111 222")
    answer = admin.press(answer, "Generate")
    assert answer.text.startswith("Login password?")
    answer = admin.say("pass1234")
    answer = admin.press(answer, "M-Pesa")
    assert answer.text.startswith("M-Pesa receipt number?")
    answer = admin.say("qk55xyz")
    answer = admin.say("1000")
    assert answer.text.startswith("First period's price?")
    assert "KES 1,500 (plan's price)" in button_labels(answer)
    answer = admin.press(answer, "KES 1,500")
    answer = admin.press(answer, "Yes, activate now")
    assert answer.text.startswith("Check and confirm:")
    for expected in (
        "Type: pppoe",
        "Plan: Home 10M",
        "Router: core-1",
        "IP: automatic",
        "Name: Grace Akinyi",
        "Phone: 0722 111222",
        "Username: (generated)",
        "Password: pass1234",
        "First period: KES 1,500 (plan KES 1,500)",
        "Paid: KES 2,500 mpesa QK55XYZ",
        "Installation fee: KES 1,000",
        "Activate now: yes",
    ):
        assert expected in answer.text
    done = admin.press(answer, "✅ Create customer")
    assert done.text.startswith("Customer added: MTJ")
    assert "Login grace.akinyi / pass1234 (shown once" in done.text
    assert "🟢 ACTIVE" in done.text and "Expires: 2026-12-22 12:00" in done.text
    assert _count(services) == 1
    # The form is closed: plain text is no longer an answer to it.
    assert "/help" in admin.say("hello").text


def test_a_typed_first_period_price_is_paid_with_the_fee(chat, read_customer) -> None:
    """Issue 16: the amount typed was taken as money received (2,500 with a 1,500 fee on a
    2,000 plan left the customer inactive with credit); it is the first period's price."""
    admin = chat("admin")
    answer = admin.press(admin.say("/add"), "PPPoE")
    answer = admin.press(answer, "Home 10M")
    answer = admin.press(answer, "core-1")
    admin.press(answer, "Pick automatically")
    admin.say("Peter Kariuki")
    answer = admin.press(admin.say("0711222333"), "Generate")
    answer = admin.press(answer, "Generate")
    answer = admin.press(answer, "Cash")
    answer = admin.press(answer, "Skip")
    assert admin.say("500").text.startswith("First period's price?")
    answer = admin.press(admin.say("KES 1,000"), "Yes, activate now")
    assert "First period: KES 1,000 (plan KES 1,500)" in answer.text
    assert "Paid: KES 1,500 cash" in answer.text
    done = admin.press(answer, "✅ Create customer")
    assert "🟢 ACTIVE" in done.text and "Balance: KES 0" in done.text


def test_hotspot_skips_the_address_and_no_payment_skips_the_reference(chat, services) -> None:
    admin = chat("admin")
    answer = admin.press(admin.say("/add"), "Hotspot")
    answer = admin.press(answer, "Daily 5M")
    answer = admin.press(answer, "core-1")
    assert answer.text.startswith("Full name?")
    admin.say("Kiosk Two")
    answer = admin.say("0733000111")
    answer = admin.press(answer, "Generate")
    answer = admin.press(answer, "Generate")
    answer = admin.press(answer, "No payment now")
    assert answer.text.startswith("Installation fee")
    answer = admin.press(answer, "None")
    assert answer.text.startswith("First period's price?")
    answer = admin.press(answer, "KES 50")
    assert answer.text.startswith("Activate now?")
    answer = admin.press(answer, "No, later")
    assert "Paid: nothing yet" in answer.text and "IP:" not in answer.text
    done = admin.press(answer, "✅ Create customer")
    assert "⚪ INACTIVE" in done.text
    assert _count(services) == 1


def test_back_goes_to_the_previous_question_and_keeps_going(chat, services) -> None:
    admin = chat("admin")
    answer = admin.press(admin.say("/add"), "PPPoE")
    answer = admin.press(answer, "Home 10M")
    answer = admin.press(answer, "◀ Back")
    assert answer.text.startswith("Plan?")
    answer = admin.press(answer, "◀ Back")
    assert answer.text.startswith("New customer (1/12)")
    answer = admin.press(answer, "Static IP")
    answer = admin.press(answer, "Biz 50M")
    answer = admin.press(answer, "core-1")
    assert answer.text.startswith("IP address (static customers need one)?")
    answer = admin.say("10.10.0.9")
    answer = admin.say("Shop Owner")
    assert admin.say("/back").text.startswith("Full name?")
    admin.say("Shop Owner Ltd")
    answer = admin.say("0744000222")
    answer = admin.say("shop1")
    answer = admin.press(answer, "Generate")
    answer = admin.press(answer, "Cash")
    answer = admin.press(answer, "Skip")
    answer = admin.press(answer, "None")
    answer = admin.say("6000")
    answer = admin.press(answer, "Yes")
    assert "Name: Shop Owner Ltd" in answer.text and "IP: 10.10.0.9" in answer.text
    done = admin.press(answer, "✅ Create customer")
    assert "IP 10.10.0.9" in done.text and "login shop1" in done.text


def test_cancel_leaves_without_saving(chat, services) -> None:
    admin = chat("admin")
    answer = admin.press(admin.say("/add"), "PPPoE")
    answer = admin.press(answer, "Home 10M")
    assert admin.say("/cancel").text == "Adding a customer cancelled; nothing was saved."
    assert _count(services) == 0
    # A button of the closed form is answered, and changes nothing.
    stale = admin.press(answer, "core-1")
    assert stale.text.startswith("This form is closed")
    answer = admin.say("/add")
    assert admin.press(answer, "✖ Cancel").text == "Adding a customer cancelled; nothing was saved."


def test_typed_answers_are_checked_on_the_spot(chat) -> None:
    admin = chat("admin")
    first = admin.say("/add")
    assert admin.say("hello").text.startswith("Please choose one of the buttons")
    admin.press(first, "PPPoE")
    assert admin.say("hello").text.startswith("plan not found: 'hello'")
    answer = admin.say("Daily 5M")
    assert answer.text.startswith("Daily 5M is not a pppoe plan on sale.")
    answer = admin.say("home 20m")
    assert answer.text.startswith("Router?")
    answer = admin.say("core-2")
    assert answer.text.startswith("router not found: 'core-2'")
    admin.say("core-1")
    assert admin.say("10.10.0.999").text.startswith("'10.10.0.999' is not an IP address")
    admin.say("10.10.0.5")
    admin.say("Peter Kariuki")
    assert admin.say("12345").text.startswith("'12345' is not a valid phone number")
    answer = admin.say("0711222333")
    assert admin.say("Bad Name!").text.startswith("A username is 2 to 64 characters")
    assert admin.say("/c something").text.startswith("You are adding a customer")


def test_an_old_button_of_an_answered_question(chat) -> None:
    admin = chat("admin")
    first = admin.say("/add")
    admin.press(first, "PPPoE")
    stale = admin.press(first, "Hotspot")
    assert stale.text == "" and stale.toast == "That question was already answered."


def test_core_refusal_at_the_end_keeps_the_form(chat, make_customer, services) -> None:
    make_customer(username="taken.name")
    admin = chat("admin")
    answer = admin.press(admin.say("/add"), "PPPoE")
    answer = admin.press(answer, "Home 10M")
    answer = admin.press(answer, "core-1")
    answer = admin.press(answer, "Pick automatically")
    admin.say("Someone Else")
    admin.say("0711000999")
    answer = admin.say("taken.name")
    answer = admin.press(answer, "Generate")
    answer = admin.press(answer, "No payment now")
    answer = admin.press(answer, "None")
    answer = admin.press(answer, "KES 1,500")
    answer = admin.press(answer, "Yes")
    refused = admin.press(answer, "✅ Create customer")
    assert refused.text.startswith("Not added: username already exists: taken.name")
    assert _count(services) == 1
    for _ in range(6):  # activate, price, fee, payment, password, username
        refused = admin.press(refused, "◀ Back")
    assert refused.text.startswith("Login username?")
    answer = admin.say("other.name")
    answer = admin.press(answer, "Generate")
    answer = admin.press(answer, "No payment now")
    answer = admin.press(answer, "None")
    answer = admin.press(answer, "KES 1,500")
    answer = admin.press(answer, "Yes")
    assert admin.press(answer, "✅ Create customer").text.startswith("Customer added")
    assert _count(services) == 2


def test_forms_of_two_staff_members_are_separate(chat, services) -> None:
    admin, owner = chat("admin"), chat("owner")
    admin.press(admin.say("/add"), "PPPoE")
    assert owner.say("/stats").text.startswith("Customers:")
    assert admin.say("/stats").text.startswith("You are adding a customer")


def test_the_fee_and_amount_say_what_is_wrong_with_a_number(chat) -> None:
    admin = chat("admin")
    answer = admin.press(admin.say("/add"), "PPPoE")
    answer = admin.press(answer, "Home 10M")
    answer = admin.press(answer, "core-1")
    admin.press(answer, "Pick automatically")
    admin.say("Peter Kariuki")
    answer = admin.press(admin.say("0711222333"), "Generate")
    answer = admin.press(answer, "Generate")
    answer = admin.press(answer, "Cash")
    answer = admin.press(answer, "Skip")
    assert admin.say("-10").text.startswith("the installation fee cannot be negative, not -10")
    assert admin.say("0").text.startswith("First period's price?")
    assert admin.say("-500").text.startswith(
        "the first period's price cannot be negative, not -500"
    )
    assert admin.say("lots").text.startswith(
        "the first period's price must be a whole number of shillings, not 'lots'"
    )
    assert admin.say("0").text.startswith("Activate now?")


def test_a_plan_name_typed_in_quotes_is_found(chat) -> None:
    admin = chat("admin")
    admin.press(admin.say("/add"), "PPPoE")
    assert admin.say('"Home 20M"').text.startswith("Router?")
