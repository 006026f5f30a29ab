"""``mteja customer edit`` and ``mteja customer note`` (issue 16.1, 16.3, 16.7)."""

from __future__ import annotations

import json


def _add(ready, name: str = "Wanjiku Kamau") -> str:
    added = ready(
        "customer", "add", "--name", name, "--phone", "0712345678", "--plan", "Home 10M",
        "--router", "core-1",
    )  # fmt: skip
    assert added.exit_code == 0, added.stderr
    return added.output.splitlines()[0].strip()


def test_edit_prints_each_change_before_and_after(ready) -> None:
    account = _add(ready)
    edited = ready(
        "customer", "edit", account, "--phone", "0733 000111", "--email", "w@example.com",
        "--address", "Ruiru, gate B", "--account2", "acc-0042",
    )  # fmt: skip
    assert edited.exit_code == 0, edited.stderr
    lines = edited.output.splitlines()
    assert lines[0] == f"{account} edited"
    assert "  phone: +254712345678 → +254733000111" in lines
    assert "  email: - → w@example.com" in lines
    assert "  account_number2: - → ACC-0042" in lines
    shown = ready("customer", "show", "ACC-0042", "--json")
    card = json.loads(shown.output)
    assert (card["phone"], card["account_number2"]) == ("+254733000111", "ACC-0042")


def test_edit_json_and_a_generated_additional_account_number(ready) -> None:
    account = _add(ready)
    edited = ready("customer", "edit", account, "--generate-account2", "--json")
    assert edited.exit_code == 0, edited.stderr
    result = json.loads(edited.output)
    assert result["account_number"] == account
    assert result["changes"]["account_number2"][0] is None
    assert result["changes"]["account_number2"][1].startswith("MTJ-")


def test_edit_with_nothing_to_change_says_so(ready) -> None:
    account = _add(ready)
    unchanged = ready("customer", "edit", account, "--name", "Wanjiku Kamau")
    assert (unchanged.exit_code, unchanged.output.strip()) == (0, f"{account}: nothing changed")


def test_bad_input_exits_non_zero_with_one_line(ready) -> None:
    first = _add(ready)
    second = _add(ready, "Otieno Juma")
    ready("customer", "edit", first, "--account2", "ACC-1")
    taken = ready("customer", "edit", second, "--account2", "acc-1")
    assert taken.exit_code == 1
    assert taken.stderr.strip() == "error: ACC-1 is already an account number of another customer"
    bad = ready("customer", "edit", second, "--account2", "a b")
    assert bad.exit_code == 1 and bad.stderr.strip().startswith(
        "error: an additional account number is 1 to 20 letters"
    )
    nobody = ready("customer", "edit", "MTJ-NOBODY1", "--name", "X")
    assert nobody.exit_code == 1 and len(nobody.stderr.strip().splitlines()) == 1
    empty = ready("customer", "edit", first)
    assert empty.exit_code == 2 or empty.exit_code == 1
    assert "nothing to change" in empty.stderr


def test_a_router_move_from_the_command_line(ready) -> None:
    ready(
        "router",
        "add",
        "west-1",
        "--host",
        "10.0.0.2",
        "--username",
        "api",
        "--password",
        "pw",
        "--plain-api",
    )
    ready("pool", "add", "west-1", "10.20.0.0/24")
    account = _add(ready)
    moved = ready("customer", "edit", account, "--router", "west-1")
    assert moved.exit_code == 0, moved.stderr
    assert any(line.startswith("  router: core-1 → west-1") for line in moved.output.splitlines())
    card = json.loads(ready("customer", "show", account, "--json").output)
    assert card["router"] == "west-1" and card["ip_address"].startswith("10.20.0.")


def test_a_note_is_kept_and_shown_in_the_history(ready) -> None:
    account = _add(ready)
    noted = ready("customer", "note", account, "Router moved to the sitting room")
    assert noted.exit_code == 0, noted.stderr
    assert noted.output.startswith(f"note kept on {account}")
    empty = ready("customer", "note", account, "  ")
    assert (empty.exit_code, empty.stderr.strip()) == (1, "error: write the note")
