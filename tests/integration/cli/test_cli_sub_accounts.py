"""``mteja customer add --parent`` and the card of ``mteja customer show``: sub-accounts with
their status, plan and expiry, the parent named on a sub-account, and the quick stats."""

from __future__ import annotations


def _add(ready, name: str, *options: str) -> str:
    added = ready(
        "customer", "add", "--name", name, "--phone", "0712345678", "--plan", "Home 10M",
        "--router", "core-1", *options,
    )  # fmt: skip
    assert added.exit_code == 0, added.stderr
    return added.output.splitlines()[0].strip()


def test_sub_accounts_on_the_cards(ready) -> None:
    parent = _add(ready, "Acme Ltd", "--paid", "cash", "--amount", "3000")
    desk = _add(ready, "Acme Desk", "--parent", parent.lower(), "--paid", "cash")
    office = _add(ready, "Acme Office", "--parent", parent, "--no-activate")

    shown = ready("customer", "show", parent)
    assert shown.exit_code == 0, shown.stderr
    lines = shown.output.splitlines()
    assert any(
        line.startswith("  Since ") and line.endswith(" · 2 subscriptions · KES 3,000 paid")
        for line in lines
    ), shown.output
    listing = lines[lines.index("  sub-accounts (2)") + 1 :]
    assert listing[0].startswith(f"    {desk}  ACTIVE     Acme Desk  Home 10M  expires ")
    assert listing[1] == f"    {office}  INACTIVE   Acme Office  Home 10M"

    child = ready("customer", "show", desk)
    assert f"  parent      sub-account of {parent}" in child.output
    assert "sub-accounts" not in child.output
    assert " · 1 subscription · KES 1,500 paid" in child.output


def test_a_sub_account_of_a_sub_account_is_refused(ready) -> None:
    parent = _add(ready, "Acme Ltd")
    desk = _add(ready, "Acme Desk", "--parent", parent)
    refused = ready(
        "customer", "add", "--name", "Acme Till", "--phone", "0712345678", "--plan", "Home 10M",
        "--router", "core-1", "--parent", desk,
    )  # fmt: skip
    assert refused.exit_code == 1
    assert refused.stderr.strip() == "error: a sub-account cannot have sub-accounts of its own"
    found = ready("customer", "find", "acme till")
    assert (found.exit_code, found.stdout.strip()) == (0, "no customers match 'acme till'")
