"""``mteja console``: buttons are pressed as ``#N``; a bare number is typed text."""

from __future__ import annotations

from pathlib import Path

from bot.console import Console
from bot.staffbot import Caller, StaffBot

ADMIN = Caller(1002, "test admin")


def _console(staff_bot: StaffBot, tmp_path: Path) -> tuple[Console, list[str]]:
    written: list[str] = []
    return Console(staff_bot, ADMIN, written.append, tmp_path), written


def _run(console: Console, written: list[str], *lines: str) -> str:
    """The output of ``lines``, typed one after another."""
    start = len(written)
    for line in lines:
        console.handle(line)
    return "\n".join(written[start:])


def test_buttons_are_shown_and_pressed_with_a_hash(staff_bot, tmp_path) -> None:
    console, written = _console(staff_bot, tmp_path)
    shown = _run(console, written, "/add")
    assert "[#1] PPPoE  [#2] Hotspot  [#3] Static IP" in shown
    assert "Plan? (2/12)" in _run(console, written, "#1")


def test_add_takes_a_typed_phone_and_fee_that_are_all_digits(staff_bot, tmp_path) -> None:
    console, written = _console(staff_bot, tmp_path)
    _run(console, written, "/add", "#1", "#1", "#1", "#1", "Grace Akinyi")
    after_phone = _run(console, written, "0744555666")
    assert after_phone.startswith("Login username?")
    _run(console, written, "#1", "#1")  # generate the login and the password
    assert _run(console, written, "#1").startswith("Payment reference?")  # cash
    assert _run(console, written, "#1").startswith("Installation fee")  # skip the reference
    assert _run(console, written, "500").startswith("First period's price?")
    summary = _run(console, written, "#1", "#1")  # the plan's price; activate now
    assert "Phone: 0744 555666" in summary
    assert "Installation fee: KES 500" in summary


def test_a_button_number_out_of_range_says_which_exist(staff_bot, tmp_path) -> None:
    console, written = _console(staff_bot, tmp_path)
    _run(console, written, "/add")
    assert _run(console, written, "#9") == "Choose a button from #1 to #4."


def test_a_hash_with_no_buttons_shown_says_so(staff_bot, tmp_path) -> None:
    console, written = _console(staff_bot, tmp_path)
    assert _run(console, written, "#1") == "No buttons to press: type a command (/help)."


def test_edit_note_and_login_at_the_console(staff_bot, tmp_path, make_customer) -> None:
    customer = make_customer()
    console, written = _console(staff_bot, tmp_path)
    form = _run(console, written, f"/edit {customer.account_number}")
    assert "[#2] Phone" in form
    assert _run(console, written, "#2").startswith("New phone?")
    listed = _run(console, written, "0733000111")  # all digits: typed, not a button
    assert "Phone: 0712 345601 → 0733 000111" in listed
    review = _run(console, written, "#10")  # Review and save
    assert review.startswith("Save these changes") and "[#1] ✅ Save" in review
    assert _run(console, written, "#1").startswith("Saved: phone.")
    noted = _run(console, written, f"/note {customer.account_number} called, all fine")
    assert noted.startswith("Note kept on")
    assert _run(console, written, f"/login {customer.account_number} show").startswith("Login of")


def test_a_list_pages_and_its_csv_is_saved_to_a_file(staff_bot, make_customer, tmp_path) -> None:
    make_customer(paid=1500, full_name="Paid Up")
    console, written = _console(staff_bot, tmp_path)
    listed = _run(console, written, "/list active sort:expiry")
    assert "Customers · active · sort expiry\n1–1 of 1:" in listed
    assert "[#2] ⬇ Export CSV" in listed
    saved = _run(console, written, "#2")
    assert "1 customer(s) exported." in saved
    (path,) = tmp_path.glob("customers-*.csv")
    assert f"(saved document to {path})" in saved
    assert "Paid Up" in path.read_text()
    _run(console, written, "/payments 2026-11-22 2026-11-22")
    assert (tmp_path / "payments-2026-11-22-to-2026-11-22.csv").read_text().count("\n") == 2
