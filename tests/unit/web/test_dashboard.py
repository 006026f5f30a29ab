"""The dashboard: the quick numbers, each linked to its list, and the chart of payments per day."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from starlette.testclient import TestClient

from tests.unit.web.conftest import ROLES, Shop
from web.console.charts import bar_chart


@pytest.mark.parametrize("role", ROLES)
def test_every_role_sees_the_numbers_and_the_chart(
    login: Callable[[str], TestClient], role: str
) -> None:
    page = login(role).get("/staff/")
    assert page.status_code == 200
    html = page.text
    for status in ("active", "expiring", "expired", "suspended", "inactive"):
        assert f'href="/staff/customers?status={status}"' in html
    assert 'href="/staff/attention"' in html
    assert "online now" in html and "revenue today" in html and "revenue this month" in html
    assert "KES 2,000" in html  # the seeded cash payment, today
    assert html.count("<g><title>") == 30  # a day each, with its tooltip
    assert html.count('<rect class="bar bar-0"') == 1  # only today had a payment
    assert 'href="/staff/payments?from=2026-11-22&amp;to=2026-11-22"' in html
    assert 'style="' not in html
    assert 'hx-get="/staff/" hx-trigger="every 60s" hx-select="#numbers"' in html


def test_the_numbers_are_the_shops(login: Callable[[str], TestClient], shop: Shop) -> None:
    html = login("viewer").get("/staff/").text
    active = re.search(r'status=active"><span class="n">(\d+)</span>', html)
    inactive = re.search(r'status=inactive"><span class="n">(\d+)</span>', html)
    assert active and active.group(1) == "1"  # Wanjiku
    assert inactive and inactive.group(1) == "2"  # Otieno and his shop never paid


def test_without_a_session_the_dashboard_shows_nothing(anonymous: TestClient, shop: Shop) -> None:
    response = anonymous.get("/staff/")
    assert response.status_code == 303 and response.headers["location"].startswith("/staff/login")
    assert "KES" not in response.text


def test_a_bar_chart_has_one_slot_per_point_and_escapes_every_text() -> None:
    points = [(f"{day:02d} Nov", day * 100) for day in range(1, 31)]
    points[3] = ("<script>alert(1)</script>", 0)
    svg = str(bar_chart(points, title='Paid "per" day <b>', unit_label=lambda v: f"{v} KES & co"))
    assert svg.startswith('<svg class="chart"') and svg.endswith("</svg>")
    assert svg.count("<g><title>") == 30 and svg.count('<rect class="bar bar-0"') == 29
    assert "<title>Paid &#34;per&#34; day &lt;b&gt;</title>" in svg
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert "KES &amp; co" in svg and "KES & co" not in svg
    assert 'class="axis"' in svg and "style=" not in svg
    assert "<title>30 Nov: 3000 KES &amp; co</title>" in svg
