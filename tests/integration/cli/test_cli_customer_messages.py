"""The rest of the bot's actions as commands (issue 16): login, payment details, an SMS from
staff, a customer's history, assigning unmatched money, and what needs attention."""

from __future__ import annotations

import json
import sqlite3

from core.actors import Actor
from core.usecases.billing import IncomingPayment, record_unmatched_payment
from mteja.bootstrap import build_system
from mteja.install import find_install, settings_of

SECRET_MASK = "\u2022" * 6


def _add(ready, *extra: str) -> str:
    added = ready(
        "customer", "add", "--name", "Wanjiku Kamau", "--phone", "0712345678",
        "--plan", "Home 10M", "--router", "core-1", "--password", "kitchen-99", *extra,
    )  # fmt: skip
    assert added.exit_code == 0, added.stderr
    return added.output.splitlines()[0].strip()


def test_login_is_sent_masked_or_shown_on_request(ready, workdir) -> None:
    account = _add(ready)
    sent = ready("customer", "login", account)
    assert sent.exit_code == 0, sent.stderr
    assert sent.output.startswith("login sent by SMS to 0712 345678: ")
    assert SECRET_MASK in sent.output and "kitchen-99" not in sent.output
    with sqlite3.connect(workdir / "mteja.db") as db:
        bodies = [body for (body,) in db.execute("SELECT body FROM sms_messages")]
    assert bodies and all("kitchen-99" not in body for body in bodies)
    shown = ready("customer", "login", account, "--show")
    assert shown.exit_code == 0, shown.stderr
    assert shown.output.strip().endswith("/ kitchen-99")


def test_details_sms_and_history(ready) -> None:
    account = _add(ready)
    details = ready("customer", "details", account)
    assert details.exit_code == 0, details.stderr
    assert details.output.startswith("sent by SMS to 0712 345678: ")
    assert ready("customer", "sms", account, "Technician at 3pm").exit_code == 0
    history = ready("customer", "history", account, "--tab", "sms", "--json")
    assert history.exit_code == 0, history.stderr
    lines = [json.loads(line) for line in history.output.splitlines()]
    assert any("Technician at 3pm" in line["summary"] for line in lines)
    assert all(line["kind"] == "sms" for line in lines)


def test_bad_input_is_one_line(ready) -> None:
    account = _add(ready)
    empty = ready("customer", "sms", account, "   ")
    assert (empty.exit_code, empty.stderr.strip()) == (1, "error: write the message to send")
    tab = ready("customer", "history", account, "--tab", "money")
    assert tab.exit_code == 1
    assert tab.stderr.strip().startswith("error: history tab must be one of all, payments")
    nobody = ready("payment", "assign", "SKR000NONE", account)
    assert nobody.exit_code == 1 and nobody.stderr.startswith("error: no payment with reference")


def _money_nobody_was_matched_to(reference: str) -> None:
    """A paybill payment for an account that does not exist, kept for staff (as C2B does)."""
    system = build_system(settings_of(find_install()))
    try:
        with system.services.unit_of_work() as uow:
            incoming = IncomingPayment(1500, "mpesa", reference, account_reference="MTJ-NOBODY")
            record_unmatched_payment(uow, Actor.mpesa(), incoming)
            uow.commit()
    finally:
        system.close()


def test_attention_lists_unmatched_money_and_assign_credits_it(ready) -> None:
    account = _add(ready)
    assert ready("attention").output.strip() == "nothing needs attention"
    _money_nobody_was_matched_to("SKR7UNMATCH")

    listed = ready("attention", "--json")
    assert listed.exit_code == 0, listed.stderr
    [item] = [json.loads(line) for line in listed.output.splitlines()]
    assert item["kind"] == "unmatched_payment" and "SKR7UNMATCH" in item["summary"]

    assigned = ready("payment", "assign", "skr7unmatch", account)
    assert assigned.exit_code == 0, assigned.stderr
    assert assigned.output.strip() == (f"SKR7UNMATCH credited to {account}; balance KES 0; renewed")
    assert ready("attention").output.strip() == "nothing needs attention"
    again = ready("payment", "assign", "SKR7UNMATCH", account)
    assert again.exit_code == 1
    assert "already credited" in again.stderr
