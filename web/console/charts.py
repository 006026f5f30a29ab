"""Charts as inline SVG built on the server: no script, no style attribute (the CSP forbids
both), every text escaped. The look comes from mteja.css (``chart``, ``bar``, ``axis``)."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup

_WIDTH = 600
_HEIGHT = 200
_LEFT = 40  # room for the top value
_BOTTOM = 20  # room for the day labels
_TOP = 10
_LABELS = 6  # at most this many labels under the bars


def bar_chart(points: Sequence[tuple[str, int]], *, title: str, unit_label: str) -> Markup:
    """A bar per ``(label, value)`` point, left to right, with ``title`` for screen readers and
    each bar's label and value (``unit_label`` names the unit) as its tooltip."""
    plot_width = _WIDTH - _LEFT
    plot_height = _HEIGHT - _TOP - _BOTTOM
    base = _TOP + plot_height
    top = max((value for _, value in points), default=0)
    step = plot_width / max(len(points), 1)
    label_every = max(1, -(-len(points) // _LABELS))
    parts = [
        Markup('<svg class="chart" viewBox="0 0 {} {}" role="img" aria-label="{}">').format(
            _WIDTH, _HEIGHT, title
        ),
        Markup("<title>{}</title>").format(title),
        Markup('<line class="axis" x1="{}" y1="{}" x2="{}" y2="{}"/>').format(
            _LEFT, base, _WIDTH, base
        ),
        Markup('<text x="0" y="{}">{}</text>').format(_TOP + 8, f"{top:,}"),
        Markup('<text x="0" y="{}">{}</text>').format(base, unit_label),
    ]
    for index, (label, value) in enumerate(points):
        height = round(plot_height * value / top, 1) if top > 0 else 0
        x = round(_LEFT + index * step + step * 0.1, 1)
        parts.append(
            Markup(
                '<rect class="bar" x="{}" y="{}" width="{}" height="{}">'
                "<title>{}: {} {}</title></rect>"
            ).format(
                x,
                round(base - height, 1),
                round(step * 0.8, 1),
                height,
                label,
                f"{value:,}",
                unit_label,
            )
        )
        if index % label_every == 0:
            parts.append(Markup('<text x="{}" y="{}">{}</text>').format(x, _HEIGHT - 4, label))
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)
