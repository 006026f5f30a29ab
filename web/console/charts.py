"""Bar charts as inline SVG, built on the server (no JavaScript): one bar per point, labelled
axes, and a tooltip (``<title>``) on each bar. Every text is escaped."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from markupsafe import Markup

WIDTH = 720
HEIGHT = 260
LEFT = 64  # room for the value labels
RIGHT = 8
TOP = 24
BOTTOM = 36  # room for the point labels
MAX_POINT_LABELS = 12


def bar_chart(
    points: Sequence[tuple[str, int]], *, title: str, unit_label: Callable[[int], str]
) -> Markup:
    """One bar per ``(label, value)``; ``unit_label`` writes a value (``kes``, ``data_amount``)."""
    return stacked_bar_chart(
        [(label, (value,)) for label, value in points],
        title=title,
        unit_label=unit_label,
        series=(title,),
    )


def stacked_bar_chart(
    points: Sequence[tuple[str, Sequence[int]]],
    *,
    title: str,
    unit_label: Callable[[int], str],
    series: Sequence[str],
) -> Markup:
    """Bars of several ``series`` stacked (the first at the bottom), e.g. download and upload.
    A legend names the series when there are more than one."""
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    top_value = max((sum(values) for _, values in points), default=0) or 1
    slot = plot_width / max(len(points), 1)
    gap = min(slot * 0.2, 4.0)
    every = max(1, -(-len(points) // MAX_POINT_LABELS))
    parts = [
        Markup(
            '<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-label="{t}"'
            ' xmlns="http://www.w3.org/2000/svg"><title>{t}</title>'
        ).format(w=WIDTH, h=HEIGHT, t=title)
    ]
    # The value axis: zero, half and the top, with their labels.
    for fraction in (0.0, 0.5, 1.0):
        y = TOP + plot_height * (1 - fraction)
        parts.append(
            Markup(
                '<line class="axis" x1="{x1}" y1="{y:.1f}" x2="{x2}" y2="{y:.1f}"/>'
                '<text class="axis-label" x="{tx}" y="{ty:.1f}" text-anchor="end">{label}</text>'
            ).format(
                x1=LEFT,
                x2=WIDTH - RIGHT,
                y=y,
                tx=LEFT - 6,
                ty=y + 3,
                label=unit_label(round(top_value * fraction)),
            )
        )
    for index, (label, values) in enumerate(points):
        x = LEFT + index * slot + gap / 2
        base = float(TOP + plot_height)
        tip = f"{label}: " + ", ".join(
            f"{name} {unit_label(value)}" if len(series) > 1 else unit_label(value)
            for name, value in zip(series, values, strict=False)
        )
        parts.append(Markup("<g><title>{}</title>").format(tip))
        for number, value in enumerate(values):
            height = plot_height * value / top_value
            base -= height
            if value > 0:
                parts.append(
                    Markup(
                        '<rect class="bar bar-{n}" x="{x:.1f}" y="{y:.1f}"'
                        ' width="{w:.1f}" height="{h:.1f}"/>'
                    ).format(n=number, x=x, y=base, w=max(slot - gap, 1.0), h=height)
                )
        parts.append(Markup("</g>"))
        if index % every == 0:
            parts.append(
                Markup(
                    '<text class="axis-label" x="{x:.1f}" y="{y}" text-anchor="middle">{l}</text>'
                ).format(x=x + (slot - gap) / 2, y=HEIGHT - BOTTOM + 14, l=label)
            )
    if len(series) > 1:
        for number, name in enumerate(series):
            x = LEFT + number * 110
            parts.append(
                Markup(
                    '<rect class="bar bar-{n}" x="{x}" y="6" width="10" height="10"/>'
                    '<text x="{tx}" y="15">{name}</text>'
                ).format(n=number, x=x, tx=x + 14, name=name)
            )
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)
