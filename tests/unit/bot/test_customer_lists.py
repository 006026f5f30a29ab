"""/list with filters and Prev/Next, /export and the Export CSV button, /payments as CSV."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from bot.commands.customer_lists import decode, encode
from core.customer_list import BalanceFilter, CustomerFilter, ListStatus, SortKey
from core.models import AuditEvent
from core.vocabulary import ConnectionType


def _hotspots(make_customer, count: int) -> None:
    for number in range(count):
        make_customer(
            paid=50,
            full_name=f"Hotspot {number:02d}",
            phone=f"07000000{number:02d}",
            connection_type="hotspot",
            plan="Daily 5M",
        )


def _csv(answer) -> list[dict[str, str]]:
    assert answer.attachment is not None and answer.attachment.kind == "document"
    return list(csv.DictReader(io.StringIO(answer.attachment.content.decode())))


def test_list_pages_with_next_and_prev(chat, make_customer, button_labels) -> None:
    _hotspots(make_customer, 25)
    viewer = chat("viewer")
    first = viewer.say('/list plan:"Daily 5M" sort:name')
    assert first.text.startswith("Customers · plan Daily 5M · sort name\n1–20 of 25:")
    assert "⏳ EXPIRING" in first.text and "Hotspot 00" in first.text
    assert "Next ▶" in button_labels(first) and "◀ Prev" not in button_labels(first)
    assert "⬇ Export CSV" not in button_labels(first)  # a viewer may not export
    assert viewer.say("/list plan:\u201cDaily 5M\u201d sort:name").text == first.text
    second = viewer.press(first, "Next ▶")
    assert second.edit and "21–25 of 25" in second.text and "Hotspot 24" in second.text
    back = viewer.press(second, "◀ Prev")
    assert back.text == first.text
    card = viewer.press(second, "MTJ")
    assert "Hotspot 20" in card.text


def test_list_by_status_and_balance(chat, make_customer) -> None:
    make_customer(paid=1500, full_name="Paid Up")
    make_customer(full_name="Never Paid")
    admin = chat("admin")
    assert "Paid Up" in admin.say("/list active").text
    inactive = admin.say("/list inactive type:pppoe").text
    assert "Never Paid" in inactive and "Paid Up" not in inactive
    assert "Nobody matches." in admin.say("/list debt").text


@pytest.mark.parametrize(
    ("command", "hint"),
    [
        ("/list gone", "'gone' is not a filter"),
        ("/list plan:Gold", "plan not found: 'Gold'"),
        ("/list router:edge-9", "router not found"),
        ("/list sort:phone", "sort must be one of name, expiry, balance, created"),
        ("/list created:2026-12-01..2026-11-01", "created from 2026-12-01 is after 2026-11-01"),
        ('/list plan:"Home', "a quote is not closed"),
        ("/payments 2026-11-30 2026-11-01", "from 2026-11-30 is after to 2026-11-01"),
        ("/payments yesterday today", "'yesterday' is not a date YYYY-MM-DD"),
    ],
)
def test_bad_filters_get_one_clear_line(chat, command, hint) -> None:
    assert hint in chat("owner").say(command).text


def test_export_button_and_command_send_a_csv_and_are_audited(
    chat, make_customer, services
) -> None:
    make_customer(paid=1500, full_name="Paid Up")
    make_customer(full_name="Never Paid")
    admin = chat("admin")
    listed = admin.say("/list active")
    exported = admin.press(listed, "⬇ Export CSV")
    assert [row["full_name"] for row in _csv(exported)] == ["Paid Up"]
    assert exported.text == "1 customer(s) exported."
    everyone = admin.say("/export sort:created")
    assert len(_csv(everyone)) == 2
    with services.unit_of_work() as uow:
        names = [
            (event.actor_name, event.after["filter"])
            for event in uow.session.query(AuditEvent).filter_by(action="export.customers")
        ]
    assert names == [("Admin Person", "active · sort name"), ("Admin Person", "sort created")]


def test_agents_may_list_but_not_export(chat, make_customer) -> None:
    make_customer(paid=1500)
    agent = chat("agent")
    assert "Wanjiku Kamau 1" in agent.say("/list").text
    assert agent.say("/export").text == "Your role (agent) may not use /export."
    assert agent.say("/payments 2026-11-01 2026-11-30").text.startswith("Your role (agent)")
    assert "may not" in agent.press_data(f"le:{encode(CustomerFilter())}").text


def test_payments_csv_for_a_month(chat, make_customer) -> None:
    make_customer(paid=1500)
    answer = chat("owner").say("/payments 2026-11-01 2026-11-30")
    (row,) = _csv(answer)
    assert (row["amount_kes"], row["method"], row["status"]) == ("1500", "cash", "matched")
    assert answer.attachment is not None
    assert answer.attachment.filename == "payments-2026-11-01-to-2026-11-30.csv"


def test_a_filter_fits_in_a_button_and_comes_back_whole() -> None:
    where = CustomerFilter(
        status=ListStatus.EXPIRING,
        plan_id=123456,
        router_id=654321,
        connection_type=ConnectionType.HOTSPOT,
        balance=BalanceFilter.DEBT,
        created_from=date(2026, 1, 1),
        created_to=date(2026, 1, 31),
        expires_from=date(2026, 12, 1),
        expires_to=date(2026, 12, 31),
        sort=SortKey.CREATED,
    )
    assert decode(encode(where)) == where
    assert len(f"l:{encode(where)}:99980".encode()) <= 64
    assert decode(encode(CustomerFilter())) == CustomerFilter()


def test_a_forged_list_button_is_stale(chat) -> None:
    assert chat("owner").press_data("l:9999.x...:0").toast is not None


def test_the_card_marks_an_expiring_customer_as_the_list_does(chat, make_customer) -> None:
    daily = make_customer(paid=50, connection_type="hotspot", plan="Daily 5M")
    monthly = make_customer(paid=1500)
    viewer = chat("viewer")
    assert "🟢 ACTIVE · ⏳ expiring" in viewer.say(f"/c {daily.account_number}").text
    assert "expiring" not in viewer.say(f"/c {monthly.account_number}").text.splitlines()[0]
