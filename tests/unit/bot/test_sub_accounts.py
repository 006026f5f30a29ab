"""Sub-accounts on the card: the parent lists each one with its status, plan and expiry, adds
new ones through /add with the parent preset, and opens each one's card, where its own buttons
(suspend, delete, …) act on it alone. Buttons follow the role."""

from __future__ import annotations

import pytest

from core.usecases.service import suspend


@pytest.fixture
def acme(make_customer):
    """Acme Ltd (paid) with a paid hotspot desk and an inactive back office on Home 20M."""
    parent = make_customer(full_name="Acme Ltd", phone="0712000001", paid=1500)
    desk = make_customer(
        full_name="Acme Desk",
        phone="0712000002",
        connection_type="hotspot",
        plan="Daily 5M",
        parent=parent.account_number,
        paid=50,
    )
    office = make_customer(
        full_name="Acme Back Office",
        plan="Home 20M",
        parent=parent.account_number,
        activate=False,
    )
    return parent, desk, office


def test_the_parents_card_lists_sub_accounts_with_status_plan_and_expiry(chat, acme) -> None:
    parent, desk, office = acme
    text = chat("viewer").say(f"/c {parent.account_number}").text
    assert "Sub-accounts (2):\n" in text
    assert (
        f"  🟢 ACTIVE {desk.account_number} Acme Desk · Daily 5M · expires 2026-11-23 12:00" in text
    )
    assert (
        f"  ⚪ INACTIVE {office.account_number} Acme Back Office · Home 20M · no paid time" in text
    )


def test_the_card_shows_quick_stats(chat, acme, make_customer) -> None:
    parent, _, _ = acme
    assert "Since 22 Nov 2026 · 1 subscription · KES 1,500 paid" in (
        chat("viewer").say(f"/c {parent.account_number}").text
    )
    fresh = make_customer(activate=False)
    assert "Since 22 Nov 2026 · 0 subscriptions · KES 0 paid" in (
        chat("viewer").say(f"/c {fresh.account_number}").text
    )


def test_a_sub_accounts_card_names_its_parent_and_links_back(chat, acme, button_labels) -> None:
    parent, desk, _ = acme
    viewer = chat("viewer")
    card = viewer.say(f"/c {desk.account_number}")
    assert f"Sub-account of {parent.account_number}" in card.text
    assert "Sub-accounts (" not in card.text
    labels = button_labels(card)
    assert f"↑ Parent {parent.account_number}" in labels
    assert not any("Add sub-account" in label for label in labels)
    back = viewer.press(card, "↑ Parent")
    assert back.text.startswith("🟢 ACTIVE\nAcme Ltd")


def test_buttons_follow_the_role(chat, acme, button_labels) -> None:
    parent, desk, office = acme
    child_buttons = [
        f"↳ {desk.account_number} Acme Desk",
        f"↳ {office.account_number} Acme Back Office",
    ]
    admin = button_labels(chat("admin").say(f"/c {parent.account_number}"))
    assert admin[-3:] == ["➕ Add sub-account", *child_buttons]
    for role in ("agent", "viewer"):
        labels = button_labels(chat(role).say(f"/c {parent.account_number}"))
        assert "➕ Add sub-account" not in labels
        assert labels[-2:] == child_buttons  # opening a card is viewing
    assert button_labels(chat("viewer").say(f"/c {parent.account_number}")) == [
        "History",
        "↻ Refresh",
        *child_buttons,
    ]


def test_a_viewer_pressing_an_old_add_button_is_refused(chat, acme, services) -> None:
    parent, _, _ = acme
    answer = chat("viewer").press_data(f"a:sub:{parent.id}")
    assert answer.text == "Your role (viewer) may not do that."
    assert "Connection type" not in answer.text


def test_opening_a_sub_account_from_the_parent_and_suspending_it_alone(
    chat, acme, read_customer
) -> None:
    parent, desk, _ = acme
    admin = chat("admin")
    child_card = admin.press(admin.say(f"/c {parent.account_number}"), f"↳ {desk.account_number}")
    assert child_card.text.startswith("🟢 ACTIVE · ⏳ expiring\nAcme Desk")  # a day plan
    prompt = admin.press(child_card, "Suspend")
    assert prompt.text.startswith(f"Suspend Acme Desk ({desk.account_number})?")
    admin.press(prompt, "Yes, suspend")
    assert read_customer(desk.id).status == "suspended"
    assert read_customer(parent.id).status == "active"
    text = admin.say(f"/c {parent.account_number}").text
    assert f"⛔ SUSPENDED {desk.account_number} Acme Desk" in text


def test_suspending_the_parent_leaves_sub_accounts_alone(chat, acme, read_customer) -> None:
    parent, desk, _ = acme
    admin = chat("admin")
    admin.press(admin.press(admin.say(f"/c {parent.account_number}"), "Suspend"), "Yes, suspend")
    assert read_customer(parent.id).status == "suspended"
    assert read_customer(desk.id).status == "active"


def test_deleting_a_parent_waits_for_its_sub_accounts(
    chat, acme, read_customer, button_labels, services, staff
) -> None:
    parent, desk, office = acme
    owner = chat("owner")
    with services.unit_of_work() as uow:  # paid time would ask for force: not the point here
        suspend(uow, desk.id, staff, "closing")
        uow.commit()
    refused = owner.press(owner.press(owner.say(f"/c {parent.account_number}"), "Delete"), "Yes")
    assert refused.text == "Not deleted: delete its 2 sub-account(s) first."
    # Forcing overrides money and paid time, never live sub-accounts: no "Delete anyway".
    assert button_labels(refused) == ["Card"]
    deleted = owner.press(owner.press(owner.say(f"/c {office.account_number}"), "Delete"), "Yes")
    assert deleted.text.startswith("Deleted Acme Back Office")
    back = owner.press(deleted, "Parent's card")
    assert "Sub-accounts (1):" in back.text and office.account_number not in back.text
    forced = owner.press(owner.say(f"/delete {desk.account_number}"), "Yes, delete")
    owner.press(owner.press(forced, "Delete anyway"), "Yes, delete")
    assert read_customer(desk.id).deleted_at is not None
    card = owner.say(f"/c {parent.account_number}")
    assert "Sub-accounts" not in card.text
    refused = owner.press(owner.press(card, "Delete"), "Yes, delete")
    assert (
        refused.text == "Not deleted: the customer has paid time left; wait for expiry or force it."
    )
    owner.press(owner.press(refused, "Delete anyway"), "Yes, delete")
    assert read_customer(parent.id).deleted_at is not None


def test_add_a_sub_account_with_the_parents_phone(chat, acme, read_customer, button_labels) -> None:
    parent, _, _ = acme
    admin = chat("admin")
    answer = admin.press(admin.say(f"/c {parent.account_number}"), "➕ Add sub-account")
    assert answer.text.startswith(
        f"New sub-account of Acme Ltd ({parent.account_number}) (1/12). Connection type?"
    )
    answer = admin.press(answer, "Hotspot")
    answer = admin.press(answer, "Daily 5M")
    answer = admin.press(answer, "core-1")
    answer = admin.say("Acme Kiosk")
    assert answer.text.startswith("Phone number? Type it, or use the parent's. (6/12)")
    answer = admin.press(answer, "Parent's: 0712 000001")
    assert answer.text.startswith("Login username?")
    answer = admin.press(answer, "Generate")
    answer = admin.press(answer, "Generate")
    answer = admin.press(answer, "No payment now")
    answer = admin.press(answer, "None")
    answer = admin.press(answer, "KES")  # the plan's price
    answer = admin.press(answer, "No, later")
    assert f"Sub-account of: Acme Ltd ({parent.account_number})" in answer.text
    assert "Phone: 0712 000001" in answer.text
    done = admin.press(answer, "✅ Create customer")
    assert done.text.startswith(f"Sub-account of {parent.account_number} added: MTJ")
    assert f"Sub-account of {parent.account_number}\n" in done.text
    child_number = done.text.split(": ", 1)[1].split("\n", 1)[0]
    with_child = admin.say(f"/c {parent.account_number}")
    assert f"⚪ INACTIVE {child_number} Acme Kiosk · Daily 5M · no paid time" in with_child.text
    assert f"↳ {child_number} Acme Kiosk" in button_labels(with_child)


def test_a_sub_account_can_have_its_own_phone(chat, acme, services) -> None:
    parent, _, _ = acme
    admin = chat("admin")
    answer = admin.press(admin.say(f"/c {parent.account_number}"), "➕ Add sub-account")
    for label in ("Hotspot", "Daily 5M", "core-1"):
        answer = admin.press(answer, label)
    admin.say("Acme Gate")
    answer = admin.say("0799 123456")
    for label in ("Generate", "Generate", "No payment now", "None", "KES", "No, later"):
        answer = admin.press(answer, label)
    assert "Phone: 0799 123456" in answer.text
    done = admin.press(answer, "✅ Create customer")
    assert "Phone: 0799 123456" in done.text
    assert f"Sub-account of {parent.account_number}\n" in done.text


def test_an_old_add_button_on_a_sub_accounts_card_is_refused(chat, acme) -> None:
    _, desk, _ = acme
    answer = chat("admin").press_data(f"a:sub:{desk.id}")
    assert answer.text == "⚠️ a sub-account cannot have sub-accounts of its own"
