"""The 30-day chart: revenue per day (bars) and active subscribers (line), as a PNG."""

from __future__ import annotations

import io
from collections.abc import Sequence

from core.reports import DayFigures


def summary_chart(figures: Sequence[DayFigures], title: str = "Last 30 days") -> bytes:
    """A PNG of ``figures`` (oldest first). matplotlib is imported here, not at start-up."""
    # The object API with the Agg canvas: no pyplot state, safe in worker threads.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    days = [figure.day.strftime("%d %b") for figure in figures]
    revenue = [figure.revenue_kes for figure in figures]
    active = [figure.active_subscribers for figure in figures]
    chart = Figure(figsize=(9, 4.5), dpi=100)
    FigureCanvasAgg(chart)
    money = chart.add_subplot()
    money.bar(range(len(days)), revenue, color="#2e7d32", label="revenue (KES)")
    money.set_ylabel("revenue (KES)")
    money.set_xticks(range(len(days)), days, rotation=60, fontsize=7)
    money.yaxis.set_major_formatter(lambda value, _: f"{value:,.0f}")
    people = money.twinx()
    people.plot(
        range(len(days)),
        active,
        color="#1565c0",
        marker="o",
        markersize=3,
        label="active subscribers",
    )
    people.set_ylabel("active subscribers")
    people.set_ylim(bottom=0)
    money.set_title(title)
    handles = money.get_legend_handles_labels()
    more = people.get_legend_handles_labels()
    money.legend(handles[0] + more[0], handles[1] + more[1], loc="upper left", fontsize=8)
    chart.tight_layout()
    buffer = io.BytesIO()
    chart.savefig(buffer, format="png")
    return buffer.getvalue()
