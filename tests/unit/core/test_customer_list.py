"""Customer lists: filters, sorts, pages with balances from SQL, the CSV export and its audit."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import event

from core import ledger, lifecycle
from core.actors import Actor
from core.customer_list import (
    MAX_PAGE,
    BalanceFilter,
    CustomerFilter,
    ListStatus,
    SortKey,
    export_customers,
    list_customers,
    read_filter,
)
from core.errors import InvalidInput, PermissionDenied, PlanNotFound, RouterNotFound
from core.models import Customer
from core.queries import customer_card
from core.testing import TEST_EPOCH
from core.usecases.service import suspend
from core.vocabulary import LedgerKind


def _set(services, customer_id: int, **values) -> None:
    with services.unit_of_work() as uow:
        customer = uow.session.get(Customer, customer_id)
        for name, value in values.items():
            setattr(customer, name, value)
        uow.commit()


def _post(services, customer_id: int, amount_kes: int) -> None:
    with services.unit_of_work() as uow:
        customer = uow.session.get(Customer, customer_id)
        ledger.post(uow, customer, LedgerKind.ADJUSTMENT, amount_kes, "test", Actor.system())
        uow.commit()


@pytest.fixture
def town(services, make_customer, staff, run):
    """Six customers, one in each situation a list filters on."""
    ids = {
        "active": make_customer(paid=1500, full_name="Achieng Active"),  # 30 days left
        "expiring": make_customer(paid=1500, full_name="Baraka Expiring"),
        "expired": make_customer(paid=1500, full_name="Chebet Expired"),
        "suspended": make_customer(paid=1500, full_name="Daudi Suspended"),
        "inactive": make_customer(full_name="Esther Inactive"),
        "hotspot": make_customer(
            paid=50, full_name="Faith Hotspot", connection_type="hotspot", plan="Daily 5M"
        ),
    }
    _set(services, ids["expiring"], expires_at=TEST_EPOCH + timedelta(days=2))
    _set(services, ids["expired"], status="expired", expires_at=TEST_EPOCH - timedelta(days=1))
    run(suspend, ids["suspended"], staff, "abuse")
    _post(services, ids["inactive"], -700)  # in debt
    _post(services, ids["active"], 300)  # in credit
    return ids


def _names(page) -> list[str]:
    return [row.full_name for row in page.rows]


def _list(services, actor, where: CustomerFilter | None = None, limit=20, offset=0, **fields):
    with services.unit_of_work() as uow:
        where = where or CustomerFilter(**fields)
        return list_customers(uow, actor, where, limit=limit, offset=offset)


def test_every_live_customer_by_name_with_balances(services, staff, town) -> None:
    page = _list(services, staff)
    assert _names(page) == [
        "Achieng Active",
        "Baraka Expiring",
        "Chebet Expired",
        "Daudi Suspended",
        "Esther Inactive",
        "Faith Hotspot",
    ]
    assert page.total == 6 and not page.has_more and page.offset == 0
    balances = {row.full_name: row.balance_kes for row in page.rows}
    assert balances["Achieng Active"] == 300
    assert balances["Esther Inactive"] == -700
    first = page.rows[0]
    assert first.to_json()["expires_at"] == "2026-12-22T09:00:00Z"
    assert (first.plan, first.router, first.connection_type, first.status) == (
        "Home 10M",
        "core-1",
        "pppoe",
        "active",
    )


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (ListStatus.ACTIVE, ["Achieng Active", "Baraka Expiring", "Faith Hotspot"]),
        (ListStatus.EXPIRING, ["Baraka Expiring", "Faith Hotspot"]),
        (ListStatus.EXPIRED, ["Chebet Expired"]),
        (ListStatus.SUSPENDED, ["Daudi Suspended"]),
        (ListStatus.INACTIVE, ["Esther Inactive"]),
    ],
)
def test_by_status(services, staff, town, status, expected) -> None:
    assert _names(_list(services, staff, status=status)) == expected


def test_expiring_days_come_from_the_config(services, staff, town) -> None:
    services.config = type(services.config)(expiring_days=1)
    # The hotspot day ends in 24 hours; Baraka's time in 2 days is no longer "expiring".
    assert _names(_list(services, staff, status=ListStatus.EXPIRING)) == ["Faith Hotspot"]


def test_expiring_is_one_rule_for_rows_and_cards(services, staff, town) -> None:
    page = _list(services, staff)
    with services.unit_of_work() as uow:
        for row in page.rows:
            customer = uow.session.get(Customer, row.id)
            assert row.expiring is lifecycle.is_expiring(customer, TEST_EPOCH, 3), row.full_name
            assert customer_card(uow, customer).expiring is row.expiring, row.full_name
    assert [row.full_name for row in page.rows if row.expiring] == [
        "Baraka Expiring",
        "Faith Hotspot",
    ]


def test_by_plan_router_type_and_balance(services, staff, town) -> None:
    with services.unit_of_work() as uow:
        by_plan = read_filter(uow, plan='"daily 5m"')
        by_router = read_filter(uow, router="CORE-1")
        hotspot = read_filter(uow, connection_type="hotspot")
        debt = read_filter(uow, balance="debt")
        credit = read_filter(uow, balance="credit")
    assert _names(_list(services, staff, by_plan)) == ["Faith Hotspot"]
    assert len(_list(services, staff, by_router).rows) == 6
    assert _names(_list(services, staff, hotspot)) == ["Faith Hotspot"]
    assert _names(_list(services, staff, debt)) == ["Esther Inactive"]
    assert _names(_list(services, staff, credit)) == ["Achieng Active"]


def test_sorts(services, staff, town) -> None:
    by_expiry = _names(_list(services, staff, sort=SortKey.EXPIRY))
    # Soonest first; no expiry last.
    assert by_expiry[:3] == ["Chebet Expired", "Faith Hotspot", "Baraka Expiring"]
    assert by_expiry[-1] == "Esther Inactive"
    by_balance = _names(_list(services, staff, sort=SortKey.BALANCE))
    assert by_balance[0] == "Esther Inactive" and by_balance[-1] == "Achieng Active"
    _set(services, town["hotspot"], created_at=TEST_EPOCH + timedelta(hours=1))
    assert _names(_list(services, staff, sort=SortKey.CREATED))[0] == "Faith Hotspot"


def test_created_and_expiring_between_local_days(services, staff, town) -> None:
    # TEST_EPOCH is 12:00 on 22 Nov 2026 in Nairobi; the expired customer ended on the 21st.
    _set(services, town["inactive"], created_at=TEST_EPOCH - timedelta(days=40))
    with services.unit_of_work() as uow:
        old = read_filter(uow, created_to="2026-11-01")
        new = read_filter(uow, created_from="2026-11-22", created_to="2026-11-22")
        ended = read_filter(uow, expires_from="2026-11-21", expires_to="2026-11-21")
    assert _names(_list(services, staff, old)) == ["Esther Inactive"]
    assert len(_list(services, staff, new).rows) == 5
    assert _names(_list(services, staff, ended)) == ["Chebet Expired"]


def test_pages(services, staff, town) -> None:
    first = _list(services, staff, limit=4)
    second = _list(services, staff, limit=4, offset=4)
    assert (first.total, first.has_more, second.has_more) == (6, True, False)
    assert _names(first) + _names(second) == _names(_list(services, staff))


def test_deleted_customers_are_not_listed(services, staff, town) -> None:
    _set(services, town["inactive"], deleted_at=TEST_EPOCH)
    assert "Esther Inactive" not in _names(_list(services, staff))


def test_a_page_is_two_queries_however_many_customers(services, staff, town, make_customer):
    for number in range(10):
        make_customer(
            paid=50,
            full_name=f"Extra {number}",
            phone=f"07000000{number:02d}",
            connection_type="hotspot",
            plan="Daily 5M",
        )
    statements: list[str] = []
    with services.unit_of_work() as uow:
        engine = uow.session.get_bind()

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        page = _list(services, staff, balance=BalanceFilter.CREDIT, sort=SortKey.BALANCE)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert page.total == 1
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 2  # the page and its total


@pytest.mark.parametrize(
    ("texts", "error", "message"),
    [
        ({"status": "gone"}, InvalidInput, "status must be one of"),
        ({"plan": "Gold"}, PlanNotFound, "plan not found: 'Gold'"),
        ({"router": "edge-9"}, RouterNotFound, "router not found"),
        ({"connection_type": "fibre"}, InvalidInput, "connection type must be one of"),
        ({"balance": "rich"}, InvalidInput, "balance must be one of debt, credit"),
        ({"sort": "phone"}, InvalidInput, "sort must be one of name, expiry, balance, created"),
        ({"created_from": "22/11/2026"}, InvalidInput, "not a date YYYY-MM-DD"),
        (
            {"created_from": "2026-11-23", "created_to": "2026-11-22"},
            InvalidInput,
            "created from 2026-11-23 is after 2026-11-22",
        ),
    ],
)
def test_bad_filters_are_refused_clearly(services, isp, texts, error, message) -> None:
    with services.unit_of_work() as uow, pytest.raises(error, match=message):
        read_filter(uow, **texts)


@pytest.mark.parametrize(("limit", "offset"), [(0, 0), (MAX_PAGE + 1, 0), (10, -1)])
def test_bad_pages_are_refused(services, staff, isp, limit, offset) -> None:
    with pytest.raises(InvalidInput):
        _list(services, staff, limit=limit, offset=offset)


def test_anyone_on_staff_may_list(services, viewer, town) -> None:
    assert _list(services, viewer).total == 6


def test_export_is_a_csv_of_the_whole_list_and_is_audited(
    services, admin, town, audit_events
) -> None:
    with services.unit_of_work() as uow:
        export = export_customers(uow, admin, CustomerFilter(status=ListStatus.ACTIVE))
        uow.commit()
    rows = list(csv.DictReader(io.StringIO(export.content.decode())))
    assert [row["full_name"] for row in rows] == [
        "Achieng Active",
        "Baraka Expiring",
        "Faith Hotspot",
    ]
    assert rows[0]["balance_kes"] == "300"
    assert rows[0]["expires_at"] == "2026-12-22 12:00"  # local time
    assert export.rows == 3 and export.filename.endswith(".csv")
    (audited,) = audit_events("export.customers")
    assert (audited.actor_name, audited.entity_type) == ("Amina Admin", "export")
    assert audited.after == {"filter": "active · sort name", "rows": 3}


def test_agents_and_viewers_may_not_export(services, agent, viewer, town, audit_events) -> None:
    for actor in (agent, viewer):
        with services.unit_of_work() as uow, pytest.raises(PermissionDenied):
            export_customers(uow, actor, CustomerFilter())
    assert audit_events("export.customers") == []


def test_a_name_that_looks_like_a_formula_is_written_as_text(services, admin, make_customer):
    make_customer(full_name="=HYPERLINK(1)")
    with services.unit_of_work() as uow:
        export = export_customers(uow, admin, CustomerFilter())
    assert "'=HYPERLINK(1)" in export.content.decode()


def _account(services, customer_id: int) -> str:
    with services.unit_of_work() as uow:
        return uow.session.get(Customer, customer_id).account_number


def test_a_search_finds_by_part_of_the_name_in_any_case(services, staff, town) -> None:
    assert _names(_list(services, staff, search="EXPIR")) == ["Baraka Expiring", "Chebet Expired"]


def test_a_search_finds_by_account_number_and_phone(services, staff, town) -> None:
    _set(services, town["inactive"], phone="+254733111222")
    account = _account(services, town["hotspot"])
    assert _names(_list(services, staff, search=account.lower())) == ["Faith Hotspot"]
    assert _names(_list(services, staff, search="0733 111222")) == ["Esther Inactive"]


def test_a_search_combines_with_the_other_filters(services, staff, town) -> None:
    page = _list(services, staff, search="expir", status=ListStatus.EXPIRED)
    assert _names(page) == ["Chebet Expired"]
    assert page.total == 1
    assert page.description == "matching 'expir' · expired · sort name"


def test_a_search_takes_percent_and_underscore_literally(services, staff, town) -> None:
    assert _list(services, staff, search="%").total == 0
    assert _list(services, staff, search="_").total == 0


def test_read_filter_keeps_a_search_trimmed_and_refuses_a_very_long_one(services) -> None:
    with services.unit_of_work() as uow:
        assert read_filter(uow, search="  wanj ").search == "wanj"
        assert read_filter(uow, search="   ").search is None
        with pytest.raises(InvalidInput, match="at most 100"):
            read_filter(uow, search="x" * 101)
