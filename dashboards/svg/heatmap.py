"""Rect heatmaps (cohort x location, weekday x hour) on a sequential blue scale.

Cell colour is linear in the value between the smallest and largest value shown, so the
darkest cell is always the largest; the legend is a stepped ramp labelled at its ends.

A row whose `final` column is False holds an open value (a cohort whose 12 months are not
over: a count so far, not final): its cell is grey, outside the blue scale, which spans the
final values only, and a grey key beside the ramp says so.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dashboards.formatting import fmt
from dashboards.svg import axes, legend, marks
from dashboards.svg.colors import OPEN_CELL, blues
from dashboards.svg.frame import SVG_CLOSE, Plot, svg_open
from dashboards.svg.numbers import value_label
from dashboards.svg.scales import Band
from dashboards.svg.series import OPEN_TIP, WIDTH, is_open, label_of, number, ordered
from dashboards.svg.text import text_width, tip_line

SLANT_OVER = 12
SLANT = 45.0


@dataclass(frozen=True)
class HeatmapChart:
    """What a Heatmap draws (built by `dashboards.charts.heatmap`)."""

    rows: Sequence[dict[str, Any]]
    x: str
    y: str
    value: str
    fmt: str | None = None
    x_title: str | None = None
    y_title: str | None = None
    keep_order: bool = False
    final: str | None = None  # a column whose False marks the row's value as open
    #: The y axis's own `keep_order` (None: as the x axis): weekdays in week order on the
    #: y axis while the hours along x are sorted, whichever weekday opens earliest.
    keep_y_order: bool | None = None


def draw_heatmap(c: HeatmapChart, chart_id: str, label: str) -> str:
    """The heatmap as one `<svg>` element; one cell per row (rows without a value skipped)."""
    cells = [
        (r.get(c.x), r.get(c.y), v, is_open(r, c.final))
        for r in c.rows
        if (v := number(r.get(c.value))) is not None
    ]
    xs = ordered([x for x, _, _, _ in cells], c.keep_order)
    keep_y = c.keep_order if c.keep_y_order is None else c.keep_y_order
    ys = ordered([y for _, y, _, _ in cells], keep_y)
    # the scale spans the final values: an open cohort's low count so far does not stretch it
    any_open = any(o for *_, o in cells)
    values = [v for _, _, v, o in cells if not o] or [v for _, _, v, _ in cells]
    lo, hi = min(values, default=0.0), max(values, default=1.0)
    plot_w = min(WIDTH, max(200, 26 * max(1, len(xs))))
    plot_h = min(520, max(120, 20 * max(1, len(ys))))
    x_text = axes.category_labels([label_of(v) for v in xs])
    y_text = axes.category_labels([label_of(v) for v in ys])
    angle = SLANT if len(xs) > SLANT_OVER else 0.0
    title_room = axes.TITLE_SIZE + 6
    left = axes.left_axis_width(y_text) + 4 + (title_room if c.y_title else 0)
    below = axes.bottom_axis_height(x_text, angle)
    plot = Plot(left, 8.0, plot_w, plot_h)
    y_cursor = plot.bottom + below + (title_room if c.x_title else 0)
    last = text_width(x_text[-1], axes.LABEL_SIZE) / 2 if x_text and not angle else 0
    width = max(left + plot_w + 6 + last, 4 + legend.RAMP_WIDTH + 8)
    if any_open:
        width = max(width, 4 + legend.OPEN_CELL_KEY_AT + legend.open_cell_key_width() + 4)
    height = y_cursor + 6 + legend.RAMP_HEIGHT + 4
    bx = Band(xs, plot.left, plot.width, padding=0.0, outer=0.0)
    by = Band(ys, plot.top, plot.height, padding=0.0, outer=0.0)
    x_index = {v: i for i, v in enumerate(xs)}
    y_index = {v: i for i, v in enumerate(ys)}
    span = hi - lo

    def shade(v: float) -> str:
        return blues((v - lo) / span if span else 0.5)

    rects = []
    name = c.fmt or "auto"
    for x, y, v, o in cells:
        tip = "\n".join(
            (
                tip_line(c.x, label_of(x)),
                tip_line(c.y, label_of(y)),
                tip_line(c.value, fmt(v, name)),
            )
        )
        if o:
            tip += f"\n{OPEN_TIP}"
        fill = OPEN_CELL if o else shade(v)
        rects.append(marks.rect(bx(x_index[x]), by(y_index[y]), bx.step, by.step, fill, tip))
    out = [
        svg_open(chart_id, width, height, label),
        marks.group("rect", rects),
        axes.category_axis_bottom(plot, [bx.center(i) for i in range(len(xs))], x_text, angle),
        axes.category_axis_left(plot, [by.center(i) for i in range(len(ys))], y_text),
    ]
    if c.x_title:
        out.append(axes.axis_title_bottom(plot, y_cursor - 4, c.x_title))
    if c.y_title:
        out.append(axes.axis_title_left(plot, axes.TITLE_SIZE, c.y_title))
    low, high = value_label(lo, c.fmt), value_label(hi, c.fmt)
    out.append(legend.ramp_legend(lambda t: blues(t), low, high, 4, y_cursor + 6))
    if any_open:
        out.append(legend.open_cell_key(4 + legend.OPEN_CELL_KEY_AT, y_cursor + 6))
    out.append(SVG_CLOSE)
    return "".join(out)
