"""``mteja pool free`` and ``mteja plan pools`` (issue 16.6)."""

from __future__ import annotations


def test_pool_free_lists_addresses_one_a_line_and_counts_on_stderr(ready) -> None:
    ready(
        "router",
        "add",
        "edge-2",
        "--host",
        "10.0.0.2",
        "--username",
        "api",
        "--password",
        "pw",
        "--plain-api",
    )
    ready("pool", "add", "edge-2", "10.20.0.0/16")
    free = ready("pool", "free", "10.20.0.0/16", "--prefix", "10.20.3", "--limit", "2")
    assert free.exit_code == 0, free.stderr
    assert free.stdout.splitlines() == ["10.20.3.0", "10.20.3.1"]
    assert free.stderr.strip() == (
        "256 free in 10.20.3.0/24 (edge-2:10.20.0.0/16); more after 10.20.3.1 (--after)"
    )
    page = ready(
        "pool", "free", "edge-2:10.20.0.0/16", "--prefix", "10.20.3", "--after", "10.20.3.253"
    )
    assert page.stdout.splitlines() == ["10.20.3.254", "10.20.3.255"]


def test_pool_free_refuses_bad_input_in_one_line(ready) -> None:
    outside = ready("pool", "free", "10.10.0.0/24", "--prefix", "10.11")
    assert outside.exit_code == 1
    assert outside.stderr.strip() == "error: 10.11 is outside the pool 10.10.0.0/24"
    missing = ready("pool", "free", "10.99.0.0/24")
    assert missing.stderr.strip() == "error: no pool 10.99.0.0/24"


def test_plan_pools_set_show_and_clear(ready) -> None:
    ready("pool", "add", "core-1", "10.10.1.0/24")
    shown = ready("plan", "pools", "Home 10M")
    assert shown.stdout.strip() == "Home 10M: any pool of the router"
    named = ready("plan", "pools", "Home 10M", "10.10.1.0/24")
    assert named.exit_code == 0, named.stderr
    assert named.stdout.strip() == "Home 10M: core-1:10.10.1.0/24"
    added = ready(
        "customer", "add", "--name", "Wanjiku Kamau", "--phone", "0712345678", "--plan",
        "Home 10M", "--router", "core-1",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    account = added.output.splitlines()[0].strip()
    assert '"ip_address": "10.10.1.2"' in ready("customer", "show", account, "--json").output
    cleared = ready("plan", "pools", "Home 10M", "--clear")
    assert cleared.stdout.strip() == "Home 10M: any pool of the router"
