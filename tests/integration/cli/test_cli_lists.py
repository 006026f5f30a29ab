"""``mteja customer list`` and ``mteja payment list``, in-process: tables, CSV, JSON, refusals."""

from __future__ import annotations

import csv
import io
import json

import pytest


def _add(ready, name: str, phone: str, *extra: str) -> str:
    added = ready(
        "customer", "add", "--name", name, "--phone", phone, "--plan", "Home 10M",
        "--router", "core-1", *extra,
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    return added.output.splitlines()[0].strip()


@pytest.fixture
def two(ready) -> tuple[str, str]:
    paid = _add(ready, "Paid Up", "0711000001", "--paid", "cash", "--reference", "CASH-1")
    never = _add(ready, "Never Paid", "0711000002")
    return paid, never


def test_a_table_of_customers_by_status(ready, two) -> None:
    listed = ready("customer", "list", "--status", "active")
    assert listed.exit_code == 0, listed.output
    assert "Paid Up" in listed.output and "Never Paid" not in listed.output
    assert "1–1 of 1 · active · sort name" in listed.output
    everyone = ready("customer", "list", "--sort", "created", "--limit", "1", "--offset", "1")
    assert "Paid Up" in everyone.output and "2–2 of 2" in everyone.output


def test_csv_and_json(ready, two) -> None:
    paid, never = two
    exported = ready("customer", "list", "--plan", "home 10m", "--format", "csv")
    assert exported.exit_code == 0, exported.output
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert [(row["account_number"], row["full_name"]) for row in rows] == [
        (never, "Never Paid"),
        (paid, "Paid Up"),
    ]
    assert rows[1]["balance_kes"] == "0"
    as_json = ready("customer", "list", "--status", "inactive", "--format", "json")
    (only,) = json.loads(as_json.stdout)["customers"]
    assert (only["account_number"], only["status"], only["balance_kes"]) == (never, "inactive", 0)


def test_payments_between_days_as_csv(ready, two) -> None:
    table = ready("payment", "list", "--from", "2000-01-01", "--to", "2100-12-31")
    assert table.exit_code == 0, table.output
    assert "CASH-1" in table.output and "matched" in table.output
    exported = ready(
        "payment", "list", "--from", "2000-01-01", "--to", "2100-12-31", "--format", "csv"
    )
    (row,) = csv.DictReader(io.StringIO(exported.stdout))
    assert (row["receipt"], row["amount_kes"], row["status"]) == ("CASH-1", "1500", "matched")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("customer", "list", "--status", "gone"), "status must be one of"),
        (("customer", "list", "--plan", "Gold"), "plan not found: 'Gold'"),
        (("customer", "list", "--router", "edge-9"), "router not found: 'edge-9'"),
        (("customer", "list", "--balance", "rich"), "balance must be one of debt, credit"),
        (("customer", "list", "--format", "xml"), "format must be one of table, csv, json"),
        (("customer", "list", "--limit", "0"), "a page holds 1 to 500 customers"),
        (("payment", "list", "--from", "2026-12-02", "--to", "2026-12-01"), "is after to"),
        (("payment", "list", "--from", "1/12/2026", "--to", "2026-12-01"), "not a date"),
    ],
)
def test_bad_input_is_one_line_and_a_non_zero_exit(ready, args, message) -> None:
    result = ready(*args)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
