"""Charts as PNG: the 30-day revenue chart (bars, with active subscribers as a line), and a
customer's daily download and upload (``/usage``)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

from core.reports import DayFigures
from core.usage import DayUsage

if TYPE_CHECKING:
    from matplotlib.figure import Figure


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


# The customer's download and upload, as the card's words say them.
DOWNLOAD_COLOR = "#1565c0"
UPLOAD_COLOR = "#ef6c00"


def usage_figure(days: Sequence[DayUsage], title: str) -> Figure:
    """Daily download and upload as two bars per day, side by side, oldest day first; in MB, or
    in GB when a day passes 10 GB."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    chart = Figure(figsize=(9, 4.5), dpi=100)
    FigureCanvasAgg(chart)
    axes = chart.add_subplot()
    positions = range(len(days))
    width = 0.4
    busiest = max((max(day.download_bytes, day.upload_bytes) for day in days), default=0)
    unit, size = ("GB", 10**9) if busiest >= 10 * 10**9 else ("MB", 10**6)
    axes.bar(
        [x - width / 2 for x in positions],
        [day.download_bytes / size for day in days],
        width,
        color=DOWNLOAD_COLOR,
        label=f"download ({unit})",
    )
    axes.bar(
        [x + width / 2 for x in positions],
        [day.upload_bytes / size for day in days],
        width,
        color=UPLOAD_COLOR,
        label=f"upload ({unit})",
    )
    # A label on every day up to a month, then every few days so they stay readable.
    step = max(1, len(days) // 31 + 1)
    shown = range(0, len(days), step)
    axes.set_xticks(list(shown), [days[i].day.strftime("%d %b") for i in shown], rotation=60)
    axes.tick_params(axis="x", labelsize=7)
    axes.set_ylabel(unit)
    axes.set_ylim(bottom=0)
    axes.yaxis.set_major_formatter(lambda value, _: f"{value:,.0f}")
    axes.set_title(title)
    axes.legend(loc="upper left", fontsize=8)
    chart.tight_layout()
    return chart


def usage_chart(days: Sequence[DayUsage], title: str) -> bytes:
    """A PNG of ``usage_figure``. matplotlib is imported when a chart is drawn, not at start-up."""
    buffer = io.BytesIO()
    usage_figure(days, title).savefig(buffer, format="png")
    return buffer.getvalue()
