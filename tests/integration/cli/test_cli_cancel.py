"""``mteja customer cancel`` (issue 16.10)."""

from __future__ import annotations

import json


def _add_paid(ready) -> str:
    added = ready(
        "customer", "add", "--name", "Wanjiku Kamau", "--phone", "0712345678", "--plan",
        "Home 10M", "--router", "core-1", "--paid", "cash",
    )  # fmt: skip
    assert added.exit_code == 0, added.stderr
    return added.output.splitlines()[0].strip()


def test_cancel_credits_the_unused_value(ready) -> None:
    account = _add_paid(ready)
    cancelled = ready(
        "customer", "cancel", account, "--reason", "moving away", "--refund", "credit", "--json"
    )
    assert cancelled.exit_code == 0, cancelled.stderr
    result = json.loads(cancelled.output)
    # Cancelled within seconds of paying: a whole period less a few seconds, rounded down.
    assert 1498 <= result["credited_kes"] <= 1500
    assert result["refund"] == "credit"
    assert result["balance_kes"] == result["credited_kes"]
    card = json.loads(ready("customer", "show", account, "--json").output)
    assert card["status"] == "expired"


def test_cancel_forfeit_and_a_second_cancel_is_refused(ready) -> None:
    account = _add_paid(ready)
    cancelled = ready("customer", "cancel", account, "--reason", "fraud", "--refund", "forfeit")
    assert cancelled.exit_code == 0, cancelled.stderr
    lines = cancelled.output.splitlines()
    assert lines[0].startswith(f"{account} cancelled (paid until ")
    assert lines[1].startswith("  unused KES 1,")
    assert lines[1].endswith(" forfeited")
    again = ready("customer", "cancel", account, "--reason", "fraud", "--refund", "forfeit")
    assert again.exit_code == 1
    assert again.stderr.strip() == "error: the customer has no paid time left to cancel"


def test_bad_refund_is_refused_in_one_line(ready) -> None:
    account = _add_paid(ready)
    bad = ready("customer", "cancel", account, "--reason", "x", "--refund", "cash")
    assert bad.exit_code == 1
    assert bad.stderr.strip() == ("error: the refund must be one of credit, forfeit, not 'cash'")
