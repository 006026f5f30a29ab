"""/history paging and tabs, /attention, /expiring, /unmatched with /assign, /routers, /stats."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from core.actors import Actor
from core.usecases.billing import IncomingPayment, record_payment, record_unmatched_payment
from core.usecases.mpesa_callbacks import finish_callback, store_callback


def test_history_pages_newest_first(chat, make_customer, clock, button_labels) -> None:
    customer = make_customer(paid=1500)
    admin = chat("admin")
    for day in range(1, 10):
        clock.advance(timedelta(hours=1))
        admin.say(f"/extend {customer.account_number} 1 day {day}")
    first = admin.say(f"/history {customer.account_number}")
    assert first.text.startswith(f"History of Wanjiku Kamau 1 ({customer.account_number}) · all")
    lines = first.text.split("\n\n", 1)[1].splitlines()
    assert len(lines) == 8
    assert "expiry extended (day 9)" in lines[0] and "staff:Admin Person" in lines[0]
    assert "Older ▶" in button_labels(first) and "◀ Newer" not in button_labels(first)
    second = admin.press(first, "Older ▶")
    assert second.edit and "page 2" in second.text
    assert "◀ Newer" in button_labels(second)
    assert "customer added" in second.text
    back = admin.press(second, "◀ Newer")
    assert back.text == first.text


def test_history_tabs(chat, make_customer) -> None:
    customer = make_customer(paid=1500)
    agent = chat("agent")
    agent.say(f"/sms {customer.account_number} hello there")
    history = agent.say(f"/history {customer.account_number}")
    payments = agent.press(history, "Payments")
    assert "KES 1,500 cash" in payments.text and "SMS" not in payments.text
    sms = agent.press(payments, "Sms")
    assert "SMS out (queued): hello there" in sms.text
    service = agent.press(sms, "Service")
    assert "renewed (1 period(s) of Home 10M)" in service.text
    audit = agent.say(f"/history {customer.account_number} audit")
    assert "status inactive → active" in audit.text
    assert agent.say(f"/history {customer.account_number} bogus").text.startswith("Usage: /history")


def test_history_button_on_the_card(chat, make_customer) -> None:
    customer = make_customer(paid=1500)
    viewer = chat("viewer")
    history = viewer.press(viewer.say(f"/c {customer.account_number}"), "History")
    assert history.text.startswith("History of")
    card = viewer.press(history, "Card")
    assert "🟢 ACTIVE" in card.text


def test_attention_lists_expired_and_unmatched(chat, make_customer, clock, services, staff) -> None:
    from core.usecases.service import due_for_expiry, expire_if_due

    customer = make_customer(paid=1500, full_name="Late Payer")
    with services.unit_of_work() as uow:
        record_unmatched_payment(
            uow, Actor.mpesa(), IncomingPayment(700, "mpesa", "QX1", account_reference="WRONG1")
        )
        uow.commit()
    clock.advance(timedelta(days=31))
    with services.unit_of_work() as uow:
        for customer_id in due_for_expiry(uow):
            expire_if_due(uow, customer_id)
        uow.commit()
    answer = chat("viewer").say("/attention")
    assert answer.text.startswith("Needs attention (2):")
    assert "Late Payer (Home 10M) expired" in answer.text
    assert "KES 700 mpesa QX1" in answer.text
    card = chat("viewer").press(answer, customer.account_number)
    assert "🔴 EXPIRED" in card.text


def test_attention_when_all_is_well(chat) -> None:
    assert chat("viewer").say("/attention").text == "Nothing needs attention. 👍"


def test_expiring(chat, make_customer, clock) -> None:
    soon = make_customer(paid=1500, full_name="Soon Ending")
    clock.advance(timedelta(days=20))
    later = make_customer(paid=1500, full_name="Later Ending")
    viewer = chat("viewer")
    answer = viewer.say("/expiring 12")
    assert "Soon Ending" in answer.text and "Later Ending" not in answer.text
    assert "(in 10 days)" in answer.text
    assert [b.data for b in answer.button_list()] == [f"c:{soon.id}"]
    assert "Later Ending" in viewer.say("/expiring 60").text
    assert viewer.say("/expiring").text.startswith("Nobody's service ends in the next 3 day(s)")
    assert later


def test_unmatched_and_assign(chat, make_customer, services, read_customer) -> None:
    customer = make_customer()
    with services.unit_of_work() as uow:
        record_unmatched_payment(
            uow,
            Actor.mpesa(),
            IncomingPayment(
                1500, "mpesa", "QX77", account_reference="MTJ-TYPO", payer_name="JOHN DOE"
            ),
        )
        uow.commit()
    agent = chat("agent")
    listing = agent.say("/unmatched")
    assert "KES 1,500 mpesa QX77 · account given 'MTJ-TYPO' · from JOHN DOE" in listing.text
    answer = agent.say(f"/assign qx77 {customer.account_number}")
    assert answer.text.startswith("QX77 credited. Payment of KES 1,500 (mpesa) recorded. Renewed")
    assert read_customer(customer.id).status == "active"
    assert agent.say("/unmatched").text == "No unmatched payments."
    assert agent.say(f"/assign QX77 {customer.account_number}").text.startswith("⚠️ payment QX77")


def test_routers(chat, make_customer) -> None:
    make_customer(paid=1500)
    make_customer()
    text = chat("viewer").say("/routers").text
    assert "core-1 (127.0.0.1:8728) ⚪ unknown · last seen never · 2 customers" in text
    assert "2 waiting for sync" in text


def test_stats_and_chart(chat, make_customer) -> None:
    make_customer(paid=1500)
    make_customer()
    viewer = chat("viewer")
    stats = viewer.say("/stats")
    assert "Customers: 1 inactive, 1 active, 0 expired, 0 suspended (2 in all)" in stats.text
    assert "Today: KES 1,500 from 1 payment(s), 2 new customer(s)" in stats.text
    chart = viewer.press(stats, "📈 Last 30 days")
    assert chart.attachment is not None
    assert chart.attachment.kind == "photo"
    assert chart.attachment.content.startswith(b"\x89PNG")
    assert chart.text.startswith("Revenue KES 1,500 in the last 30 days; 1 subscribers active")


def test_callbacks_not_credited_wait_in_attention_until_resolved(chat, services, clock) -> None:
    with services.unit_of_work() as uow:
        stored = store_callback(uow, "stk", b'{"Body": {"stkCallback": {}}}', "196.201.214.1")
        finish_callback(uow, stored.id, "flagged", error="a second receipt for a push")
        uow.commit()
    viewer, agent = chat("viewer"), chat("agent")
    answer = viewer.say("/attention")
    assert "M-Pesa callbacks not credited" in answer.text
    assert f"#{stored.id} stk flagged: a second receipt for a push" in answer.text
    assert viewer.say(f"/resolve {stored.id} checked").text.startswith("Your role (viewer) may not")
    assert agent.say(f"/resolve {stored.id}").text == "⚠️ say what was done about it (a short note)"
    done = agent.say(f"/resolve #{stored.id} not on the statement: a forgery")
    assert done.text == f"Callback #{stored.id} resolved: not on the statement: a forgery"
    assert viewer.say("/attention").text == "Nothing needs attention. 👍"
    assert agent.say(f"/resolve {stored.id} again").text.startswith("⚠️ callback")


def test_a_credit_on_safaricoms_word_waits_in_attention_for_its_receipt(
    chat, services, make_customer, clock
) -> None:
    customer = make_customer()
    with services.unit_of_work() as uow:
        record_payment(
            uow,
            customer.id,
            Actor.mpesa(),
            IncomingPayment(
                1500,
                "mpesa",
                "STKQ-ws_CO_1",
                account_reference=customer.account_number,
                source="stk_query",
            ),
        )
        uow.commit()
    assert "no receipt yet" not in chat("viewer").say("/attention").text  # it may still come
    clock.advance(timedelta(hours=1))
    text = chat("viewer").say("/attention").text
    assert f"KES 1,500 credited to {customer.account_number} on Safaricom's word" in text


def test_routers_remove_asks_first_and_moves_the_customers(
    chat, make_customer, services, staff
) -> None:
    from core.usecases.network import RouterSpec, add_pool, add_router

    with services.unit_of_work() as uow:
        spec = RouterSpec("edge-2", "10.0.0.2", 8728, "api", "pw", plain_api=True)
        add_router(uow, staff, spec)
        add_pool(uow, staff, "edge-2", "10.40.0.0/29")
        uow.commit()
    make_customer()
    assert "may not manage network" in chat("agent").say("/routers remove core-1 edge-2").text
    admin = chat("admin")

    refused = admin.press(admin.say("/routers remove core-1"), "Yes, remove")
    assert "1 customer(s) are still on core-1" in refused.text
    prompt = admin.say("/routers remove core-1 edge-2")
    assert prompt.text == "Remove router core-1, moving its customers to edge-2?"
    done = admin.press(prompt, "Yes, remove")

    assert done.text.startswith("Router core-1 removed. 1 customer moved to edge-2.")
    listing = admin.say("/routers").text
    assert "edge-2" in listing and "core-1" not in listing


def test_routers_flags_a_plain_api_and_a_certificate_mismatch(chat, services) -> None:
    from core.models import Router

    with services.unit_of_work() as uow:
        router = uow.session.scalars(select(Router)).one()
        router.status, router.last_error = "cert-mismatch", "not the pinned one"
        uow.commit()

    text = chat("viewer").say("/routers").text

    assert "🔴 CERTIFICATE MISMATCH (not logged in)" in text
    assert "PLAIN API: password sent in clear" in text
    assert "not the pinned one" in text
