"""The dashboard: the numbers staff look at first, each a link to the list behind it, and the
payments of the last 30 days as a chart. It also hands the console the routes of the lists it
links to (needs attention, payments), so the console's route table names one module for them."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from core.dashboard import daily_payments, dashboard_numbers, today
from core.display import kes
from core.reports import SERIES_DAYS
from web.console.attention import attention_routes
from web.console.charts import bar_chart
from web.console.framework import Console, View
from web.console.payments import payment_routes


def dashboard(view: View) -> Response:
    """The quick numbers and the chart of payments per day."""
    with view.uow(read_only=True) as uow:
        numbers = dashboard_numbers(uow)
        last_day = today(uow)
        series = daily_payments(uow, last_day, SERIES_DAYS)
    chart = bar_chart(
        [(day.day.strftime("%d %b"), day.amount_kes) for day in series],
        title=f"Payments received per day, last {SERIES_DAYS} days",
        unit_label=kes,
    )
    return view.render(
        "dashboard.html",
        numbers=numbers,
        today=last_day.isoformat(),
        month_start=last_day.replace(day=1).isoformat(),
        series_start=series[0].day.isoformat(),
        series_total_kes=sum(day.amount_kes for day in series),
        chart=chart,
        series_days=SERIES_DAYS,
    )


def dashboard_routes(console: Console) -> list[BaseRoute]:
    return [
        Route("/", console.page(dashboard), methods=["GET"]),
        *attention_routes(console),
        *payment_routes(console),
    ]
