"""Longer flows through Telegram: /add with back and cancel, /import with progress, and every
command and card button answered."""

from __future__ import annotations

from sqlalchemy import func, select

from core.models import Customer, Payment

OWNER, ADMIN, AGENT, VIEWER = 1001, 1002, 1003, 1004


def _count(services, model) -> int:
    with services.unit_of_work() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(model)) or 0)


def test_add_a_customer_with_back_and_typed_answers(telegram, bot_app, bot_services) -> None:
    telegram.says(ADMIN, "/add")
    form = telegram.wait_for_messages(ADMIN, 1)
    telegram.presses(ADMIN, form, "Hotspot")
    telegram.wait_for(lambda: form.text.startswith("Plan?"))
    telegram.presses(ADMIN, form, "◀ Back")
    telegram.wait_for(lambda: form.text.startswith("New customer"))
    telegram.presses(ADMIN, form, "PPPoE")
    telegram.wait_for(lambda: form.text.startswith("Plan?"))
    telegram.presses(ADMIN, form, "Home 10M")
    telegram.wait_for(lambda: form.text.startswith("Router?"))
    telegram.presses(ADMIN, form, "core-1")
    telegram.wait_for(lambda: form.text.startswith("IP address?"))
    telegram.presses(ADMIN, form, "Pick automatically")
    telegram.wait_for(lambda: form.text.startswith("Full name?"))
    telegram.says(ADMIN, "Grace Akinyi")
    phone_question = telegram.wait_for_messages(ADMIN, 2)
    assert phone_question.text.startswith("Phone number?")
    telegram.says(ADMIN, "not a phone")
    again = telegram.wait_for_messages(ADMIN, 3)
    assert again.text.startswith("'not a phone' is not a phone number")
    telegram.says(ADMIN, "0722111222")
    username = telegram.wait_for_messages(ADMIN, 4)
    telegram.presses(ADMIN, username, "Generate")
    telegram.wait_for(lambda: username.text.startswith("Login password?"))
    telegram.presses(ADMIN, username, "Generate")
    telegram.wait_for(lambda: username.text.startswith("First payment"))
    telegram.presses(ADMIN, username, "Cash")
    telegram.wait_for(lambda: username.text.startswith("Payment reference?"))
    telegram.presses(ADMIN, username, "Skip")
    telegram.wait_for(lambda: username.text.startswith("Installation fee"))
    telegram.presses(ADMIN, username, "None")
    telegram.wait_for(lambda: username.text.startswith("First period's price?"))
    telegram.presses(ADMIN, username, "KES 1,500")
    telegram.wait_for(lambda: username.text.startswith("Activate now?"))
    telegram.presses(ADMIN, username, "Yes")
    telegram.wait_for(lambda: username.text.startswith("Check and confirm:"))
    assert "Name: Grace Akinyi" in username.text
    telegram.presses(ADMIN, username, "✅ Create customer")
    telegram.wait_for(lambda: username.text.startswith("Customer added: MTJ"))
    assert "🟢 ACTIVE" in username.text
    assert _count(bot_services, Customer) == 1


def test_cancel_the_form(telegram, bot_app, bot_services) -> None:
    telegram.says(ADMIN, "/add")
    form = telegram.wait_for_messages(ADMIN, 1)
    telegram.presses(ADMIN, form, "PPPoE")
    telegram.wait_for(lambda: form.text.startswith("Plan?"))
    telegram.says(ADMIN, "/cancel")
    assert telegram.wait_for_messages(ADMIN, 2).text == (
        "Adding a customer cancelled; nothing was saved."
    )
    query = telegram.presses(ADMIN, form, "Home 10M")
    telegram.wait_for(lambda: form.text.startswith("This form is closed"))
    assert telegram.answered[query] == "This form is closed."
    assert _count(bot_services, Customer) == 0


CSV = (
    "name,phone,plan,router,paid,amount,reference\n"
    + "".join(f"Person {n},07110{n:05d},Daily 5M,core-1,cash,50,\n" for n in range(1, 19))
    + "Bad Phone,12,Daily 5M,core-1,cash,50,\n"
    + "No Receipt,0711099999,Daily 5M,core-1,mpesa,50,\n"
).encode()


def test_import_edits_one_message_and_lists_refused_rows(telegram, bot_app, bot_services) -> None:
    telegram.says(ADMIN, "/import")
    assert telegram.wait_for_messages(ADMIN, 1).text.startswith("Send the CSV file now")
    telegram.sends_file(ADMIN, "customers.csv", CSV)
    progress = telegram.wait_for_messages(ADMIN, 2)
    telegram.wait_for(lambda: progress.text.startswith("Import of customers.csv finished"))
    assert progress.history[0] == "Importing customers.csv: 0/20 rows · 0 added · 0 refused"
    assert any("10/20 rows" in text for text in progress.history)
    assert progress.edits >= 5
    lines = progress.text.splitlines()
    assert lines[0].startswith("Import of customers.csv finished: 18 customer(s) added, 2 row(s)")
    assert lines[2:] == [
        "line 20: '12' is not a valid phone number",
        "line 21: an M-Pesa payment needs its receipt number as the reference",
    ]
    assert _count(bot_services, Customer) == 18
    assert _count(bot_services, Payment) == 18
    assert len(telegram.messages(ADMIN)) == 2


def test_a_file_without_import_is_not_downloaded(telegram, bot_app) -> None:
    telegram.sends_file(AGENT, "customers.csv", CSV, caption="/import")
    assert telegram.wait_for_messages(AGENT, 1).text == "Your role (agent) may not use /import."
    telegram.sends_file(ADMIN, "customers.csv", CSV)
    assert telegram.wait_for_messages(ADMIN, 1).text.startswith("To add customers from a file")
    assert telegram.method_calls("getFile") == []


def test_every_command_gets_an_answer(telegram, bot_app, add_customer, bot_services) -> None:
    from core.actors import Actor
    from core.usecases.billing import IncomingPayment, record_unmatched_payment

    customer = add_customer(paid=1700)
    other = add_customer()
    with bot_services.unit_of_work() as uow:
        record_unmatched_payment(uow, Actor.mpesa(), IncomingPayment(50, "mpesa", "QZ9"))
        uow.commit()
    ref, ref2 = customer.account_number, other.account_number
    expected = {
        "/help": "You are Owner Person",
        "/find wanjiku": "2 customers match",
        f"/c {ref}": "🟢 ACTIVE",
        f"/history {ref} payments": "History of",
        "/plans": "Plans:",
        "/attention": "Needs attention (1)",
        "/expiring 31": "Ending in the next 31 day(s) (1)",
        "/unmatched": "Unmatched payments (1)",
        f"/assign QZ9 {ref2}": "QZ9 credited.",
        "/routers": "Routers:",
        "/stats": "Customers:",
        f"/pay {ref2} 1500 cash": "Payment of KES 1,500 (cash) recorded.",
        f"/stk {ref}": "M-Pesa prompt for KES",
        f"/details {ref}": "Sent by SMS",
        f"/sms {ref} hello": "SMS queued",
        f"/disconnect {ref}": "Disconnect queued",
        f"/suspend {ref} test": "Suspend Wanjiku",
        f"/unsuspend {ref}": "⚠️",  # not suspended: core's refusal, shown as it is
        f"/extend {ref} 2": "Expiry moved to",
        f"/plan {ref} Home 20M": "Home 20M starts at the next renewal.",
        f"/debt {ref2} 100": "Debt of KES 100 recorded",
        f"/passwd {ref}": "Generate a new login password",
        f"/delete {ref}": "Delete Wanjiku",
        "/add": "New customer (1/12)",
        "/cancel": "Adding a customer cancelled",
        "/import": "Send the CSV file now",
        "/staff": "Staff:",
    }
    for number, (command, start) in enumerate(expected.items(), start=1):
        telegram.says(OWNER, command)
        reply = telegram.wait_for_messages(OWNER, number)
        assert start in reply.text, (command, reply.text)


def test_every_card_button_is_answered(telegram, bot_app, add_customer) -> None:
    customer = add_customer(paid=1500)
    telegram.says(OWNER, f"/c {customer.account_number}")
    card = telegram.wait_for_messages(OWNER, 1)
    telegram.wait_for(lambda: card.edits == 1)
    labels = card.labels
    assert labels == [
        "Suspend",
        "Extend",
        "Pay",
        "Debt",
        "STK push",
        "Change plan",
        "Password",
        "Disconnect",
        "Send payment details",
        "Send login",
        "Edit details",
        "Note",
        "History",
        "Delete",
        "↻ Refresh",
        "➕ Add sub-account",
    ]
    queries = [telegram.presses(OWNER, card, label) for label in labels if label != "Delete"]
    telegram.wait_for(lambda: all(q in telegram.answered for q in queries), what="all answers")
    texts = [
        m.text
        for m in telegram.wait_for(
            lambda: len(telegram.messages(OWNER)) >= 1 + len(queries) and telegram.messages(OWNER)
        )
    ]
    joined = "\n".join(texts)
    for fragment in (
        "Suspend Wanjiku",
        "Extend by how long?",
        "Record a payment",
        "/debt",
        "M-Pesa prompt",
        "Change to:",
        "login password",
        "Disconnect queued",
        "Sent by SMS",
        "Login sent by SMS",
        "Choose what to change:",
        "Add a note to Wanjiku",
        "History of",
        "New sub-account of Wanjiku",
    ):
        assert fragment in joined, fragment
