"""Plans: speeds, the RouterOS rate limit, validity in days or hours (exact), names, prices."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.errors import Conflict, InvalidInput, PlanNotFound
from core.usecases.billing import IncomingPayment, record_payment
from core.usecases.plans import (
    PlanSpec,
    add_plan,
    get_plan_by_name,
    list_plans,
    parse_speed,
    set_plan_active,
)


def _spec(**changes: object) -> PlanSpec:
    fields: dict[str, object] = {
        "name": "Test Plan",
        "connection_type": "pppoe",
        "price_kes": 1000,
        "download": "10M",
        "upload": "5M",
        "validity_days": 30,
    }
    fields.update(changes)
    return PlanSpec(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("10M", "10M"),
        ("10m", "10M"),
        (" 512K ", "512k"),
        ("512k", "512k"),
        ("1g", "1G"),
        ("1.5M", "1.5M"),
        ("64000", "64000"),
    ],
)
def test_speeds_are_canonicalized(typed: str, canonical: str) -> None:
    assert parse_speed(typed) == canonical


@pytest.mark.parametrize("typed", ["", "fast", "10 Mbps", "0M", "-5M", "10T", "M"])
def test_bad_speeds_are_refused(typed: str) -> None:
    with pytest.raises(InvalidInput, match="speed"):
        parse_speed(typed)


def test_add_plan_stores_canonical_speeds_and_rate_limit_is_upload_slash_download(
    run, staff
) -> None:
    plan = run(add_plan, staff, _spec(download="10m", upload="5m"))
    assert (plan.download, plan.upload) == ("10M", "5M")
    assert plan.rate_limit == "5M/10M"
    assert plan.validity_hours == 30 * 24
    assert plan.period == timedelta(days=30)
    assert plan.validity_text == "30 days"
    assert plan.active is True


def test_hotspot_plan_in_hours(run, staff) -> None:
    plan = run(
        add_plan, staff, _spec(connection_type="hotspot", validity_days=None, validity_hours=3)
    )
    assert plan.validity_hours == 3
    assert plan.validity_text == "3 hours"


def test_one_day_and_one_hour_read_in_the_singular(run, staff) -> None:
    day = run(add_plan, staff, _spec(name="Day", validity_days=1))
    hour = run(
        add_plan,
        staff,
        _spec(name="Hour", connection_type="hotspot", validity_days=None, validity_hours=1),
    )
    assert (day.validity_text, hour.validity_text) == ("1 day", "1 hour")


@pytest.mark.parametrize("connection_type", ["pppoe", "static"])
def test_hours_are_only_for_hotspot_plans(run, staff, connection_type: str) -> None:
    with pytest.raises(InvalidInput, match="hours is for hotspot"):
        run(
            add_plan,
            staff,
            _spec(connection_type=connection_type, validity_days=None, validity_hours=24),
        )


@pytest.mark.parametrize(
    ("days", "hours", "message"),
    [
        (None, None, "one of them"),
        (1, 24, "one of them"),
        (0, None, "at least 1 day"),
        (-3, None, "at least 1 day"),
    ],
)
def test_validity_must_be_days_or_hours_and_positive(
    run, staff, days: int | None, hours: int | None, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        run(
            add_plan,
            staff,
            _spec(connection_type="hotspot", validity_days=days, validity_hours=hours),
        )


def test_zero_hours_is_refused(run, staff) -> None:
    with pytest.raises(InvalidInput, match="at least 1 hour"):
        run(add_plan, staff, _spec(connection_type="hotspot", validity_days=None, validity_hours=0))


def test_24_hour_plan_bought_at_0026_ends_at_0026_next_day(
    run, staff, clock, isp, make_customer, view
) -> None:
    bought_at = datetime(2026, 11, 23, 0, 26, 0, tzinfo=UTC)
    clock.set(bought_at)
    customer_id = make_customer(connection_type="hotspot", plan=isp.hotspot_plan)
    run(record_payment, customer_id, staff, IncomingPayment(50, "cash"))
    assert view(customer_id).expires_at == datetime(2026, 11, 24, 0, 26, 0, tzinfo=UTC)


@pytest.mark.parametrize("name", ["Home 10M", "home 10m", "  HOME 10M "])
def test_duplicate_names_are_refused_whatever_the_case(run, staff, isp, name: str) -> None:
    with pytest.raises(Conflict, match="already exists"):
        run(add_plan, staff, _spec(name=name))


@pytest.mark.parametrize("price", [-1, 10.5, "1500", True, None])
def test_bad_prices_are_refused(run, staff, price: object) -> None:
    with pytest.raises(InvalidInput, match="price"):
        run(add_plan, staff, _spec(price_kes=price))


def test_free_plan_is_allowed(run, staff) -> None:
    assert run(add_plan, staff, _spec(price_kes=0)).price_kes == 0


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": "  "}, "needs a name"),
        ({"connection_type": "fibre"}, "connection type must be one of pppoe, hotspot, static"),
        ({"data_cap_mb": 0}, "data cap"),
    ],
)
def test_other_bad_fields_are_refused(run, staff, changes: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        run(add_plan, staff, _spec(**changes))


def test_data_cap_and_connection_type_are_stored(run, staff) -> None:
    plan = run(add_plan, staff, _spec(connection_type=" Static ", data_cap_mb=50_000))
    assert (plan.connection_type, plan.data_cap_mb) == ("static", 50_000)


def test_list_and_find_plans(run, isp, staff) -> None:
    names = [plan.name for plan in run(list_plans)]
    assert names == ["Daily 5M", "Home 10M", "Home 20M", "Business 50M"]
    assert [plan.name for plan in run(list_plans, "pppoe")] == ["Home 10M", "Home 20M"]
    assert run(get_plan_by_name, " home 20m ").price_kes == 2500
    with pytest.raises(PlanNotFound, match="plan not found"):
        run(get_plan_by_name, "Gold")


def test_retired_plan_is_hidden_from_the_list_unless_asked(run, isp, staff) -> None:
    run(set_plan_active, staff, isp.pppoe_plan_big, False)
    assert [plan.name for plan in run(list_plans, "pppoe")] == ["Home 10M"]
    everything = run(list_plans, "pppoe", include_inactive=True)
    assert [plan.name for plan in everything] == ["Home 10M", "Home 20M"]
    run(set_plan_active, staff, isp.pppoe_plan_big, True)
    assert len(run(list_plans, "pppoe")) == 2
