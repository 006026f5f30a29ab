"""``mteja plan add --cap-mb --throttle`` and ``mteja customer usage``, in-process."""

from __future__ import annotations

from pathlib import Path

PLAN = ("plan", "add", "Capped 1G", "--type", "pppoe", "--price", "1000")
SPEEDS = ("--download", "10M", "--upload", "5M", "--days", "30")


def test_a_capped_plan_and_a_customers_usage(ready, workdir: Path) -> None:
    added = ready(*PLAN, *SPEEDS, "--cap-mb", "1000", "--throttle", "2M/1M")
    assert added.exit_code == 0
    assert "plan Capped 1G added: 10M down / 5M up, KES 1,000 / 30 days" in added.output
    assert "data cap 1000 MB per period; over it: throttled to 2M down / 1M up" in added.output
    listed = ready("plan", "list")
    # The table may wrap the cell: its words are there.
    assert "1000 MB," in listed.output and "2M down" in listed.output
    assert "10M down" in listed.output and "download" not in listed.output

    customer = ready(
        "customer",
        "add",
        "--name",
        "Chebet Kiprop",
        "--phone",
        "0711000222",
        "--plan",
        "Capped 1G",
        "--router",
        "core-1",
        "--paid",
        "cash",
    )
    account = customer.output.splitlines()[0].strip()
    chart = workdir / "usage.png"
    shown = ready("customer", "usage", account, "--no-live", "--chart", str(chart))
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    assert lines[0] == f"Usage of Chebet Kiprop ({account})"
    assert lines[1] == "Live session: not checked here."
    assert any(line.endswith(": 0 MB of 1 GB (0%)") for line in lines)
    assert chart.read_bytes().startswith(b"\x89PNG")
    assert "chart of 30 day(s) written to" in shown.output

    ranged = ready(
        "customer", "usage", account, "--no-live", "--from", "2026-01-01", "--to", "2026-01-07"
    )
    assert "2026-01-01 to 2026-01-07: 0 MB down, 0 MB up" in ranged.output
    card = ready("customer", "show", account)
    assert "data        0 MB of 1 GB (0%) this period" in card.output


def test_bad_usage_arguments_are_refused_plainly(ready) -> None:
    ready(
        "customer",
        "add",
        "--name",
        "Juma Said",
        "--phone",
        "0711000333",
        "--plan",
        "Home 10M",
        "--router",
        "core-1",
    )
    bad_day = ready("customer", "usage", "0711000333", "--no-live", "--from", "22/11/2026")
    assert bad_day.exit_code == 1
    assert "--from takes a day as YYYY-MM-DD, not '22/11/2026'" in bad_day.stderr
    backwards = ready(
        "customer", "usage", "0711000333", "--no-live", "--from", "2026-02-01", "--to", "2026-01-01"
    )
    assert backwards.exit_code == 1 and "the range starts after it ends" in backwards.stderr
    nobody = ready("customer", "usage", "MTJ-NOBODY", "--no-live")
    assert nobody.exit_code == 1


def test_a_throttle_without_a_cap_is_refused(ready) -> None:
    refused = ready(*PLAN, *SPEEDS, "--throttle", "1M")
    assert refused.exit_code == 1 and "give the cap too" in refused.stderr
