"""The server-side SVG bar chart: one bar per point, labelled axes, every text escaped."""

from __future__ import annotations

from core.display import kes
from web.console.charts import bar_chart, stacked_bar_chart


def test_a_bar_per_nonzero_point_with_labels_and_value_axis() -> None:
    svg = str(bar_chart([("Mon", 100), ("Tue", 0), ("Wed", 300)], title="Paid", unit_label=kes))
    assert svg.startswith('<svg class="chart"') and svg.endswith("</svg>")
    assert svg.count('<rect class="bar bar-0"') == 2  # no bar for zero
    assert "Mon" in svg and "Tue" in svg and "Wed" in svg
    assert "KES 300" in svg and "KES 0" in svg and "KES 150" in svg  # top, zero, half
    assert 'class="axis"' in svg
    assert "<title>Paid</title>" in svg


def test_every_text_is_escaped() -> None:
    svg = str(
        bar_chart(
            [("<script>x</script>", 5)],
            title='a "quoted" <title>',
            unit_label=lambda value: f"<b>{value}</b>",
        )
    )
    assert "<script>" not in svg and "<b>" not in svg and '"quoted"' not in svg
    assert "&lt;script&gt;" in svg and "&#34;quoted&#34;" in svg


def test_stacked_series_have_a_legend_and_no_points_draw_an_empty_chart() -> None:
    svg = str(
        stacked_bar_chart(
            [("1 Jan", (10, 5))], title="Data", unit_label=str, series=("Download", "Upload")
        )
    )
    assert 'class="bar bar-0"' in svg and 'class="bar bar-1"' in svg
    assert "Download" in svg and "Upload" in svg
    empty = str(bar_chart([], title="Nothing", unit_label=str))
    assert "<rect" not in empty and empty.endswith("</svg>")
