"""Every staff action as a ``mteja customer`` command for scripts (issue 16): a readable result,
``--json`` where it shows data, and one ``error: …`` line with exit 1 on bad input."""

from __future__ import annotations

import json


def _add(ready, *extra: str, name: str = "Wanjiku Kamau", plan: str = "Home 10M") -> str:
    added = ready(
        "customer", "add", "--name", name, "--phone", "0712345678", "--plan", plan,
        "--router", "core-1", *extra,
    )  # fmt: skip
    assert added.exit_code == 0, added.stderr
    return added.output.splitlines()[0].strip()


def _card(ready, account: str) -> dict:
    shown = ready("customer", "show", account, "--json")
    assert shown.exit_code == 0, shown.stderr
    card: dict = json.loads(shown.output)
    return card


def _refused(result, message: str) -> None:
    assert result.exit_code == 1, result.output
    assert result.stderr.strip() == f"error: {message}"


def test_pay_renews_and_prints_the_result(ready) -> None:
    account = _add(ready)
    paid = ready("customer", "pay", account, "1,500", "--method", "mpesa", "--reference", "qk1")
    assert paid.exit_code == 0, paid.stderr
    assert paid.output.startswith(f"{account}: payment of KES 1,500 (mpesa) recorded")
    assert "status active" in paid.output
    again = ready(
        "customer", "pay", account, "1500", "--method", "mpesa", "--reference", "QK1", "--json"
    )
    result = json.loads(again.output)
    assert (result["account_number"], result["duplicate"], result["status"]) == (
        account,
        True,
        "active",
    )
    assert result["expires_at"].endswith("Z") and result["balance_kes"] == 0


def test_pay_without_activation_leaves_the_money_as_credit(ready) -> None:
    account = _add(ready)
    paid = ready("customer", "pay", account, "1500", "--method", "cash", "--no-activate", "--json")
    assert paid.exit_code == 0, paid.stderr
    result = json.loads(paid.output)
    assert (result["status"], result["balance_kes"], result["expires_at"]) == (
        "inactive",
        1500,
        None,
    )
    card = _card(ready, account)
    assert (card["status"], card["balance_kes"]) == ("inactive", 1500)


def test_pay_bad_input_is_one_line(ready) -> None:
    account = _add(ready)
    _refused(
        ready("customer", "pay", account, "lots", "--method", "cash"),
        "amount must be a whole number of shillings, not 'lots'",
    )
    _refused(
        ready("customer", "pay", account, "100", "--method", "paypal"),
        "payment method must be one of cash, mpesa, bank, cheque, not 'paypal'",
    )
    _refused(
        ready("customer", "pay", account, "100", "--method", "mpesa"),
        "an M-Pesa payment needs its receipt number as the reference",
    )
    nobody = ready("customer", "pay", "MTJ-0000000", "100", "--method", "cash")
    assert nobody.exit_code == 1 and len(nobody.stderr.strip().splitlines()) == 1
    assert _card(ready, account)["balance_kes"] == 0


def test_debt_starts_service(ready) -> None:
    account = _add(ready)
    owed = ready("customer", "debt", account, "1500", "--note", "pays on Friday")
    assert owed.exit_code == 0, owed.stderr
    assert owed.output.startswith(f"{account}: debt of KES 1,500 recorded; service started")
    card = _card(ready, account)
    assert (card["status"], card["balance_kes"]) == ("active", -1500)


def test_debt_without_starting_service(ready) -> None:
    account = _add(ready)
    owed = ready("customer", "debt", account, "700", "--no-start", "--json")
    assert owed.exit_code == 0, owed.stderr
    result = json.loads(owed.output)
    assert (result["status"], result["balance_kes"], result["service_started"]) == (
        "inactive",
        -700,
        False,
    )


def test_debt_bad_amount(ready) -> None:
    account = _add(ready)
    _refused(ready("customer", "debt", account, "0"), "amount must be more than 0, not 0")


def test_plan_now_and_at_renewal(ready) -> None:
    ready(
        "plan", "add", "Home 20M", "--type", "pppoe", "--price", "2500", "--download", "20M",
        "--upload", "10M", "--days", "30",
    )  # fmt: skip
    account = _add(ready)
    later = ready("customer", "plan", account, "Home 20M", "--json")
    assert later.exit_code == 0, later.stderr
    result = json.loads(later.output)
    assert (result["plan"], result["pending_plan"]) == ("Home 10M", "Home 20M")
    now = ready("customer", "plan", account, "home 20m", "--when", "now")
    assert now.exit_code == 0, now.stderr
    assert now.output.startswith(f"{account}: now on Home 20M")
    card = _card(ready, account)
    assert (card["plan"], card["pending_plan"]) == ("Home 20M", None)


def test_plan_bad_input(ready) -> None:
    account = _add(ready)
    _refused(
        ready("customer", "plan", account, "Home 10M", "--when", "soon"),
        "--when must be one of now, renewal, not 'soon'",
    )
    _refused(
        ready("customer", "plan", account, "Daily", "--when", "now"),
        "plan is for hotspot, customer is pppoe",
    )
    missing = ready("customer", "plan", account, "Gold")
    assert missing.exit_code == 1 and missing.stderr.startswith("error: plan not found")


def test_suspend_and_unsuspend(ready) -> None:
    account = _add(ready, "--paid", "cash")
    held = ready("customer", "suspend", account, "--reason", "did not pay", "--json")
    assert held.exit_code == 0, held.stderr
    assert json.loads(held.output)["status"] == "suspended"
    assert _card(ready, account)["suspended_reason"] == "did not pay"
    _refused(
        ready("customer", "suspend", account, "--reason", "again"),
        "the customer is already suspended",
    )
    lifted = ready("customer", "unsuspend", account)
    assert lifted.exit_code == 0, lifted.stderr
    assert lifted.output.startswith(f"{account}: unsuspended, now active")


def test_suspend_needs_a_reason(ready) -> None:
    account = _add(ready, "--paid", "cash")
    _refused(ready("customer", "suspend", account), "say why the customer is suspended")


def test_extend_by_days_or_to_a_date(ready) -> None:
    account = _add(ready)
    extended = ready("customer", "extend", account, "7", "--reason", "outage", "--json")
    assert extended.exit_code == 0, extended.stderr
    result = json.loads(extended.output)
    assert result["status"] == "active" and result["expires_at"].endswith("Z")
    to_date = ready("customer", "extend", account, "2099-12-31")
    assert to_date.exit_code == 0, to_date.stderr
    assert to_date.output.startswith(f"{account}: expiry moved to 2099-12-31 23:59")


def test_extend_bad_input_says_what_the_bot_says(ready) -> None:
    account = _add(ready)
    _refused(ready("customer", "extend", account, "0"), "days must be 1 or more, not 0")
    _refused(
        ready("customer", "extend", account, "next-week"),
        "'next-week' is neither a number of days nor a date YYYY-MM-DD",
    )
    _refused(ready("customer", "extend", account, "2000-01-01"), "2000-01-01 is not in the future")


def test_disconnect(ready) -> None:
    account = _add(ready, "--paid", "cash")
    dropped = ready("customer", "disconnect", account, "--reason", "stuck session")
    assert dropped.exit_code == 0, dropped.stderr
    assert dropped.output.startswith(f"{account}: disconnect queued")
    nobody = ready("customer", "disconnect", "nobody.here")
    assert nobody.exit_code == 1 and len(nobody.stderr.strip().splitlines()) == 1


def test_delete_needs_force_where_core_refuses(ready) -> None:
    account = _add(ready, "--paid", "cash")
    refused = ready("customer", "delete", account)
    _refused(
        refused,
        "the customer has paid time left; wait for expiry or force it (--force deletes anyway)",
    )
    deleted = ready("customer", "delete", account, "--force", "--reason", "moved away")
    assert deleted.exit_code == 0, deleted.stderr
    assert deleted.output.startswith(f"{account} deleted")
    gone = ready("customer", "show", account)
    assert gone.exit_code == 1


def test_delete_an_unpaid_customer_needs_no_force(ready) -> None:
    account = _add(ready)
    deleted = ready("customer", "delete", account)
    assert deleted.exit_code == 0, deleted.stderr


def test_add_with_a_first_period_price(ready) -> None:
    account = _add(ready, "--paid", "cash", "--price", "1000", "--installation-fee", "500")
    card = _card(ready, account)
    assert (card["status"], card["balance_kes"]) == ("active", 0)
    assert card["last_payments"][0]["amount_kes"] == 1500


def test_add_with_a_negative_price_is_refused(ready) -> None:
    added = ready(
        "customer", "add", "--name", "Mary Wanjiku", "--phone", "0711111111", "--plan",
        "Home 10M", "--router", "core-1", "--price", "-5",
    )  # fmt: skip
    _refused(added, "the first period's price cannot be negative, not -5")
